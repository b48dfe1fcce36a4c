from __future__ import annotations

from typing import Any

import pytest
import requests

from relying_party_examples.sample_service.jwks import DEFAULT_MAX_AGE, InvalidTokenError, JwksCache, cache_max_age
from tests.relying_party_examples.rp_fakes import EC_KID, RSA_KID, FakeProvider

JWKS_URI = "http://op.test/.well-known/jwks.json"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_keys_are_cached_for_max_age_then_fetched_again(provider: FakeProvider) -> None:
    clock = Clock()
    provider.max_age = 600
    keys = JwksCache(JWKS_URI, fetch=provider.fetch, clock=clock)
    keys.key(EC_KID)
    keys.key(RSA_KID)
    clock.now += 599
    keys.key(EC_KID)
    assert provider.fetches == 1
    clock.now += 1
    keys.key(EC_KID)
    assert provider.fetches == 2


def test_the_cache_lasts_at_least_a_minute_and_at_most_a_day(provider: FakeProvider) -> None:
    clock = Clock()
    provider.max_age = 0
    keys = JwksCache(JWKS_URI, fetch=provider.fetch, clock=clock)
    keys.key(EC_KID)
    clock.now += 59
    keys.key(EC_KID)
    assert provider.fetches == 1
    provider.max_age = 10 * 365 * 86400
    clock.now += 1
    keys.key(EC_KID)
    clock.now += 86400
    keys.key(EC_KID)
    assert provider.fetches == 3


def test_an_unknown_kid_fetches_the_keys_again_once_and_finds_a_rotated_key(provider: FakeProvider) -> None:
    clock = Clock()
    keys = JwksCache(JWKS_URI, fetch=provider.fetch, clock=clock)
    keys.key(EC_KID)
    clock.now += 120
    provider.extra_keys = [{**provider.jwks()["keys"][0], "kid": "new-key"}]
    assert keys.key("new-key").algorithm_name == "ES256"
    assert provider.fetches == 2


def test_unknown_kids_do_not_make_us_fetch_more_than_once_a_minute(provider: FakeProvider) -> None:
    clock = Clock()
    keys = JwksCache(JWKS_URI, fetch=provider.fetch, clock=clock)
    keys.key(EC_KID)
    clock.now += 120
    for kid in ("forged-1", "forged-2", "forged-3"):
        with pytest.raises(InvalidTokenError, match="kid"):
            keys.key(kid)
    assert provider.fetches == 2


def test_a_key_removed_from_the_jwks_is_no_longer_trusted(provider: FakeProvider) -> None:
    clock = Clock()
    provider.max_age = 60
    keys = JwksCache(JWKS_URI, fetch=provider.fetch, clock=clock)
    keys.key(RSA_KID)
    provider.removed_kids.add(RSA_KID)
    clock.now += 60
    with pytest.raises(InvalidTokenError, match="kid"):
        keys.key(RSA_KID)


def test_when_the_provider_is_unreachable_the_cached_keys_are_kept(provider: FakeProvider) -> None:
    clock = Clock()
    provider.max_age = 60
    calls = {"n": 0}

    def flaky(url: str) -> tuple[dict[str, Any], float]:
        calls["n"] += 1
        if calls["n"] > 1:
            raise requests.ConnectionError("down")
        return provider.fetch(url)

    keys = JwksCache(JWKS_URI, fetch=flaky, clock=clock)
    keys.key(EC_KID)
    clock.now += 61
    assert keys.key(EC_KID).algorithm_name == "ES256"


def test_keys_not_for_signing_and_unsupported_keys_are_ignored(provider: FakeProvider) -> None:
    provider.extra_keys = [
        {**provider.jwks()["keys"][0], "kid": "encryption", "use": "enc"},
        {"kty": "weird", "kid": "weird"},
        {"kty": "EC", "crv": "P-256"},
    ]
    keys = provider.keys()
    assert keys.key(EC_KID)
    for kid in ("encryption", "weird"):
        with pytest.raises(InvalidTokenError):
            keys.key(kid)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("max-age=86400", 86400),
        ("public, max-age=3600, must-revalidate", 3600),
        ("max-age=3600, private", 3600),
        ("no-store", 0),
        ("no-cache, max-age=60", 0),
        ("max-age=soon", DEFAULT_MAX_AGE),
        ("", DEFAULT_MAX_AGE),
        (None, DEFAULT_MAX_AGE),
    ],
)
def test_cache_max_age(header: str | None, seconds: float) -> None:
    assert cache_max_age(header) == seconds
