"""The format of a National Insurance number: two prefix letters, six digits, a suffix A, B, C or D.

The first letter is never D, F, I, Q, U or V; the second never D, F, I, O, Q, U or V; the prefixes BG, GB, KN, NK,
NT, TN and ZZ are never issued.
"""

from __future__ import annotations

import re

_FORMAT = re.compile(r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")
_NEVER_ISSUED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


class MalformedNationalInsuranceNumber(ValueError):
    pass


def normalise(value: str) -> str:
    number = re.sub(r"\s+", "", value).upper()
    if not _FORMAT.match(number) or number[:2] in _NEVER_ISSUED:
        raise MalformedNationalInsuranceNumber("not a National Insurance number")
    return number
