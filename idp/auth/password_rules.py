"""What makes a new password acceptable: at least 8 characters, letters and numbers, not a common password, not
the email address. Plain functions, no HTTP; the forms turn each problem into words for the citizen.

    problem = password_problem(password, email)   # None, or one of the PasswordProblem values

The common passwords are Django's list of the 20,000 most common (BSD licence), shipped in
`data/common-passwords.txt.gz`: compared in lower case, with spaces at the ends removed.
"""

from __future__ import annotations

import enum
import functools
import gzip
import re
from pathlib import Path

MINIMUM_LENGTH = 8
_COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


class PasswordProblem(enum.Enum):
    EMPTY = "empty"
    TOO_SHORT = "too_short"
    NEEDS_LETTERS_AND_NUMBERS = "needs_letters_and_numbers"
    COMMON = "common"
    SAME_AS_EMAIL = "same_as_email"


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def is_common(password: str) -> bool:
    return password.strip().lower() in common_passwords()


def password_problem(password: str, email: str | None = None) -> PasswordProblem | None:
    if not password:
        return PasswordProblem.EMPTY
    if len(password) < MINIMUM_LENGTH:
        return PasswordProblem.TOO_SHORT
    if not (re.search(r"[^\W\d_]", password) and re.search(r"\d", password)):
        return PasswordProblem.NEEDS_LETTERS_AND_NUMBERS
    if email and password.strip().lower() == email.strip().lower():
        return PasswordProblem.SAME_AS_EMAIL
    if is_common(password):
        return PasswordProblem.COMMON
    return None
