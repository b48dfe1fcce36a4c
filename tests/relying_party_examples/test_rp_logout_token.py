from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from relying_party_examples.sample_service.jwks import InvalidTokenError
from relying_party_examples.sample_service.logout_token import BACKCHANNEL_LOGOUT_EVENT, validate_logout_token
from relying_party_examples.sample_service.stores import InMemoryReplayCache
from tests.relying_party_examples.rp_fakes import CLIENT_ID, EC_KID, ISSUER, FakeProvider


def validate(provider: FakeProvider, token: str, seen: InMemoryReplayCache | None = None) -> dict[str, Any]:
    return validate_logout_token(
        token, keys=provider.keys(), issuer=ISSUER, client_id=CLIENT_ID, seen_jtis=seen or InMemoryReplayCache()
    )


def test_a_good_logout_token_passes(provider: FakeProvider) -> None:
    claims = validate(provider, provider.logout_token())
    assert claims["sub"].startswith("urn:fdc:gov.uk:2022:")


@pytest.mark.parametrize("typ", [None, "JWT", "logout+JWT", "at+jwt"])
def test_typ_must_be_logout_jwt(provider: FakeProvider, typ: str | None) -> None:
    token = jwt.encode(provider.logout_token_claims(), provider.ec_key, algorithm="ES256", headers={"kid": EC_KID})
    if typ is not None:
        token = provider.sign(provider.logout_token_claims(), headers={"typ": typ})
    with pytest.raises(InvalidTokenError, match="typ"):
        validate(provider, token)


def test_only_es256_is_accepted(provider: FakeProvider) -> None:
    token = provider.sign(provider.logout_token_claims(), alg="RS256", headers={"typ": "logout+jwt"})
    with pytest.raises(InvalidTokenError, match="alg"):
        validate(provider, token)


@pytest.mark.parametrize(
    "events",
    [
        None,
        {},
        [BACKCHANNEL_LOGOUT_EVENT],
        {BACKCHANNEL_LOGOUT_EVENT: None},
        {BACKCHANNEL_LOGOUT_EVENT: {"reason": "x"}},
        {BACKCHANNEL_LOGOUT_EVENT: {}, "https://example.com/other-event": {}},
        {"http://schemas.openid.net/event/backchannel-logout/": {}},
    ],
)
def test_events_must_be_exactly_the_backchannel_logout_event(provider: FakeProvider, events: Any) -> None:
    with pytest.raises(InvalidTokenError, match="events"):
        validate(provider, provider.logout_token(events=events))


def test_a_nonce_is_prohibited(provider: FakeProvider) -> None:
    with pytest.raises(InvalidTokenError, match="nonce"):
        validate(provider, provider.logout_token(nonce="n-0S6_WzA2Mj"))


def test_an_id_token_is_not_a_logout_token(provider: FakeProvider) -> None:
    token = provider.sign(provider.id_token_claims(), headers={"typ": "logout+jwt"})
    with pytest.raises(InvalidTokenError):
        validate(provider, token)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"sub": None}, "sub"),
        ({"sub": ""}, "sub"),
        ({"iss": "http://elsewhere.test/"}, "iss"),
        ({"aud": "vehicle-register"}, "aud"),
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"exp": None}, "exp"),
        ({"iat": int(time.time()) + 3600}, "iat"),
        ({"iat": None}, "iat"),
        ({"jti": None}, "jti"),
        ({"jti": ""}, "jti"),
    ],
)
def test_each_claim_rule_rejects(provider: FakeProvider, overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidTokenError, match=reason):
        validate(provider, provider.logout_token(**overrides))


def test_a_replayed_jti_is_rejected(provider: FakeProvider) -> None:
    seen = InMemoryReplayCache()
    token = provider.logout_token()
    validate(provider, token, seen)
    with pytest.raises(InvalidTokenError, match="replay"):
        validate(provider, token, seen)


def test_a_rejected_token_does_not_use_up_its_jti(provider: FakeProvider) -> None:
    seen = InMemoryReplayCache()
    validate(provider, provider.logout_token(jti="jti-1"), seen)
    with pytest.raises(InvalidTokenError, match="nonce"):
        validate(provider, provider.logout_token(jti="jti-2", nonce="x"), seen)
    validate(provider, provider.logout_token(jti="jti-2"), seen)
