"""Vectors of trust (`vtr`): parsing and the rules of reference §2.3."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

CREDENTIAL_LEVELS = ("Cl", "Cl.Cm")
CONFIDENCE_LEVELS = ("P0", "P1", "P2", "P3")
DEFAULT_VECTOR = "Cl.Cm"

VTR_NOT_VALID = "Request vtr not valid"
VTR_NOT_PERMITTED = "Request vtr is not permitted"


class VtrError(ValueError):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True, order=True)
class Vector:
    """One vector: a credential level (`Cl`, `Cl.Cm`) and an optional level of confidence (`P0`–`P3`)."""

    credential: str
    confidence: str | None = None

    @property
    def identity_level(self) -> int:
        return int(self.confidence[1]) if self.confidence else 0

    @property
    def needs_identity(self) -> bool:
        return self.identity_level > 0

    @property
    def second_factor(self) -> bool:
        return self.credential == "Cl.Cm"

    def __str__(self) -> str:
        return f"{self.credential}.{self.confidence}" if self.confidence else self.credential


@dataclass(frozen=True)
class VectorsOfTrust:
    vectors: tuple[Vector, ...]

    @property
    def requested(self) -> Vector:
        """Orchestration takes the lowest vector requested as the threshold and the ID token's `vot`."""
        return min(self.vectors, key=lambda v: (v.identity_level, CREDENTIAL_LEVELS.index(v.credential)))

    @property
    def needs_identity(self) -> bool:
        return any(v.needs_identity for v in self.vectors)

    @property
    def credential_level(self) -> str:
        return self.requested.credential

    @property
    def confidence_levels(self) -> tuple[str, ...]:
        return tuple(sorted({v.confidence for v in self.vectors if v.confidence}))

    def to_json(self) -> list[str]:
        return [str(v) for v in self.vectors]


def parse_vector(text: str) -> Vector:
    components = text.split(".")
    credential = sorted(c for c in components if c.startswith("C"))
    confidence = [c for c in components if c.startswith("P")]
    # Reference §2.3: credential components are sorted and re-joined, and must be exactly `Cl` or `Cl.Cm`.
    joined = ".".join(credential)
    if joined not in CREDENTIAL_LEVELS:
        raise VtrError(VTR_NOT_VALID)
    if len(confidence) > 1 or (confidence and confidence[0] not in CONFIDENCE_LEVELS):
        raise VtrError(VTR_NOT_VALID)
    level = confidence[0] if confidence else None
    # "Non-zero identity confidence must require at least Cl.Cm credential trust"
    if level and level != "P0" and joined != "Cl.Cm":
        raise VtrError(VTR_NOT_VALID)
    return Vector(joined, level)


def parse_vtr(raw: Any) -> VectorsOfTrust:
    """`raw` is the request's `vtr`: absent, a JSON array in a string, or (inside a request object) a list."""
    if raw is None or raw == "":
        return VectorsOfTrust((Vector(DEFAULT_VECTOR),))
    values = raw
    if isinstance(raw, str):
        try:
            values = json.loads(raw)
        except ValueError as exc:
            raise VtrError(VTR_NOT_VALID) from exc
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise VtrError(VTR_NOT_VALID)
    if not values:
        return VectorsOfTrust((Vector(DEFAULT_VECTOR),))
    vectors = tuple(parse_vector(v) for v in values)
    identity = [v.needs_identity for v in vectors]
    if any(identity) and not all(identity):
        raise VtrError(VTR_NOT_VALID)
    return VectorsOfTrust(vectors)


def check_permitted(
    vtr: VectorsOfTrust, client_locs: list[str], identity_supported: bool, token_auth_method: str
) -> None:
    """The client must be allowed every level of confidence it asks for (reference §2.3)."""
    for level in vtr.confidence_levels:
        if level not in client_locs:
            raise VtrError(VTR_NOT_PERMITTED)
    if vtr.needs_identity and (not identity_supported or token_auth_method == "client_secret_post"):
        raise VtrError(VTR_NOT_PERMITTED)
