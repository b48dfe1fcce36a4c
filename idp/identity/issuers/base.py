"""The one interface every check (credential issuer) implements, and the registry of issuers by name.

A check takes what the citizen entered, asks its register, and returns a credential signed by its own key, or a
refusal with a clear, translatable reason when the input itself is wrong (then nothing is issued). A check that
runs and fails (no matching record, failed questions) still issues a credential: one with a failed check and,
where the table says so, a contra-indicator.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from idp.identity.credentials import (
    Address,
    BirthDate,
    Credential,
    CredentialSubject,
    Name,
    TrustedIssuer,
    issue_credential,
)
from idp.identity.registers import Registers

if TYPE_CHECKING:
    from idp.keys.keyring import Keyring

ISSUER_PURPOSE_PREFIX = "issuer"
TEST_MODE_ISSUER = "test-mode"


def purpose_for(issuer_name: str) -> str:
    """Each issuer signs with its own key: keyring purpose `issuer:<name>` (ES256)."""
    return f"{ISSUER_PURPOSE_PREFIX}:{issuer_name}"


class FieldKind(StrEnum):
    TEXT = "text"
    DATE = "date"  # three inputs (day, month, year), answered as YYYY-MM-DD
    CHOICE = "choice"  # radios
    POSTCODE = "postcode"
    NUMBER = "number"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str  # a msgid, or data from a register (lender names, amounts), shown as it is when `translate` is off
    translate: bool = True


@dataclass(frozen=True)
class FormField:
    """What the journey renders for one answer. `label` and `hint` are msgids (idp.identity.messages)."""

    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    hint: str | None = None
    choices: tuple[Choice, ...] = ()
    label_params: Mapping[str, str] = field(default_factory=dict)
    autocomplete: str | None = None
    required: bool = True


@dataclass(frozen=True)
class Refusal:
    """Bad input, to show next to `field` (None: the whole form). `message` is a msgid; fill it with `params`."""

    field: str | None
    message: str
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class ClaimedIdentity:
    """Who the citizen says they are, from earlier credentials of the journey (or entered), for checks that need it."""

    given_names: str
    family_name: str
    birth_date: str  # YYYY-MM-DD
    addresses: tuple[Address, ...] = ()

    def subject(self, *, with_address: bool = False) -> CredentialSubject:
        return CredentialSubject(
            name=(Name.of(self.given_names, self.family_name),),
            birth_date=(BirthDate(self.birth_date),),
            address=self.addresses if with_address else (),
        )

    @property
    def postcode(self) -> str:
        current = [a for a in self.addresses if a.valid_until is None] or list(self.addresses)
        return current[0].postal_code or "" if current else ""


@dataclass(frozen=True)
class EvidenceRequest:
    """What the journey asks a check for (One Login's `evidence_requested`)."""

    verification_score: int | None = None
    identity_fraud_score: int | None = None


@dataclass(frozen=True)
class CheckContext:
    subject: str  # the credential's `sub`
    claimed: ClaimedIdentity | None = None
    requested: EvidenceRequest = EvidenceRequest()
    seed: str = ""  # fixes generated content (security questions) between showing the form and checking it
    now: datetime | None = None  # for questions that depend on the date (a move this year); the clock otherwise


@dataclass(frozen=True)
class CheckResult:
    credential_jwt: str | None = None
    credential: Credential | None = None
    refusals: tuple[Refusal, ...] = ()

    @property
    def issued(self) -> bool:
        return self.credential_jwt is not None

    @classmethod
    def refused(cls, *refusals: Refusal) -> CheckResult:
        return cls(refusals=refusals)


class CredentialSigner:
    """Signs an issuer's credentials with its own key through the keyring."""

    def __init__(self, keyring: Keyring, iss: str, purpose: str) -> None:
        self.keyring = keyring
        self.iss = iss
        self.purpose = purpose

    def sign(self, credential: Credential, sub: str, now: datetime, nbf: datetime | None = None) -> str:
        return issue_credential(
            credential, keyring=self.keyring, purpose=self.purpose, iss=self.iss, sub=sub, now=now, nbf=nbf
        )


class Issuer(ABC):
    name: ClassVar[str]
    title: ClassVar[str]  # a msgid for the page heading
    # A simulation (the document app, the test mode): production does not trust its key.
    simulated: ClassVar[bool] = False

    def __init__(self, signer: CredentialSigner) -> None:
        self.signer = signer

    @classmethod
    def purpose(cls) -> str:
        return purpose_for(cls.name)

    @abstractmethod
    def fields(self, registers: Registers, context: CheckContext, answers: Mapping[str, str]) -> tuple[FormField, ...]:
        """The questions to ask; some depend on earlier answers (the addresses at a postcode) or on the register."""

    @abstractmethod
    def check(
        self, answers: Mapping[str, str], registers: Registers, now: datetime, context: CheckContext
    ) -> CheckResult:
        """Check the answers against the register and issue a credential, or refuse bad input."""

    def issue(self, credential: Credential, now: datetime, context: CheckContext) -> CheckResult:
        return CheckResult(self.signer.sign(credential, context.subject, now), credential)


# -- the registry ------------------------------------------------------------------------------------------------


class IssuerRegistry:
    """The issuers by name, each with its `iss` (`<base>issuers/<name>`) and its own key."""

    def __init__(self, issuers: Mapping[str, Issuer], test_mode: Issuer | None, base_url: str) -> None:
        self._issuers = dict(issuers)
        self.test_mode = test_mode
        self.base_url = base_url

    def __getitem__(self, name: str) -> Issuer:
        return self._issuers[name]

    def __contains__(self, name: object) -> bool:
        return name in self._issuers

    def names(self) -> tuple[str, ...]:
        return tuple(self._issuers)

    def trusted(self, *, trust_simulations: bool) -> dict[str, TrustedIssuer]:
        """The issuers whose credentials the engine reads, by `iss`. Production leaves out simulations: the
        document app and the test mode."""
        every = [*self._issuers.values(), *([self.test_mode] if self.test_mode else [])]
        return {
            issuer.signer.iss: TrustedIssuer(issuer.name, issuer.signer.iss, issuer.signer.purpose)
            for issuer in every
            if trust_simulations or not issuer.simulated
        }


def issuer_iss(base_url: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/issuers/{name}"
