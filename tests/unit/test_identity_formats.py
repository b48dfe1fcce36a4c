"""The number formats' real algorithms, with known vectors (idp/identity/formats)."""

from __future__ import annotations

from datetime import date

import pytest

from idp.identity.formats import bank_modulus, driving_licence_numbers, mrz, national_insurance_numbers, postcodes

# ICAO Doc 9303 Part 4, Appendix A: the specimen passport of Anna Maria Eriksson (Utopia).
SPECIMEN_LINE2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"


@pytest.mark.parametrize(
    ("field", "digit"),
    [("L898902C3", "6"), ("740812", "2"), ("120415", "9"), ("ZE184226B<<<<<", "1"), ("<<<<", "0"), ("AB2134", "5")],
)
def test_icao_check_digits_of_the_specimen(field: str, digit: str) -> None:
    assert mrz.check_digit(field) == digit


def test_the_specimen_second_line_passes_every_check() -> None:
    assert mrz.line2_check_digits_valid(SPECIMEN_LINE2)


@pytest.mark.parametrize("position", [9, 19, 27, 42, 43])
def test_a_wrong_check_digit_fails_the_line(position: int) -> None:
    wrong = str((int(SPECIMEN_LINE2[position]) + 1) % 10)
    line = SPECIMEN_LINE2[:position] + wrong + SPECIMEN_LINE2[position + 1 :]
    assert not mrz.line2_check_digits_valid(line)


def test_a_transposed_document_number_fails_the_line() -> None:
    assert not mrz.line2_check_digits_valid(
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10".replace("L898902C3", "L898920C3")
    )


def test_the_rendered_line_matches_the_specimen_layout() -> None:
    rendered = mrz.PassportLine2("L898902C3", "UTO", "740812", "F", "120415", "ZE184226B").render()
    assert rendered == SPECIMEN_LINE2


def test_a_line_is_44_characters_of_the_mrz_alphabet() -> None:
    assert not mrz.line2_check_digits_valid(SPECIMEN_LINE2[:-1])
    assert not mrz.line2_check_digits_valid(SPECIMEN_LINE2[:-1] + "a")
    with pytest.raises(ValueError, match="cannot appear"):
        mrz.check_digit("ab")


def test_the_dvla_specimen_licence_number() -> None:
    # DVLA's specimen licence: Sarah Meredyth Morgan, born 11 March 1976.
    assert driving_licence_numbers.licence_number_stem("Morgan", "Sarah Meredyth", date(1976, 3, 11), True) == (
        "MORGA753116SM"
    )
    parsed = driving_licence_numbers.parse("MORGA753116SM9IJ", date(2026, 11, 22))
    assert parsed.birth_date == date(1976, 3, 11)
    assert parsed.female
    assert parsed.initials == "SM"


@pytest.mark.parametrize(
    ("surname", "given", "born", "female", "stem"),
    [
        ("Decerqueira", "Kenneth", date(1965, 7, 8), False, "DECER607085K9"),
        ("Fox", "Jo", date(2001, 12, 31), True, "FOX99062311J9"),
        ("McDonald", "Angus", date(1958, 11, 30), False, "MADON511308A9"),
        ("MacLeod", "Fiona Ann", date(1962, 3, 3), True, "MALEO653032FA"),
        ("Lloyd-Jones", "Siân", date(1984, 4, 17), True, "LLOYD854174S9"),
    ],
)
def test_licence_number_stems(surname: str, given: str, born: date, female: bool, stem: str) -> None:
    assert driving_licence_numbers.licence_number_stem(surname, given, born, female) == stem


def test_a_licence_number_matches_its_holder_only() -> None:
    assert driving_licence_numbers.matches_holder("MORGA753116SM9IJ", "Morgan", "Sarah Meredyth", date(1976, 3, 11))
    assert not driving_licence_numbers.matches_holder("MORGA753116SM9IJ", "Morgan", "Sarah", date(1976, 3, 12))
    assert not driving_licence_numbers.matches_holder("MORGA753116SM9IJ", "Morgans", "Tom", date(1976, 3, 11))


@pytest.mark.parametrize(
    "number", ["", "MORGA753116SM9I", "MORGA753116SM9IJX", "MORGA7531l6SM9IJ", "MORGA7X3116SM9IJ", "MORGA756316SM9IJ"]
)
def test_malformed_licence_numbers(number: str) -> None:
    with pytest.raises(driving_licence_numbers.MalformedLicenceNumber):
        driving_licence_numbers.parse(number, date(2026, 11, 22))


@pytest.mark.parametrize(
    ("sort_code", "account"),
    # Vocalink's worked examples: modulus 10, modulus 11 and double alternate.
    [("089999", "66374958"), ("107999", "88837491"), ("202959", "63748472")],
)
def test_vocalink_examples_pass(sort_code: str, account: str) -> None:
    assert bank_modulus.account_valid(sort_code, account)


@pytest.mark.parametrize(
    ("sort_code", "account"), [("089999", "66374959"), ("107999", "88837492"), ("202959", "63748473")]
)
def test_one_digit_changed_fails(sort_code: str, account: str) -> None:
    assert not bank_modulus.account_valid(sort_code, account)


def test_a_sort_code_outside_the_table_cannot_be_checked_so_passes() -> None:
    assert bank_modulus.account_valid("123456", "12345678")


@pytest.mark.parametrize(("sort_code", "account"), [("08999", "66374958"), ("089999", "6637495"), ("08-99-9x", "1")])
def test_malformed_accounts(sort_code: str, account: str) -> None:
    with pytest.raises(bank_modulus.MalformedAccount):
        bank_modulus.account_valid(sort_code, account)


def test_sort_codes_may_be_written_with_dashes() -> None:
    assert bank_modulus.account_valid("08-99-99", "6637 4958")


@pytest.mark.parametrize(
    ("entered", "normal"),
    [
        ("sw1a 2aa", "SW1A 2AA"),
        ("BA25AA", "BA2 5AA"),
        ("M1 1AE", "M1 1AE"),
        ("b33 8th", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("W1A 0AX", "W1A 0AX"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("GIR 0AA", "GIR 0AA"),
    ],
)
def test_postcodes_parse(entered: str, normal: str) -> None:
    assert postcodes.normalise(entered) == normal


@pytest.mark.parametrize("entered", ["", "SW1A", "12345", "QA1 1AA", "SW1A 2CA", "SW1A 2AAA", "A1 1", "AA1AA 1AA"])
def test_postcodes_that_do_not_parse(entered: str) -> None:
    with pytest.raises(postcodes.MalformedPostcode):
        postcodes.parse(entered)


@pytest.mark.parametrize(("entered", "normal"), [("jg 12 34 56 c", "JG123456C"), ("AB123456D", "AB123456D")])
def test_national_insurance_numbers(entered: str, normal: str) -> None:
    assert national_insurance_numbers.normalise(entered) == normal


@pytest.mark.parametrize(
    "entered", ["", "QQ123456C", "AB123456E", "AB12345C", "DA123456A", "AO123456A", "GB123456A", "ZZ123456A"]
)
def test_national_insurance_numbers_refused(entered: str) -> None:
    with pytest.raises(national_insurance_numbers.MalformedNationalInsuranceNumber):
        national_insurance_numbers.normalise(entered)
