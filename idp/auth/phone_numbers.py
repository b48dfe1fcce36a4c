"""Mobile phone numbers for text-message security codes: UK and international, checked with `phonenumbers`
(Google's libphonenumber) and kept in E.164. Plain functions, no HTTP.

    e164 = mobile_number("07123 456789")        # "+447123456789"
    mobile_number("+33 6 12 34 56 78")          # "+33612345678"
    mobile_number("0123")                        # raises PhoneNumberRefused(PhoneProblem.NOT_UK_MOBILE)

A number without a country code is read as a UK number and must be a UK mobile; a number starting with + or 00
is read with its country code and must be a mobile (or a number that may be one, as in the United States).
"""

from __future__ import annotations

import enum
import re

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_ALLOWED_CHARACTERS = re.compile(r"^[\d\s()+\-.]+$")


class PhoneProblem(enum.Enum):
    EMPTY = "empty"
    NOT_NUMBERS = "not_numbers"
    NOT_UK_MOBILE = "not_uk_mobile"
    NOT_INTERNATIONAL_MOBILE = "not_international_mobile"


class PhoneNumberRefused(ValueError):
    def __init__(self, problem: PhoneProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def mobile_number(value: str) -> str:
    """The number in E.164, or PhoneNumberRefused saying what is wrong with it."""
    value = (value or "").strip()
    if not value:
        raise PhoneNumberRefused(PhoneProblem.EMPTY)
    if not _ALLOWED_CHARACTERS.match(value):
        raise PhoneNumberRefused(PhoneProblem.NOT_NUMBERS)
    international = value.startswith(("+", "00"))
    if value.startswith("00"):
        value = "+" + value[2:]
    problem = PhoneProblem.NOT_INTERNATIONAL_MOBILE if international else PhoneProblem.NOT_UK_MOBILE
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberRefused(problem) from exc
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise PhoneNumberRefused(problem)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def last_digits(e164: str, count: int = 4) -> str:
    """What a page shows of a number: enough for the citizen to recognise it."""
    return e164[-count:]
