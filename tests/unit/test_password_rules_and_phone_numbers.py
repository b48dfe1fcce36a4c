"""New passwords (idp/auth/password_rules.py) and mobile numbers (idp/auth/phone_numbers.py), by tables of cases."""

from __future__ import annotations

import pytest

from idp.auth.password_rules import PasswordProblem, common_passwords, is_common, password_problem
from idp.auth.phone_numbers import PhoneNumberRefused, PhoneProblem, last_digits, mobile_number


@pytest.mark.parametrize(
    ("password", "email", "problem"),
    [
        ("", None, PasswordProblem.EMPTY),
        ("abc123", None, PasswordProblem.TOO_SHORT),
        ("abcdefgh", None, PasswordProblem.NEEDS_LETTERS_AND_NUMBERS),
        ("12345678", None, PasswordProblem.NEEDS_LETTERS_AND_NUMBERS),
        ("________1", None, PasswordProblem.NEEDS_LETTERS_AND_NUMBERS),
        ("password1", None, PasswordProblem.COMMON),
        ("PASSWORD1", None, PasswordProblem.COMMON),
        (" qwerty123 ", None, PasswordProblem.COMMON),
        ("n4me@example.com", "N4me@Example.com", PasswordProblem.SAME_AS_EMAIL),
        ("a new passw0rd", "someone@example.com", None),
        ("llanfair 2026", None, None),
        ("ŵyth ŷd 8", None, None),  # Welsh letters are letters
    ],
)
def test_password_rules(password: str, email: str | None, problem: PasswordProblem | None) -> None:
    assert password_problem(password, email) is problem


def test_the_common_password_list_is_shipped_whole() -> None:
    common = common_passwords()
    assert len(common) > 19_000
    assert {"123456", "password", "qwerty"} <= common
    assert is_common("Iloveyou") and not is_common("a new passw0rd")


@pytest.mark.parametrize(
    ("entered", "e164"),
    [
        ("07123 456789", "+447123456789"),
        ("07123456789", "+447123456789"),
        ("(07123) 456-789", "+447123456789"),
        ("+44 7123 456789", "+447123456789"),
        ("0044 7123 456789", "+447123456789"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("+1 202 555 0143", "+12025550143"),  # may be a mobile: the United States does not tell them apart
        ("+353 85 123 4567", "+353851234567"),
    ],
)
def test_mobile_numbers_are_kept_in_e164(entered: str, e164: str) -> None:
    assert mobile_number(entered) == e164


@pytest.mark.parametrize(
    ("entered", "problem"),
    [
        ("", PhoneProblem.EMPTY),
        ("   ", PhoneProblem.EMPTY),
        ("07123 45678x", PhoneProblem.NOT_NUMBERS),
        ("ring me", PhoneProblem.NOT_NUMBERS),
        ("020 7946 0000", PhoneProblem.NOT_UK_MOBILE),  # a landline
        ("0712", PhoneProblem.NOT_UK_MOBILE),
        ("07123 4567890123", PhoneProblem.NOT_UK_MOBILE),
        ("+44 20 7946 0000", PhoneProblem.NOT_INTERNATIONAL_MOBILE),
        ("+33 1 23 45 67 89", PhoneProblem.NOT_INTERNATIONAL_MOBILE),  # a French landline
        ("+999 123", PhoneProblem.NOT_INTERNATIONAL_MOBILE),
    ],
)
def test_numbers_that_are_not_mobiles_are_refused(entered: str, problem: PhoneProblem) -> None:
    with pytest.raises(PhoneNumberRefused) as refused:
        mobile_number(entered)
    assert refused.value.problem is problem


def test_a_page_shows_only_the_last_digits() -> None:
    assert last_digits("+447123456789") == "6789"
