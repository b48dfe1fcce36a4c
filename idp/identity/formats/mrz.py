"""ICAO Doc 9303 machine readable zone check digits (Part 3 §4.9) and the second line of a TD3 (passport) MRZ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 3, 1)


def _value(character: str) -> int:
    if character.isdigit():
        return int(character)
    if "A" <= character <= "Z":
        return ord(character) - ord("A") + 10
    if character == "<":
        return 0
    raise ValueError(f"{character!r} cannot appear in a machine readable zone")


def check_digit(field: str) -> str:
    """Doc 9303 Part 3 §4.9: weights 7, 3, 1 repeating; digits as themselves, A-Z as 10-35, the filler as 0."""
    total = sum(_value(character) * _WEIGHTS[index % 3] for index, character in enumerate(field))
    return str(total % 10)


def mrz_date(value: date) -> str:
    return value.strftime("%y%m%d")


@dataclass(frozen=True)
class PassportLine2:
    document_number: str
    nationality: str
    birth_date: str
    sex: str
    expiry_date: str
    optional_data: str

    def render(self) -> str:
        number = self.document_number.ljust(9, "<")
        optional = self.optional_data.ljust(14, "<")
        personal_check = "<" if set(optional) == {"<"} else check_digit(optional)
        number_part = number + check_digit(number)
        birth_part = self.birth_date + check_digit(self.birth_date)
        expiry_part = self.expiry_date + check_digit(self.expiry_date)
        optional_part = optional + personal_check
        composite = check_digit(number_part + birth_part + expiry_part + optional_part)
        nationality = self.nationality.ljust(3, "<")
        return f"{number_part}{nationality}{birth_part}{self.sex}{expiry_part}{optional_part}{composite}"


def passport_line2(document_number: str, nationality: str, birth_date: date, sex: str, expiry_date: date) -> str:
    return PassportLine2(document_number, nationality, mrz_date(birth_date), sex, mrz_date(expiry_date), "").render()


def line2_check_digits_valid(line: str) -> bool:
    """Every check digit of a TD3 second line (44 characters): number, birth, expiry, personal number, composite."""
    if len(line) != 44:
        return False
    try:
        fields = (line[0:9], line[13:19], line[21:27])
        checks = (line[9], line[19], line[27])
        if any(check_digit(field) != check for field, check in zip(fields, checks, strict=True)):
            return False
        optional, personal_check = line[28:42], line[42]
        if not (personal_check == "<" and set(optional) == {"<"}) and check_digit(optional) != personal_check:
            return False
        composite = line[0:10] + line[13:20] + line[21:43]
        return check_digit(composite) == line[43]
    except ValueError:
        return False
