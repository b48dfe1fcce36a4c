"""What to ask each check for, and which checks could fill what the engine says is missing.

Reference §4.2 "What core asks CRIs for": security questions at verification 1 for a P1 target, 2 otherwise;
the fraud check at 2, or 1 when the citizen already has an app credential of strength 4, validity 2 and
verification 3 (M1A and H1A need only fraud 1).
"""

from __future__ import annotations

from collections.abc import Iterable

from idp.identity.credentials import VerifiedCredential
from idp.identity.gpg45 import Assessment, Gap, Part, successful
from idp.identity.issuers.base import EvidenceRequest

# The strongest evidence each document check gives (spec table), for suggesting a check that fills a gap.
_DOCUMENT_CHECKS: tuple[tuple[str, int, int], ...] = (
    ("passport", 4, 2),
    ("driving_licence", 3, 2),
    ("document_app", 4, 3),
    ("bank_account", 3, 2),
    ("national_insurance", 2, 2),
)


def evidence_request(issuer: str, credentials: Iterable[VerifiedCredential], target_vot: str) -> EvidenceRequest:
    if issuer == "security_questions":
        return EvidenceRequest(verification_score=1 if target_vot == "P1" else 2)
    if issuer == "fraud":
        strong_app = any(
            successful(c)
            and any(
                (e.strength_score or 0) >= 4 and (e.validity_score or 0) >= 2 and e.verification >= 3
                for e in c.vc.evidence
            )
            for c in credentials
        )
        return EvidenceRequest(identity_fraud_score=1 if strong_app else 2)
    return EvidenceRequest()


def checks_for(gap: Gap) -> tuple[str, ...]:
    """The checks that could fill one gap, best first."""
    if gap.part is Part.EVIDENCE and gap.required is not None:
        required = gap.required
        return tuple(
            name
            for name, strength, validity in _DOCUMENT_CHECKS
            if strength >= required.strength and validity >= required.validity
        )
    if gap.part is Part.ADDITIONAL_EVIDENCE:
        return ("passport", "driving_licence", "national_insurance")
    if gap.part is Part.ACTIVITY:
        return ("fraud", "driving_licence") if gap.need <= 1 else ()
    if gap.part is Part.FRAUD:
        return ("fraud",) if gap.need <= 2 else ()
    if gap.part is Part.VERIFICATION:
        return ("security_questions", "document_app") if gap.need <= 2 else ("document_app",) if gap.need <= 3 else ()
    return ()


def suggested_checks(assessment: Assessment) -> tuple[str, ...]:
    """One check per gap for the nearest profile of the next level, in the order of the gaps."""
    chosen: list[str] = []
    for gap in assessment.missing:
        options = checks_for(gap)
        if options and not any(option in chosen for option in options):
            chosen.append(options[0])
    return tuple(chosen)
