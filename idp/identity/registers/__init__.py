"""The authoritative registers the checks ask, behind one interface per authority.

The shipped registers (`shipped.py`) are fictional, consistent data in `data/`; a deployment could point a check
at a real source by giving it another object with the same methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AddressRecord:
    uprn: int
    building_number: str | None
    building_name: str | None
    street_name: str
    address_locality: str
    postal_code: str
    sub_building_name: str | None = None


@dataclass(frozen=True)
class ResidenceRecord:
    """Where a person lived, and when (ISO dates; the current address has no end)."""

    uprn: int
    valid_from: str
    valid_until: str | None = None


@dataclass(frozen=True)
class PassportRecord:
    document_number: str
    given_names: str
    family_name: str
    birth_date: str
    sex: str
    expiry_date: str
    mrz_line2: str
    lost_or_stolen: bool = False


@dataclass(frozen=True)
class DrivingLicenceRecord:
    personal_number: str
    issue_number: str
    issued_by: str
    given_names: str
    family_name: str
    birth_date: str
    issue_date: str
    expiry_date: str
    first_issued: str
    postal_code: str


@dataclass(frozen=True)
class CreditAccount:
    lender: str
    kind: str  # "mortgage", "credit card", "loan", "current account", "mobile phone contract"
    opened: str  # ISO date
    balance: int  # whole pounds


@dataclass(frozen=True)
class CreditRecord:
    person_id: str
    given_names: str
    family_name: str
    birth_date: str
    residences: tuple[ResidenceRecord, ...]
    records_since: str | None  # the oldest record; None for no credit file at all
    accounts: tuple[CreditAccount, ...]
    deceased: bool = False
    fraud_marker: bool = False
    synthetic_identity: bool = False
    politically_exposed: bool = False


@dataclass(frozen=True)
class BankAccountRecord:
    sort_code: str
    account_number: str
    given_names: str
    family_name: str
    bank: str
    opened: str


@dataclass(frozen=True)
class NationalInsuranceRecord:
    number: str
    given_names: str
    family_name: str
    birth_date: str


class PassportRegister(Protocol):
    def find(self, document_number: str) -> PassportRecord | None: ...


class DrivingLicenceRegister(Protocol):
    def find(self, personal_number: str) -> DrivingLicenceRecord | None: ...


class AddressRegister(Protocol):
    def at_postcode(self, postcode: str) -> tuple[AddressRecord, ...]: ...

    def by_uprn(self, uprn: int) -> AddressRecord | None: ...


class CreditReferenceRegister(Protocol):
    available: bool

    def find(self, given_names: str, family_name: str, birth_date: str, postcode: str) -> CreditRecord | None: ...


class BankRegister(Protocol):
    def find(self, sort_code: str, account_number: str) -> BankAccountRecord | None: ...


class NationalInsuranceRegister(Protocol):
    def find(self, number: str) -> NationalInsuranceRecord | None: ...


@dataclass(frozen=True)
class Registers:
    passports: PassportRegister
    driving_licences: DrivingLicenceRegister
    addresses: AddressRegister
    credit_reference: CreditReferenceRegister
    banks: BankRegister
    national_insurance: NationalInsuranceRegister
