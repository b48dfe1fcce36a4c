"""Creating a GOV.UK One Login through the forms, on the way to a service."""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, User
from tests.helpers import Browser, RelyingPartyUnderTest
from tests.integration._support import SECURITY_CODE_ERROR, exchange, quick_citizen, redirected_to

_SECRET = re.compile(r'data-testid="secret-key">([A-Z2-7 ]+)<')


def _new_email() -> str:
    return f"new-{uuid.uuid4().hex[:8]}@example.com"


def _to_password_step(browser: Browser, rp: RelyingPartyUnderTest, email: str) -> None:
    response = browser.authorize(rp.authorize_params())
    assert response.request.path == "/sign-in"
    response = browser.post_form("/sign-in", {"email": email})
    assert response.status_code == 200
    assert "No GOV.UK One Login found" in response.get_data(as_text=True)
    page = browser.get("/create-account")
    assert page.status_code == 200
    assert f'value="{email}"' in page.get_data(as_text=True)
    response = browser.follow(browser.post_form("/create-account", {"email": email}))
    assert response.status_code == 200
    assert response.request.path == "/create-account/password"


def test_create_an_account_and_return_to_the_service(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    password = "a new passw0rd"
    _to_password_step(browser, rp, email)

    response = browser.follow(
        browser.post_form("/create-account/password", {"password": password, "confirm_password": password})
    )
    assert response.status_code == 200
    assert response.request.path == "/set-up-authenticator-app"
    page = response.get_data(as_text=True)
    match = _SECRET.search(page)
    assert match, "the page shows the key to type into an app"
    secret = match.group(1).replace(" ", "")
    assert len(secret) == 32
    assert 'src="data:image/svg+xml;base64,' in page

    response = browser.follow(browser.post_form("/set-up-authenticator-app", {"code": pyotp.TOTP(secret).now()}))
    assert response.request.path == "/create-account/passkey", "a passkey is offered before going back"
    response = browser.post_form("/create-account/passkey/skip", {})
    result = redirected_to(browser.follow(response), rp.redirect_uri)
    assert result["state"] == rp.last_state

    token = exchange(browser.client, rp, result["code"])
    assert token.status_code == 200, token.get_json()
    userinfo = browser.client.get("/userinfo", headers={"Authorization": "Bearer " + token.get_json()["access_token"]})
    assert userinfo.get_json()["email"] == email

    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        assert user.mfa_method == "auth_app"
        assert user.password_hash.startswith("$argon2id$")
        assert password not in user.password_hash
        assert user.totp_secret_encrypted and secret.encode() not in user.totp_secret_encrypted
        events = {e.event for e in db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == user.id))}
    assert {"account_created", "mfa_set_up", "sign_in"} <= events


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short1", "short1", "Your password must be at least 8 characters long"),
        ("abcdefghij", "abcdefghij", "Your password must include letters and numbers"),
        ("1234567890", "1234567890", "Your password must include letters and numbers"),
        ("{email}", "{email}", "Your password must not be the same as your email address"),
        ("a new passw0rd", "a new passw0rd!", "Enter the same password in both fields"),
        ("", "", "Enter a password"),
    ],
)
def test_password_rules(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, password: str, confirm: str, message: str
) -> None:
    email = _new_email()
    _to_password_step(browser, rp, email)
    response = browser.post_form(
        "/create-account/password",
        {"password": password.format(email=email), "confirm_password": confirm.format(email=email)},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="govuk-error-summary"' in page
    assert message in page
    with app.app_context():
        assert db.session.scalars(select(User).where(User.email == email)).first() is None


def test_wrong_code_at_set_up_is_refused(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    _to_password_step(browser, rp, email)
    response = browser.follow(
        browser.post_form(
            "/create-account/password", {"password": "a new passw0rd", "confirm_password": "a new passw0rd"}
        )
    )
    match = _SECRET.search(response.get_data(as_text=True))
    assert match
    secret = match.group(1).replace(" ", "")
    totp = pyotp.TOTP(secret)
    wrong = next(f"{n:06d}" for n in range(100000, 200000) if f"{n:06d}" not in {totp.now(), totp.at(0)})
    response = browser.post_form("/set-up-authenticator-app", {"code": wrong})
    assert response.status_code == 200
    assert SECURITY_CODE_ERROR in response.get_data(as_text=True)
    # The key shown stays the same, so the app the citizen set up still works.
    shown = _SECRET.search(response.get_data(as_text=True))
    assert shown and shown.group(1).replace(" ", "") == secret
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        assert user.mfa_method is None
    browser.follow(browser.post_form("/set-up-authenticator-app", {"code": totp.now()}))
    result = redirected_to(browser.follow(browser.post_form("/create-account/passkey/skip", {})), rp.redirect_uri)
    assert "code" in result


def test_existing_email_is_told_it_has_an_account(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    browser.authorize(rp.authorize_params())
    browser.get("/create-account")
    response = browser.post_form("/create-account", {"email": citizen.email.upper()})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "You have a GOV.UK One Login" in page
    assert citizen.email in page
    with app.app_context():
        assert len(db.session.scalars(select(User).where(User.email == citizen.email)).all()) == 1


def test_set_up_page_needs_a_password_first(app: Flask, browser: Browser) -> None:
    response = browser.get("/set-up-authenticator-app")
    assert response.status_code == 302
    assert response.location == "/sign-in"
    assert browser.get("/create-account/password").location == "/create-account"
