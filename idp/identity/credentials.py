"""Verifiable credentials in One Login's format (reference §3.2), issued and verified through the keyring.

A credential is a JWT: `iss` (the issuer's id), `sub` (the citizen), `nbf` (issue time, required), `jti`
(`urn:uuid:…`) and `vc` with `type`, `credentialSubject` (every attribute a list) and, for identity checks,
`evidence[]`. It is signed ES256 by the issuer's own key (its keyring purpose), with `kid` set. The scoring engine
reads only what `verify_credential` returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

import jwt

from idp.identity import contra_indicators

if TYPE_CHECKING:
    from idp.keys.keyring import Keyring

VERIFIABLE_CREDENTIAL = "VerifiableCredential"
IDENTITY_CHECK_CREDENTIAL = "IdentityCheckCredential"
ADDRESS_CREDENTIAL = "AddressCredential"
IDENTITY_ASSERTION_CREDENTIAL = "IdentityAssertionCredential"
KNOWN_TYPES = frozenset({IDENTITY_CHECK_CREDENTIAL, ADDRESS_CREDENTIAL, IDENTITY_ASSERTION_CREDENTIAL})

NBF_LEEWAY_SECONDS = 60

# Reference §4.1: evidence pairs are de-duplicated by these document types.
DOCUMENT_TYPES = ("passport", "drivingPermit", "bankAccount", "residencePermit", "socialSecurityRecord", "idCard")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_T = TypeVar("_T")


def json_value(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        out: dict[str, Any] = {}
        for f in fields(value):
            item = getattr(value, f.name)
            if item is None or item == () and f.metadata.get("omit_empty", True):
                continue
            out[f.metadata.get("json", _camel(f.name))] = json_value(item)
        return out
    if isinstance(value, tuple | list):
        return [json_value(item) for item in value]
    return value


def _from_json(cls: type[_T], data: Any) -> _T:
    if not isinstance(data, dict):
        raise MalformedCredential(f"{cls.__name__} must be a JSON object")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        key = f.metadata.get("json", _camel(f.name))
        if key not in data:
            continue
        raw = data[key]
        nested = f.metadata.get("of")
        if nested is not None:
            if not isinstance(raw, list):
                raise MalformedCredential(f"{key} must be a list")
            kwargs[f.name] = tuple(_from_json(nested, item) if nested is not str else _string(item) for item in raw)
        elif f.metadata.get("int"):
            if not isinstance(raw, int) or isinstance(raw, bool):
                raise MalformedCredential(f"{key} must be an integer")
            kwargs[f.name] = raw
        elif raw is not None and not isinstance(raw, str | int):
            raise MalformedCredential(f"{key} has the wrong type")
        else:
            kwargs[f.name] = raw
    return cls(**kwargs)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise MalformedCredential("expected a string")
    return value


def _list_of(cls: type[Any]) -> Any:
    return field(default=(), metadata={"of": cls})


def _score() -> Any:
    return field(default=None, metadata={"int": True})


class MalformedCredential(ValueError):
    pass


@dataclass(frozen=True)
class NamePart:
    type: str  # "GivenName" or "FamilyName"
    value: str


@dataclass(frozen=True)
class Name:
    name_parts: tuple[NamePart, ...] = _list_of(NamePart)
    valid_from: str | None = None
    valid_until: str | None = None

    @property
    def given_names(self) -> str:
        return " ".join(p.value for p in self.name_parts if p.type == "GivenName")

    @property
    def family_name(self) -> str:
        return " ".join(p.value for p in self.name_parts if p.type == "FamilyName")

    @classmethod
    def of(cls, given_names: str, family_name: str) -> Name:
        parts = [NamePart("GivenName", given) for given in given_names.split()]
        return cls((*parts, NamePart("FamilyName", family_name)))


@dataclass(frozen=True)
class BirthDate:
    value: str  # YYYY-MM-DD


@dataclass(frozen=True)
class Address:
    uprn: int | str | None = None
    organisation_name: str | None = None
    department_name: str | None = None
    sub_building_name: str | None = None
    building_number: str | None = None
    building_name: str | None = None
    dependent_street_name: str | None = None
    street_name: str | None = None
    double_dependent_address_locality: str | None = None
    dependent_address_locality: str | None = None
    address_locality: str | None = None
    address_region: str | None = None
    postal_code: str | None = None
    address_country: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None


@dataclass(frozen=True)
class Passport:
    document_number: str
    icao_issuer_code: str | None = None
    expiry_date: str | None = None


@dataclass(frozen=True)
class DrivingPermit:
    personal_number: str
    issue_number: str | None = None
    issued_by: str | None = None
    issue_date: str | None = None
    expiry_date: str | None = None
    full_address: str | None = None
    issuing_country: str | None = None


@dataclass(frozen=True)
class SocialSecurityRecord:
    personal_number: str


@dataclass(frozen=True)
class BankAccount:
    sort_code: str
    account_number: str


@dataclass(frozen=True)
class CredentialSubject:
    name: tuple[Name, ...] = _list_of(Name)
    birth_date: tuple[BirthDate, ...] = _list_of(BirthDate)
    address: tuple[Address, ...] = _list_of(Address)
    passport: tuple[Passport, ...] = _list_of(Passport)
    driving_permit: tuple[DrivingPermit, ...] = _list_of(DrivingPermit)
    social_security_record: tuple[SocialSecurityRecord, ...] = _list_of(SocialSecurityRecord)
    bank_account: tuple[BankAccount, ...] = _list_of(BankAccount)

    def document_type(self) -> str | None:
        for name in DOCUMENT_TYPES:
            attribute = {
                "drivingPermit": "driving_permit",
                "bankAccount": "bank_account",
                "socialSecurityRecord": "social_security_record",
            }.get(name, name)
            if getattr(self, attribute, ()):
                return name
        return None


class CheckMethod(StrEnum):
    DATA = "data"
    KBV = "kbv"
    VCRYPT = "vcrypt"
    VRI = "vri"
    BVR = "bvr"
    AUTH = "auth"


class FraudCheck(StrEnum):
    MORTALITY = "mortality_check"
    IDENTITY_THEFT = "identity_theft_check"
    SYNTHETIC_IDENTITY = "synthetic_identity_check"
    IMPERSONATION_RISK = "impersonation_risk_check"
    APPLICABLE_AUTHORITATIVE_SOURCE = "applicable_authoritative_source"
    AVAILABLE_AUTHORITATIVE_SOURCE = "available_authoritative_source"


@dataclass(frozen=True)
class CheckDetail:
    check_method: str | None = None
    data_check: str | None = None
    fraud_check: str | None = None
    kbv_quality: int | None = field(default=None, metadata={"int": True})
    kbv_response_mode: str | None = None
    biometric_verification_process_level: int | None = field(default=None, metadata={"int": True})
    photo_verification_process_level: int | None = field(default=None, metadata={"int": True})
    activity_from: str | None = None
    identity_check_policy: str | None = None
    txn: str | None = None


@dataclass(frozen=True)
class Evidence:
    type: str = "IdentityCheck"
    txn: str | None = None
    strength_score: int | None = _score()
    validity_score: int | None = _score()
    activity_history_score: int | None = _score()
    identity_fraud_score: int | None = _score()
    verification_score: int | None = _score()
    check_details: tuple[CheckDetail, ...] = _list_of(CheckDetail)
    failed_check_details: tuple[CheckDetail, ...] = _list_of(CheckDetail)
    ci: tuple[str, ...] = field(default=(), metadata={"of": str, "omit_empty": False})

    @property
    def verification(self) -> int:
        """Reference §4.1: `verificationScore`, else the first biometric verification level, else 0."""
        if self.verification_score is not None:
            return self.verification_score
        for detail in self.check_details:
            if detail.biometric_verification_process_level is not None:
                return detail.biometric_verification_process_level
        return 0


@dataclass(frozen=True)
class Credential:
    """The `vc` claim."""

    type: tuple[str, ...]
    credential_subject: CredentialSubject = field(default_factory=CredentialSubject)
    evidence: tuple[Evidence, ...] = ()

    @property
    def is_address(self) -> bool:
        return ADDRESS_CREDENTIAL in self.type

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": list(self.type), "credentialSubject": json_value(self.credential_subject)}
        if IDENTITY_CHECK_CREDENTIAL in self.type:
            out["evidence"] = json_value(self.evidence)
        return out

    @classmethod
    def from_json(cls, data: Any) -> Credential:
        if not isinstance(data, dict):
            raise MalformedCredential("vc must be a JSON object")
        types = data.get("type")
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise MalformedCredential("vc.type must be a list of strings")
        if VERIFIABLE_CREDENTIAL not in types or not KNOWN_TYPES.intersection(types):
            raise MalformedCredential("vc.type is not a credential type we know")
        evidence = data.get("evidence", [])
        if not isinstance(evidence, list):
            raise MalformedCredential("vc.evidence must be a list")
        return cls(
            type=tuple(types),
            credential_subject=_from_json(CredentialSubject, data.get("credentialSubject", {})),
            evidence=tuple(_from_json(Evidence, item) for item in evidence),
        )


def identity_check(subject: CredentialSubject, evidence: Evidence) -> Credential:
    return Credential((VERIFIABLE_CREDENTIAL, IDENTITY_CHECK_CREDENTIAL), subject, (evidence,))


def address_credential(addresses: tuple[Address, ...]) -> Credential:
    return Credential((VERIFIABLE_CREDENTIAL, ADDRESS_CREDENTIAL), CredentialSubject(address=addresses))


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential whose signature, issuer and contra-indicators have been checked."""

    issuer: str  # the issuer's name in the registry, e.g. "passport"
    iss: str
    sub: str
    nbf: int
    jti: str
    vc: Credential
    jwt: str = field(repr=False, default="")

    @property
    def cis(self) -> tuple[str, ...]:
        return tuple(code for evidence in self.vc.evidence for code in evidence.ci)


@dataclass(frozen=True)
class TrustedIssuer:
    name: str
    iss: str
    purpose: str  # the keyring purpose whose published keys verify this issuer's credentials


class CredentialRejected(ValueError):
    """A credential the engine must not read: `reason` is one of the class constants."""

    MALFORMED = "malformed"
    UNTRUSTED_ISSUER = "untrusted_issuer"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_CONTRA_INDICATOR = "unknown_contra_indicator"
    WRONG_SUBJECT = "wrong_subject"
    EXPIRED = "expired"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def issue_credential(
    credential: Credential,
    *,
    keyring: Keyring,
    purpose: str,
    iss: str,
    sub: str,
    now: datetime,
    nbf: datetime | None = None,
) -> str:
    """Sign with the issuer's own active key (ES256; the keyring sets `kid`)."""
    for evidence in credential.evidence:
        for code in evidence.ci:
            if not contra_indicators.known(code):
                raise contra_indicators.UnknownContraIndicator(code)
    claims = {
        "iss": iss,
        "sub": sub,
        "nbf": int((nbf or now).timestamp()),
        "jti": f"urn:uuid:{uuid.uuid4()}",
        "vc": credential.to_json(),
    }
    return keyring.sign(claims, purpose, "ES256", headers={"typ": "JWT"})


def verify_credential(
    token: str,
    keyring: Keyring,
    trusted: Mapping[str, TrustedIssuer],
    *,
    subject: str | None = None,
    now: datetime | None = None,
) -> VerifiedCredential:
    """Reference §3.4: the signature by the issuer's key, `iss` trusted, `nbf` and `vc` present, known codes.

    Time is the caller's: `now`, when given, refuses a credential from the future; the engine applies the
    freshness rules itself, so a stored credential verifies however old it is.
    """
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise CredentialRejected(CredentialRejected.MALFORMED, "not a JWT") from exc
    iss = unverified.get("iss")
    issuer = trusted.get(iss) if isinstance(iss, str) else None
    if issuer is None:
        raise CredentialRejected(CredentialRejected.UNTRUSTED_ISSUER, str(iss))
    try:
        claims = keyring.verify(token, issuer.purpose, issuer=issuer.iss, verify_exp=False, verify_nbf=False)
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise CredentialRejected(CredentialRejected.BAD_SIGNATURE, type(exc).__name__) from exc
    nbf, sub, jti = claims.get("nbf"), claims.get("sub"), claims.get("jti")
    if not isinstance(nbf, int) or not isinstance(sub, str) or not isinstance(jti, str) or "vc" not in claims:
        raise CredentialRejected(CredentialRejected.MALFORMED, "nbf, sub, jti and vc are required")
    if now is not None and nbf > now.timestamp() + NBF_LEEWAY_SECONDS:
        raise CredentialRejected(CredentialRejected.MALFORMED, "issued in the future")
    exp = claims.get("exp")
    if now is not None and isinstance(exp, int) and exp <= now.timestamp():
        raise CredentialRejected(CredentialRejected.EXPIRED)
    if subject is not None and sub != subject:
        raise CredentialRejected(CredentialRejected.WRONG_SUBJECT)
    try:
        vc = Credential.from_json(claims["vc"])
    except (MalformedCredential, TypeError) as exc:
        raise CredentialRejected(CredentialRejected.MALFORMED, str(exc)) from exc
    for evidence in vc.evidence:
        for code in evidence.ci:
            if not contra_indicators.known(code):
                raise CredentialRejected(CredentialRejected.UNKNOWN_CONTRA_INDICATOR, code)
    return VerifiedCredential(issuer.name, issuer.iss, sub, nbf, jti, vc, token)
