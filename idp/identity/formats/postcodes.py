"""UK postcodes: the outward code (area and district) and the inward code (sector and unit).

Formats, after removing spaces: A9 9AA, A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA, AA9A 9AA, and GIR 0AA. The inward
code never uses C, I, K, M, O or V; the first letter of the area never Q, V or X; the second never I, J or Z.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_POSTCODE = re.compile(
    r"^(?P<outward>[A-PR-UWYZ](?:\d[A-HJKPSTUW]?|\d\d|[A-HK-Y]\d[ABEHMNPRVWXY]?|[A-HK-Y]\d\d?))"
    r"(?P<inward>\d[ABD-HJLNP-UW-Z]{2})$"
)


class MalformedPostcode(ValueError):
    pass


@dataclass(frozen=True)
class Postcode:
    outward: str
    inward: str

    def __str__(self) -> str:
        return f"{self.outward} {self.inward}"


def parse(value: str) -> Postcode:
    compact = re.sub(r"\s+", "", value).upper()
    if compact == "GIR0AA":
        return Postcode("GIR", "0AA")
    found = _POSTCODE.match(compact)
    if not found:
        raise MalformedPostcode("not a UK postcode")
    return Postcode(found["outward"], found["inward"])


def normalise(value: str) -> str:
    return str(parse(value))
