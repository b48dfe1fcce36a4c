"""/token (reference §3, the simulator's token list in §7.4, spec "/token")."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from typing import Any

import jwt
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import ISSUER, Browser, RelyingPartyUnderTest, sign_in
from tests.integration._support import (
    AUTHORIZE_URL,
    INVALID_TOKEN_CHALLENGE,
    JWT_BEARER,
    KID_PATTERN,
    SUBJECT_PATTERN,
    TOKEN_URL,
    QuickCitizen,
    assertion_claims,
    at_hash,
    authorize_query,
    exchange,
    jwks,
    local_server,
    public_jwk,
    quick_citizen,
    redirected_to,
    secret_hash,
    verify_provider_jwt,
)

ID_TOKEN_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "nonce", "at_hash", "sid", "vot", "vtm", "auth_time"}
SECRET = base64.b64encode(secrets.token_bytes(40)).decode()


@pytest.fixture
def citizen(app: Flask) -> QuickCitizen:
    return quick_citizen(app)


def first_code(browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen, **params: Any) -> str:
    return sign_in(browser, rp, citizen, **params)["code"]


def next_code(browser: Browser, rp: RelyingPartyUnderTest, **params: Any) -> str:
    """Another code from the live session (single sign-on, no pages)."""
    response = browser.get(authorize_query(rp.authorize_params(**params)))
    return redirected_to(response, rp.redirect_uri)["code"]


def token_error(response: TestResponse, error: str, description: str) -> None:
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"error": error, "error_description": description}


def post_token(client: FlaskClient, form: dict[str, str]) -> TestResponse:
    return client.post("/token", data={k: v for k, v in form.items() if v is not None})


def base_form(rp: RelyingPartyUnderTest, **overrides: Any) -> dict[str, str]:
    form = {
        "grant_type": "authorization_code",
        "code": "123456",
        "redirect_uri": rp.redirect_uri,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": rp.assertion(),
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def handmade_assertion(claims: dict[str, Any], alg: str = "RS256") -> str:
    """A JWS with the given header alg and a fake signature."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': alg})}.{part(claims)}.{secrets.token_hex(16)}"


def secret_client(app: Flask, secret_hash_value: str | None = None) -> RelyingPartyUnderTest:
    return RelyingPartyUnderTest.register(
        app,
        token_auth_method="client_secret_post",
        client_secret_hash=secret_hash(SECRET) if secret_hash_value is None else secret_hash_value,
        public_key=None,
    )


def secret_form(rp: RelyingPartyUnderTest, code: str, **overrides: Any) -> dict[str, str]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "code_verifier": rp.last_verifier,
        "client_id": rp.client_id,
        "client_secret": SECRET,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


# -- request parsing ------------------------------------------------------------------------------------------------


def test_missing_grant_type(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = post_token(app.test_client(), base_form(rp, grant_type=None))
    token_error(response, "invalid_request", "Request is missing grant_type parameter")


@pytest.mark.parametrize("grant", ["not_authorization_code", "refresh_token", "client_credentials", "password"])
def test_unsupported_grant_type(app: Flask, rp: RelyingPartyUnderTest, grant: str) -> None:
    response = post_token(app.test_client(), base_form(rp, grant_type=grant))
    token_error(response, "unsupported_grant_type", "Unsupported grant type")


def test_missing_redirect_uri(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = post_token(app.test_client(), base_form(rp, redirect_uri=None))
    token_error(response, "invalid_request", "Request is missing redirect_uri parameter")


@pytest.mark.parametrize("code", [None, ""])
def test_missing_code(app: Flask, rp: RelyingPartyUnderTest, code: str | None) -> None:
    response = post_token(app.test_client(), base_form(rp, code=code))
    token_error(response, "invalid_request", "Request is missing code parameter")


def test_no_client_authentication(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = post_token(app.test_client(), base_form(rp, client_assertion_type=None, client_assertion=None))
    token_error(response, "invalid_request", "Invalid token authentication method used")


def test_get_is_not_allowed(app: Flask) -> None:
    assert app.test_client().get("/token").status_code == 405


# -- private_key_jwt ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_assertion_type": None},
        {"client_assertion": None},
        {"client_assertion": ""},
        {"client_assertion_type": JWT_BEARER + "-invalid"},
        {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"},
        {"client_assertion": "not-a-jwt"},
        {"client_assertion": "a.b.c"},
    ],
)
def test_malformed_private_key_jwt(app: Flask, rp: RelyingPartyUnderTest, overrides: dict[str, Any]) -> None:
    response = post_token(app.test_client(), base_form(rp, **overrides))
    token_error(response, "invalid_request", "Invalid private_key_jwt")


@pytest.mark.parametrize(
    ("claims_overrides", "alg"),
    [
        ({"iss": None}, "RS256"),
        ({"sub": None}, "RS256"),
        ({"exp": None}, "RS256"),
        ({"exp": "tomorrow"}, "RS256"),
        ({}, "fake-alg"),
        ({}, "HS256"),
        ({}, "none"),
    ],
)
def test_assertion_missing_claims_or_with_a_bad_alg(
    app: Flask, rp: RelyingPartyUnderTest, claims_overrides: dict[str, Any], alg: str
) -> None:
    assertion = handmade_assertion(assertion_claims(rp, **claims_overrides), alg)
    response = post_token(app.test_client(), base_form(rp, client_assertion=assertion))
    token_error(response, "invalid_request", "Invalid private_key_jwt")


def test_assertion_signed_with_a_shared_secret(app: Flask, rp: RelyingPartyUnderTest) -> None:
    assertion = jwt.encode(assertion_claims(rp), "a-shared-secret-of-thirty-two-bytes!", algorithm="HS256")
    response = post_token(app.test_client(), base_form(rp, client_assertion=assertion))
    token_error(response, "invalid_request", "Invalid private_key_jwt")


def test_top_level_client_id_must_equal_the_assertion_subject(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = post_token(app.test_client(), base_form(rp, client_id="someone-else"))
    token_error(response, "invalid_request", "Invalid private_key_jwt")


def test_unknown_client(app: Flask, rp: RelyingPartyUnderTest) -> None:
    assertion = rp.assertion(iss="unknown-client", sub="unknown-client")
    response = post_token(app.test_client(), base_form(rp, client_assertion=assertion))
    token_error(response, "invalid_client", "Client authentication failed")


def test_deactivated_client(app: Flask) -> None:
    rp = RelyingPartyUnderTest.register(app, is_active=False)
    token_error(post_token(app.test_client(), base_form(rp)), "invalid_client", "Client authentication failed")


def test_issuer_must_equal_subject(app: Flask, rp: RelyingPartyUnderTest) -> None:
    other = RelyingPartyUnderTest.register(app)
    assertion = rp.assertion(iss=other.client_id)
    response = post_token(app.test_client(), base_form(rp, client_assertion=assertion))
    token_error(response, "invalid_client", "Client authentication failed")


def test_client_not_registered_for_private_key_jwt(app: Flask) -> None:
    rp = secret_client(app)
    rp.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = post_token(app.test_client(), base_form(rp))
    token_error(response, "invalid_client", "Client is not registered to use private_key_jwt")


def test_expired_assertion(app: Flask, rp: RelyingPartyUnderTest) -> None:
    now = int(time.time())
    response = post_token(app.test_client(), base_form(rp, client_assertion=rp.assertion(exp=now - 3600)))
    token_error(response, "invalid_grant", "private_key_jwt has expired")
    response = post_token(app.test_client(), base_form(rp, client_assertion=rp.assertion(exp=now - 45)))
    token_error(response, "invalid_grant", "private_key_jwt has expired")


def test_assertion_not_yet_valid(app: Flask, rp: RelyingPartyUnderTest) -> None:
    assertion = rp.assertion(nbf=int(time.time()) + 600)
    response = post_token(app.test_client(), base_form(rp, client_assertion=assertion))
    token_error(response, "invalid_client", "private_key_jwt is not yet valid")


def test_assertion_signed_by_another_key(app: Flask, rp: RelyingPartyUnderTest) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assertion = jwt.encode(assertion_claims(rp), other, algorithm="RS256")
    response = post_token(app.test_client(), base_form(rp, client_assertion=assertion))
    token_error(response, "invalid_client", "Invalid signature in private_key_jwt")


def test_assertion_with_a_fake_signature(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = post_token(app.test_client(), base_form(rp, client_assertion=handmade_assertion(assertion_claims(rp))))
    token_error(response, "invalid_client", "Invalid signature in private_key_jwt")


@pytest.mark.parametrize(
    "aud", ["https://identity-provider.example.com/token", AUTHORIZE_URL, ISSUER + "userinfo", "http://localhost:8080"]
)
def test_assertion_with_an_unknown_audience(app: Flask, rp: RelyingPartyUnderTest, aud: str) -> None:
    response = post_token(app.test_client(), base_form(rp, client_assertion=rp.assertion(aud=aud)))
    token_error(response, "invalid_client", "Invalid signature in private_key_jwt")


def test_assertion_without_jti(app: Flask, rp: RelyingPartyUnderTest) -> None:
    claims = assertion_claims(rp)
    del claims["jti"]
    assertion = jwt.encode(claims, rp.private_key, algorithm="RS256")
    response = post_token(app.test_client(), base_form(rp, client_assertion=assertion))
    token_error(response, "invalid_client", "private_key_jwt is missing jti")


def test_assertion_is_never_accepted_twice(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    first = first_code(browser, rp, citizen)
    assertion = rp.assertion()
    assert exchange(browser.client, rp, first, client_assertion=assertion).status_code == 200
    second = next_code(browser, rp)
    replay = exchange(browser.client, rp, second, client_assertion=assertion)
    token_error(replay, "invalid_client", "private_key_jwt has already been used")
    # The code came with a replayed assertion, so it is in someone else's hands: the refused request spent it.
    token_error(exchange(browser.client, rp, second), "invalid_grant", "Invalid authorization code")
    # A code whose request failed before the replay check (here: a bad signature) is not spent.
    third = next_code(browser, rp)
    forged = exchange(browser.client, rp, third, client_assertion=assertion[:-8] + "AAAAAAAA")
    assert forged.status_code in (400, 401)
    assert exchange(browser.client, rp, third).status_code == 200


def test_assertion_within_the_clock_skew(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    code = first_code(browser, rp, citizen)
    assertion = rp.assertion(exp=int(time.time()) - 10)
    response = exchange(browser.client, rp, code, client_assertion=assertion)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("aud", [TOKEN_URL, ISSUER, [TOKEN_URL, "https://other.example"]], ids=str)
def test_assertion_audiences_accepted(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen, aud: Any
) -> None:
    code = first_code(browser, rp, citizen)
    response = exchange(browser.client, rp, code, client_assertion=rp.assertion(aud=aud))
    assert response.status_code == 200, response.get_json()


def test_rsa_assertion_algorithms(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    code = first_code(browser, rp, citizen)
    for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        assertion = jwt.encode(assertion_claims(rp), rp.private_key, algorithm=alg)
        response = exchange(browser.client, rp, code, client_assertion=assertion)
        assert response.status_code == 200, (alg, response.get_json())
        code = next_code(browser, rp)


def test_es256_client_assertion(app: Flask, browser: Browser, citizen: QuickCitizen) -> None:
    rp = RelyingPartyUnderTest.register(app, key_alg="ES256")
    code = first_code(browser, rp, citizen)
    assert jwt.get_unverified_header(rp.assertion())["alg"] == "ES256"
    response = exchange(browser.client, rp, code)
    assert response.status_code == 200, response.get_json()


def test_es384_assertion_is_not_accepted(app: Flask) -> None:
    rp = RelyingPartyUnderTest.register(app, key_alg="ES256")
    assertion = jwt.encode(assertion_claims(rp), ec.generate_private_key(ec.SECP384R1()), algorithm="ES384")
    response = post_token(app.test_client(), base_form(rp, client_assertion=assertion))
    token_error(response, "invalid_request", "Invalid private_key_jwt")


def test_assertion_keys_from_a_jwks_uri(app: Flask, browser: Browser, citizen: QuickCitizen) -> None:
    with local_server() as server:
        rp = RelyingPartyUnderTest.register(
            app, public_key=None, public_key_source="JWKS", jwks_uri=server.url("/jwks")
        )
        server.documents["/jwks"] = {"keys": [public_jwk(rp.private_key, "key-1", "RS256")]}
        code = first_code(browser, rp, citizen)

        no_kid = jwt.encode(assertion_claims(rp), rp.private_key, algorithm="RS256")
        token_error(
            exchange(browser.client, rp, code, client_assertion=no_kid),
            "invalid_client",
            "Invalid signature in private_key_jwt",
        )
        good = jwt.encode(assertion_claims(rp), rp.private_key, algorithm="RS256", headers={"kid": "key-1"})
        response = exchange(browser.client, rp, code, client_assertion=good)
        assert response.status_code == 200, response.get_json()
        assert [r.path for r in server.received] == ["/jwks"]


def test_assertion_jwks_uri_that_cannot_be_fetched(app: Flask) -> None:
    with local_server() as server:
        for jwks_uri in (server.url("/missing"), None):
            rp = RelyingPartyUnderTest.register(app, public_key=None, public_key_source="JWKS", jwks_uri=jwks_uri)
            assertion = jwt.encode(assertion_claims(rp), rp.private_key, algorithm="RS256", headers={"kid": "k"})
            response = post_token(app.test_client(), base_form(rp, client_assertion=assertion))
            token_error(
                response, "server_error", "Failed to fetch or parse JWKS to verify signature of private_key_jwt"
            )


# -- client_secret_post ---------------------------------------------------------------------------------------------


def test_client_secret_post_success(app: Flask, browser: Browser, citizen: QuickCitizen) -> None:
    rp = secret_client(app)
    code = first_code(browser, rp, citizen)
    response = post_token(browser.client, secret_form(rp, code))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "id_token"}
    _, claims = verify_provider_jwt(browser.client, body["id_token"], audience=rp.client_id)
    assert claims["aud"] == rp.client_id
    userinfo = browser.client.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert userinfo.status_code == 200


def test_client_secret_post_without_a_secret(app: Flask) -> None:
    rp = secret_client(app)
    response = post_token(app.test_client(), secret_form(rp, "123456", client_secret=None))
    token_error(response, "invalid_request", "Invalid token authentication method used")


def test_client_secret_post_without_a_client_id(app: Flask) -> None:
    rp = secret_client(app)
    response = post_token(app.test_client(), secret_form(rp, "123456", client_id=None))
    token_error(response, "invalid_request", "Invalid client secret")


def test_client_secret_post_unknown_client(app: Flask) -> None:
    rp = secret_client(app)
    response = post_token(app.test_client(), secret_form(rp, "123456", client_id="unknown_client_id"))
    token_error(response, "invalid_client", "Client authentication failed")


def test_client_secret_post_by_a_private_key_jwt_client(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = post_token(app.test_client(), secret_form(rp, "123456"))
    token_error(response, "invalid_client", "Client is not registered to use client_secret_post")


def test_client_secret_post_without_a_registered_hash(app: Flask) -> None:
    rp = secret_client(app, secret_hash_value="")
    response = post_token(app.test_client(), secret_form(rp, "123456"))
    token_error(response, "invalid_client", "No client secret registered")


@pytest.mark.parametrize("registered", ["another secret", None], ids=["wrong-secret", "unparsable-hash"])
def test_client_secret_post_wrong_secret(app: Flask, registered: str | None) -> None:
    rp = secret_client(app, secret_hash(registered) if registered else "not-an-argon2-hash")
    response = post_token(app.test_client(), secret_form(rp, "123456"))
    token_error(response, "invalid_client", "Invalid client secret")


# -- the grant ------------------------------------------------------------------------------------------------------


def test_unknown_code(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = exchange(app.test_client(), rp, "no-such-code")
    token_error(response, "invalid_grant", "Invalid authorization code")


def test_code_lives_300_seconds(app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen) -> None:
    code = first_code(browser, rp, citizen)
    with app.app_context():
        from idp.services import current_services

        remaining = current_services().store.ttl("code:" + hashlib.sha256(code.encode()).hexdigest())
    assert remaining is not None and 290 <= remaining <= 300
    assert len(base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))) >= 32


def test_code_reuse_is_refused_and_revokes_the_first_access_token(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    code = first_code(browser, rp, citizen)
    first = exchange(browser.client, rp, code)
    assert first.status_code == 200
    access_token = first.get_json()["access_token"]
    headers = {"Authorization": "Bearer " + access_token}
    assert browser.client.get("/userinfo", headers=headers).status_code == 200

    token_error(exchange(browser.client, rp, code), "invalid_grant", "Invalid authorization code")
    revoked = browser.client.get("/userinfo", headers=headers)
    assert revoked.status_code == 401
    assert revoked.headers["WWW-Authenticate"] == INVALID_TOKEN_CHALLENGE


def test_code_issued_to_another_client(app: Flask, browser: Browser, citizen: QuickCitizen) -> None:
    owner = RelyingPartyUnderTest.register(app)
    thief = RelyingPartyUnderTest.register(app)
    code = first_code(browser, owner, citizen)
    response = exchange(browser.client, thief, code, redirect_uri=owner.redirect_uri)
    token_error(response, "invalid_grant", "Invalid authorization code")


def test_redirect_uri_mismatch(app: Flask, browser: Browser, citizen: QuickCitizen) -> None:
    rp = RelyingPartyUnderTest.register(app)
    second_uri = rp.redirect_uri.replace("/callback", "/other-callback")
    with app.app_context():
        from idp.extensions import db
        from idp.models import Client

        client = db.session.get(Client, rp.client_id)
        assert client is not None
        client.redirect_uris = [rp.redirect_uri, second_uri]
        db.session.commit()
    code = first_code(browser, rp, citizen)
    token_error(exchange(browser.client, rp, code, redirect_uri=second_uri), "invalid_grant", "Invalid redirect_uri")
    code = next_code(browser, rp)
    token_error(
        exchange(browser.client, rp, code, redirect_uri=rp.redirect_uri + "/"), "invalid_grant", "Invalid redirect_uri"
    )


def test_pkce_valid(app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen) -> None:
    code = first_code(browser, rp, citizen)
    assert create_s256_code_challenge(rp.last_verifier)
    response = exchange(browser.client, rp, code, code_verifier=rp.last_verifier)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("verifier", ["wrong", None, "", "short", "x" * 129])
def test_pkce_failures(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen, verifier: str | None
) -> None:
    code = first_code(browser, rp, citizen)
    if verifier == "wrong":
        verifier = secrets.token_urlsafe(48)
    token_error(
        exchange(browser.client, rp, code, code_verifier=verifier), "invalid_grant", "PKCE code verification failed"
    )


def test_pkce_verifier_without_a_challenge(app: Flask, browser: Browser, citizen: QuickCitizen) -> None:
    rp = RelyingPartyUnderTest.register(app)
    code = first_code(browser, rp, citizen, code_challenge="__omit__", code_challenge_method="__omit__")
    response = exchange(browser.client, rp, code, code_verifier=secrets.token_urlsafe(48))
    token_error(response, "invalid_grant", "PKCE code verification failed")
    code = next_code(browser, rp, code_challenge="__omit__", code_challenge_method="__omit__")
    assert exchange(browser.client, rp, code, code_verifier=None).status_code == 200


# -- the success response and the tokens ------------------------------------------------------------------------------


def test_token_response(app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen) -> None:
    code = first_code(browser, rp, citizen)
    response = exchange(browser.client, rp, code)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "id_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 180


def test_id_token(app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen) -> None:
    code = first_code(browser, rp, citizen)
    nonce = rp.last_nonce
    before = int(time.time())
    body = exchange(browser.client, rp, code).get_json()
    header, claims = verify_provider_jwt(browser.client, body["id_token"], audience=rp.client_id)
    assert header == {"alg": "ES256", "kid": header["kid"]}
    assert KID_PATTERN.match(header["kid"])
    assert set(claims) == ID_TOKEN_CLAIMS
    assert claims["iss"] == ISSUER
    assert claims["aud"] == rp.client_id
    assert claims["nonce"] == nonce
    assert claims["exp"] - claims["iat"] == 120
    assert before - 2 <= claims["iat"] <= int(time.time()) + 2
    assert claims["auth_time"] <= claims["iat"]
    assert claims["vot"] == "Cl.Cm"
    assert claims["vtm"] == ISSUER + "trustmark"
    assert claims["at_hash"] == at_hash(body["access_token"])
    assert isinstance(claims["sid"], str) and claims["sid"]
    assert SUBJECT_PATTERN.match(claims["sub"]), claims["sub"]
    ec_kids = {k["kid"] for k in jwks(browser.client) if k["kty"] == "EC"}
    assert header["kid"] in ec_kids


def test_id_token_rs256_for_a_client_registered_for_it(app: Flask, browser: Browser, citizen: QuickCitizen) -> None:
    rp = RelyingPartyUnderTest.register(app, id_token_signing_alg="RS256")
    code = first_code(browser, rp, citizen)
    body = exchange(browser.client, rp, code).get_json()
    header, claims = verify_provider_jwt(browser.client, body["id_token"], audience=rp.client_id)
    assert header == {"alg": "RS256", "kid": header["kid"]}
    assert header["kid"] in {k["kid"] for k in jwks(browser.client) if k["kty"] == "RSA"}
    assert set(claims) == ID_TOKEN_CLAIMS
    assert claims["at_hash"] == at_hash(body["access_token"])
    access_header, _ = verify_provider_jwt(browser.client, body["access_token"])
    assert access_header["alg"] == "RS256"


def test_id_token_without_nonce_for_a_client_that_may_omit_it(
    app: Flask, browser: Browser, citizen: QuickCitizen
) -> None:
    rp = RelyingPartyUnderTest.register(app, permit_missing_nonce=True)
    code = first_code(browser, rp, citizen, nonce="__omit__")
    _, claims = verify_provider_jwt(browser.client, exchange(browser.client, rp, code).get_json()["id_token"])
    assert set(claims) == ID_TOKEN_CLAIMS - {"nonce"}


def test_sid_is_the_journey_and_auth_time_the_sign_in(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    first = exchange(browser.client, rp, first_code(browser, rp, citizen)).get_json()
    second = exchange(browser.client, rp, next_code(browser, rp)).get_json()
    _, one = verify_provider_jwt(browser.client, first["id_token"])
    _, two = verify_provider_jwt(browser.client, second["id_token"])
    assert one["sid"] != two["sid"]
    assert one["auth_time"] == two["auth_time"]
    assert one["sub"] == two["sub"]
    _, access = verify_provider_jwt(browser.client, first["access_token"])
    assert access["sid"] == one["sid"]


def test_access_token_is_a_signed_jwt(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    code = first_code(browser, rp, citizen)
    body = exchange(browser.client, rp, code).get_json()
    header, claims = verify_provider_jwt(browser.client, body["access_token"])
    _, id_claims = verify_provider_jwt(browser.client, body["id_token"])
    assert header["alg"] == "ES256"
    assert KID_PATTERN.match(header["kid"])
    assert claims["iss"] == ISSUER
    assert claims["scope"] == ["openid", "email", "phone"]
    assert claims["client_id"] == rp.client_id
    assert claims["sub"] == id_claims["sub"]
    assert claims["sid"] == id_claims["sid"]
    assert str(uuid.UUID(claims["jti"])) == claims["jti"]
    assert claims["exp"] - claims["iat"] == 180
    assert "claims" not in claims


def test_subject_is_pairwise_per_sector(app: Flask, browser: Browser, citizen: QuickCitizen) -> None:
    sector = "https://shared-department.example.gov.uk/sector.json"
    plain_a = RelyingPartyUnderTest.register(app)
    plain_b = RelyingPartyUnderTest.register(app)
    shared_a = RelyingPartyUnderTest.register(app, sector_identifier_uri=sector)
    shared_b = RelyingPartyUnderTest.register(app, sector_identifier_uri=sector)
    www = RelyingPartyUnderTest.register(app)
    www_uri = "https://www.shared-department.example.gov.uk/callback"
    with app.app_context():
        from idp.extensions import db
        from idp.models import Client

        client = db.session.get(Client, www.client_id)
        assert client is not None
        client.redirect_uris = [www_uri]
        db.session.commit()
    www.redirect_uri = www_uri

    subs: dict[str, str] = {}
    sign_in(browser, plain_a, citizen)
    for name, rp in (("plain_a", plain_a), ("plain_b", plain_b), ("shared_a", shared_a), ("shared_b", shared_b)):
        body = exchange(browser.client, rp, next_code(browser, rp)).get_json()
        subs[name] = verify_provider_jwt(browser.client, body["id_token"], audience=rp.client_id)[1]["sub"]
    body = exchange(browser.client, www, next_code(browser, www)).get_json()
    subs["www"] = verify_provider_jwt(browser.client, body["id_token"])[1]["sub"]

    assert all(SUBJECT_PATTERN.match(s) for s in subs.values())
    assert subs["plain_a"] != subs["plain_b"]
    assert subs["shared_a"] == subs["shared_b"]
    assert subs["shared_a"] not in (subs["plain_a"], subs["plain_b"])
    # Reference §3.3: the sector host of a client without a sector identifier is its redirect host minus "www.".
    assert subs["www"] == subs["shared_a"]

    other = quick_citizen(app)
    other_browser = Browser(app.test_client())
    sign_in(other_browser, shared_a, other)
    body = exchange(other_browser.client, shared_a, next_code(other_browser, shared_a)).get_json()
    assert verify_provider_jwt(other_browser.client, body["id_token"])[1]["sub"] != subs["shared_a"]


def test_token_endpoint_is_not_a_browser_form(app: Flask, rp: RelyingPartyUnderTest) -> None:
    """No CSRF token is needed: /token is a back-channel endpoint authenticated by the client."""
    response = post_token(app.test_client(), base_form(rp, code="unknown"))
    token_error(response, "invalid_grant", "Invalid authorization code")


def test_json_body_is_not_a_form(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = app.test_client().post("/token", json=base_form(rp))
    token_error(response, "invalid_request", "Request is missing grant_type parameter")
    assert "access_token" not in json.dumps(response.get_json())
