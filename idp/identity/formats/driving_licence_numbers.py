"""The structure of a DVLA (Great Britain) driving licence number, 16 characters.

1-5   the first five letters of the surname, padded with 9s (a "Mac" or "Mc" prefix is written "MA")
6     the decade digit of the year of birth
7-8   the month of birth, plus 50 for a woman
9-10  the day of birth
11    the last digit of the year of birth
12-13 the first two initials, padded with 9
14    an arbitrary digit, usually 9, to tell apart people whose other characters agree
15-16 two check characters the agency computes; their algorithm is not published, so we check only their form
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

_SHAPE = re.compile(r"^[A-Z9]{5}\d{6}[A-Z9]{2}\d[A-Z]{2}$")


class MalformedLicenceNumber(ValueError):
    pass


def _letters(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value)
    return "".join(c for c in plain.upper() if "A" <= c <= "Z")


def surname_segment(surname: str) -> str:
    letters = _letters(surname)
    if letters.startswith("MAC"):
        letters = "MA" + letters[3:]
    elif letters.startswith("MC"):
        letters = "MA" + letters[2:]
    return letters[:5].ljust(5, "9")


def birth_segment(birth_date: date, female: bool) -> str:
    month = birth_date.month + (50 if female else 0)
    year = f"{birth_date.year:04d}"
    return f"{year[2]}{month:02d}{birth_date.day:02d}{year[3]}"


def initials_segment(given_names: str) -> str:
    initials = "".join(_letters(name)[:1] for name in given_names.split() if _letters(name))
    return initials[:2].ljust(2, "9")


def licence_number_stem(surname: str, given_names: str, birth_date: date, female: bool) -> str:
    """The first 13 characters, which follow from the holder's details."""
    return surname_segment(surname) + birth_segment(birth_date, female) + initials_segment(given_names)


@dataclass(frozen=True)
class LicenceNumber:
    value: str
    surname_part: str
    birth_date: date
    female: bool
    initials: str


def normalise(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def parse(value: str, today: date) -> LicenceNumber:
    number = normalise(value)
    if not _SHAPE.match(number):
        raise MalformedLicenceNumber("a licence number is 16 letters and numbers in the DVLA's pattern")
    decade, month, day, year = int(number[5]), int(number[6:8]), int(number[8:10]), int(number[10])
    female = month > 50
    if female:
        month -= 50
    # The licence shows only the last two digits of the year; people born after 2000 have a decade of 0-2.
    century = 2000 if decade * 10 + year <= today.year % 100 else 1900
    try:
        born = date(century + decade * 10 + year, month, day)
    except ValueError as exc:
        raise MalformedLicenceNumber("the date of birth in the licence number is not a real date") from exc
    return LicenceNumber(number, number[:5], born, female, number[11:13])


def matches_holder(number: str, surname: str, given_names: str, birth_date: date) -> bool:
    """Whether the number encodes this surname, date of birth (either sex) and initials."""
    normal = normalise(number)
    for female in (False, True):
        if normal[:13] == licence_number_stem(surname, given_names, birth_date, female):
            return True
    return False
