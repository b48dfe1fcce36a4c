"""Recovery: a forgotten password (email code, new password, then the second factor) and a lost second factor
(password, email code, a new way to get codes, an email saying it changed)."""

from __future__ import annotations

import re

import pyotp
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, User
from idp.services import current_services
from tests.helpers import Browser, RelyingPartyUnderTest, latest_code_to, latest_message_to, redirect_params, sign_in
from tests.integration._support import QuickCitizen, quick_citizen

WRONG_CODE = "The security code you entered is not correct, or may have expired, try again."
NEW_PASSWORD = "remembered at last 8"


def _events(app: Flask, user_id: str, event: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == user_id, AuditEvent.event == event))
        )
        db.session.expunge_all()
        return rows


def _user(app: Flask, user_id: str) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        db.session.expunge(user)
        return user


def _password_works(app: Flask, user_id: str, password: str) -> bool:
    with app.app_context():
        return current_services().passwords.verify(_user(app, user_id).password_hash, password)


def _at_password_page(browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen) -> None:
    assert browser.authorize(rp.authorize_params()).request.path == "/sign-in"
    response = browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    assert response.request.path == "/sign-in/password"
    assert 'href="/reset-password"' in browser.last_html


def _at_security_code_page(browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen) -> None:
    _at_password_page(browser, rp, citizen)
    response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    assert response.request.path == "/sign-in/security-code"
    assert 'href="/recover-security-codes"' in browser.last_html


# -- forgotten password ---------------------------------------------------------------------------------------------


def _reset_code(app: Flask, browser: Browser, citizen: QuickCitizen) -> str:
    browser.get("/reset-password")
    response = browser.post_form("/reset-password", {})
    assert response.status_code == 302
    browser.follow(response)
    assert "We have sent a security code to" in browser.last_html
    return latest_code_to(app, citizen.email)


def test_forgotten_password_then_the_second_factor_still_applies(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    elsewhere = Browser(app.test_client())
    sign_in(elsewhere, rp, citizen)
    _at_password_page(browser, rp, citizen)
    code = _reset_code(app, browser, citizen)
    response = browser.follow(browser.post_form("/reset-password/check-your-email", {"code": code}))
    assert response.request.path == "/reset-password/new-password"
    assert _password_works(app, citizen.user_id, citizen.password)

    response = browser.post_form(
        "/reset-password/new-password", {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    response = browser.follow(response)
    assert response.request.path == "/sign-in/security-code"  # not signed in yet
    assert _password_works(app, citizen.user_id, NEW_PASSWORD)
    assert not _password_works(app, citizen.user_id, citizen.password)
    assert len(_events(app, citizen.user_id, "password_reset")) == 1
    told = latest_message_to(app, citizen.email)
    assert told is not None and told["name"] == "password_changed"
    assert len(_events(app, citizen.user_id, "sign_in")) == 1  # the one elsewhere, which has now ended
    assert elsewhere.authorize(rp.authorize_params()).request.path == "/sign-in"

    response = browser.follow(browser.post_form("/sign-in/security-code", {"code": citizen.totp_code()}))
    assert response.location.startswith(rp.redirect_uri)
    assert "code" in redirect_params(response.location)
    assert len(_events(app, citizen.user_id, "sign_in")) == 2


def test_a_wrong_or_reused_reset_code_changes_nothing(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _at_password_page(browser, rp, citizen)
    code = _reset_code(app, browser, citizen)
    wrong = "000000" if code != "000000" else "111111"
    page = browser.post_form("/reset-password/check-your-email", {"code": wrong}).get_data(as_text=True)
    assert WRONG_CODE in page
    # The new-password page is not reachable without the code.
    assert browser.get("/reset-password/new-password").location.endswith("/sign-in")
    browser.get("/reset-password/check-your-email")
    assert browser.post_form("/reset-password/check-your-email", {"code": code}).status_code == 302
    browser.get("/reset-password/check-your-email")
    reused = browser.post_form("/reset-password/check-your-email", {"code": code}).get_data(as_text=True)
    assert "has expired or has already been used" in reused
    assert _password_works(app, citizen.user_id, citizen.password)


def test_the_new_password_follows_the_rules(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _at_password_page(browser, rp, citizen)
    code = _reset_code(app, browser, citizen)
    browser.follow(browser.post_form("/reset-password/check-your-email", {"code": code}))
    for password, confirm, message in (
        ("short1", "short1", "at least 8 characters"),
        ("lettersonly", "lettersonly", "must include letters and numbers"),
        (citizen.password, citizen.password, "You are already using that password"),
        (citizen.email, citizen.email, "must not be the same as your email address"),
        (NEW_PASSWORD, "different 123", "Enter the same password in both fields"),
    ):
        page = browser.post_form("/reset-password/new-password", {"password": password, "confirm_password": confirm})
        assert page.status_code == 200
        assert message in page.get_data(as_text=True), message
    assert _password_works(app, citizen.user_id, citizen.password)


def test_reset_pages_need_an_email_first(app: Flask) -> None:
    client = app.test_client()
    for path in ("/reset-password", "/reset-password/check-your-email", "/reset-password/new-password"):
        assert client.get(path).location.endswith("/sign-in"), path


def test_reset_code_requests_are_limited(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _at_password_page(browser, rp, citizen)
    for _attempt in range(int(app.config["IDP_CODE_REQUESTS"])):
        browser.get("/reset-password")
        assert browser.post_form("/reset-password", {}).status_code == 302
    browser.get("/reset-password")
    refused = browser.post_form("/reset-password", {})
    assert refused.status_code == 429
    assert "You can try again in" in refused.get_data(as_text=True)


def test_reset_without_csrf_is_refused(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _at_password_page(browser, rp, citizen)
    response = browser.client.post("/reset-password", data={})
    assert response.status_code == 400
    assert latest_message_to(app, citizen.email) is None


# -- lost second factor ---------------------------------------------------------------------------------------------


def _recovery_code(app: Flask, browser: Browser, citizen: QuickCitizen) -> str:
    browser.get("/recover-security-codes")
    response = browser.post_form("/recover-security-codes", {})
    assert response.status_code == 302
    browser.follow(response)
    return latest_code_to(app, citizen.email)


def test_lost_second_factor_set_up_a_new_app(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _at_security_code_page(browser, rp, citizen)
    code = _recovery_code(app, browser, citizen)
    response = browser.follow(browser.post_form("/recover-security-codes/check-your-email", {"code": code}))
    assert response.request.path == "/recover-security-codes/choose"
    response = browser.follow(browser.post_form("/recover-security-codes/choose", {"method": "auth_app"}))
    match = re.search(r'data-testid="secret-key">([A-Z2-7 ]+)<', response.get_data(as_text=True))
    assert match
    secret = match.group(1).replace(" ", "")
    response = browser.follow(
        browser.post_form("/recover-security-codes/authenticator-app", {"code": pyotp.TOTP(secret).now()})
    )
    # Signed in with two factors and sent back to the service.
    assert response.location.startswith(rp.redirect_uri)
    assert "code" in redirect_params(response.location)
    assert [e.details["method"] for e in _events(app, citizen.user_id, "mfa_reset")] == ["auth_app"]
    told = latest_message_to(app, citizen.email)
    assert told is not None and told["name"] == "security_code_method_changed"
    assert _events(app, citizen.user_id, "sign_in")[0].details["level"] == "Cl.Cm"
    # The lost app's codes no longer work.
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None and user.totp_secret_encrypted is not None
        stored = current_services().secret_box.open(user.totp_secret_encrypted, context=f"totp:{user.id}").decode()
    assert stored == secret != citizen.totp_secret


def test_lost_second_factor_switch_to_text_messages(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _at_security_code_page(browser, rp, citizen)
    code = _recovery_code(app, browser, citizen)
    browser.follow(browser.post_form("/recover-security-codes/check-your-email", {"code": code}))
    browser.follow(browser.post_form("/recover-security-codes/choose", {"method": "sms"}))
    browser.post_form("/recover-security-codes/phone-number", {"phone_number": "07911 123456"})
    browser.get("/recover-security-codes/check-your-phone")
    sms = latest_code_to(app, "+447911123456")
    response = browser.follow(browser.post_form("/recover-security-codes/check-your-phone", {"code": sms}))
    assert response.location.startswith(rp.redirect_uri)
    user = _user(app, citizen.user_id)
    assert (user.mfa_method, user.phone_number) == ("sms", "+447911123456")


def test_recovery_needs_the_password_first(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _at_password_page(browser, rp, citizen)
    for path in (
        "/recover-security-codes",
        "/recover-security-codes/check-your-email",
        "/recover-security-codes/choose",
        "/recover-security-codes/authenticator-app",
    ):
        assert browser.get(path).location.endswith("/sign-in"), path


def test_the_new_factor_pages_need_the_email_code(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _at_security_code_page(browser, rp, citizen)
    _recovery_code(app, browser, citizen)
    for path in ("/recover-security-codes/choose", "/recover-security-codes/phone-number"):
        assert browser.get(path).location.endswith("/sign-in"), path


def test_wrong_recovery_codes_lock_the_step(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _at_security_code_page(browser, rp, citizen)
    code = _recovery_code(app, browser, citizen)
    wrong = "000000" if code != "000000" else "111111"
    for _attempt in range(5):
        page = browser.post_form("/recover-security-codes/check-your-email", {"code": wrong})
        assert WRONG_CODE in page.get_data(as_text=True)
    locked = browser.post_form("/recover-security-codes/check-your-email", {"code": wrong})
    assert locked.status_code == 429
    assert browser.get("/recover-security-codes/check-your-email").status_code == 429
    assert _events(app, citizen.user_id, "mfa_reset") == []
