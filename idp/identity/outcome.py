"""What an identity journey hands back to the protocol, and the /userinfo claims made from it. Pure: no Flask.

The outcome travels with the authorization code and then the access token (both short-lived, in the store),
so that /userinfo answers from it without reading the citizen's credentials again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

VOCAB = "https://vocab.account.gov.uk/v1/"
CORE_IDENTITY_JWT_CLAIM = VOCAB + "coreIdentityJWT"
ADDRESS_CLAIM = VOCAB + "address"
PASSPORT_CLAIM = VOCAB + "passport"
DRIVING_PERMIT_CLAIM = VOCAB + "drivingPermit"
RETURN_CODE_CLAIM = VOCAB + "returnCode"

# Reference §3.3: core strips `fullAddress` and `issueDate` from the driving permit it returns.
_DRIVING_PERMIT_FIELDS = ("expiryDate", "issueNumber", "issuedBy", "personalNumber")
_PASSPORT_FIELDS = ("documentNumber", "icaoIssuerCode", "expiryDate")


@dataclass
class IdentityOutcome:
    """`vot` is the level achieved for this request (`P0` when proving failed)."""

    vot: str
    return_codes: list[str] = field(default_factory=list)
    name: list[dict[str, Any]] = field(default_factory=list)
    birth_date: list[dict[str, Any]] = field(default_factory=list)
    address: list[dict[str, Any]] = field(default_factory=list)
    passport: list[dict[str, Any]] = field(default_factory=list)
    driving_permit: list[dict[str, Any]] = field(default_factory=list)
    record_id: str | None = None

    @property
    def proven(self) -> bool:
        return self.vot not in ("", "P0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IdentityOutcome:
        return cls(**data)


def wants_return_codes(requested_claims: Iterable[str], return_codes_enabled: bool) -> bool:
    """Reference §4.2: "the client must be registered for `returnCode` and request it in `claims`"."""
    return return_codes_enabled and RETURN_CODE_CLAIM in requested_claims


def userinfo_identity_claims(
    outcome: IdentityOutcome,
    requested_claims: Iterable[str],
    return_codes_enabled: bool,
    sign_core_identity: Callable[[IdentityOutcome], str],
) -> dict[str, Any]:
    """Only the claims requested (the client's registration was checked at /authorize) and only when proven;
    a failed proving gives nothing but its return codes (reference §4.2)."""
    requested = set(requested_claims)
    claims: dict[str, Any] = {}
    if outcome.proven:
        if CORE_IDENTITY_JWT_CLAIM in requested:
            claims[CORE_IDENTITY_JWT_CLAIM] = sign_core_identity(outcome)
        if ADDRESS_CLAIM in requested and outcome.address:
            claims[ADDRESS_CLAIM] = outcome.address
        # Reference §4: passport and drivingPermit "only if" that document was used.
        if PASSPORT_CLAIM in requested and outcome.passport:
            claims[PASSPORT_CLAIM] = [_only(item, _PASSPORT_FIELDS) for item in outcome.passport]
        if DRIVING_PERMIT_CLAIM in requested and outcome.driving_permit:
            claims[DRIVING_PERMIT_CLAIM] = [_only(item, _DRIVING_PERMIT_FIELDS) for item in outcome.driving_permit]
    if wants_return_codes(requested, return_codes_enabled) and outcome.return_codes:
        claims[RETURN_CODE_CLAIM] = [{"code": code} for code in outcome.return_codes]
    return claims


def _only(item: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: item[name] for name in names if name in item}
