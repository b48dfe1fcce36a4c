"""Changing the email address and how security codes come, from the account: codes read from the development
sender, nothing changed by a wrong, expired or reused code, notification emails sent."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, User
from tests.helpers import Browser, latest_code_to, latest_message_to
from tests.integration._support import QuickCitizen, complete_sign_in, quick_citizen

WRONG_CODE = "The security code you entered is not correct, or may have expired, try again."
USED_CODE = "The security code has expired or has already been used. Send a new code."


def _at_account(app: Flask, browser: Browser) -> QuickCitizen:
    citizen = quick_citizen(app)
    response = complete_sign_in(browser, browser.get("/account"), citizen)
    assert response.request.path == "/account"
    return citizen


def _user(app: Flask, user_id: str) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        db.session.expunge(user)
        return user


def _events(app: Flask, user_id: str, event: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == user_id, AuditEvent.event == event))
        )
        db.session.expunge_all()
        return rows


def _a_wrong_code(right: str) -> str:
    return "000000" if right != "000000" else "111111"


# -- change email -------------------------------------------------------------------------------------------------


def _ask_for_new_email(browser: Browser, new_email: str) -> None:
    browser.get("/account/change-email")
    response = browser.post_form("/account/change-email", {"email": new_email})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    assert response.location.endswith("/account/change-email/check-your-email")
    browser.get("/account/change-email/check-your-email")


def test_change_email_with_a_code_sent_to_the_new_address(app: Flask, browser: Browser) -> None:
    citizen = _at_account(app, browser)
    _ask_for_new_email(browser, "New.Address@Example.com")
    assert "We have sent a security code to new.address@example.com" in browser.last_html
    code = latest_code_to(app, "new.address@example.com")
    # Nothing has changed yet.
    assert _user(app, citizen.user_id).email == citizen.email

    response = browser.post_form("/account/change-email/check-your-email", {"code": code})
    assert response.status_code == 302
    page = browser.follow(response).get_data(as_text=True)
    assert "You have changed your email address" in page
    assert "new.address@example.com" in page
    user = _user(app, citizen.user_id)
    assert user.email == "new.address@example.com" and user.email_verified
    assert len(_events(app, citizen.user_id, "email_changed")) == 1
    assert all("example.com" not in str(e.details) for e in _events(app, citizen.user_id, "email_changed"))
    told = latest_message_to(app, citizen.email)
    assert told is not None and told["name"] == "email_changed"
    assert "new.address@example.com" in told["body"]


def test_a_wrong_code_changes_nothing_and_a_used_code_is_refused(app: Flask, browser: Browser) -> None:
    citizen = _at_account(app, browser)
    _ask_for_new_email(browser, "moving@example.com")
    code = latest_code_to(app, "moving@example.com")
    wrong = browser.post_form("/account/change-email/check-your-email", {"code": _a_wrong_code(code)})
    assert wrong.status_code == 200
    assert WRONG_CODE in wrong.get_data(as_text=True)
    assert _user(app, citizen.user_id).email == citizen.email
    for bad, message in (("12ab56", "must only include numbers"), ("12345", "using only 6 digits"), ("", "Enter")):
        page = browser.post_form("/account/change-email/check-your-email", {"code": bad}).get_data(as_text=True)
        assert message in page
    assert browser.post_form("/account/change-email/check-your-email", {"code": code}).status_code == 302
    # The same code again, for another change: refused.
    _ask_for_new_email(browser, "moving-again@example.com")
    again = browser.post_form("/account/change-email/check-your-email", {"code": code})
    assert again.status_code == 200
    assert _user(app, citizen.user_id).email == "moving@example.com"


def test_an_expired_code_is_refused(app: Flask, browser: Browser) -> None:
    citizen = _at_account(app, browser)
    _ask_for_new_email(browser, "late@example.com")
    code = latest_code_to(app, "late@example.com")
    with app.app_context():
        from idp.services import current_services

        current_services().store.delete(f"otp:change_email:{citizen.user_id}")  # as if 15 minutes had passed
    page = browser.post_form("/account/change-email/check-your-email", {"code": code}).get_data(as_text=True)
    assert USED_CODE in page
    assert _user(app, citizen.user_id).email == citizen.email


def test_an_address_used_by_another_account_is_only_refused_after_the_code(app: Flask, browser: Browser) -> None:
    other = quick_citizen(app)
    citizen = _at_account(app, browser)
    _ask_for_new_email(browser, other.email)
    assert "already" not in browser.last_html
    code = latest_code_to(app, other.email)
    page = browser.post_form("/account/change-email/check-your-email", {"code": code}).get_data(as_text=True)
    assert "You cannot use this email address" in page
    assert _user(app, citizen.user_id).email == citizen.email
    assert _user(app, other.user_id).email == other.email


@pytest.mark.parametrize(
    ("entered", "message"),
    [
        ("not an email", "Enter an email address in the correct format, like name@example.com"),
        ("", "Enter your new email address"),
    ],
)
def test_a_malformed_new_address(app: Flask, browser: Browser, entered: str, message: str) -> None:
    citizen = _at_account(app, browser)
    browser.get("/account/change-email")
    page = browser.post_form("/account/change-email", {"email": entered}).get_data(as_text=True)
    assert message in page and "govuk-error-summary" in page
    assert _user(app, citizen.user_id).email == citizen.email


def test_the_same_address_again(app: Flask, browser: Browser) -> None:
    citizen = _at_account(app, browser)
    browser.get("/account/change-email")
    page = browser.post_form("/account/change-email", {"email": citizen.email.upper()}).get_data(as_text=True)
    assert "Enter a different email address to the one you use now" in page


def test_six_wrong_codes_lock_the_change(app: Flask, browser: Browser) -> None:
    citizen = _at_account(app, browser)
    _ask_for_new_email(browser, "locked-out@example.com")
    code = latest_code_to(app, "locked-out@example.com")
    for _attempt in range(5):
        page = browser.post_form("/account/change-email/check-your-email", {"code": _a_wrong_code(code)})
        assert page.status_code == 200
    locked = browser.post_form("/account/change-email/check-your-email", {"code": _a_wrong_code(code)})
    assert locked.status_code == 429
    assert "You can try again in 15 minutes." in locked.get_data(as_text=True)
    assert browser.get("/account/change-email/check-your-email").status_code == 429
    assert "You entered the wrong security code too many times." in locked.get_data(as_text=True)
    assert _user(app, citizen.user_id).email == citizen.email
    assert [e.details.get("step") for e in _events(app, citizen.user_id, "lockout")] == ["security_code"]


def test_too_many_code_requests_are_refused(app: Flask, browser: Browser) -> None:
    _at_account(app, browser)
    limit = int(app.config["IDP_CODE_REQUESTS"])
    for attempt in range(limit):
        _ask_for_new_email(browser, f"request-{attempt}@example.com")
    browser.get("/account/change-email")
    refused = browser.post_form("/account/change-email", {"email": "one-too-many@example.com"})
    assert refused.status_code == 429
    assert latest_message_to(app, "one-too-many@example.com") is None
    assert "You asked for a new security code too many times." in refused.get_data(as_text=True)


def test_send_the_code_again(app: Flask, browser: Browser) -> None:
    citizen = _at_account(app, browser)
    _ask_for_new_email(browser, "again@example.com")
    first = latest_code_to(app, "again@example.com")
    response = browser.post_form("/account/change-email/send-again", {})
    assert response.status_code == 302
    browser.get("/account/change-email/check-your-email")
    second = latest_code_to(app, "again@example.com")
    if first != second:
        assert WRONG_CODE in browser.post_form("/account/change-email/check-your-email", {"code": first}).get_data(
            as_text=True
        )
    assert browser.post_form("/account/change-email/check-your-email", {"code": second}).status_code == 302
    assert _user(app, citizen.user_id).email == "again@example.com"


# -- change how security codes come ---------------------------------------------------------------------------


def _choose(browser: Browser, method: str) -> str:
    browser.get("/account/change-security-codes")
    response = browser.post_form("/account/change-security-codes", {"method": method})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    return browser.follow(response).get_data(as_text=True)


def test_choosing_nothing_says_so(app: Flask, browser: Browser) -> None:
    _at_account(app, browser)
    browser.get("/account/change-security-codes")
    page = browser.post_form("/account/change-security-codes", {}).get_data(as_text=True)
    assert "Select how you want to get security codes" in page


def test_change_to_a_new_authenticator_app(app: Flask, browser: Browser) -> None:
    citizen = _at_account(app, browser)
    page = _choose(browser, "auth_app")
    match = re.search(r'data-testid="secret-key">([A-Z2-7 ]+)<', page)
    assert match
    secret = match.group(1).replace(" ", "")
    assert secret != citizen.totp_secret
    before = _user(app, citizen.user_id).totp_secret_encrypted
    wrong = browser.post_form("/account/change-security-codes/authenticator-app", {"code": citizen.totp_code()})
    assert WRONG_CODE in wrong.get_data(as_text=True)
    assert _user(app, citizen.user_id).totp_secret_encrypted == before
    new_code = pyotp.TOTP(secret).now()
    response = browser.post_form("/account/change-security-codes/authenticator-app", {"code": new_code})
    assert response.status_code == 302
    assert "You have changed how you get security codes" in browser.follow(response).get_data(as_text=True)
    assert [e.details["method"] for e in _events(app, citizen.user_id, "mfa_changed")] == ["auth_app"]
    told = latest_message_to(app, citizen.email)
    assert told is not None and told["name"] == "security_code_method_changed"

    # The old app no longer signs in; the new one does.
    other = Browser(app.test_client())
    response = other.follow(other.get("/account"))
    response = other.follow(other.post_form("/sign-in", {"email": citizen.email}))
    response = other.follow(other.post_form("/sign-in/password", {"password": citizen.password}))
    assert response.request.path == "/sign-in/security-code"
    old = other.post_form("/sign-in/security-code", {"code": pyotp.TOTP(citizen.totp_secret).at(0)})
    assert old.status_code == 200
    replayed = other.post_form("/sign-in/security-code", {"code": new_code})
    assert WRONG_CODE in replayed.get_data(as_text=True)
    new = other.follow(other.post_form("/sign-in/security-code", {"code": pyotp.TOTP(secret).at(time.time() + 30)}))
    assert new.request.path == "/account"


def test_change_to_text_messages(app: Flask, browser: Browser) -> None:
    citizen = _at_account(app, browser)
    page = _choose(browser, "sms")
    assert "Enter your mobile phone number" in page
    for bad, message in (
        ("0123", "Enter a UK mobile phone number"),
        ("not a number", "using only numbers or the + symbol"),
        ("020 7946 0000", "Enter a UK mobile phone number"),
        ("", "Enter a mobile phone number"),
    ):
        rejected = browser.post_form("/account/change-security-codes/phone-number", {"phone_number": bad})
        assert message in rejected.get_data(as_text=True), bad
        assert latest_message_to(app, bad or "+44") is None
    response = browser.post_form("/account/change-security-codes/phone-number", {"phone_number": "07911 123456"})
    assert response.status_code == 302
    browser.follow(response)
    assert "+447911123456" in browser.last_html
    code = latest_code_to(app, "+447911123456")
    assert _user(app, citizen.user_id).mfa_method == "auth_app"  # not yet
    wrong = browser.post_form("/account/change-security-codes/check-your-phone", {"code": _a_wrong_code(code)})
    assert WRONG_CODE in wrong.get_data(as_text=True)
    ok = browser.post_form("/account/change-security-codes/check-your-phone", {"code": code})
    assert ok.status_code == 302
    user = _user(app, citizen.user_id)
    assert (user.mfa_method, user.phone_number, user.phone_number_verified) == ("sms", "+447911123456", True)
    assert user.totp_secret_encrypted is None
    page = browser.get("/account").get_data(as_text=True)
    assert "Text message to your phone number ending with 3456" in page
    assert "+447911123456" not in page


def test_an_international_number_is_kept_in_e164(app: Flask, browser: Browser) -> None:
    citizen = _at_account(app, browser)
    _choose(browser, "sms")
    browser.post_form("/account/change-security-codes/phone-number", {"phone_number": "+33 6 12 34 56 78"})
    browser.get("/account/change-security-codes/check-your-phone")
    code = latest_code_to(app, "+33612345678")
    assert browser.post_form("/account/change-security-codes/check-your-phone", {"code": code}).status_code == 302
    assert _user(app, citizen.user_id).phone_number == "+33612345678"


def test_the_check_page_without_a_number_goes_back(app: Flask, browser: Browser) -> None:
    _at_account(app, browser)
    response = browser.get("/account/change-security-codes/check-your-phone")
    assert response.status_code == 302
    assert response.location.endswith("/account/change-security-codes/phone-number")
