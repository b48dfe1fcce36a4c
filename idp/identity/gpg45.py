"""GPG 45 scoring: the profile table, the two policies, and `assess`, which explains itself.

Pure code. Scores are never added: a profile is met when every minimum is met or beaten (reference §1.3). The
engine reads only verified credentials (`idp.identity.credentials.verify_credential`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import permutations, product

from idp.identity.credentials import (
    IDENTITY_ASSERTION_CREDENTIAL,
    CheckMethod,
    FraudCheck,
    VerifiedCredential,
)
from idp.identity.freshness import fraud_check_expired
from idp.identity.messages import _l


@dataclass(frozen=True, slots=True, order=True)
class EvidenceScore:
    strength: int
    validity: int

    def meets(self, required: EvidenceScore) -> bool:
        return self.strength >= required.strength and self.validity >= required.validity


@dataclass(frozen=True, slots=True)
class Scores:
    """What a citizen's credentials achieve: evidence pairs (strongest first), then the three single scores."""

    evidences: tuple[EvidenceScore, ...] = ()
    activity: int = 0
    fraud: int = 0
    verification: int = 0
    # When one document type has pairs neither of which beats the other (4/1 and 3/2), each is an alternative
    # for that one piece of evidence: one group per piece. Empty: every pair of `evidences` is its own piece.
    alternatives: tuple[tuple[EvidenceScore, ...], ...] = ()

    def evidence_choices(self) -> Iterator[tuple[EvidenceScore, ...]]:
        """The ways to pick one pair per piece of evidence."""
        if not self.alternatives:
            yield self.evidences
            return
        for choice in product(*self.alternatives):
            yield tuple(choice)


class Confidence(StrEnum):
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    VERY_HIGH = "Very high"


# Spec: "P1 = Low, P2 = Medium, P3 = High, P4 = Very high".
VOT_FOR_CONFIDENCE: Mapping[Confidence, str] = {
    Confidence.LOW: "P1",
    Confidence.MEDIUM: "P2",
    Confidence.HIGH: "P3",
    Confidence.VERY_HIGH: "P4",
}
VOTS = ("P0", "P1", "P2", "P3", "P4")


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    confidence: Confidence
    evidence: tuple[EvidenceScore, ...]
    activity: int
    fraud: int
    verification: int

    @property
    def vot(self) -> str:
        return VOT_FOR_CONFIDENCE[self.confidence]

    def satisfied_by(self, scores: Scores) -> bool:
        """Reference §1.3 (`Gpg45Profile.isSatisfiedBy`): enough pieces, some order of them meeting every slot, and
        activity, fraud and verification each met or beaten."""
        if scores.activity < self.activity or scores.fraud < self.fraud or scores.verification < self.verification:
            return False
        return any(_evidence_fits(choice, self.evidence) for choice in scores.evidence_choices())


def _evidence_fits(achieved: tuple[EvidenceScore, ...], required: tuple[EvidenceScore, ...]) -> bool:
    if len(achieved) < len(required):
        return False
    if len(required) == 1:
        return any(piece.meets(required[0]) for piece in achieved)
    return any(
        all(piece.meets(slot) for piece, slot in zip(order, required, strict=True))
        for order in permutations(achieved, len(required))
    )


def _p(name: str, confidence: Confidence, evidence: str, activity: int, fraud: int, verification: int) -> Profile:
    pieces = tuple(EvidenceScore(int(pair[0]), int(pair[2])) for pair in evidence.split(" + "))
    return Profile(name, confidence, pieces, activity, fraud, verification)


_LOW, _MEDIUM, _HIGH, _VERY_HIGH = Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH, Confidence.VERY_HIGH

# Reference §1.3, the whole table: name, confidence, evidence (strength/validity per piece), activity, fraud,
# verification.
PROFILES: tuple[Profile, ...] = (
    _p("L1A", _LOW, "2/2", 0, 1, 1),
    _p("L1B", _LOW, "3/2", 0, 0, 1),
    _p("L1C", _LOW, "1/1", 3, 2, 2),
    _p("L2A", _LOW, "1/1 + 1/1", 2, 1, 2),
    _p("L2B", _LOW, "1/1 + 1/1", 2, 2, 1),
    _p("L3A", _LOW, "1/1 + 1/1 + 1/1", 2, 1, 1),
    _p("M1A", _MEDIUM, "4/2", 0, 1, 2),
    _p("M1B", _MEDIUM, "3/2", 1, 2, 2),
    _p("M1C", _MEDIUM, "3/3", 0, 0, 3),
    _p("M1D", _MEDIUM, "2/2", 2, 1, 3),
    _p("M2A", _MEDIUM, "2/2 + 2/2", 3, 2, 2),
    _p("M2B", _MEDIUM, "3/2 + 2/2", 1, 1, 2),
    _p("M2C", _MEDIUM, "3/2 + 2/2", 0, 1, 3),
    _p("M3A", _MEDIUM, "2/2 + 2/2 + 2/2", 2, 2, 2),
    _p("H1A", _HIGH, "4/3", 0, 1, 3),
    _p("H1B", _HIGH, "3/3", 2, 1, 3),
    _p("H1C", _HIGH, "4/3", 0, 0, 4),
    _p("H2A", _HIGH, "2/2 + 2/2", 3, 2, 3),
    _p("H2B", _HIGH, "4/2 + 3/2", 0, 2, 3),
    _p("H2C", _HIGH, "3/3 + 2/2", 1, 1, 3),
    _p("H2D", _HIGH, "3/3 + 2/2", 0, 1, 3),
    _p("H2E", _HIGH, "4/3 + 3/3", 0, 0, 3),
    _p("H3A", _HIGH, "2/2 + 2/2 + 2/2", 2, 2, 3),
    _p("V1A", _VERY_HIGH, "4/3", 0, 3, 3),
    _p("V1B", _VERY_HIGH, "4/4", 0, 1, 3),
    _p("V1C", _VERY_HIGH, "4/3", 1, 1, 4),
    _p("V1D", _VERY_HIGH, "4/4", 0, 0, 4),
    _p("V2A", _VERY_HIGH, "3/3 + 3/3", 3, 2, 3),
    _p("V2B", _VERY_HIGH, "4/3 + 3/3", 0, 2, 3),
    _p("V2C", _VERY_HIGH, "4/3 + 2/2", 2, 2, 3),
    _p("V2D", _VERY_HIGH, "4/4 + 4/4", 0, 0, 3),
    _p("V3A", _VERY_HIGH, "3/3 + 2/2 + 2/2", 3, 3, 3),
)
PROFILES_BY_NAME: Mapping[str, Profile] = {profile.name: profile for profile in PROFILES}


@dataclass(frozen=True)
class Policy:
    """Which profiles count for each level, in the order they are tried.

    `fraud_zero_needs_optional`: a profile needing no fraud check counts only when the fraud score is optional
    (reference §3.1, One Login's rule for M1C).
    """

    name: str
    profiles: Mapping[str, tuple[Profile, ...]]
    fraud_zero_needs_optional: bool

    def levels(self) -> tuple[str, ...]:
        return tuple(vot for vot in VOTS[1:] if self.profiles.get(vot))


def _by_level(names_by_vot: Mapping[str, Sequence[str]]) -> dict[str, tuple[Profile, ...]]:
    return {vot: tuple(PROFILES_BY_NAME[name] for name in names) for vot, names in names_by_vot.items()}


POLICIES: Mapping[str, Policy] = {
    # Spec: "`gpg45` (every profile of that confidence level)".
    "gpg45": Policy(
        "gpg45",
        {vot: tuple(p for p in PROFILES if p.vot == vot) for vot in VOTS[1:]},
        fraud_zero_needs_optional=False,
    ),
    # Spec: "`onelogin` (P1: L1A; P2: M1A, M1B, M2B, M1C with the fraud-optional rule; P3: H1A)".
    "onelogin": Policy(
        "onelogin",
        _by_level({"P1": ["L1A"], "P2": ["M1A", "M1B", "M2B", "M1C"], "P3": ["H1A"]}),
        fraud_zero_needs_optional=True,
    ),
}


class Part(StrEnum):
    EVIDENCE = "evidence"
    ACTIVITY = "activity"
    FRAUD = "fraud"
    VERIFICATION = "verification"
    ADDITIONAL_EVIDENCE = "additional_evidence"


_DESCRIPTIONS: Mapping[Part, str] = {
    Part.EVIDENCE: _l("a piece of evidence of strength %(strength)d and validity %(validity)d"),
    Part.ACTIVITY: _l("activity history %(more)d more"),
    Part.FRAUD: _l("identity fraud %(more)d more"),
    Part.VERIFICATION: _l("verification %(more)d more"),
    Part.ADDITIONAL_EVIDENCE: _l("a document besides the bank account"),
}


@dataclass(frozen=True)
class Gap:
    """One thing missing for a profile. For evidence, `required` is the piece still needed."""

    part: Part
    have: int = 0
    need: int = 0
    required: EvidenceScore | None = None

    @property
    def message(self) -> str:
        """A msgid (see idp.identity.messages); `params` fills it in."""
        return _DESCRIPTIONS[self.part]

    @property
    def params(self) -> dict[str, int]:
        if self.required is not None:
            return {"strength": self.required.strength, "validity": self.required.validity}
        return {"more": self.need - self.have}

    def describe(self) -> str:
        """English, for logs and tests; pages translate `message` with `params` instead."""
        return self.message % self.params


def gaps(profile: Profile, scores: Scores) -> tuple[Gap, ...]:
    found: list[Gap] = []
    unmet = min((_unmet_slots(choice, profile.evidence) for choice in scores.evidence_choices()), key=len)
    for slot in unmet:
        found.append(Gap(Part.EVIDENCE, required=slot))
    for part, have, need in (
        (Part.ACTIVITY, scores.activity, profile.activity),
        (Part.FRAUD, scores.fraud, profile.fraud),
        (Part.VERIFICATION, scores.verification, profile.verification),
    ):
        if have < need:
            found.append(Gap(part, have, need))
    return tuple(found)


def _unmet_slots(achieved: tuple[EvidenceScore, ...], required: tuple[EvidenceScore, ...]) -> list[EvidenceScore]:
    """The required pieces left unmet by the best assignment of the achieved pieces to the slots."""
    best: list[EvidenceScore] = list(required)
    pieces: list[EvidenceScore | None] = [*achieved, *([None] * len(required))]
    for order in permutations(pieces, len(required)):
        unmet = [slot for piece, slot in zip(order, required, strict=True) if piece is None or not piece.meets(slot)]
        if len(unmet) < len(best):
            best = unmet
            if not best:
                break
    return best


class Outcome(StrEnum):
    MET = "met"  # at least the lowest level of the policy is met
    NOT_MET = "not_met"
    MISMATCH = "mismatch"  # the credentials do not agree on name or date of birth: its own outcome


@dataclass(frozen=True)
class LevelMatch:
    vot: str
    profile: str


@dataclass(frozen=True)
class Assessment:
    outcome: Outcome
    vot: str  # the strongest level met, "P0" when none
    profile: str | None  # the profile that met it
    scores: Scores
    levels_met: tuple[LevelMatch, ...] = ()  # every level met, strongest first, with the first profile that met it
    fraud_optional: bool = False
    mismatched: tuple[str, ...] = ()  # "name" and/or "birthDate"
    next_vot: str | None = None  # the level above, if the policy has one
    next_profile: str | None = None  # the profile of that level nearest to being met
    missing: tuple[Gap, ...] = ()  # what that profile still needs
    needs_additional_evidence: bool = False

    def meets(self, vot: str) -> bool:
        return any(match.vot == vot for match in self.levels_met)

    def profile_for(self, vot: str) -> str | None:
        return next((match.profile for match in self.levels_met if match.vot == vot), None)

    def explain(self) -> list[str]:
        return [gap.describe() for gap in self.missing]


# -- combining credentials (reference §4.1, §4.2) ------------------------------------------------------------------


class Kind(StrEnum):
    ADDRESS = "address"
    CLAIMED_IDENTITY = "claimed_identity"
    DOCUMENT = "document"
    FRAUD = "fraud"
    VERIFICATION = "verification"


def kind_of(credential: VerifiedCredential) -> Kind:
    vc = credential.vc
    if vc.is_address:
        return Kind.ADDRESS
    if IDENTITY_ASSERTION_CREDENTIAL in vc.type or not vc.evidence:
        return Kind.CLAIMED_IDENTITY
    evidence = vc.evidence[0]
    if evidence.strength_score is not None or vc.credential_subject.document_type() is not None:
        return Kind.DOCUMENT
    details = (*evidence.check_details, *evidence.failed_check_details)
    if evidence.identity_fraud_score is not None or any(d.fraud_check for d in details):
        return Kind.FRAUD
    return Kind.VERIFICATION


def successful(credential: VerifiedCredential) -> bool:
    """Reference §3.2 "When a VC counts as successful", by kind."""
    kind = kind_of(credential)
    if kind in (Kind.ADDRESS, Kind.CLAIMED_IDENTITY):
        return True
    evidence = credential.vc.evidence[0]
    if kind is Kind.FRAUD:
        return (evidence.identity_fraud_score or 0) > 0
    if kind is Kind.VERIFICATION:
        return evidence.verification > 0
    if evidence.strength_score is None and evidence.validity_score is None:
        # A National Insurance record: successful with no scores when nothing failed.
        return not evidence.failed_check_details
    document_ok = (evidence.strength_score or 0) > 0 and (evidence.validity_score or 0) > 0
    biometric = evidence.verification_score is not None or any(
        d.check_method == CheckMethod.BVR for d in evidence.check_details
    )
    return document_ok and (evidence.verification > 0 if biometric else True)


def fraud_score_optional(credentials: Iterable[VerifiedCredential]) -> bool:
    """Reference §3.1: a fraud check that could not run (no data, or the source unavailable), or a failed mortality
    check with fraud score 0."""
    for credential in credentials:
        if kind_of(credential) is not Kind.FRAUD:
            continue
        evidence = credential.vc.evidence[0]
        for detail in evidence.failed_check_details:
            if detail.fraud_check in (
                FraudCheck.APPLICABLE_AUTHORITATIVE_SOURCE,
                FraudCheck.AVAILABLE_AUTHORITATIVE_SOURCE,
            ):
                return True
            if detail.fraud_check == FraudCheck.MORTALITY and (evidence.identity_fraud_score or 0) == 0:
                return True
    return False


def combine(credentials: Iterable[VerifiedCredential]) -> Scores:
    """Max activity, fraud and verification; evidence pairs de-duplicated by document type keeping the strongest.

    Only successful credentials count: a document read by the app whose face check failed is not evidence.
    """
    activity = fraud = verification = 0
    by_document: dict[str, EvidenceScore] = {}
    frontier: dict[str, list[EvidenceScore]] = {}
    undocumented: list[EvidenceScore] = []
    for credential in credentials:
        if not successful(credential):
            continue
        document = credential.vc.credential_subject.document_type()
        for evidence in credential.vc.evidence:
            activity = max(activity, evidence.activity_history_score or 0)
            fraud = max(fraud, evidence.identity_fraud_score or 0)
            verification = max(verification, evidence.verification)
            if evidence.strength_score is None or evidence.validity_score is None:
                continue
            pair = EvidenceScore(evidence.strength_score, evidence.validity_score)
            if document is None:
                undocumented.append(pair)
            else:
                if document not in by_document or pair > by_document[document]:
                    by_document[document] = pair
                pairs = frontier.setdefault(document, [])
                if not any(other.meets(pair) for other in pairs):
                    pairs[:] = [other for other in pairs if not pair.meets(other)] + [pair]
    evidences = tuple(sorted([*by_document.values(), *undocumented], reverse=True))
    if all(len(pairs) == 1 for pairs in frontier.values()):
        return Scores(evidences, activity, fraud, verification)
    # Raising a score never lowers the level: a document's pairs that neither beats are alternatives, not one
    # chosen by strength first (One Login's rule, under which 4/1 would hide 3/2).
    groups = tuple(tuple(sorted(pairs, reverse=True)) for pairs in frontier.values())
    alternatives = tuple(sorted([*groups, *((pair,) for pair in undocumented)], reverse=True))
    return Scores(evidences, activity, fraud, verification, alternatives)


_NOT_LETTERS = re.compile(r"[^a-z]+")


def normalise_name(text: str) -> str:
    """Case, accents, hyphens, apostrophes and spacing do not make names differ."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _NOT_LETTERS.sub(" ", plain.casefold()).strip()


def mismatches(credentials: Iterable[VerifiedCredential]) -> tuple[str, ...]:
    """Reference §4.2 step 1: every successful credential except the address carries the same name and birth date."""
    names: set[str] = set()
    births: set[str] = set()
    for credential in credentials:
        if kind_of(credential) is Kind.ADDRESS or not successful(credential):
            continue
        subject = credential.vc.credential_subject
        names.add(
            normalise_name(f"{subject.name[0].given_names} {subject.name[0].family_name}") if subject.name else ""
        )
        births.add(subject.birth_date[0].value if subject.birth_date else "")
    found = []
    if len(names) > 1 or "" in names:
        found.append("name")
    if len(births) > 1 or "" in births:
        found.append("birthDate")
    return tuple(found)


def _needs_additional_evidence(credentials: Sequence[VerifiedCredential]) -> bool:
    """Reference §4.2 step 2: a bank account cannot be the only piece of evidence."""
    evidence_documents = [
        credential.vc.credential_subject.document_type()
        for credential in credentials
        if successful(credential)
        and any((e.strength_score or 0) > 0 and (e.validity_score or 0) > 0 for e in credential.vc.evidence)
    ]
    return evidence_documents == ["bankAccount"]


def match_levels(scores: Scores, policy: Policy, fraud_optional: bool) -> tuple[LevelMatch, ...]:
    """Every level of the policy that the scores meet, strongest first, each with the first profile in order."""
    found = []
    for vot in reversed(policy.levels()):
        for profile in policy.profiles[vot]:
            if profile.fraud == 0 and policy.fraud_zero_needs_optional and not fraud_optional:
                continue
            if profile.satisfied_by(scores):
                found.append(LevelMatch(vot, profile.name))
                break
    return tuple(found)


def nearest_profile(
    scores: Scores, policy: Policy, vot: str, fraud_optional: bool
) -> tuple[Profile | None, tuple[Gap, ...]]:
    best: tuple[Profile | None, tuple[Gap, ...]] = (None, ())
    best_key: tuple[int, int] | None = None
    for profile in policy.profiles.get(vot, ()):
        if profile.fraud == 0 and policy.fraud_zero_needs_optional and not fraud_optional:
            continue
        missing = gaps(profile, scores)
        shortfall = sum((g.need - g.have) if g.required is None else 1 for g in missing)
        key = (len(missing), shortfall)
        if best_key is None or key < best_key:
            best, best_key = (profile, missing), key
    return best


def assess_scores(
    scores: Scores, policy: Policy, *, fraud_optional: bool = False, needs_additional_evidence: bool = False
) -> Assessment:
    levels = () if needs_additional_evidence else match_levels(scores, policy, fraud_optional)
    top = levels[0] if levels else None
    vot = top.vot if top else "P0"
    higher = [level for level in policy.levels() if VOTS.index(level) > VOTS.index(vot)]
    next_vot = higher[0] if higher else None
    next_profile: Profile | None = None
    missing: tuple[Gap, ...] = ()
    if next_vot is not None:
        next_profile, missing = nearest_profile(scores, policy, next_vot, fraud_optional)
    if needs_additional_evidence:
        missing = (Gap(Part.ADDITIONAL_EVIDENCE), *missing)
    return Assessment(
        outcome=Outcome.MET if levels else Outcome.NOT_MET,
        vot=vot,
        profile=top.profile if top else None,
        scores=scores,
        levels_met=levels,
        fraud_optional=fraud_optional,
        next_vot=next_vot,
        next_profile=next_profile.name if next_profile else None,
        missing=missing,
        needs_additional_evidence=needs_additional_evidence,
    )


def counted(credentials: Iterable[VerifiedCredential], now: datetime | None) -> list[VerifiedCredential]:
    """Spec §4: a fraud check older than 180 days no longer counts."""
    return [
        credential
        for credential in credentials
        if now is None or kind_of(credential) is not Kind.FRAUD or not fraud_check_expired(credential.nbf, now)
    ]


def assess(credentials: Iterable[VerifiedCredential], policy: Policy | str, now: datetime | None = None) -> Assessment:
    """The level reached, the profile that met it, and what is missing for the next level up.

    `now`, when given, drops fraud checks that are no longer fresh (spec "Reuse, freshness and change").
    """
    chosen = POLICIES[policy] if isinstance(policy, str) else policy
    usable = counted(credentials, now)
    mismatched = mismatches(usable)
    scores = combine(usable)
    if mismatched:
        return Assessment(Outcome.MISMATCH, "P0", None, scores, mismatched=mismatched)
    return assess_scores(
        scores,
        chosen,
        fraud_optional=fraud_score_optional(usable),
        needs_additional_evidence=_needs_additional_evidence(usable),
    )
