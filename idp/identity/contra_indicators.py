"""Contra-indicators: what they cost, what mitigates them, which return code they give (spec "Contra-indicators").

One Login keeps its codes and scores private, so these are ours, held here as data and nowhere else. The maths is
One Login's (reference §3.5): score = Σ detected scores + Σ checked scores of the mitigated ones (a checked score
is negative, so a mitigated contra-indicator cancels out); a **breach** is a score above the threshold of the
target level. On a breach, a mitigation that would bring the score back to the threshold or under routes the
citizen to it; otherwise the result is P0 with the return codes. A P0 without a breach returns `Z`, and P02's code
is always returned, on success too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Mitigation(StrEnum):
    """Where the journey sends a citizen to mitigate a contra-indicator (One Login's journey events)."""

    ANOTHER_DOCUMENT = "another_document"  # One Login: alternate-doc-invalid-passport / -dl
    DOCUMENT_APP = "document_app"  # One Login: enhanced-verification


class MitigatingEvidence(StrEnum):
    """What kind of later successful credential mitigates a contra-indicator."""

    DIFFERENT_DOCUMENT = "different_document"  # a successful document check other than the one that raised it
    BIOMETRIC_VERIFICATION = "biometric_verification"  # a successful check with verification 3 or more


@dataclass(frozen=True)
class ContraIndicator:
    code: str
    raised_when: str
    detected_score: int
    checked_score: int
    return_code: str
    mitigation: Mitigation | None = None
    mitigated_by: MitigatingEvidence | None = None
    always_returned: bool = False


CONTRA_INDICATORS: Mapping[str, ContraIndicator] = {
    ci.code: ci
    for ci in (
        ContraIndicator(
            "D02",
            "no matching record for a document",
            5,
            -5,
            "D",
            Mitigation.ANOTHER_DOCUMENT,
            MitigatingEvidence.DIFFERENT_DOCUMENT,
        ),
        ContraIndicator(
            "V03",
            "security questions failed",
            15,
            -15,
            "V",
            Mitigation.DOCUMENT_APP,
            MitigatingEvidence.BIOMETRIC_VERIFICATION,
        ),
        ContraIndicator("F01", "identity-fraud marker", 25, 0, "F"),
        ContraIndicator("T02", "the person is recorded as deceased", 40, 0, "T"),
        ContraIndicator("P02", "politically exposed person", 0, 0, "P", always_returned=True),
    )
}

# Spec: "Thresholds per target level: P1 30, P2 20, P3 10, P4 5."
THRESHOLDS: Mapping[str, int] = {"P1": 30, "P2": 20, "P3": 10, "P4": 5}

# Spec: "A P0 without a breach returns Z."
NON_BREACHING_P0_RETURN_CODE = "Z"


class UnknownContraIndicator(ValueError):
    pass


def known(code: str) -> bool:
    return code in CONTRA_INDICATORS


@dataclass(frozen=True)
class RaisedContraIndicator:
    """One contra-indicator on one credential; `document` says what it was raised against (deduplication key)."""

    code: str
    issuer: str
    document: str = ""
    mitigated: bool = False


class Outcome(StrEnum):
    PASS = "pass"
    MITIGATE = "mitigate"
    FAIL = "fail"


@dataclass(frozen=True)
class ContraIndicatorDecision:
    outcome: Outcome
    target_vot: str
    score: int
    threshold: int
    mitigation: Mitigation | None = None
    # The codes to return if the journey ends here with this decision (P0 codes are added by `return_codes`).
    breaching_return_codes: tuple[str, ...] = ()
    # Mitigations of unmitigated contra-indicators that the journey may offer even without a breach, for example
    # another document after D02 when the evidence is not yet enough.
    offered_mitigations: tuple[Mitigation, ...] = field(default=())

    @property
    def breach(self) -> bool:
        return self.outcome is not Outcome.PASS


def _distinct(raised: Iterable[RaisedContraIndicator]) -> list[RaisedContraIndicator]:
    """One Login's CIMIT deduplicates by (code, document); a mitigated copy wins."""
    by_key: dict[tuple[str, str], RaisedContraIndicator] = {}
    for item in raised:
        if item.code not in CONTRA_INDICATORS:
            raise UnknownContraIndicator(item.code)
        key = (item.code, item.document)
        if key not in by_key or item.mitigated:
            by_key[key] = item
    return list(by_key.values())


def score(raised: Iterable[RaisedContraIndicator]) -> int:
    total = 0
    for item in _distinct(raised):
        ci = CONTRA_INDICATORS[item.code]
        total += ci.detected_score + (ci.checked_score if item.mitigated else 0)
    return total


def decide(raised: Iterable[RaisedContraIndicator], target_vot: str) -> ContraIndicatorDecision:
    """Pass, mitigate with one named route, or fail with return codes, for one target level (P1 to P4)."""
    items = _distinct(raised)
    threshold = THRESHOLDS[target_vot]
    total = score(items)
    offered: list[Mitigation] = []
    for item in items:
        mitigation = CONTRA_INDICATORS[item.code].mitigation
        if not item.mitigated and mitigation is not None and mitigation not in offered:
            offered.append(mitigation)
    if total <= threshold:
        return ContraIndicatorDecision(Outcome.PASS, target_vot, total, threshold, offered_mitigations=tuple(offered))
    codes = tuple(sorted({CONTRA_INDICATORS[item.code].return_code for item in items}))
    # Reference §3.5: look for one unmitigated, mitigatable contra-indicator whose checked score brings the total
    # back to the threshold or under.
    for item in items:
        ci = CONTRA_INDICATORS[item.code]
        if not item.mitigated and ci.mitigation is not None and total + ci.checked_score <= threshold:
            return ContraIndicatorDecision(
                Outcome.MITIGATE, target_vot, total, threshold, ci.mitigation, codes, tuple(offered)
            )
    return ContraIndicatorDecision(Outcome.FAIL, target_vot, total, threshold, None, codes)


def return_codes(raised: Iterable[RaisedContraIndicator], achieved_vot: str, target_vot: str) -> tuple[str, ...]:
    """The `returnCode` letters for a finished journey (reference §3.5 "Return codes").

    Success: only the always-returned codes. P0 after a breach: every contra-indicator's code. P0 without a
    breach: `Z`, plus the always-returned codes.
    """
    items = _distinct(raised)
    always = {CONTRA_INDICATORS[i.code].return_code for i in items if CONTRA_INDICATORS[i.code].always_returned}
    if achieved_vot != "P0":
        return tuple(sorted(always))
    if score(items) > THRESHOLDS[target_vot]:
        return tuple(sorted({CONTRA_INDICATORS[i.code].return_code for i in items}))
    return tuple(sorted(always | {NON_BREACHING_P0_RETURN_CODE}))
