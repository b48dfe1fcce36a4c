"""Signing in with security codes by text message, stepping up, setting up a new second factor after an operator's
reset, and every error and lockout rule of the text-message step. (Authenticator-app sign-in, Cl-only requests and
the password lockout are in test_authorize.py and test_security.py.)"""

from __future__ import annotations

import re

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from idp.auth.codes import SIGN_IN_SMS
from idp.auth.limits import PASSWORD, SECURITY_CODE
from idp.extensions import db
from idp.models import AuditEvent, OutboxMessage, User
from idp.services import current_services
from tests.helpers import Browser, Citizen, RelyingPartyUnderTest, create_citizen, latest_code_to, latest_message_to
from tests.integration._support import (
    SECURITY_CODE_ERROR,
    exchange,
    past_the_passkey_offer,
    redirected_to,
    verify_provider_jwt,
)

MOBILE_E164 = "+447123456789"
EXPIRED_OR_USED = "This security code has expired or has already been used."


def text_message_citizen(app: Flask, number: str = MOBILE_E164) -> Citizen:
    citizen = create_citizen(app)
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.mfa_method = "sms"
        user.totp_secret_encrypted = None
        user.phone_number = number
        user.phone_number_verified = True
        db.session.commit()
    return citizen


def _events(app: Flask, name: str, user_id: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.event == name, AuditEvent.user_id == user_id))
        )


def _texts_sent(app: Flask) -> int:
    with app.app_context():
        return len(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sms")).all())


def _to_phone_code(browser: Browser, rp: RelyingPartyUnderTest, citizen: Citizen, **params: str) -> None:
    response = browser.authorize(rp.authorize_params(**params))
    response = browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    assert response.request.path == "/sign-in/password"
    response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    assert response.status_code == 200
    assert response.request.path == "/sign-in/security-code"
    page = response.get_data(as_text=True)
    assert ("Check your phone" in page or "Gwiriwch eich ffôn" in page) and "6789" in page


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_sign_in_with_a_text_message_code(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = text_message_citizen(app)
    _to_phone_code(browser, rp, citizen)
    message = latest_message_to(app, MOBILE_E164)
    assert message is not None and message["name"] == "sms_code" and message["channel"] == "sms"
    code = latest_code_to(app, MOBILE_E164)
    result = redirected_to(browser.follow(browser.post_form("/sign-in/security-code", {"code": code})), rp.redirect_uri)
    token = exchange(browser.client, rp, result["code"])
    _, claims = verify_provider_jwt(browser.client, token.get_json()["id_token"], audience=rp.client_id)
    assert claims["vot"] == "Cl.Cm"
    assert len(_events(app, "sign_in", citizen.user_id)) == 1


def test_the_text_message_is_in_the_citizens_language(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = text_message_citizen(app)
    _to_phone_code(browser, rp, citizen, ui_locales="cy")
    assert "Gwiriwch eich ffôn" in browser.last_html
    message = latest_message_to(app, MOBILE_E164)
    assert message is not None and message["locale"] == "cy"
    assert "yw eich cod diogelwch GOV.UK One Login" in message["body"]


def test_a_code_sent_again_replaces_the_first(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = text_message_citizen(app)
    _to_phone_code(browser, rp, citizen)
    first = latest_code_to(app, MOBILE_E164)
    response = browser.follow(browser.post_form("/sign-in/security-code/send-again", {}))
    assert response.request.path == "/sign-in/security-code"
    assert "We have sent you a new code." in response.get_data(as_text=True)
    second = latest_code_to(app, MOBILE_E164)
    assert _texts_sent(app) == 2
    if first != second:
        refused = browser.post_form("/sign-in/security-code", {"code": first})
        assert SECURITY_CODE_ERROR in refused.get_data(as_text=True)
    redirected_to(browser.follow(browser.post_form("/sign-in/security-code", {"code": second})), rp.redirect_uri)


def test_an_expired_text_message_code_says_so(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = text_message_citizen(app)
    _to_phone_code(browser, rp, citizen)
    code = latest_code_to(app, MOBILE_E164)
    with app.app_context():
        current_services().codes.withdraw(SIGN_IN_SMS, citizen.user_id)  # what expiry does to it
    response = browser.post_form("/sign-in/security-code", {"code": code})
    assert response.status_code == 200
    assert EXPIRED_OR_USED in response.get_data(as_text=True)
    assert _events(app, "sign_in", citizen.user_id) == []


def test_a_text_message_code_works_once(app: Flask, rp: RelyingPartyUnderTest) -> None:
    citizen = text_message_citizen(app)
    first = Browser(app.test_client())
    _to_phone_code(first, rp, citizen)
    code = latest_code_to(app, MOBILE_E164)
    redirected_to(first.follow(first.post_form("/sign-in/security-code", {"code": code})), rp.redirect_uri)

    second = Browser(app.test_client())
    second.authorize(rp.authorize_params())
    second.follow(second.post_form("/sign-in", {"email": citizen.email}))
    second.follow(second.post_form("/sign-in/password", {"password": citizen.password}))
    # A new code was sent for the second sign-in; the first one stays spent.
    replay = second.post_form("/sign-in/security-code", {"code": code})
    assert replay.status_code == 200
    assert SECURITY_CODE_ERROR in replay.get_data(as_text=True) or EXPIRED_OR_USED in replay.get_data(as_text=True)
    assert len(_events(app, "sign_in", citizen.user_id)) == 1


def test_six_wrong_text_message_codes_lock_the_step(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = text_message_citizen(app)
    _to_phone_code(browser, rp, citizen)
    code = latest_code_to(app, MOBILE_E164)
    for attempt in range(1, 6):
        response = browser.post_form("/sign-in/security-code", {"code": _wrong(code)})
        assert response.status_code == 200, attempt
        assert SECURITY_CODE_ERROR in response.get_data(as_text=True)
    locked = browser.post_form("/sign-in/security-code", {"code": _wrong(code)})
    assert locked.status_code == 429
    page = locked.get_data(as_text=True)
    assert "You cannot sign in at the moment" in page
    assert "You entered the wrong security code too many times." in page
    assert "You can try again in 15 minutes." in page
    assert [e.details["step"] for e in _events(app, "lockout", citizen.user_id)] == [SECURITY_CODE]
    assert len(_events(app, "security_code_failed", citizen.user_id)) == 6

    # The right code is refused now, and a new sign-in does not get past the password to a new code.
    browser.get("/sign-in")
    response = browser.client.post("/sign-in/security-code", data={"code": code, "csrf_token": _csrf(browser)})
    assert response.status_code == 429
    other = Browser(app.test_client())
    other.authorize(rp.authorize_params())
    other.follow(other.post_form("/sign-in", {"email": citizen.email}))
    response = other.follow(other.post_form("/sign-in/password", {"password": citizen.password}))
    assert response.status_code == 429
    assert _events(app, "sign_in", citizen.user_id) == []


def test_too_many_text_message_requests_lock_them(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = text_message_citizen(app)
    _to_phone_code(browser, rp, citizen)  # the first code
    for _ in range(5):
        assert browser.follow(browser.post_form("/sign-in/security-code/send-again", {})).status_code == 200
    refused = browser.post_form("/sign-in/security-code/send-again", {})
    assert refused.status_code == 429
    assert "You asked for a new security code too many times." in refused.get_data(as_text=True)
    assert _texts_sent(app) == 6
    assert [e.details["step"] for e in _events(app, "lockout", citizen.user_id)] == ["code_request"]
    # The code already sent still works: only new requests are refused.
    code = latest_code_to(app, MOBILE_E164)
    assert browser.get("/sign-in/security-code").status_code == 200
    redirected_to(browser.follow(browser.post_form("/sign-in/security-code", {"code": code})), rp.redirect_uri)


def test_an_operator_unlock_opens_every_step(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = text_message_citizen(app)
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    for attempt in range(6):
        browser.post_form("/sign-in/password", {"password": f"wrong password {attempt}"})
    assert browser.get("/sign-in/password").status_code == 429
    with app.app_context():
        assert current_services().limits.clear_lockouts(citizen.user_id) == [PASSWORD]
    assert browser.get("/sign-in/password").status_code == 200


def test_a_cl_session_steps_up_with_a_text_message_code(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = text_message_citizen(app)
    browser.authorize(rp.authorize_params(vtr='["Cl"]'))
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    redirected_to(response, rp.redirect_uri)
    assert _texts_sent(app) == 0  # a Cl service skips the second factor

    response = browser.authorize(rp.authorize_params())
    assert response.status_code == 200
    assert response.request.path == "/sign-in/security-code"  # no email, no password
    code = latest_code_to(app, MOBILE_E164)
    result = redirected_to(browser.follow(browser.post_form("/sign-in/security-code", {"code": code})), rp.redirect_uri)
    token = exchange(browser.client, rp, result["code"])
    _, claims = verify_provider_jwt(browser.client, token.get_json()["id_token"], audience=rp.client_id)
    assert claims["vot"] == "Cl.Cm"


def test_prompt_login_does_not_step_up_without_the_password(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = text_message_citizen(app)
    browser.authorize(rp.authorize_params(vtr='["Cl"]'))
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    response = browser.authorize(rp.authorize_params(prompt="login"))
    assert response.request.path == "/sign-in"


def test_a_security_code_form_posted_twice_signs_in_once_and_the_copy_is_refused(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = text_message_citizen(app)
    _to_phone_code(browser, rp, citizen)
    form = {"code": latest_code_to(app, MOBILE_E164), "csrf_token": _csrf(browser)}
    first = browser.post_form("/sign-in/security-code", form)
    assert first.status_code == 302
    # Signing in gave the session a new id and a new CSRF secret, so the copy is refused, in plain words.
    again = browser.post_form("/sign-in/security-code", form)
    assert again.status_code == 400
    assert "We could not check that this form came from you" in again.get_data(as_text=True)
    assert len(_events(app, "sign_in", citizen.user_id)) == 1
    # The sign-in itself stands: the service signs the citizen in without asking again.
    assert browser.authorize(rp.authorize_params(prompt="none")).status_code == 302


@pytest.mark.parametrize("method", ["sms", "auth_app"])
def test_after_an_operator_reset_a_new_second_factor_is_set_up(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, method: str
) -> None:
    citizen = create_citizen(app)
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.mfa_method = None
        user.totp_secret_encrypted = None
        db.session.commit()
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    assert response.request.path == "/choose-how-to-get-security-codes"
    assert "You need to set up a new way to get security codes" in response.get_data(as_text=True)
    response = browser.follow(browser.post_form("/choose-how-to-get-security-codes", {"method": method}))
    if method == "sms":
        browser.follow(browser.post_form("/set-up-text-message", {"phone_number": "07123 456780"}))
        response = browser.follow(
            browser.post_form("/set-up-text-message/check-phone", {"code": latest_code_to(app, "+447123456780")})
        )
    else:
        secret = re.search(r'data-testid="secret-key">([A-Z2-7 ]+)<', response.get_data(as_text=True))
        assert secret
        code = pyotp.TOTP(secret.group(1).replace(" ", "")).now()
        response = browser.follow(browser.post_form("/set-up-authenticator-app", {"code": code}))
    redirected_to(past_the_passkey_offer(browser, response), rp.redirect_uri)
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None and user.mfa_method == method
    told = latest_message_to(app, citizen.email)
    assert told is not None and told["name"] == "security_code_method_changed"
    (set_up,) = _events(app, "mfa_set_up", citizen.user_id)
    assert set_up.details == {"method": method, "reason": "factor_reset"}


def test_a_suspended_account_is_refused_like_a_wrong_password(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = text_message_citizen(app)
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.suspended = True
        db.session.commit()
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    response = browser.post_form("/sign-in/password", {"password": citizen.password})
    assert response.status_code == 200
    assert "Incorrect password" in response.get_data(as_text=True)
    assert _texts_sent(app) == 0
    assert len(_events(app, "password_failed", citizen.user_id)) == 1


def _csrf(browser: Browser) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', browser.last_html)
    assert match, "no CSRF token on the last page"
    return match.group(1)


def test_a_new_email_starts_the_journey_again(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    first = text_message_citizen(app)
    second = create_citizen(app)
    _to_phone_code(browser, rp, first)
    browser.get("/sign-in")
    browser.follow(browser.post_form("/sign-in", {"email": second.email}))
    # The first citizen's password no longer counts: the code step sends back to the start.
    response = browser.get("/sign-in/security-code")
    assert response.status_code == 302 and response.location == "/sign-in"
