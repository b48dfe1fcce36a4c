"""The proving journey's use of the identity domain: running a check, keeping its verified credential, deciding
what comes next, and concluding with an outcome for the service. The views call only this module.

Credentials are stored as the signed JWTs the checks issued, and every use reads them through
`verify_credential`, so the engine only ever sees verified credentials (spec: "The checks").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from idp.extensions import db
from idp.identity.forms import FieldSpec
from idp.identity.outcome import IdentityOutcome
from idp.identity.proving_journey import ProvingState
from idp.models.identity import IdentityCredential, ProvingRecord


@dataclass(frozen=True)
class Refusal:
    field: str | None
    message: str


@dataclass(frozen=True)
class CheckRun:
    credential: str | None = None
    refusal: Refusal | None = None


@dataclass(frozen=True)
class CheckPage:
    name: str
    title: str
    fields: Sequence[FieldSpec]
    description: str = ""
    test_mode: bool = False


@dataclass(frozen=True)
class Details:
    name: str
    birth_date: str
    address: str


@dataclass(frozen=True)
class Plan:
    kind: str  # proving_journey.REUSE, FRAUD_REFRESH or NEW
    details: Details | None = None


@dataclass(frozen=True)
class Decision:
    kind: str  # "continue", "mitigate" or "fail"
    mitigation_steps: tuple[str, ...] = ()
    return_codes: tuple[str, ...] = field(default_factory=tuple)


def _subject(claims: dict[str, Any]) -> dict[str, Any]:
    subject = claims.get("vc", {}).get("credentialSubject", {})
    return subject if isinstance(subject, dict) else {}


def identity_attributes(credential_claims: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The name, date of birth, address and documents across credentials, the latest of each kind winning."""
    found: dict[str, list[dict[str, Any]]] = {}
    for claims in sorted(credential_claims, key=lambda c: int(c.get("nbf", 0))):
        for attribute, values in _subject(claims).items():
            if isinstance(values, list) and values:
                found[attribute] = values
    return found


def outcome_from(
    attributes: dict[str, list[dict[str, Any]]], vot: str, return_codes: Sequence[str], record_id: str | None
) -> IdentityOutcome:
    return IdentityOutcome(
        vot=vot,
        return_codes=list(return_codes),
        name=attributes.get("name", []) if vot != "P0" else [],
        birth_date=attributes.get("birthDate", []) if vot != "P0" else [],
        address=attributes.get("address", []) if vot != "P0" else [],
        passport=attributes.get("passport", []) if vot != "P0" else [],
        driving_permit=attributes.get("drivingPermit", []) if vot != "P0" else [],
        record_id=record_id,
    )


def details_for_confirmation(attributes: dict[str, list[dict[str, Any]]]) -> Details:
    name_parts = (attributes.get("name") or [{"nameParts": []}])[0].get("nameParts", [])
    given = " ".join(p["value"] for p in name_parts if p.get("type") == "GivenName")
    family = " ".join(p["value"] for p in name_parts if p.get("type") == "FamilyName")
    birth = (attributes.get("birthDate") or [{"value": ""}])[0].get("value", "")
    addresses = attributes.get("address") or []
    current = next((a for a in addresses if not a.get("validUntil")), addresses[0] if addresses else {})
    lines = [
        " ".join(str(current[k]) for k in ("buildingNumber", "streetName") if current.get(k)),
        *(str(current[k]) for k in ("buildingName", "addressLocality", "postalCode") if current.get(k)),
    ]
    return Details(f"{given} {family}".strip(), birth, ", ".join(line for line in lines if line))


def stored_credentials(user_id: str) -> list[IdentityCredential]:
    return list(
        db.session.scalars(
            select(IdentityCredential)
            .where(IdentityCredential.user_id == user_id)
            .order_by(IdentityCredential.not_before)
        )
    )


def keep_credentials(user_id: str, verified: Sequence[tuple[str, dict[str, Any], str, str]], replace: bool) -> None:
    """Store (jwt, claims, issuer, type) for the user; `replace` drops what was kept before (proving again)."""
    if replace:
        db.session.execute(delete(IdentityCredential).where(IdentityCredential.user_id == user_id))
    for token, claims, issuer, credential_type in verified:
        db.session.add(
            IdentityCredential(
                user_id=user_id,
                issuer=issuer,
                credential_type=credential_type,
                signed_jwt=token,
                not_before=datetime.fromtimestamp(int(claims["nbf"]), UTC).replace(tzinfo=None),
            )
        )


def record_proving(
    state: ProvingState, client_id: str, vot: str, profile: str | None, return_codes: Sequence[str]
) -> ProvingRecord:
    record = ProvingRecord(
        user_id=state.user_id,
        client_id=client_id,
        kind=state.kind,
        level=vot,
        profile=profile,
        return_codes=list(return_codes),
    )
    db.session.add(record)
    db.session.flush()
    return record
