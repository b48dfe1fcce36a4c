"""The identity outcome for one request: the scoring engine plus the contra-indicator gate (reference §4.2, §3.5).

For each level, strongest first, the first profile met wins, and the match is rejected when the contra-indicators
breach that level's threshold. The service receives the strongest level it asked for that survives.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from idp.identity import contra_indicators
from idp.identity.contra_indicators import (
    ContraIndicatorDecision,
    MitigatingEvidence,
    RaisedContraIndicator,
)
from idp.identity.credentials import VerifiedCredential
from idp.identity.freshness import fraud_check_expired
from idp.identity.gpg45 import VOTS, Assessment, Kind, Policy, assess, kind_of, successful


def document_key(credential: VerifiedCredential) -> str:
    """What a contra-indicator was raised against, e.g. `passport/321654987` (One Login's CIMIT `document`)."""
    subject = credential.vc.credential_subject
    for kind, items in (
        ("passport", [p.document_number for p in subject.passport]),
        ("drivingPermit", [d.personal_number for d in subject.driving_permit]),
        ("bankAccount", [f"{b.sort_code}{b.account_number}" for b in subject.bank_account]),
        ("socialSecurityRecord", [s.personal_number for s in subject.social_security_record]),
    ):
        if items:
            return f"{kind}/{items[0]}"
    return ""


def _mitigates(later: VerifiedCredential, raised_on: VerifiedCredential, how: MitigatingEvidence) -> bool:
    if later.nbf < raised_on.nbf or not successful(later) or later.jti == raised_on.jti:
        return False
    evidence = later.vc.evidence[0] if later.vc.evidence else None
    if evidence is None:
        return False
    if how is MitigatingEvidence.BIOMETRIC_VERIFICATION:
        return evidence.verification >= 3
    return (
        kind_of(later) is Kind.DOCUMENT
        and (evidence.strength_score or 0) > 0
        and document_key(later) != document_key(raised_on)
    )


def raised_contra_indicators(credentials: Sequence[VerifiedCredential]) -> list[RaisedContraIndicator]:
    raised = []
    for credential in credentials:
        for code in credential.cis:
            how = contra_indicators.CONTRA_INDICATORS[code].mitigated_by
            mitigated = how is not None and any(_mitigates(other, credential, how) for other in credentials)
            raised.append(RaisedContraIndicator(code, credential.issuer, document_key(credential), mitigated))
    return raised


@dataclass(frozen=True)
class IdentityDecision:
    assessment: Assessment
    strongest_vot: str  # the strongest level met that the contra-indicators allow ("P0" for none)
    requested_vot: str | None  # the strongest requested level met and allowed; None: the request is not met
    contra_indicators: ContraIndicatorDecision  # for the requested level reached, else the lowest requested
    return_codes: tuple[str, ...]
    fraud_check_stale: bool  # every fraud check has expired: a fresh one, not a whole journey (reference §4.3)


def decide(
    credentials: Iterable[VerifiedCredential],
    policy: Policy | str,
    requested_vots: Sequence[str],
    now: datetime,
) -> IdentityDecision:
    every = list(credentials)
    assessment = assess(every, policy, now)
    raised = raised_contra_indicators(every)
    allowed = [match.vot for match in assessment.levels_met if not contra_indicators.decide(raised, match.vot).breach]
    strongest = allowed[0] if allowed else "P0"
    requested = sorted(set(requested_vots) & set(allowed), key=VOTS.index, reverse=True)
    requested_vot = requested[0] if requested else None
    lowest_requested = min(requested_vots, key=VOTS.index) if requested_vots else "P2"
    target = requested_vot or lowest_requested
    fraud_checks = [c for c in every if kind_of(c) is Kind.FRAUD]
    return IdentityDecision(
        assessment=assessment,
        strongest_vot=strongest,
        requested_vot=requested_vot,
        contra_indicators=contra_indicators.decide(raised, target),
        return_codes=contra_indicators.return_codes(raised, requested_vot or "P0", target),
        fraud_check_stale=bool(fraud_checks) and all(fraud_check_expired(c.nbf, now) for c in fraud_checks),
    )
