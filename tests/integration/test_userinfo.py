"""/userinfo (reference §4, the simulator's user-info list in §7.4, spec "/userinfo")."""

from __future__ import annotations

import hashlib
import json

import jwt
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from idp.extensions import db
from idp.models import User
from idp.services import current_services
from tests.helpers import Browser, RelyingPartyUnderTest, sign_in
from tests.integration._support import (
    INVALID_TOKEN_CHALLENGE,
    QuickCitizen,
    exchange,
    quick_citizen,
    verify_provider_jwt,
)


def tokens(app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen, **params: str) -> dict:
    code = sign_in(browser, rp, citizen, **params)["code"]
    response = exchange(browser.client, rp, code)
    assert response.status_code == 200, response.get_json()
    body: dict = response.get_json()
    return body


def assert_invalid_token(response: TestResponse) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN_CHALLENGE
    assert "sub" not in response.get_data(as_text=True)


@pytest.fixture
def citizen(app: Flask) -> QuickCitizen:
    return quick_citizen(app)


def test_get_with_the_bearer_header(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    body = tokens(app, browser, rp, citizen)
    _, id_claims = verify_provider_jwt(browser.client, body["id_token"])
    response = browser.client.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    # Reference §7.4 acceptance data: an authenticator-app user gets phone_number_verified false and no number.
    assert response.get_json() == {
        "sub": id_claims["sub"],
        "email": citizen.email,
        "email_verified": True,
        "phone_number_verified": False,
    }


def test_post_with_the_bearer_header(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    body = tokens(app, browser, rp, citizen)
    response = browser.client.post("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert response.status_code == 200
    assert response.get_json()["email"] == citizen.email


def test_post_with_the_token_in_the_body(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    body = tokens(app, browser, rp, citizen)
    response = browser.client.post("/userinfo", data={"access_token": body["access_token"]})
    assert response.status_code == 200
    assert response.get_json()["email"] == citizen.email


def test_get_does_not_take_the_token_from_the_query(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    body = tokens(app, browser, rp, citizen)
    response = browser.client.get("/userinfo?access_token=" + body["access_token"])
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_missing_authorization(app: Flask) -> None:
    client = app.test_client()
    for response in (client.get("/userinfo"), client.post("/userinfo"), client.post("/userinfo", data={})):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "abc",
        "Bearer not-a-token",
        "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    ],
)
def test_malformed_or_unknown_token(app: Flask, authorization: str) -> None:
    assert_invalid_token(app.test_client().get("/userinfo", headers={"Authorization": authorization}))


def test_lowercase_bearer_scheme_is_accepted(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    body = tokens(app, browser, rp, citizen)
    response = browser.client.get("/userinfo", headers={"Authorization": "bearer " + body["access_token"]})
    assert response.status_code == 200


def test_token_signed_by_someone_else_with_the_same_claims(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    body = tokens(app, browser, rp, citizen)
    header = jwt.get_unverified_header(body["access_token"])
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, rp.private_key, algorithm="RS256", headers={"kid": header["kid"]})
    assert_invalid_token(browser.client.get("/userinfo", headers={"Authorization": "Bearer " + forged}))


def test_id_token_is_not_an_access_token(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    body = tokens(app, browser, rp, citizen)
    assert_invalid_token(browser.client.get("/userinfo", headers={"Authorization": "Bearer " + body["id_token"]}))


def test_expired_token(app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen) -> None:
    body = tokens(app, browser, rp, citizen)
    headers = {"Authorization": "Bearer " + body["access_token"]}
    assert browser.client.get("/userinfo", headers=headers).status_code == 200
    with app.app_context():
        store = current_services().store
        key = "at:" + hashlib.sha256(body["access_token"].encode()).hexdigest()
        record = store.get(key)
        assert record is not None, "the access token is recorded server-side"
        assert 170 <= (store.ttl(key) or 0) <= 180
        store.set(key, record, 0)  # its 180 seconds are up
    assert_invalid_token(browser.client.get("/userinfo", headers=headers))
    assert_invalid_token(browser.client.post("/userinfo", data={"access_token": body["access_token"]}))


def test_suspended_user(app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen) -> None:
    body = tokens(app, browser, rp, citizen)
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.suspended = True
        db.session.commit()
    assert_invalid_token(browser.client.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}))


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("openid", set()),
        ("openid email", {"email", "email_verified"}),
        ("openid phone", {"phone_number_verified"}),
        ("openid email phone", {"email", "email_verified", "phone_number_verified"}),
    ],
)
def test_scopes_gate_claims(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen, scope: str, expected: set[str]
) -> None:
    body = tokens(app, browser, rp, citizen, scope=scope)
    claims = browser.client.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}).get_json()
    assert set(claims) == {"sub", *expected}
    if "phone_number_verified" in expected:
        assert claims["phone_number_verified"] is False
    if "email" in expected:
        assert claims["email"] == citizen.email
        assert claims["email_verified"] is True


def test_phone_number_for_a_text_message_user(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen
) -> None:
    body = tokens(app, browser, rp, citizen, scope="openid phone")
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.mfa_method = "sms"
        user.phone_number = "+447700900123"
        user.phone_number_verified = True
        db.session.commit()
    claims = browser.client.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}).get_json()
    assert set(claims) == {"sub", "phone_number", "phone_number_verified"}
    assert claims["phone_number"] == "+447700900123"
    assert claims["phone_number_verified"] is True


def test_identity_claims_are_not_returned_without_an_identity_level(app: Flask, browser: Browser) -> None:
    vocab = "https://vocab.account.gov.uk/v1/"
    rp = RelyingPartyUnderTest.register(
        app,
        claims=[vocab + "coreIdentityJWT", vocab + "address"],
        client_locs=["P0", "P2"],
        identity_verification_supported=True,
    )
    citizen = quick_citizen(app)
    requested = json.dumps({"userinfo": {vocab + "coreIdentityJWT": None, vocab + "address": None}})
    body = tokens(app, browser, rp, citizen, claims=requested, vtr='["Cl.Cm"]')
    access = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert "claims" not in access
    claims = browser.client.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}).get_json()
    assert not [name for name in claims if name.startswith(vocab)]
