"""The shipped registers: at least 50 consistent people, the spec's edge cases, and every number passing the
real algorithms."""

from __future__ import annotations

from collections import Counter
from datetime import date

from idp.identity.formats import bank_modulus, driving_licence_numbers, mrz, national_insurance_numbers, postcodes
from idp.identity.registers import Registers
from idp.identity.registers.shipped import (
    ShippedBankRegister,
    ShippedCreditReferenceRegister,
    ShippedDrivingLicenceRegister,
    ShippedNationalInsuranceRegister,
    ShippedPassportRegister,
    shipped_registers,
)

TODAY = date(2026, 11, 22)


def registers() -> Registers:
    return shipped_registers()


def credit() -> ShippedCreditReferenceRegister:
    register = registers().credit_reference
    assert isinstance(register, ShippedCreditReferenceRegister)
    return register


def test_loaded_once_per_process() -> None:
    assert shipped_registers() is shipped_registers()


def test_at_least_50_people_with_the_edge_cases() -> None:
    people = credit().all()
    assert len(people) >= 50
    assert len({p.person_id for p in people}) == len(people)
    assert any(p.deceased for p in people)
    assert any(p.fraud_marker for p in people)
    assert any(p.politically_exposed for p in people)
    assert any(p.synthetic_identity for p in people)
    assert any(p.records_since and date.fromisoformat(p.records_since) > date(2026, 5, 22) for p in people)  # thin
    assert any(date.fromisoformat(p.residences[0].valid_from) > date(2026, 8, 22) for p in people)  # moved recently
    passports = registers().passports
    assert isinstance(passports, ShippedPassportRegister)
    assert any(date.fromisoformat(p.expiry_date) < TODAY for p in passports.all())
    assert any(p.lost_or_stolen for p in passports.all())


def test_kenneth_decerqueira_is_one_login_s_test_persona() -> None:
    record = credit().find("KENNETH", "DECERQUEIRA", "1965-07-08", "BA2 5AA")
    assert record is not None
    passport = registers().passports.find("321654987")
    assert passport is not None
    assert (passport.given_names, passport.family_name, passport.expiry_date) == (
        "KENNETH",
        "DECERQUEIRA",
        "2030-01-01",
    )
    address = registers().addresses.by_uprn(100120012077)
    assert address is not None
    assert (address.building_number, address.street_name, address.address_locality) == ("8", "HADLEY ROAD", "BATH")


def test_every_document_agrees_with_its_holder() -> None:
    people = {(p.given_names, p.family_name, p.birth_date) for p in credit().all()}
    passports = registers().passports
    assert isinstance(passports, ShippedPassportRegister)
    for passport in passports.all():
        assert (passport.given_names, passport.family_name, passport.birth_date) in people
        assert mrz.line2_check_digits_valid(passport.mrz_line2)
        expected = mrz.passport_line2(
            passport.document_number,
            "GBR",
            date.fromisoformat(passport.birth_date),
            passport.sex,
            date.fromisoformat(passport.expiry_date),
        )
        assert passport.mrz_line2 == expected
    licences = registers().driving_licences
    assert isinstance(licences, ShippedDrivingLicenceRegister)
    for licence in licences.all():
        assert (licence.given_names, licence.family_name, licence.birth_date) in people
        born = date.fromisoformat(licence.birth_date)
        assert driving_licence_numbers.matches_holder(
            licence.personal_number, licence.family_name, licence.given_names, born
        )
        assert driving_licence_numbers.parse(licence.personal_number, TODAY).birth_date == born
    banks = registers().banks
    assert isinstance(banks, ShippedBankRegister)
    for account in banks.all():
        assert bank_modulus.rows_for(account.sort_code), account.sort_code
        assert bank_modulus.account_valid(account.sort_code, account.account_number)
    numbers = registers().national_insurance
    assert isinstance(numbers, ShippedNationalInsuranceRegister)
    for record in numbers.all():
        assert national_insurance_numbers.normalise(record.number) == record.number
        assert (record.given_names, record.family_name, record.birth_date) in people


def test_every_residence_is_a_register_address_with_a_real_postcode() -> None:
    for person in credit().all():
        for residence in person.residences:
            address = registers().addresses.by_uprn(residence.uprn)
            assert address is not None
            postcodes.parse(address.postal_code)
    counts = Counter(r.uprn for p in credit().all() for r in p.residences if r.valid_until is None)
    assert max(counts.values()) == 1  # nobody shares a current home by accident
