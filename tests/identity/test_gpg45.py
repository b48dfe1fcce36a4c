"""The GPG 45 engine (idp/identity/gpg45.py): the whole profile table, both policies, the combining rules."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idp.identity import gpg45
from idp.identity.credentials import VerifiedCredential
from idp.identity.gpg45 import POLICIES, PROFILES, EvidenceScore, Outcome, Part, Profile, Scores, assess, assess_scores
from tests.identity import builders

GPG45, ONELOGIN = POLICIES["gpg45"], POLICIES["onelogin"]


def exactly(profile: Profile) -> Scores:
    return Scores(tuple(profile.evidence), profile.activity, profile.fraud, profile.verification)


def one_short(profile: Profile) -> list[tuple[str, Scores, Part]]:
    """Every way to take exactly one point off one required score."""
    met = exactly(profile)
    found: list[tuple[str, Scores, Part]] = []
    for name, part in (("activity", Part.ACTIVITY), ("fraud", Part.FRAUD), ("verification", Part.VERIFICATION)):
        if getattr(profile, name) > 0:
            found.append((name, dataclasses.replace(met, **{name: getattr(met, name) - 1}), part))
    for index, piece in enumerate(profile.evidence):
        for which in ("strength", "validity"):
            pieces = list(profile.evidence)
            pieces[index] = dataclasses.replace(piece, **{which: getattr(piece, which) - 1})
            found.append(
                (f"evidence {index + 1} {which}", dataclasses.replace(met, evidences=tuple(pieces)), Part.EVIDENCE)
            )
    return found


def test_the_table_has_every_profile_of_the_reference() -> None:
    assert [p.name for p in PROFILES] == [
        *("L1A", "L1B", "L1C", "L2A", "L2B", "L3A"),
        *("M1A", "M1B", "M1C", "M1D", "M2A", "M2B", "M2C", "M3A"),
        *("H1A", "H1B", "H1C", "H2A", "H2B", "H2C", "H2D", "H2E", "H3A"),
        *("V1A", "V1B", "V1C", "V1D", "V2A", "V2B", "V2C", "V2D", "V3A"),
    ]
    assert gpg45.PROFILES_BY_NAME["V3A"].evidence == (EvidenceScore(3, 3), EvidenceScore(2, 2), EvidenceScore(2, 2))
    assert (gpg45.PROFILES_BY_NAME["M1B"].activity, gpg45.PROFILES_BY_NAME["M1B"].fraud) == (1, 2)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_each_profile_exactly_met(profile: Profile) -> None:
    scores = exactly(profile)
    assert profile.satisfied_by(scores)
    assessment = assess_scores(scores, GPG45)
    assert assessment.meets(profile.vot)
    assert gpg45.VOTS.index(assessment.vot) >= gpg45.VOTS.index(profile.vot)
    assert gpg45.gaps(profile, scores) == ()


@pytest.mark.parametrize(
    ("profile", "what", "scores", "part"),
    [(p, what, scores, part) for p in PROFILES for what, scores, part in one_short(p)],
    ids=lambda v: v.name if isinstance(v, Profile) else (v if isinstance(v, str) else ""),
)
def test_each_profile_with_one_score_one_short(profile: Profile, what: str, scores: Scores, part: Part) -> None:
    assert not profile.satisfied_by(scores)
    missing = gpg45.gaps(profile, scores)
    assert len(missing) == 1
    assert missing[0].part is part
    if part is Part.EVIDENCE:
        assert missing[0].required in profile.evidence
    else:
        assert (missing[0].need - missing[0].have) == 1
        assert missing[0].describe().endswith("1 more")


def test_the_onelogin_policy_levels() -> None:
    assert {vot: [p.name for p in profiles] for vot, profiles in ONELOGIN.profiles.items()} == {
        "P1": ["L1A"],
        "P2": ["M1A", "M1B", "M2B", "M1C"],
        "P3": ["H1A"],
    }
    assert ONELOGIN.levels() == ("P1", "P2", "P3")
    assert GPG45.levels() == ("P1", "P2", "P3", "P4")
    assert sum(len(p) for p in GPG45.profiles.values()) == len(PROFILES)


@pytest.mark.parametrize(
    ("scores", "gpg45_vot", "onelogin_vot", "onelogin_profile"),
    [
        (Scores((EvidenceScore(4, 2),), 0, 1, 2), "P2", "P2", "M1A"),  # web passport route
        (Scores((EvidenceScore(3, 2),), 1, 2, 2), "P2", "P2", "M1B"),  # web driving licence route
        (Scores((EvidenceScore(3, 2), EvidenceScore(2, 2)), 1, 1, 2), "P2", "P2", "M2B"),  # no photo ID
        (Scores((EvidenceScore(4, 3),), 1, 1, 3), "P3", "P3", "H1A"),  # app, chipped passport
        (Scores((EvidenceScore(2, 2),), 2, 1, 3), "P2", "P1", "L1A"),  # M1D counts only in gpg45
        (Scores((EvidenceScore(4, 4),), 0, 1, 3), "P4", "P3", "H1A"),  # V1B: no P4 in onelogin
        (Scores((EvidenceScore(3, 2),), 0, 0, 1), "P1", "P0", None),  # L1B needs no fraud check
    ],
)
def test_the_two_policies(scores: Scores, gpg45_vot: str, onelogin_vot: str, onelogin_profile: str | None) -> None:
    assert assess_scores(scores, GPG45).vot == gpg45_vot
    assessment = assess_scores(scores, ONELOGIN)
    assert (assessment.vot, assessment.profile) == (onelogin_vot, onelogin_profile)


def test_m1c_needs_the_fraud_score_to_be_optional_in_onelogin() -> None:
    scores = Scores((EvidenceScore(4, 3),), 0, 0, 3)
    assert assess_scores(scores, ONELOGIN).vot == "P0"
    optional = assess_scores(scores, ONELOGIN, fraud_optional=True)
    assert (optional.vot, optional.profile) == ("P2", "M1C")
    # gpg45 has every profile, fraud or not.
    assert assess_scores(scores, GPG45).profile_for("P2") == "M1C"


@pytest.mark.parametrize(
    ("failed", "score", "optional"),
    [
        (("applicable_authoritative_source",), 0, True),
        (("available_authoritative_source",), 0, True),
        (("mortality_check",), 0, True),
        (("mortality_check",), 1, False),
        ((), 2, False),
    ],
)
def test_the_fraud_optional_rule(failed: tuple[str, ...], score: int, optional: bool) -> None:
    credentials = [builders.fraud(score, 0, failed=failed)]
    assert gpg45.fraud_score_optional(credentials) is optional


def test_the_app_route_without_a_credit_file_reaches_p2_through_m1c() -> None:
    credentials = [builders.document_app(), builders.fraud(0, 0, failed=("applicable_authoritative_source",))]
    assessment = assess(credentials, "onelogin")
    assert (assessment.vot, assessment.profile) == ("P2", "M1C")


def test_the_app_route_with_a_fraud_check_reaches_p3() -> None:
    assessment = assess([builders.document_app(), builders.fraud(1, 1), builders.address()], "onelogin")
    assert (assessment.vot, assessment.profile) == ("P3", "H1A")
    assert assessment.profile_for("P2") == "M1A"
    assert assessment.next_vot is None


def test_combining_takes_the_maximum_and_deduplicates_documents() -> None:
    scores = gpg45.combine(
        [
            builders.passport(4, 0),
            builders.passport(4, 2),
            builders.driving_licence(3, 2, 1),
            builders.fraud(1, 0),
            builders.fraud(2, 1),
            builders.security_questions(1),
            builders.security_questions(2),
            builders.document_app(biometric=3),
        ]
    )
    # The two passport checks and the app's passport are one piece of evidence, the strongest.
    assert scores.evidences == (EvidenceScore(4, 3), EvidenceScore(3, 2))
    assert (scores.activity, scores.fraud, scores.verification) == (1, 2, 3)


def test_pairs_of_one_document_that_neither_beats_are_alternatives() -> None:
    # One Login keeps the strongest pair (strength first): 4/1 would hide 3/2 and adding a check would lower
    # the level. Here each is an alternative for the one piece of evidence.
    app = builders.document_app(3, 2, biometric=1)
    assert assess([app], "gpg45").profile == "L1B"
    both = assess([app, builders.passport(4, 1)], "gpg45")
    assert (both.vot, both.profile) == ("P1", "L1B")
    assert both.scores.evidences == (EvidenceScore(4, 1),)
    assert both.scores.alternatives == ((EvidenceScore(4, 1), EvidenceScore(3, 2)),)


def test_a_failed_check_gives_no_evidence() -> None:
    face_mismatch = builders.document_app(4, 3, biometric=0)
    scores = gpg45.combine([face_mismatch, builders.fraud(1, 1), builders.security_questions(2)])
    assert scores.evidences == ()
    assert assess([face_mismatch, builders.fraud(1, 1), builders.security_questions(2)], "onelogin").vot == "P0"


def test_a_bank_account_cannot_be_the_only_evidence() -> None:
    alone = assess([builders.bank_account(), builders.fraud(2, 1), builders.security_questions(2)], "onelogin")
    assert alone.vot == "P0"
    assert alone.needs_additional_evidence
    assert alone.missing[0].part is Part.ADDITIONAL_EVIDENCE
    with_nino = assess(
        [builders.bank_account(), builders.national_insurance(), builders.fraud(1, 1), builders.security_questions(2)],
        "onelogin",
    )
    assert (with_nino.vot, with_nino.profile) == ("P2", "M2B")


def test_the_engine_explains_what_is_missing() -> None:
    nothing = assess([builders.passport(), builders.fraud(2, 1)], "onelogin")
    assert (nothing.vot, nothing.next_vot, nothing.next_profile) == ("P0", "P1", "L1A")
    assert nothing.explain() == ["verification 1 more"]
    low = assess([builders.passport(), builders.fraud(2, 1), builders.security_questions(1)], "onelogin")
    assert (low.vot, low.profile, low.next_vot, low.next_profile) == ("P1", "L1A", "P2", "M1A")
    assert low.explain() == ["verification 1 more"]
    assert low.missing[0].message == "verification %(more)d more"
    assert low.missing[0].params == {"more": 1}
    only_documents = assess([builders.national_insurance()], "onelogin")
    assert only_documents.next_profile == "L1A"
    assert only_documents.explain() == ["identity fraud 1 more", "verification 1 more"]


def test_missing_evidence_is_explained_as_a_piece() -> None:
    assessment = assess_scores(Scores((), 1, 2, 2), ONELOGIN)
    assert assessment.next_profile == "L1A"
    assert assessment.explain() == ["a piece of evidence of strength 2 and validity 2"]


@pytest.mark.parametrize(
    ("credentials", "mismatched"),
    [
        ([builders.passport(), builders.fraud(born="1965-07-09")], ("birthDate",)),
        ([builders.passport(), builders.fraud(given="KEN")], ("name",)),
        ([builders.passport(given="Ken"), builders.fraud(born="1966-07-08")], ("name", "birthDate")),
    ],
)
def test_a_name_or_birth_date_mismatch_is_its_own_outcome(
    credentials: list[VerifiedCredential], mismatched: tuple[str, ...]
) -> None:
    assessment = assess([*credentials, builders.security_questions(2)], "onelogin")
    assert assessment.outcome is Outcome.MISMATCH
    assert assessment.mismatched == mismatched
    assert assessment.vot == "P0"


def test_names_are_compared_normalised() -> None:
    credentials = [
        builders.passport(given="Kénneth", family="de Cerqueira"),
        builders.fraud(),
        builders.security_questions(2),
    ]
    # Accents and case do not make names differ, but a space splitting a family name does not join it either.
    assert assess(credentials, "onelogin").outcome is Outcome.MISMATCH
    same = [builders.passport(given="kénneth", family="Decerqueira"), builders.fraud(), builders.security_questions(2)]
    assert assess(same, "onelogin").vot == "P2"
    assert gpg45.normalise_name("Siân  Lloyd-Jones") == gpg45.normalise_name("SIAN LLOYD JONES")


def test_the_address_and_failed_checks_are_not_compared() -> None:
    credentials = [
        builders.passport(),
        builders.passport(4, 0, number="999999999", given="Somebody"),
        builders.address(),
        builders.fraud(),
        builders.security_questions(2),
    ]
    assert assess(credentials, "onelogin").vot == "P2"


def test_a_stale_fraud_check_no_longer_counts() -> None:
    old = builders.NOW - timedelta(days=200)
    credentials = [builders.passport(), builders.fraud(nbf=old), builders.security_questions(2)]
    assert assess(credentials, "onelogin").vot == "P2"
    assert assess(credentials, "onelogin", now=builders.NOW).vot == "P0"


# -- properties ----------------------------------------------------------------------------------------------------

piece = st.builds(EvidenceScore, st.integers(1, 4), st.integers(0, 4))
scores_strategy = st.builds(
    Scores,
    st.lists(piece, max_size=4).map(lambda pieces: tuple(sorted(pieces, reverse=True))),
    st.integers(0, 4),
    st.integers(0, 3),
    st.integers(0, 4),
)


def _raise(scores: Scores, which: int, index: int) -> Scores:
    if which == 0 and scores.evidences:
        pieces = list(scores.evidences)
        i = index % len(pieces)
        pieces[i] = EvidenceScore(min(4, pieces[i].strength + 1), pieces[i].validity)
        return dataclasses.replace(scores, evidences=tuple(pieces))
    if which == 1 and scores.evidences:
        pieces = list(scores.evidences)
        i = index % len(pieces)
        pieces[i] = EvidenceScore(pieces[i].strength, min(4, pieces[i].validity + 1))
        return dataclasses.replace(scores, evidences=tuple(pieces))
    if which == 2:
        return dataclasses.replace(scores, activity=min(4, scores.activity + 1))
    if which == 3:
        return dataclasses.replace(scores, fraud=min(3, scores.fraud + 1))
    if which == 4:
        return dataclasses.replace(scores, verification=min(4, scores.verification + 1))
    return dataclasses.replace(scores, evidences=(*scores.evidences, EvidenceScore(1, 0)))


@settings(max_examples=400, deadline=None)
@given(
    scores_strategy,
    st.integers(0, 5),
    st.integers(0, 3),
    st.sampled_from(["gpg45", "onelogin"]),
    st.booleans(),
)
def test_raising_any_score_never_lowers_the_level(
    scores: Scores, which: int, index: int, policy: str, fraud_optional: bool
) -> None:
    before = assess_scores(scores, POLICIES[policy], fraud_optional=fraud_optional)
    after = assess_scores(_raise(scores, which, index), POLICIES[policy], fraud_optional=fraud_optional)
    assert gpg45.VOTS.index(after.vot) >= gpg45.VOTS.index(before.vot)
    assert {m.vot for m in before.levels_met} <= {m.vot for m in after.levels_met}


clean_credential = st.one_of(
    st.builds(builders.passport, st.integers(1, 4), st.integers(0, 4)),
    st.builds(builders.driving_licence, st.integers(1, 4), st.integers(0, 4), st.integers(0, 1)),
    st.builds(builders.bank_account, st.integers(1, 4), st.integers(0, 4)),
    st.builds(builders.national_insurance, st.integers(1, 4), st.integers(0, 4)),
    st.builds(builders.fraud, st.integers(0, 3), st.integers(0, 1)),
    st.builds(
        builders.fraud,
        st.just(0),
        st.just(0),
        failed=st.sampled_from([("applicable_authoritative_source",), ("available_authoritative_source",)]),
    ),
    st.builds(builders.security_questions, st.integers(0, 2)),
    st.builds(builders.document_app, st.integers(3, 4), st.integers(0, 3), st.integers(0, 3)),
    st.builds(builders.address),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(clean_credential, max_size=5), clean_credential, st.sampled_from(["gpg45", "onelogin"]))
def test_adding_a_clean_credential_never_lowers_the_level(
    existing: list[VerifiedCredential], added: VerifiedCredential, policy: str
) -> None:
    before = assess(existing, policy)
    after = assess([*existing, added], policy)
    assert gpg45.VOTS.index(after.vot) >= gpg45.VOTS.index(before.vot)
    assert {m.vot for m in before.levels_met} <= {m.vot for m in after.levels_met}
