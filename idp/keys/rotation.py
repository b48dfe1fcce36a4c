"""The rules of a signing key's life, independent of storage.

pending (published, not signing) → active (the only key of its purpose and algorithm that signs)
→ retired (published until everything it signed has expired) → purged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class KeyState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    RETIRED = "retired"


PUBLISHED_STATES = (KeyState.PENDING, KeyState.ACTIVE, KeyState.RETIRED)

# What each purpose signs, and with which algorithms.
PURPOSES: dict[str, tuple[str, ...]] = {
    "oidc": ("ES256", "RS256"),
    "identity": ("ES256",),
    # The identity checks' own keys, one per check (`issuer:passport`, …, `issuer:test-mode`).
    "issuer": ("ES256",),
}


# Keys whose signatures outlive any token: the identity checks' credentials are stored for years and verified
# again each time an identity is reused, so their retired keys stay published and are never purged.
KEPT_PURPOSES = frozenset({"issuer"})


def kept_after_retirement(purpose: str) -> bool:
    return purpose.split(":", 1)[0] in KEPT_PURPOSES


class KeyRuleError(ValueError):
    pass


def kid_for(internal_id: str) -> str:
    """Reference §6: `kid` is the lowercase hex SHA-256 of the key's internal id."""
    return hashlib.sha256(internal_id.encode()).hexdigest()


def check_purpose(purpose: str, alg: str) -> None:
    allowed = PURPOSES.get(purpose.split(":", 1)[0])
    if allowed is None:
        raise KeyRuleError(f"unknown key purpose {purpose!r}")
    if alg not in allowed:
        raise KeyRuleError(f"{purpose} keys sign with {', '.join(allowed)}, not {alg}")


@dataclass(frozen=True)
class KeyFacts:
    state: KeyState
    created_at: datetime
    retired_at: datetime | None


def check_activation(key: KeyFacts, now: datetime, publish_period: timedelta, force: bool) -> None:
    if key.state is not KeyState.PENDING:
        raise KeyRuleError(f"only a pending key can be activated; this one is {key.state}")
    published_for = now - key.created_at
    if published_for < publish_period and not force:
        ready = key.created_at + publish_period
        raise KeyRuleError(
            f"the key has been published for {int(published_for.total_seconds())} s; relying parties cache the "
            f"JWKS for {int(publish_period.total_seconds())} s, so activate it after {ready:%Y-%m-%d %H:%M} UTC "
            "or use --force"
        )


def check_retirement(key: KeyFacts) -> None:
    if key.state is not KeyState.ACTIVE and key.state is not KeyState.PENDING:
        raise KeyRuleError(f"only an active or pending key can be retired; this one is {key.state}")


def purgeable(key: KeyFacts, now: datetime, longest_token_lifetime: timedelta) -> bool:
    """A retired key stays published until every token it signed has expired."""
    return (
        key.state is KeyState.RETIRED and key.retired_at is not None and now - key.retired_at >= longest_token_lifetime
    )
