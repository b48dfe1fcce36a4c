"""The shipped registers: fictional, consistent people in `data/*.json`, loaded once per process.

54 people with documents, addresses with history, credit records, bank accounts and National Insurance numbers,
including the edge cases the spec lists (deceased, fraud marker, politically exposed, expired passport, thin
credit file, moved house recently) and One Login's test persona, Kenneth Decerqueira, born 8 July 1965.
Every passport's MRZ, licence number and bank account passes the algorithms in `idp.identity.formats`.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from idp.identity.formats import bank_modulus, postcodes
from idp.identity.formats.driving_licence_numbers import normalise as normalise_licence
from idp.identity.registers import (
    AddressRecord,
    BankAccountRecord,
    CreditAccount,
    CreditRecord,
    DrivingLicenceRecord,
    NationalInsuranceRecord,
    PassportRecord,
    Registers,
    ResidenceRecord,
)

DATA = Path(__file__).parent / "data"


def _load(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return rows


def comparable(value: str) -> str:
    """How registers compare names: case, accents and punctuation aside."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in plain.upper()).split())


class ShippedPassportRegister:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._by_number = {
            row["documentNumber"]: PassportRecord(
                document_number=row["documentNumber"],
                given_names=row["givenNames"],
                family_name=row["familyName"],
                birth_date=row["birthDate"],
                sex=row["sex"],
                expiry_date=row["expiryDate"],
                mrz_line2=row["mrzLine2"],
                lost_or_stolen=row["lostOrStolen"],
            )
            for row in rows
        }

    def find(self, document_number: str) -> PassportRecord | None:
        return self._by_number.get(document_number.strip())

    def all(self) -> list[PassportRecord]:
        return list(self._by_number.values())


class ShippedDrivingLicenceRegister:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._by_number = {
            row["personalNumber"]: DrivingLicenceRecord(
                personal_number=row["personalNumber"],
                issue_number=row["issueNumber"],
                issued_by=row["issuedBy"],
                given_names=row["givenNames"],
                family_name=row["familyName"],
                birth_date=row["birthDate"],
                issue_date=row["issueDate"],
                expiry_date=row["expiryDate"],
                first_issued=row["firstIssued"],
                postal_code=row["postalCode"],
            )
            for row in rows
        }

    def find(self, personal_number: str) -> DrivingLicenceRecord | None:
        return self._by_number.get(normalise_licence(personal_number))

    def all(self) -> list[DrivingLicenceRecord]:
        return list(self._by_number.values())


class ShippedAddressRegister:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._by_uprn: dict[int, AddressRecord] = {}
        self._by_postcode: dict[str, list[AddressRecord]] = {}
        for row in rows:
            record = AddressRecord(
                uprn=row["uprn"],
                building_number=row.get("buildingNumber"),
                building_name=row.get("buildingName"),
                street_name=row["streetName"],
                address_locality=row["addressLocality"],
                postal_code=row["postalCode"],
                sub_building_name=row.get("subBuildingName"),
            )
            self._by_uprn[record.uprn] = record
            self._by_postcode.setdefault(postcodes.normalise(record.postal_code), []).append(record)
        for found in self._by_postcode.values():
            found.sort(key=lambda a: (a.street_name, int(a.building_number or 0), a.sub_building_name or ""))

    def at_postcode(self, postcode: str) -> tuple[AddressRecord, ...]:
        try:
            key = postcodes.normalise(postcode)
        except postcodes.MalformedPostcode:
            return ()
        return tuple(self._by_postcode.get(key, ()))

    def by_uprn(self, uprn: int) -> AddressRecord | None:
        return self._by_uprn.get(uprn)


class ShippedCreditReferenceRegister:
    available = True

    def __init__(self, rows: list[dict[str, Any]], addresses: ShippedAddressRegister) -> None:
        self._addresses = addresses
        self._records = [
            CreditRecord(
                person_id=row["personId"],
                given_names=row["givenNames"],
                family_name=row["familyName"],
                birth_date=row["birthDate"],
                residences=tuple(
                    ResidenceRecord(r["uprn"], r["validFrom"], r.get("validUntil")) for r in row["residences"]
                ),
                records_since=row["recordsSince"],
                accounts=tuple(
                    CreditAccount(a["lender"], a["kind"], a["opened"], a["balance"]) for a in row["accounts"]
                ),
                deceased=row["deceased"],
                fraud_marker=row["fraudMarker"],
                synthetic_identity=row["syntheticIdentity"],
                politically_exposed=row["politicallyExposed"],
            )
            for row in rows
        ]

    def find(self, given_names: str, family_name: str, birth_date: str, postcode: str) -> CreditRecord | None:
        """A person is found by name and date of birth at an address they live or lived at."""
        try:
            wanted_postcode = postcodes.normalise(postcode)
        except postcodes.MalformedPostcode:
            return None
        for record in self._records:
            if (
                record.birth_date == birth_date
                and comparable(record.family_name) == comparable(family_name)
                and comparable(record.given_names) == comparable(given_names)
            ):
                for residence in record.residences:
                    address = self._addresses.by_uprn(residence.uprn)
                    if address is not None and postcodes.normalise(address.postal_code) == wanted_postcode:
                        return record
        return None

    def all(self) -> list[CreditRecord]:
        return list(self._records)


class ShippedBankRegister:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._by_account = {
            (row["sortCode"], row["accountNumber"]): BankAccountRecord(
                sort_code=row["sortCode"],
                account_number=row["accountNumber"],
                given_names=row["givenNames"],
                family_name=row["familyName"],
                bank=row["bank"],
                opened=row["opened"],
            )
            for row in rows
        }

    def find(self, sort_code: str, account_number: str) -> BankAccountRecord | None:
        key = (bank_modulus.normalise_sort_code(sort_code), bank_modulus.normalise_account_number(account_number))
        return self._by_account.get(key)

    def all(self) -> list[BankAccountRecord]:
        return list(self._by_account.values())


class ShippedNationalInsuranceRegister:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._by_number = {
            row["number"]: NationalInsuranceRecord(
                number=row["number"],
                given_names=row["givenNames"],
                family_name=row["familyName"],
                birth_date=row["birthDate"],
            )
            for row in rows
        }

    def find(self, number: str) -> NationalInsuranceRecord | None:
        return self._by_number.get(number.replace(" ", "").upper())

    def all(self) -> list[NationalInsuranceRecord]:
        return list(self._by_number.values())


@cache
def shipped_registers() -> Registers:
    """Loaded once per process; the data never changes while it runs."""
    addresses = ShippedAddressRegister(_load("addresses.json"))
    return Registers(
        passports=ShippedPassportRegister(_load("passports.json")),
        driving_licences=ShippedDrivingLicenceRegister(_load("driving_licences.json")),
        addresses=addresses,
        credit_reference=ShippedCreditReferenceRegister(_load("credit_records.json"), addresses),
        banks=ShippedBankRegister(_load("bank_accounts.json")),
        national_insurance=ShippedNationalInsuranceRegister(_load("national_insurance.json")),
    )
