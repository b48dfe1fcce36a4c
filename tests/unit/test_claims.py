"""Token claims (reference §3.3 for ID and access tokens, §5.2 for logout tokens)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import pytest

from idp.oidc.claims import (
    BACKCHANNEL_LOGOUT_EVENT,
    access_token_claims,
    at_hash,
    id_token_claims,
    logout_token_claims,
)
from idp.oidc.vtr import parse_vtr

ISSUER = "https://oidc.example.gov.uk/"
NOW = 1_800_000_000


def independent_at_hash(access_token: str) -> str:
    left_half = hashlib.sha256(access_token.encode("ascii")).digest()[:16]
    return base64.b64encode(left_half).decode().translate(str.maketrans("+/", "-_")).rstrip("=")


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256"])
@pytest.mark.parametrize(
    "access_token",
    ["eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "jHkWEdUXMU1BwAsC4vtUsZwnNqRn1TdzFjpRs2lEo8I", "a"],
)
def test_at_hash_matches_an_independent_computation(access_token: str, alg: str) -> None:
    value = at_hash(access_token, alg)
    assert value == independent_at_hash(access_token)
    assert len(value) == 22  # 16 bytes, base64url, no padding


@pytest.mark.parametrize("alg", ["ES384", "RS512", "HS256", "none"])
def test_at_hash_refuses_algorithms_it_has_no_rule_for(alg: str) -> None:
    with pytest.raises(ValueError, match=alg):
        at_hash("token", alg)


def make_id_token_claims(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "issuer": ISSUER,
        "subject": "urn:fdc:gov.uk:2022:abc",
        "client_id": "client-1",
        "now": NOW,
        "ttl": 120,
        "nonce": "n-0S6_WzA2Mj",
        "access_token": "access.token.value",
        "alg": "ES256",
        "journey_id": "journey-1",
        "credential_level": "Cl.Cm",
        "auth_time": NOW - 30,
    }
    arguments.update(overrides)
    return id_token_claims(**arguments)


ID_TOKEN_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "nonce", "at_hash", "sid", "vot", "vtm", "auth_time"}


def test_id_token_claims() -> None:
    claims = make_id_token_claims()
    assert set(claims) == ID_TOKEN_CLAIMS
    assert claims == {
        "iss": ISSUER,
        "sub": "urn:fdc:gov.uk:2022:abc",
        "aud": "client-1",
        "exp": NOW + 120,
        "iat": NOW,
        "nonce": "n-0S6_WzA2Mj",
        "at_hash": independent_at_hash("access.token.value"),
        "sid": "journey-1",
        "vot": "Cl.Cm",
        "vtm": ISSUER + "trustmark",
        "auth_time": NOW - 30,
    }


@pytest.mark.parametrize("nonce", [None, ""])
def test_id_token_omits_nonce_when_none_was_sent(nonce: str | None) -> None:
    claims = make_id_token_claims(nonce=nonce)
    assert set(claims) == ID_TOKEN_CLAIMS - {"nonce"}


@pytest.mark.parametrize(
    ("vtr", "vot"),
    [
        (None, "Cl.Cm"),
        ('["Cl"]', "Cl"),
        ('["Cl.Cm.P0"]', "Cl.Cm"),
        ('["Cl.P0"]', "Cl"),
        ('["Cl.Cm.P2"]', "Cl.Cm"),
        ('["Cl.Cm.P3","Cl.Cm.P1"]', "Cl.Cm"),
    ],
)
def test_vot_is_the_credential_part_only(vtr: str | None, vot: str) -> None:
    claims = make_id_token_claims(credential_level=parse_vtr(vtr).credential_level)
    assert claims["vot"] == vot
    assert "P" not in claims["vot"]


def make_access_token_claims(identity_claims: list[str] | None) -> dict[str, Any]:
    return access_token_claims(
        issuer=ISSUER,
        subject="urn:fdc:gov.uk:2022:abc",
        client_id="client-1",
        now=NOW,
        ttl=180,
        scopes=["openid", "email"],
        journey_id="journey-1",
        identity_claims=identity_claims,
    )


@pytest.mark.parametrize(
    ("identity_claims", "expected"),
    [
        (None, None),
        ([], None),
        (
            ["https://vocab.account.gov.uk/v1/coreIdentityJWT"],
            ["https://vocab.account.gov.uk/v1/coreIdentityJWT"],
        ),
    ],
)
def test_access_token_claims(identity_claims: list[str] | None, expected: list[str] | None) -> None:
    claims = make_access_token_claims(identity_claims)
    base = {"iss", "sub", "client_id", "scope", "sid", "jti", "iat", "exp"}
    assert set(claims) == (base | {"claims"} if expected else base)
    assert claims.get("claims") == expected
    assert claims["scope"] == ["openid", "email"]
    assert claims["exp"] == NOW + 180
    assert claims["iat"] == NOW
    assert claims["client_id"] == "client-1"
    assert claims["sid"] == "journey-1"
    assert str(uuid.UUID(claims["jti"])) == claims["jti"]


def test_access_token_jti_is_unique() -> None:
    assert len({make_access_token_claims(None)["jti"] for _ in range(50)}) == 50


def test_logout_token_claims() -> None:
    claims = logout_token_claims(issuer=ISSUER, subject="urn:fdc:gov.uk:2022:abc", client_id="client-1", now=NOW)
    assert set(claims) == {"iss", "sub", "aud", "iat", "exp", "jti", "events"}
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert BACKCHANNEL_LOGOUT_EVENT == "http://schemas.openid.net/event/backchannel-logout"
    assert claims["exp"] == claims["iat"] + 120
    assert claims["iat"] == NOW
    assert claims["iss"] == ISSUER
    assert claims["aud"] == "client-1"
    assert "nonce" not in claims
    assert "sid" not in claims
    assert str(uuid.UUID(claims["jti"])) == claims["jti"]


def test_logout_token_jti_is_unique() -> None:
    jtis = {logout_token_claims(issuer=ISSUER, subject="s", client_id="c", now=NOW)["jti"] for _ in range(50)}
    assert len(jtis) == 50
