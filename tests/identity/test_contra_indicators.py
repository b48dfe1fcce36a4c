"""Contra-indicators, thresholds, mitigations and return codes (idp/identity/contra_indicators.py), and the
decision that puts them together with the engine (idp/identity/decision.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp.identity import contra_indicators
from idp.identity.contra_indicators import (
    CONTRA_INDICATORS,
    THRESHOLDS,
    Mitigation,
    Outcome,
    RaisedContraIndicator,
    UnknownContraIndicator,
)
from idp.identity.decision import decide
from tests.identity import builders


def raised(*codes: str, mitigated: tuple[str, ...] = ()) -> list[RaisedContraIndicator]:
    return [
        RaisedContraIndicator(code, "check", document=f"doc{index}", mitigated=code in mitigated)
        for index, code in enumerate(codes)
    ]


def test_the_table_is_the_spec() -> None:
    assert {code: (ci.detected_score, ci.return_code, ci.mitigation) for code, ci in CONTRA_INDICATORS.items()} == {
        "D02": (5, "D", Mitigation.ANOTHER_DOCUMENT),
        "V03": (15, "V", Mitigation.DOCUMENT_APP),
        "F01": (25, "F", None),
        "T02": (40, "T", None),
        "P02": (0, "P", None),
    }
    assert THRESHOLDS == {"P1": 30, "P2": 20, "P3": 10, "P4": 5}


@pytest.mark.parametrize(
    ("codes", "mitigated", "target", "outcome", "mitigation", "codes_returned"),
    [
        ((), (), "P2", Outcome.PASS, None, ()),
        (("D02",), (), "P2", Outcome.PASS, None, ()),
        (("V03",), (), "P2", Outcome.PASS, None, ()),
        (("V03",), (), "P3", Outcome.MITIGATE, Mitigation.DOCUMENT_APP, ("V",)),
        (("V03",), ("V03",), "P3", Outcome.PASS, None, ()),
        (("D02", "D02", "V03"), (), "P2", Outcome.MITIGATE, Mitigation.ANOTHER_DOCUMENT, ("D", "V")),
        (("F01",), (), "P2", Outcome.FAIL, None, ("F",)),
        (("F01",), (), "P1", Outcome.PASS, None, ()),
        (("T02",), (), "P1", Outcome.FAIL, None, ("T",)),
        (("T02", "P02"), (), "P2", Outcome.FAIL, None, ("P", "T")),
        (("P02",), (), "P4", Outcome.PASS, None, ()),
        (("D02", "V03", "F01"), (), "P2", Outcome.FAIL, None, ("D", "F", "V")),
    ],
)
def test_decisions(
    codes: tuple[str, ...],
    mitigated: tuple[str, ...],
    target: str,
    outcome: Outcome,
    mitigation: Mitigation | None,
    codes_returned: tuple[str, ...],
) -> None:
    decision = contra_indicators.decide(raised(*codes, mitigated=mitigated), target)
    assert decision.outcome is outcome
    assert decision.mitigation is mitigation
    assert decision.breaching_return_codes == codes_returned


def test_the_same_code_on_the_same_document_counts_once() -> None:
    twice = [
        RaisedContraIndicator("D02", "passport", "passport/1"),
        RaisedContraIndicator("D02", "passport", "passport/1"),
    ]
    assert contra_indicators.score(twice) == 5


def test_a_mitigation_is_offered_without_a_breach() -> None:
    decision = contra_indicators.decide(raised("D02"), "P2")
    assert decision.outcome is Outcome.PASS
    assert decision.offered_mitigations == (Mitigation.ANOTHER_DOCUMENT,)


@pytest.mark.parametrize(
    ("codes", "achieved", "target", "expected"),
    [
        ((), "P2", "P2", ()),
        (("P02",), "P2", "P2", ("P",)),  # always returned, also on success
        ((), "P0", "P2", ("Z",)),  # P0 without a breach
        (("D02",), "P0", "P2", ("Z",)),
        (("P02",), "P0", "P2", ("P", "Z")),
        (("F01",), "P0", "P2", ("F",)),
        (("F01", "P02"), "P0", "P2", ("F", "P")),
    ],
)
def test_return_codes(codes: tuple[str, ...], achieved: str, target: str, expected: tuple[str, ...]) -> None:
    assert contra_indicators.return_codes(raised(*codes), achieved, target) == expected


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(UnknownContraIndicator):
        contra_indicators.decide(raised("X99"), "P2")


# -- the decision --------------------------------------------------------------------------------------------------


def test_the_web_passport_route_gives_p2() -> None:
    credentials = [builders.passport(), builders.address(), builders.fraud(), builders.security_questions(2)]
    decision = decide(credentials, "onelogin", ["P2"], builders.NOW)
    assert (decision.requested_vot, decision.strongest_vot, decision.assessment.profile) == ("P2", "P2", "M1A")
    assert decision.return_codes == ()


def test_a_politically_exposed_person_succeeds_with_p() -> None:
    credentials = [builders.passport(), builders.fraud(cis=("P02",)), builders.security_questions(2)]
    decision = decide(credentials, "onelogin", ["P2"], builders.NOW)
    assert decision.requested_vot == "P2"
    assert decision.return_codes == ("P",)


def test_a_deceased_person_fails_with_t() -> None:
    credentials = [builders.passport(), builders.fraud(0, cis=("T02",)), builders.security_questions(2)]
    decision = decide(credentials, "onelogin", ["P2"], builders.NOW)
    assert decision.requested_vot is None
    assert decision.contra_indicators.outcome is Outcome.FAIL
    assert decision.return_codes == ("T",)


def test_a_fraud_marker_breaches_p2_even_when_the_scores_meet_it() -> None:
    credentials = [builders.passport(), builders.fraud(2, cis=("F01",)), builders.security_questions(2)]
    decision = decide(credentials, "onelogin", ["P1", "P2"], builders.NOW)
    assert decision.assessment.vot == "P2"
    # F01 (25) breaches P2 (20) but not P1 (30): the service gets the level the contra-indicators allow.
    assert (decision.strongest_vot, decision.requested_vot) == ("P1", "P1")


def test_failed_security_questions_at_p3_route_to_the_app_and_the_app_mitigates() -> None:
    failed = [builders.passport(), builders.fraud(), builders.security_questions(0, cis=("V03",))]
    decision = decide(failed, "onelogin", ["P3"], builders.NOW)
    assert decision.requested_vot is None
    assert decision.contra_indicators.mitigation is Mitigation.DOCUMENT_APP
    later = builders.NOW + timedelta(minutes=5)
    mitigated = decide([*failed, builders.document_app(nbf=later)], "onelogin", ["P3"], later)
    assert mitigated.requested_vot == "P3"
    assert mitigated.contra_indicators.outcome is Outcome.PASS


def test_a_passport_without_a_record_is_mitigated_by_another_document() -> None:
    failed_passport = builders.passport(4, 0, cis=("D02",))
    licence = builders.driving_licence(nbf=builders.NOW + timedelta(minutes=1))
    decision = decide(
        [failed_passport, licence, builders.fraud(), builders.security_questions(2)], "onelogin", ["P2"], builders.NOW
    )
    assert decision.requested_vot == "P2"
    assert decision.assessment.profile == "M1B"
    assert decision.contra_indicators.score == 0


def test_short_evidence_without_a_breach_returns_z() -> None:
    decision = decide([builders.passport(), builders.fraud()], "onelogin", ["P2"], builders.NOW)
    assert decision.requested_vot is None
    assert decision.return_codes == ("Z",)


def test_a_stale_fraud_check_asks_for_a_fresh_one_only() -> None:
    old = builders.NOW - timedelta(days=181)
    credentials = [builders.passport(nbf=old), builders.fraud(nbf=old), builders.security_questions(2, nbf=old)]
    decision = decide(credentials, "onelogin", ["P2"], builders.NOW)
    assert decision.requested_vot is None
    assert decision.fraud_check_stale
    assert decision.assessment.explain() == ["identity fraud 1 more"]
    fresh = decide([*credentials, builders.fraud()], "onelogin", ["P2"], builders.NOW)
    assert fresh.requested_vot == "P2"
    assert not fresh.fraud_check_stale


def test_a_p3_identity_serves_a_p2_request() -> None:
    credentials = [builders.document_app(), builders.fraud(1, 1)]
    decision = decide(credentials, "onelogin", ["P2"], builders.NOW)
    assert (decision.strongest_vot, decision.requested_vot) == ("P3", "P2")
