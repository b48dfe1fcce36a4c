"""The rules of a signing key's life (idp/keys/rotation.py), independent of storage."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from idp.keys.rotation import (
    KeyFacts,
    KeyRuleError,
    KeyState,
    check_activation,
    check_purpose,
    check_retirement,
    kid_for,
    purgeable,
)

NOW = datetime(2026, 3, 30, 12, 0, 0)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("internal_id", "expected"),
    [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ],
)
def test_kid_is_the_lowercase_hex_sha256_of_the_id(internal_id: str, expected: str) -> None:
    assert kid_for(internal_id) == expected


def test_kid_format_and_uniqueness() -> None:
    kids = {kid_for(f"0b7c1e36-7f1d-4a1f-9d8e-{n:012d}") for n in range(20)}
    assert len(kids) == 20
    assert all(re.fullmatch(r"[0-9a-f]{64}", kid) for kid in kids)


@pytest.mark.parametrize(
    ("purpose", "alg"),
    [
        ("oidc", "ES256"),
        ("oidc", "RS256"),
        ("identity", "ES256"),
        ("identity:passport", "ES256"),
    ],
)
def test_allowed_purposes(purpose: str, alg: str) -> None:
    check_purpose(purpose, alg)


@pytest.mark.parametrize(
    ("purpose", "alg", "message"),
    [
        ("identity", "RS256", "identity keys sign with ES256, not RS256"),
        ("oidc", "PS256", "not PS256"),
        ("oidc", "HS256", "not HS256"),
        ("oidc", "none", "not none"),
        ("bogus", "ES256", "unknown key purpose 'bogus'"),
        ("", "ES256", "unknown key purpose"),
        ("OIDC", "ES256", "unknown key purpose"),
    ],
)
def test_refused_purposes(purpose: str, alg: str, message: str) -> None:
    with pytest.raises(KeyRuleError, match=re.escape(message)):
        check_purpose(purpose, alg)


def facts(state: KeyState, age: timedelta = 2 * DAY, retired_for: timedelta | None = None) -> KeyFacts:
    return KeyFacts(
        state=state, created_at=NOW - age, retired_at=NOW - retired_for if retired_for is not None else None
    )


@pytest.mark.parametrize(
    ("age", "force"),
    [
        (2 * DAY, False),
        (DAY, False),  # published for exactly the JWKS max-age
        (DAY + timedelta(seconds=1), False),
        (timedelta(hours=1), True),
        (timedelta(0), True),
    ],
)
def test_activation_allowed(age: timedelta, force: bool) -> None:
    check_activation(facts(KeyState.PENDING, age), NOW, DAY, force)


@pytest.mark.parametrize("age", [timedelta(0), timedelta(hours=1), DAY - timedelta(seconds=1)])
def test_activation_refused_before_the_publish_period(age: timedelta) -> None:
    with pytest.raises(KeyRuleError, match="--force") as caught:
        check_activation(facts(KeyState.PENDING, age), NOW, DAY, force=False)
    assert f"published for {int(age.total_seconds())} s" in str(caught.value)
    assert "86400 s" in str(caught.value)


@pytest.mark.parametrize("state", [KeyState.ACTIVE, KeyState.RETIRED])
@pytest.mark.parametrize("force", [False, True])
def test_only_pending_keys_can_be_activated(state: KeyState, force: bool) -> None:
    with pytest.raises(KeyRuleError, match="only a pending key"):
        check_activation(facts(state, 10 * DAY), NOW, DAY, force)


@pytest.mark.parametrize("state", [KeyState.ACTIVE, KeyState.PENDING])
def test_retirement_allowed(state: KeyState) -> None:
    check_retirement(facts(state))


def test_retired_key_cannot_be_retired_again() -> None:
    with pytest.raises(KeyRuleError, match="only an active or pending key"):
        check_retirement(facts(KeyState.RETIRED, retired_for=DAY))


LIFETIME = timedelta(minutes=30)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (facts(KeyState.RETIRED, retired_for=LIFETIME), True),
        (facts(KeyState.RETIRED, retired_for=LIFETIME + timedelta(days=3)), True),
        (facts(KeyState.RETIRED, retired_for=LIFETIME - timedelta(seconds=1)), False),
        (facts(KeyState.RETIRED, retired_for=timedelta(0)), False),
        (KeyFacts(state=KeyState.RETIRED, created_at=NOW - 30 * DAY, retired_at=None), False),
        (facts(KeyState.ACTIVE, age=30 * DAY), False),
        (facts(KeyState.PENDING, age=30 * DAY), False),
    ],
)
def test_purgeable(key: KeyFacts, expected: bool) -> None:
    assert purgeable(key, NOW, LIFETIME) is expected
