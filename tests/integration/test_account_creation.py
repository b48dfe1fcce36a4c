"""Creating a GOV.UK One Login through the forms, on the way to a service: email, a code sent by email, password,
then security codes by text message or an authenticator app. Every error and lockout rule of these steps."""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from idp.auth.limits import email_subject
from idp.extensions import db
from idp.models import AuditEvent, OutboxMessage, User
from tests.helpers import Browser, RelyingPartyUnderTest, latest_code_to, latest_message_to
from tests.integration._support import (
    SECURITY_CODE_ERROR,
    exchange,
    past_the_passkey_offer,
    quick_citizen,
    redirected_to,
)

_SECRET = re.compile(r'data-testid="secret-key">([A-Z2-7 ]+)<')
PASSWORD = "a new passw0rd"
MOBILE = "07123 456789"
MOBILE_E164 = "+447123456789"
EXPIRED_OR_USED = "This security code has expired or has already been used."


def _csrf(browser: Browser) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', browser.last_html)
    assert match, "no CSRF token on the last page"
    return match.group(1)


def _new_email() -> str:
    return f"new-{uuid.uuid4().hex[:8]}@example.com"


def _user(app: Flask, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).first()
        if user is not None:
            db.session.expunge(user)
        return user


def _events(app: Flask, name: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def _to_email_code_step(browser: Browser, rp: RelyingPartyUnderTest, email: str) -> None:
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
    assert response.request.path == "/create-account/check-email"
    assert email in response.get_data(as_text=True)


def _to_password_step(app: Flask, browser: Browser, rp: RelyingPartyUnderTest, email: str) -> None:
    _to_email_code_step(browser, rp, email)
    response = browser.follow(browser.post_form("/create-account/check-email", {"code": latest_code_to(app, email)}))
    assert response.request.path == "/create-account/password"


def _to_choice_step(app: Flask, browser: Browser, rp: RelyingPartyUnderTest, email: str) -> None:
    _to_password_step(app, browser, rp, email)
    response = browser.follow(
        browser.post_form("/create-account/password", {"password": PASSWORD, "confirm_password": PASSWORD})
    )
    assert response.request.path == "/choose-how-to-get-security-codes"


def test_create_an_account_with_an_authenticator_app(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    _to_choice_step(app, browser, rp, email)
    created = _user(app, email)
    assert created is not None and created.email_verified and created.mfa_method is None

    response = browser.follow(browser.post_form("/choose-how-to-get-security-codes", {"method": "auth_app"}))
    assert response.request.path == "/set-up-authenticator-app"
    page = response.get_data(as_text=True)
    match = _SECRET.search(page)
    assert match, "the page shows the key to type into an app"
    secret = match.group(1).replace(" ", "")
    assert len(secret) == 32
    assert 'src="data:image/svg+xml;base64,' in page

    response = browser.follow(browser.post_form("/set-up-authenticator-app", {"code": pyotp.TOTP(secret).now()}))
    result = redirected_to(past_the_passkey_offer(browser, response), rp.redirect_uri)
    assert result["state"] == rp.last_state

    token = exchange(browser.client, rp, result["code"])
    assert token.status_code == 200, token.get_json()
    userinfo = browser.client.get("/userinfo", headers={"Authorization": "Bearer " + token.get_json()["access_token"]})
    assert userinfo.get_json()["email"] == email
    assert userinfo.get_json()["email_verified"] is True

    user = _user(app, email)
    assert user is not None
    assert user.mfa_method == "auth_app"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.totp_secret_encrypted and secret.encode() not in user.totp_secret_encrypted
    with app.app_context():
        events = {e.event for e in db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == user.id))}
    assert {"account_created", "mfa_set_up", "sign_in"} <= events
    welcome = latest_message_to(app, email)
    assert welcome is not None and welcome["name"] == "account_created"


def test_create_an_account_with_text_messages(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    _to_choice_step(app, browser, rp, email)
    response = browser.follow(browser.post_form("/choose-how-to-get-security-codes", {"method": "sms"}))
    assert response.request.path == "/set-up-text-message"
    response = browser.follow(browser.post_form("/set-up-text-message", {"phone_number": MOBILE}))
    assert response.request.path == "/set-up-text-message/check-phone"
    assert "6789" in response.get_data(as_text=True)
    code = latest_code_to(app, MOBILE_E164)

    result = redirected_to(
        past_the_passkey_offer(
            browser, browser.follow(browser.post_form("/set-up-text-message/check-phone", {"code": code}))
        ),
        rp.redirect_uri,
    )
    token = exchange(browser.client, rp, result["code"])
    userinfo = browser.client.get("/userinfo", headers={"Authorization": "Bearer " + token.get_json()["access_token"]})
    assert userinfo.get_json()["phone_number"] == MOBILE_E164
    assert userinfo.get_json()["phone_number_verified"] is True
    user = _user(app, email)
    assert user is not None and user.mfa_method == "sms" and user.phone_number == MOBILE_E164


def test_an_international_number_is_kept_in_e164(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    _to_choice_step(app, browser, rp, email)
    browser.follow(browser.post_form("/choose-how-to-get-security-codes", {"method": "sms"}))
    response = browser.follow(browser.post_form("/set-up-text-message", {"phone_number": "+33 6 12 34 56 78"}))
    assert response.request.path == "/set-up-text-message/check-phone"
    code = latest_code_to(app, "+33612345678")
    response = browser.follow(browser.post_form("/set-up-text-message/check-phone", {"code": code}))
    redirected_to(past_the_passkey_offer(browser, response), rp.redirect_uri)
    user = _user(app, email)
    assert user is not None and user.phone_number == "+33612345678"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "Enter a mobile phone number"),
        ("0712345678x", "Enter a mobile phone number using only numbers or the + symbol"),
        ("020 7946 0000", "Enter a UK mobile phone number, like 07700 900000"),
        ("0712", "Enter a UK mobile phone number, like 07700 900000"),
        ("+33 1", "Enter a mobile phone number in the correct format, including the country code"),
        ("+44 20 7946 0000", "Enter a mobile phone number in the correct format, including the country code"),
    ],
)
def test_malformed_phone_numbers_are_refused(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, number: str, message: str
) -> None:
    email = _new_email()
    _to_choice_step(app, browser, rp, email)
    browser.follow(browser.post_form("/choose-how-to-get-security-codes", {"method": "sms"}))
    response = browser.post_form("/set-up-text-message", {"phone_number": number})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="govuk-error-summary"' in page
    assert message in page
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sms")).first() is None


def test_no_choice_of_method_is_an_error(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    _to_choice_step(app, browser, rp, _new_email())
    response = browser.post_form("/choose-how-to-get-security-codes", {})
    assert response.status_code == 200
    assert "Select how you want to get security codes" in response.get_data(as_text=True)


def test_a_wrong_phone_code_is_refused_and_a_new_one_can_be_sent(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    email = _new_email()
    _to_choice_step(app, browser, rp, email)
    browser.follow(browser.post_form("/choose-how-to-get-security-codes", {"method": "sms"}))
    browser.follow(browser.post_form("/set-up-text-message", {"phone_number": MOBILE}))
    first = latest_code_to(app, MOBILE_E164)
    wrong = f"{(int(first) + 1) % 1_000_000:06d}"
    response = browser.post_form("/set-up-text-message/check-phone", {"code": wrong})
    assert response.status_code == 200
    assert SECURITY_CODE_ERROR in response.get_data(as_text=True)

    response = browser.follow(browser.post_form("/set-up-text-message/send-again", {}))
    assert "We have sent you a new code." in response.get_data(as_text=True)
    second = latest_code_to(app, MOBILE_E164)
    if second != first:
        refused = browser.post_form("/set-up-text-message/check-phone", {"code": first})
        assert SECURITY_CODE_ERROR in refused.get_data(as_text=True)
    response = browser.follow(browser.post_form("/set-up-text-message/check-phone", {"code": second}))
    redirected_to(past_the_passkey_offer(browser, response), rp.redirect_uri)


def test_wrong_expired_and_reused_email_codes(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    _to_email_code_step(browser, rp, email)
    code = latest_code_to(app, email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for entered, message in (
        (wrong, SECURITY_CODE_ERROR),
        ("12345", "Enter the security code using only 6 digits"),
        ("12a456", "The security code must only include numbers"),
        ("", "Enter the security code"),
    ):
        response = browser.post_form("/create-account/check-email", {"code": entered})
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), entered
        assert 'class="govuk-error-summary"' in response.get_data(as_text=True)

    assert browser.follow(browser.post_form("/create-account/check-email", {"code": code})).request.path == (
        "/create-account/password"
    )
    # The code is spent: another browser, at the same step, cannot use it.
    other = Browser(app.test_client())
    other.get("/create-account")
    other.follow(other.post_form("/create-account", {"email": email}))
    reused = other.post_form("/create-account/check-email", {"code": code})
    assert EXPIRED_OR_USED in reused.get_data(as_text=True) or SECURITY_CODE_ERROR in reused.get_data(as_text=True)


def test_an_expired_email_code_says_so(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    from idp.auth.codes import VERIFY_EMAIL
    from idp.services import current_services

    email = _new_email()
    _to_email_code_step(browser, rp, email)
    code = latest_code_to(app, email)
    with app.app_context():
        current_services().codes.withdraw(VERIFY_EMAIL, email_subject(email))  # what expiry does to it
    response = browser.post_form("/create-account/check-email", {"code": code})
    assert EXPIRED_OR_USED in response.get_data(as_text=True)
    assert _user(app, email) is None


def test_six_wrong_email_codes_lock_account_creation(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    _to_email_code_step(browser, rp, email)
    code = latest_code_to(app, email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for attempt in range(1, 6):
        response = browser.post_form("/create-account/check-email", {"code": wrong})
        assert response.status_code == 200, attempt
    locked = browser.post_form("/create-account/check-email", {"code": wrong})
    assert locked.status_code == 429
    page = locked.get_data(as_text=True)
    assert "You cannot create a GOV.UK One Login at the moment" in page
    assert "You entered the wrong security code too many times." in page
    assert "You can try again in 15 minutes." in page
    assert [e.details["step"] for e in _events(app, "lockout")] == ["security_code"]
    assert browser.get("/create-account/check-email").status_code == 429
    assert email not in str([e.details for e in _events(app, "lockout")])


def test_too_many_email_code_requests_lock_them(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    _to_email_code_step(browser, rp, email)  # the first code
    for _ in range(5):
        response = browser.follow(browser.post_form("/create-account/check-email/send-again", {}))
        assert response.status_code == 200
    refused = browser.post_form("/create-account/check-email/send-again", {})
    assert refused.status_code == 429
    assert "You asked for a new security code too many times." in refused.get_data(as_text=True)
    with app.app_context():
        sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")).all()
    assert len(sent) == 6
    assert [e.details["step"] for e in _events(app, "lockout")] == ["code_request"]


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short1", "short1", "Your password must be at least 8 characters long"),
        ("abcdefghij", "abcdefghij", "Your password must include letters and numbers"),
        ("1234567890", "1234567890", "Your password must include letters and numbers"),
        ("password1", "password1", "Enter a stronger password. Do not use very common passwords"),
        ("Qwerty123", "Qwerty123", "Enter a stronger password. Do not use very common passwords"),
        ("{email}", "{email}", "Your password must not be the same as your email address"),
        ("a new passw0rd", "a new passw0rd!", "Enter the same password in both fields"),
        ("", "", "Enter a password"),
    ],
)
def test_password_rules(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, password: str, confirm: str, message: str
) -> None:
    email = _new_email().replace("new-", "n3w-")  # letters and numbers, so only the email rule refuses it
    _to_password_step(app, browser, rp, email)
    response = browser.post_form(
        "/create-account/password",
        {"password": password.format(email=email), "confirm_password": confirm.format(email=email)},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="govuk-error-summary"' in page
    assert message in page
    assert _user(app, email) is None


def test_the_password_step_needs_the_email_code_first(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    _to_email_code_step(browser, rp, email)
    response = browser.get("/create-account/password")
    assert response.status_code == 302 and response.location == "/create-account/check-email"
    browser.get("/create-account/check-email")
    response = browser.post_form("/create-account/password", {"password": PASSWORD, "confirm_password": PASSWORD})
    assert response.status_code == 302
    assert _user(app, email) is None


def test_forms_posted_twice_change_nothing(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    _to_email_code_step(browser, rp, email)
    code = latest_code_to(app, email)
    # A double click sends the same form, with the same CSRF token, twice.
    twice = {"code": code, "csrf_token": _csrf(browser)}
    browser.post_form("/create-account/check-email", twice)
    again = browser.post_form("/create-account/check-email", twice)
    assert again.status_code == 302 and again.location == "/create-account/password"

    browser.get("/create-account/password")
    form = {"password": PASSWORD, "confirm_password": PASSWORD, "csrf_token": _csrf(browser)}
    browser.post_form("/create-account/password", form)
    again = browser.post_form("/create-account/password", form)
    assert again.status_code == 302 and again.location == "/choose-how-to-get-security-codes"
    with app.app_context():
        assert len(db.session.scalars(select(User).where(User.email == email)).all()) == 1
    assert len(_events(app, "account_created")) == 1


def test_wrong_code_at_app_set_up_is_refused(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = _new_email()
    _to_choice_step(app, browser, rp, email)
    response = browser.follow(browser.post_form("/choose-how-to-get-security-codes", {"method": "auth_app"}))
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
    user = _user(app, email)
    assert user is not None and user.mfa_method is None
    result = redirected_to(
        past_the_passkey_offer(
            browser, browser.follow(browser.post_form("/set-up-authenticator-app", {"code": totp.now()}))
        ),
        rp.redirect_uri,
    )
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
        assert db.session.scalars(select(OutboxMessage)).first() is None


def test_set_up_pages_need_a_password_first(app: Flask, browser: Browser) -> None:
    for path in ("/set-up-authenticator-app", "/choose-how-to-get-security-codes", "/set-up-text-message"):
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response.location == "/sign-in", path
    assert browser.get("/create-account/password").location == "/create-account"
    assert browser.get("/create-account/check-email").location == "/create-account"


def test_a_citizen_with_a_second_factor_cannot_replace_it_here(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    for path in ("/set-up-authenticator-app", "/choose-how-to-get-security-codes", "/set-up-text-message"):
        response = browser.get(path)
        assert response.status_code == 302 and response.location == "/sign-in/security-code", path
    browser.get("/sign-in/security-code")
    response = browser.post_form("/set-up-text-message", {"phone_number": MOBILE})
    assert response.status_code == 302 and response.location == "/sign-in/security-code"
    user = _user(app, citizen.email)
    assert user is not None and user.mfa_method == "auth_app" and user.phone_number is None


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address"),
        ("name.example.com", "Enter an email address in the correct format, like name@example.com"),
        ("name@example", "Enter an email address in the correct format, like name@example.com"),
        ("two words@example.com", "Enter an email address in the correct format, like name@example.com"),
    ],
)
def test_malformed_emails_get_no_code(app: Flask, browser: Browser, email: str, message: str) -> None:
    browser.get("/create-account")
    response = browser.post_form("/create-account", {"email": email})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="govuk-error-summary"' in page and message in page
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).first() is None
