"""What a proven identity says about the citizen, from their verified credentials: the core identity (name and
birth date), and the `address`, `passport`, `drivingPermit` and `socialSecurityRecord` claims (reference §3.3;
one-login-protocol §3, §4.1). Only successful credentials count; documents come strongest first, so the name and
date of birth are the most trusted ones; the newest address credential gives the addresses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from idp.identity.credentials import (
    Address,
    BirthDate,
    DrivingPermit,
    Name,
    Passport,
    SocialSecurityRecord,
    VerifiedCredential,
    json_value,
)
from idp.identity.gpg45 import Kind, kind_of, successful
from idp.identity.issuers.base import ClaimedIdentity


@dataclass(frozen=True)
class ProvenIdentity:
    name: tuple[Name, ...]
    birth_date: tuple[BirthDate, ...]
    addresses: tuple[Address, ...]
    passports: tuple[Passport, ...]
    driving_permits: tuple[DrivingPermit, ...]
    social_security_records: tuple[SocialSecurityRecord, ...]

    def core_identity_subject(self) -> dict[str, Any]:
        """The core identity JWT's `vc.credentialSubject`: `name` and `birthDate`."""
        return {"name": json_value(self.name[:1]), "birthDate": json_value(self.birth_date[:1])}

    def address_claim(self) -> list[dict[str, Any]]:
        claim: list[dict[str, Any]] = json_value(self.addresses)
        return claim

    def passport_claim(self) -> list[dict[str, Any]] | None:
        """Only when a passport was used."""
        return json_value(self.passports) if self.passports else None

    def driving_permit_claim(self) -> list[dict[str, Any]] | None:
        """Only when a driving licence was used; `fullAddress` and `issueDate` are stripped (reference §3.3), and
        `issueNumber` is DVLA's only."""
        if not self.driving_permits:
            return None
        claim = []
        for permit in self.driving_permits:
            entry = {
                "expiryDate": permit.expiry_date,
                "issueNumber": permit.issue_number if permit.issued_by == "DVLA" else None,
                "issuedBy": permit.issued_by,
                "personalNumber": permit.personal_number,
            }
            claim.append({key: value for key, value in entry.items() if value is not None})
        return claim

    def social_security_record_claim(self) -> list[dict[str, Any]] | None:
        return json_value(self.social_security_records) if self.social_security_records else None


def _strength(credential: VerifiedCredential) -> tuple[int, int, int]:
    evidence = credential.vc.evidence[0] if credential.vc.evidence else None
    if evidence is None:
        return (0, 0, credential.nbf)
    return (evidence.strength_score or 0, evidence.validity_score or 0, credential.nbf)


def _unique(items: Iterable[Any]) -> tuple[Any, ...]:
    found: list[Any] = []
    for item in items:
        if item not in found:
            found.append(item)
    return tuple(found)


def proven_identity(credentials: Iterable[VerifiedCredential]) -> ProvenIdentity:
    usable = [c for c in credentials if successful(c)]
    identity = sorted(
        (c for c in usable if kind_of(c) not in (Kind.ADDRESS,) and c.vc.credential_subject.name),
        key=_strength,
        reverse=True,
    )
    addresses = sorted((c for c in usable if kind_of(c) is Kind.ADDRESS), key=lambda c: c.nbf, reverse=True)
    documents = [c for c in identity if kind_of(c) is Kind.DOCUMENT]
    return ProvenIdentity(
        name=_unique(n for c in identity for n in c.vc.credential_subject.name),
        birth_date=_unique(b for c in identity for b in c.vc.credential_subject.birth_date),
        addresses=addresses[0].vc.credential_subject.address if addresses else (),
        passports=_unique(p for c in documents for p in c.vc.credential_subject.passport),
        driving_permits=_unique(d for c in documents for d in c.vc.credential_subject.driving_permit),
        social_security_records=_unique(s for c in documents for s in c.vc.credential_subject.social_security_record),
    )


def claimed_identity(credentials: Iterable[VerifiedCredential]) -> ClaimedIdentity | None:
    """Who the credentials so far say the citizen is, for the checks that need it (fraud, questions, bank, NI)."""
    proven = proven_identity(credentials)
    if not proven.name or not proven.birth_date:
        return None
    name = proven.name[0]
    return ClaimedIdentity(name.given_names, name.family_name, proven.birth_date[0].value, proven.addresses)
