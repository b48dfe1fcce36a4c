"""Passkeys through the provider's pages: passwordless sign-in, the second factor, the offer at account creation,
managing them, and every bad input (another origin, a replay, a stale or reused challenge, an unknown credential,
malformed JSON), each refused with a clear message and nothing changed."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, OutboxMessage, Passkey, User
from idp.web.sessions import COOKIE_NAME
from tests.helpers import ISSUER, Browser, RelyingPartyUnderTest, create_citizen, latest_code_to
from tests.integration._support import (
    complete_sign_in,
    exchange,
    quick_citizen,
    redirected_to,
    verify_provider_jwt,
)
from tests.software_authenticator import SoftwareAuthenticator

ORIGIN = ISSUER.rstrip("/")
CSRF_FAILED = "We could not check that this form came from you"
ANOTHER_SITE = "This passkey is for a different website. Use a passkey you made for GOV.UK One Login."
STALE = "Your passkey request has expired or has already been used. Try again."
UNKNOWN = "We do not recognise this passkey. It may have been removed. Sign in with your email address instead."
PROBLEM = "There was a problem with your passkey. Try again."
NOT_CHECKED = "We could not check your passkey. Try again."
NOT_VERIFIED = "Your device did not check it was you. Use your fingerprint, face or screen lock."
WRONG_ACCOUNT = "This passkey is not for the GOV.UK One Login you are signing in to."
PASSKEY_INSTEAD = (
    '<a class="govuk-link" id="use-passkey" href="/sign-in/passkey/second-factor">Use your passkey instead</a>'
)
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# -- helpers ------------------------------------------------------------------------------------------------------


def give_passkey(app: Flask, user_id: str, name: str = "My phone", sign_count: int = 0) -> SoftwareAuthenticator:
    """A passkey as registration leaves it, without going through the pages (they have their own tests)."""
    authenticator = SoftwareAuthenticator(ORIGIN, user_handle=user_id.encode(), sign_count=sign_count)
    with app.app_context():
        db.session.add(
            Passkey(
                user_id=user_id,
                credential_id=authenticator.credential_id,
                public_key=authenticator.cose_public_key(),
                sign_count=sign_count,
                name=name,
                transports=["internal"],
                aaguid="00000000-0000-0000-0000-000000000000",
            )
        )
        db.session.commit()
    return authenticator


def options(browser: Browser, url: str) -> str:
    match = _CSRF.search(browser.last_html)
    assert match, "the page has a CSRF token for its script"
    response = browser.client.post(url, headers={"X-CSRFToken": match.group(1), "Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def post_credential(browser: Browser, page: str, credential: Any, **fields: str) -> Any:
    body = credential if isinstance(credential, str) else json.dumps(credential)
    return browser.post_form(page, {"credential": body, **fields})


def passkey_sign_in(browser: Browser, authenticator: SoftwareAuthenticator, **behaviour: Any) -> Any:
    browser.get("/sign-in/passkey")
    assertion = authenticator.get(options(browser, "/sign-in/passkey/options"), **behaviour)
    return post_credential(browser, "/sign-in/passkey", assertion)


def events(app: Flask, user_id: str, event: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.user_id == user_id).order_by(AuditEvent.id)
        if event:
            query = query.where(AuditEvent.event == event)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def stored_passkeys(app: Flask, user_id: str) -> list[Passkey]:
    with app.app_context():
        rows = list(db.session.scalars(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)))
        db.session.expunge_all()
        return rows


def assert_refused(response: Any, message: str) -> None:
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    assert 'class="govuk-error-summary"' in page
    assert message in page


# -- passwordless sign-in ---------------------------------------------------------------------------------------------


def test_sign_in_page_offers_a_passkey_and_says_it_needs_javascript(app: Flask, browser: Browser) -> None:
    assert 'href="/sign-in/passkey"' in browser.get("/sign-in").get_data(as_text=True)
    page = browser.get("/sign-in/passkey").get_data(as_text=True)
    assert "To use a passkey, your browser needs JavaScript turned on" in page
    assert 'data-passkey-ceremony="get"' in page
    assert 'data-options-url="/sign-in/passkey/options"' in page
    assert 'src="/assets/passkeys.js"' in page
    assert "<script>" not in page, "no inline script: the CSP allows none without a nonce"


def test_passwordless_sign_in_through_a_service_reaches_cl_cm(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    assert browser.authorize(rp.authorize_params(vtr='["Cl.Cm"]')).request.path == "/sign-in"

    response = browser.follow(passkey_sign_in(browser, authenticator))
    result = redirected_to(response, rp.redirect_uri)
    assert result["state"] == rp.last_state
    token = exchange(browser.client, rp, result["code"])
    assert token.status_code == 200, token.get_json()
    _, claims = verify_provider_jwt(browser.client, token.get_json()["id_token"], audience=rp.client_id)
    assert claims["vot"] == "Cl.Cm"
    assert claims["nonce"] == rp.last_nonce

    [passkey] = stored_passkeys(app, citizen.user_id)
    assert passkey.sign_count == 1
    assert passkey.last_used_at is not None
    sign_ins = events(app, citizen.user_id, "sign_in")
    assert [e.details["level"] for e in sign_ins] == ["Cl.Cm"]
    assert events(app, citizen.user_id, "passkey_used")[0].details["purpose"] == "sign_in"


def test_passwordless_sign_in_without_a_service(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    response = passkey_sign_in(browser, authenticator)
    assert response.status_code == 302
    assert response.location == "/signed-in"
    assert browser.get("/account").status_code == 200


def test_the_session_id_changes_at_a_passkey_sign_in(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    browser.get("/sign-in/passkey")
    options(browser, "/sign-in/passkey/options")  # the ceremony is kept in the session, which now exists
    before = browser.client.get_cookie(COOKIE_NAME)
    assert before is not None
    passkey_sign_in(browser, authenticator)
    after = browser.client.get_cookie(COOKIE_NAME)
    assert after is not None and after.value != before.value


# -- bad input: each refused with a clear message, nothing changed --------------------------------------------------


def assert_nothing_changed(app: Flask, browser: Browser, user_id: str, sign_count: int = 0) -> None:
    assert browser.get("/account").status_code == 302, "not signed in"
    [passkey] = stored_passkeys(app, user_id)
    assert passkey.sign_count == sign_count
    assert passkey.last_used_at is None
    assert events(app, user_id, "sign_in") == []


def test_a_sign_in_posted_twice_carries_on_and_signs_in_once(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    browser.authorize(rp.authorize_params())
    browser.get("/sign-in/passkey")
    assertion = authenticator.get(options(browser, "/sign-in/passkey/options"))
    form_page = browser.last_html
    first = post_credential(browser, "/sign-in/passkey", assertion)
    assert first.location == "/authorize/continue"
    # The very same form again: its CSRF token went with the session the sign-in replaced.
    browser.last_html = form_page
    again = post_credential(browser, "/sign-in/passkey", assertion)
    assert again.status_code == 400
    assert CSRF_FAILED in again.get_data(as_text=True)
    # The page reloaded and posted again: the citizen is carried on to the service.
    browser.get("/sign-in/passkey")
    second = browser.follow(post_credential(browser, "/sign-in/passkey", assertion))
    assert "code" in redirected_to(second, rp.redirect_uri)
    assert len(events(app, citizen.user_id, "sign_in")) == 1
    assert stored_passkeys(app, citizen.user_id)[0].sign_count == 1


def test_a_passkey_from_another_origin_is_refused(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    # Same rp id ("localhost" is every port's), another origin: what a page on another site could get signed.
    assert_refused(passkey_sign_in(browser, authenticator, origin="http://localhost:8081"), ANOTHER_SITE)
    assert_nothing_changed(app, browser, citizen.user_id)
    assert events(app, citizen.user_id, "passkey_refused")[0].details["reason"] == "wrong_origin"


def test_a_passkey_for_another_rp_id_is_refused(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    assert_refused(passkey_sign_in(browser, authenticator, rp_id="evil.example.com"), ANOTHER_SITE)
    assert_nothing_changed(app, browser, citizen.user_id)


def test_a_replayed_assertion_is_refused(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    browser.get("/sign-in/passkey")
    assertion = authenticator.get(options(browser, "/sign-in/passkey/options"))
    assert post_credential(browser, "/sign-in/passkey", assertion).status_code == 302

    attacker = Browser(app.test_client())
    attacker.get("/sign-in/passkey")
    assert_refused(post_credential(attacker, "/sign-in/passkey", assertion), STALE)
    # Even with a ceremony of its own, the replayed assertion answers another challenge.
    options(attacker, "/sign-in/passkey/options")
    assert_refused(post_credential(attacker, "/sign-in/passkey", assertion), STALE)
    assert attacker.get("/account").status_code == 302
    assert len(events(app, citizen.user_id, "sign_in")) == 1


def test_a_reused_challenge_is_refused(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    browser.get("/sign-in/passkey")
    challenge = options(browser, "/sign-in/passkey/options")
    first = authenticator.get(challenge, origin="https://evil.example.com")
    assert_refused(post_credential(browser, "/sign-in/passkey", first), ANOTHER_SITE)
    # The refused attempt spent the challenge: a second answer to it, however good, is refused.
    assert_refused(post_credential(browser, "/sign-in/passkey", authenticator.get(challenge)), STALE)
    assert_nothing_changed(app, browser, citizen.user_id)


def test_a_stale_challenge_is_refused(app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    monkeypatch.setitem(app.config, "IDP_PASSKEY_CHALLENGE_TTL", 1)
    browser.get("/sign-in/passkey")
    assertion = authenticator.get(options(browser, "/sign-in/passkey/options"))
    time.sleep(1.2)
    assert_refused(post_credential(browser, "/sign-in/passkey", assertion), STALE)
    assert_nothing_changed(app, browser, citizen.user_id)


def test_only_the_latest_ceremony_of_a_session_can_be_answered(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    browser.get("/sign-in/passkey")
    first = authenticator.get(options(browser, "/sign-in/passkey/options"))
    options(browser, "/sign-in/passkey/options")  # the citizen pressed the button again
    assert_refused(post_credential(browser, "/sign-in/passkey", first), STALE)
    assert_nothing_changed(app, browser, citizen.user_id, sign_count=0)


def test_an_answer_without_a_ceremony_is_refused(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    browser.get("/sign-in/passkey")
    made_up = json.dumps({"rpId": "localhost", "challenge": "bWFkZSB1cA"})
    assert_refused(post_credential(browser, "/sign-in/passkey", authenticator.get(made_up)), STALE)
    assert_nothing_changed(app, browser, citizen.user_id)


def test_an_unknown_credential_is_refused(app: Flask, browser: Browser) -> None:
    stranger = SoftwareAuthenticator(ORIGIN, user_handle=str(uuid.uuid4()).encode())
    assert_refused(passkey_sign_in(browser, stranger), UNKNOWN)
    assert browser.get("/account").status_code == 302


@pytest.mark.parametrize(
    "body",
    ["{not json", "[]", "null", json.dumps({"id": "AA", "rawId": "AA", "type": "public-key", "response": {}})],
)
def test_a_malformed_body_is_refused(app: Flask, browser: Browser, body: str) -> None:
    citizen = quick_citizen(app)
    give_passkey(app, citizen.user_id)
    browser.get("/sign-in/passkey")
    options(browser, "/sign-in/passkey/options")
    assert_refused(post_credential(browser, "/sign-in/passkey", body), PROBLEM)
    assert_nothing_changed(app, browser, citizen.user_id)


def test_an_empty_answer_asks_for_the_passkey(app: Flask, browser: Browser) -> None:
    browser.get("/sign-in/passkey")
    assert_refused(post_credential(browser, "/sign-in/passkey", ""), "Use your passkey to continue")


def test_without_user_verification_the_passkey_is_refused(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    assert_refused(passkey_sign_in(browser, authenticator, user_verified=False), NOT_VERIFIED)
    assert_nothing_changed(app, browser, citizen.user_id)


def test_the_options_need_the_csrf_token(app: Flask, browser: Browser) -> None:
    browser.get("/sign-in/passkey")
    response = browser.client.post("/sign-in/passkey/options")
    assert response.status_code == 400
    assert CSRF_FAILED in response.get_data(as_text=True)


def test_an_answer_without_the_csrf_token_is_refused(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    browser.get("/sign-in/passkey")
    assertion = authenticator.get(options(browser, "/sign-in/passkey/options"))
    response = browser.client.post("/sign-in/passkey", data={"credential": json.dumps(assertion)})
    assert response.status_code == 400
    assert CSRF_FAILED in response.get_data(as_text=True)
    assert_nothing_changed(app, browser, citizen.user_id)


def test_a_refusal_in_welsh(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    browser.get("/sign-in/passkey?lang=cy")
    assertion = authenticator.get(options(browser, "/sign-in/passkey/options"), origin="https://evil.example.com")
    response = browser.client.post(
        "/sign-in/passkey?lang=cy",
        data={"credential": json.dumps(assertion), "csrf_token": _CSRF.search(browser.last_html).group(1)},  # type: ignore[union-attr]
    )
    page = response.get_data(as_text=True)
    assert 'lang="cy"' in page
    assert ANOTHER_SITE not in page
    assert "gwefan wahanol" in page


# -- counters, clones and lockouts -----------------------------------------------------------------------------------


def test_a_counter_that_does_not_move_is_a_cloned_authenticator(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id, sign_count=7)
    assert_refused(passkey_sign_in(browser, authenticator, counter_step=0), NOT_CHECKED)
    assert_nothing_changed(app, browser, citizen.user_id, sign_count=7)
    assert len(events(app, citizen.user_id, "passkey_cloned_authenticator")) == 1
    assert len(events(app, citizen.user_id, "security_code_failed")) == 1


def test_failed_assertions_count_toward_the_security_code_lockout(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    impostor = SoftwareAuthenticator(ORIGIN, credential_id=authenticator.credential_id)
    impostor.user_handle = authenticator.user_handle
    attempts = int(app.config["IDP_SIGN_IN_ATTEMPTS"])
    for _ in range(attempts - 1):
        assert_refused(passkey_sign_in(browser, impostor), NOT_CHECKED)
    locked = passkey_sign_in(browser, impostor)
    assert locked.status_code == 429
    assert "You cannot sign in at the moment" in locked.get_data(as_text=True)
    assert [e.details["step"] for e in events(app, citizen.user_id, "lockout")] == ["security_code"]

    # While locked, even the real passkey does not sign in, and neither does a security code.
    assert passkey_sign_in(browser, authenticator).status_code == 429
    assert browser.get("/account").status_code == 302
    browser.authorize(rp.authorize_params())
    response = browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    assert response.status_code == 429


def test_a_suspended_account_cannot_sign_in_with_a_passkey(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.suspended = True
        db.session.commit()
    assert_refused(passkey_sign_in(browser, authenticator), UNKNOWN)
    assert browser.get("/account").status_code == 302


# -- the second factor after the password ---------------------------------------------------------------------------


def test_a_passkey_is_the_second_factor_after_the_password(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    authenticator = give_passkey(app, citizen.user_id)
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    assert response.request.path == "/sign-in/passkey/second-factor"
    page = response.get_data(as_text=True)
    assert 'action="/sign-in/passkey/second-factor/use-security-code"' in page, "the security code is a click away"

    ceremony = json.loads(options(browser, "/sign-in/passkey/second-factor/options"))
    assert [c["id"] for c in ceremony["allowCredentials"]], "only the citizen's own passkeys are allowed"
    assertion = authenticator.get(json.dumps(ceremony))
    result = redirected_to(
        browser.follow(post_credential(browser, "/sign-in/passkey/second-factor", assertion)), rp.redirect_uri
    )
    token = exchange(browser.client, rp, result["code"])
    _, claims = verify_provider_jwt(browser.client, token.get_json()["id_token"], audience=rp.client_id)
    assert claims["vot"] == "Cl.Cm"
    assert events(app, citizen.user_id, "passkey_used")[0].details["purpose"] == "second_factor"


def test_the_security_code_still_works_for_a_citizen_with_a_passkey(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    give_passkey(app, citizen.user_id)
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    page = browser.follow(browser.post_form("/sign-in/passkey/second-factor/use-security-code", {}))
    assert page.request.path == "/sign-in/security-code"
    assert PASSKEY_INSTEAD in page.get_data(as_text=True), "the passkey is a click away again"
    welsh = browser.get("/sign-in/security-code?lang=cy").get_data(as_text=True)
    assert ">Defnyddio eich allwedd mynediad yn lle hynny</a>" in welsh
    assert browser.get("/sign-in/passkey/second-factor").status_code == 200
    response = browser.follow(browser.post_form("/sign-in/security-code", {"code": citizen.totp_code()}))
    assert "code" in redirected_to(response, rp.redirect_uri)


def test_without_a_passkey_the_code_page_offers_none(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    page = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    assert page.request.path == "/sign-in/security-code"
    assert 'id="use-passkey"' not in page.get_data(as_text=True)


def test_no_text_message_is_sent_until_the_citizen_asks_for_a_code(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = create_citizen(app)
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.mfa_method, user.totp_secret_encrypted = "sms", None
        user.phone_number, user.phone_number_verified = "+447123456780", True
        db.session.commit()
    give_passkey(app, citizen.user_id)
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    assert response.request.path == "/sign-in/passkey/second-factor"
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == [], "a citizen using a passkey is sent no code"

    response = browser.follow(browser.post_form("/sign-in/passkey/second-factor/use-security-code", {}))
    assert response.request.path == "/sign-in/security-code"
    assert PASSKEY_INSTEAD in response.get_data(as_text=True), "the text-message page leads back to the passkey too"
    code = latest_code_to(app, "+447123456780")
    response = browser.follow(browser.post_form("/sign-in/security-code", {"code": code}))
    assert "code" in redirected_to(response, rp.redirect_uri)


def test_another_citizens_passkey_is_not_a_second_factor(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    give_passkey(app, citizen.user_id)
    other = quick_citizen(app)
    others_passkey = give_passkey(app, other.user_id)
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    assertion = others_passkey.get(options(browser, "/sign-in/passkey/second-factor/options"))
    assert_refused(post_credential(browser, "/sign-in/passkey/second-factor", assertion), WRONG_ACCOUNT)
    assert events(app, citizen.user_id, "sign_in") == []
    assert events(app, other.user_id, "sign_in") == []


def test_the_second_factor_page_needs_the_password_first(app: Flask, browser: Browser) -> None:
    assert browser.get("/sign-in/passkey/second-factor").location == "/sign-in"
    browser.get("/sign-in/passkey")
    match = _CSRF.search(browser.last_html)
    assert match
    response = browser.client.post("/sign-in/passkey/second-factor/options", headers={"X-CSRFToken": match.group(1)})
    assert response.status_code == 401
    assert response.get_json() == {"error": "Your session has ended. Sign in again."}


def test_a_service_asking_only_cl_skips_the_passkey(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    give_passkey(app, citizen.user_id)
    response = complete_sign_in(browser, browser.authorize(rp.authorize_params(vtr='["Cl"]')), citizen)
    assert "code" in redirected_to(response, rp.redirect_uri)


# -- offered at account creation ------------------------------------------------------------------------------------


def create_account_until_the_offer(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> str:
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    browser.authorize(rp.authorize_params())
    browser.get("/create-account")
    browser.follow(browser.post_form("/create-account", {"email": email}))
    browser.follow(browser.post_form("/create-account/check-email", {"code": latest_code_to(app, email)}))
    browser.follow(
        browser.post_form(
            "/create-account/password", {"password": "a new passw0rd", "confirm_password": "a new passw0rd"}
        )
    )
    page = browser.follow(browser.post_form("/choose-how-to-get-security-codes", {"method": "auth_app"}))
    secret = re.search(r'data-testid="secret-key">([A-Z2-7 ]+)<', page.get_data(as_text=True))
    assert secret
    response = browser.follow(
        browser.post_form("/set-up-authenticator-app", {"code": pyotp.TOTP(secret.group(1).replace(" ", "")).now()})
    )
    assert response.request.path == "/create-account/passkey"
    return email


def test_a_passkey_is_offered_at_account_creation(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = create_account_until_the_offer(app, browser, rp)
    page = browser.last_html
    assert 'data-passkey-ceremony="create"' in page
    assert "Not now" in page
    authenticator = SoftwareAuthenticator(ORIGIN)
    created = authenticator.create(options(browser, "/account/passkeys/options"))
    response = post_credential(browser, "/create-account/passkey", created, name="  My   phone ")
    assert "code" in redirected_to(browser.follow(response), rp.redirect_uri)

    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == email)).one()
        user_id = user.id
    [passkey] = stored_passkeys(app, user_id)
    assert passkey.name == "My phone"
    assert passkey.credential_id == authenticator.credential_id
    assert passkey.transports == ["internal"]
    assert passkey.aaguid == "00000000-0000-0000-0000-000000000000"
    assert authenticator.user_handle == user_id.encode()
    assert events(app, user_id, "passkey_registered")[0].details["passkey_id"] == passkey.id

    # And it signs the citizen in next time, without the password.
    fresh = Browser(app.test_client())
    assert passkey_sign_in(fresh, authenticator).status_code == 302


def test_the_passkey_offer_can_be_skipped(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = create_account_until_the_offer(app, browser, rp)
    response = browser.follow(browser.post_form("/create-account/passkey/skip", {}))
    assert "code" in redirected_to(response, rp.redirect_uri)
    with app.app_context():
        user_id = db.session.scalars(select(User.id).where(User.email == email)).one()
    assert stored_passkeys(app, user_id) == []
    assert len(events(app, user_id, "passkey_offer_declined")) == 1


def test_a_registration_from_another_origin_is_refused(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    email = create_account_until_the_offer(app, browser, rp)
    created = SoftwareAuthenticator(ORIGIN).create(
        options(browser, "/account/passkeys/options"), origin="https://evil.example.com"
    )
    assert_refused(post_credential(browser, "/create-account/passkey", created, name="Phone"), ANOTHER_SITE)
    with app.app_context():
        user_id = db.session.scalars(select(User.id).where(User.email == email)).one()
    assert stored_passkeys(app, user_id) == []


# -- managing passkeys ------------------------------------------------------------------------------------------------


def signed_in_with_passkey(app: Flask, browser: Browser) -> tuple[str, SoftwareAuthenticator]:
    citizen = create_citizen(app)
    authenticator = give_passkey(app, citizen.user_id, name="Kitchen laptop")
    assert passkey_sign_in(browser, authenticator).status_code == 302
    return citizen.user_id, authenticator


def test_the_passkeys_page_lists_name_created_and_last_used(app: Flask, browser: Browser) -> None:
    signed_in_with_passkey(app, browser)
    page = browser.get("/account/passkeys").get_data(as_text=True)
    assert "Kitchen laptop" in page
    assert "Created" in page and "Last used" in page
    assert "Not used yet" not in page, "the passkey that signed in has been used"
    assert page.count('data-testid="passkey"') == 1


def test_the_passkeys_pages_need_a_sign_in(app: Flask) -> None:
    client = app.test_client()
    for path in ("/account/passkeys", "/account/passkeys/add", "/create-account/passkey"):
        assert client.get(path).status_code == 302
    assert client.post("/account/passkeys/options").status_code in (302, 400)


def test_add_several_passkeys(app: Flask, browser: Browser) -> None:
    user_id, first = signed_in_with_passkey(app, browser)
    browser.get("/account/passkeys/add")
    ceremony = json.loads(options(browser, "/account/passkeys/options"))
    assert [c["id"] for c in ceremony["excludeCredentials"]], "the passkeys already there are excluded"
    second = SoftwareAuthenticator(ORIGIN)
    response = post_credential(browser, "/account/passkeys/add", second.create(json.dumps(ceremony)), name="Phone")
    assert response.location == "/account/passkeys"
    page = browser.get("/account/passkeys").get_data(as_text=True)
    assert "You have added a passkey called ‘Phone’" in page
    assert page.count('data-testid="passkey"') == 2
    assert {p.name for p in stored_passkeys(app, user_id)} == {"Kitchen laptop", "Phone"}


def test_an_addition_posted_twice_adds_one_passkey(app: Flask, browser: Browser) -> None:
    user_id, _ = signed_in_with_passkey(app, browser)
    browser.get("/account/passkeys/add")
    created = SoftwareAuthenticator(ORIGIN).create(options(browser, "/account/passkeys/options"))
    form_page = browser.last_html
    assert post_credential(browser, "/account/passkeys/add", created, name="Phone").location == "/account/passkeys"
    browser.last_html = form_page
    assert_refused(post_credential(browser, "/account/passkeys/add", created, name="Phone"), STALE)
    assert len(stored_passkeys(app, user_id)) == 2


def test_the_same_passkey_cannot_be_added_twice(app: Flask, browser: Browser) -> None:
    user_id, first = signed_in_with_passkey(app, browser)
    browser.get("/account/passkeys/add")
    again = first.create(options(browser, "/account/passkeys/options"))
    assert_refused(post_credential(browser, "/account/passkeys/add", again, name="Again"), "already set up")
    assert len(stored_passkeys(app, user_id)) == 1


def test_a_new_passkey_needs_a_name_and_a_credential(app: Flask, browser: Browser) -> None:
    user_id, _ = signed_in_with_passkey(app, browser)
    browser.get("/account/passkeys/add")
    response = post_credential(browser, "/account/passkeys/add", "", name="")
    assert_refused(response, "Enter a name for your passkey")
    assert "Create your passkey to continue" in response.get_data(as_text=True)
    response = post_credential(browser, "/account/passkeys/add", "", name="x" * 65)
    assert_refused(response, "The name must be 64 characters or fewer")
    assert len(stored_passkeys(app, user_id)) == 1


def test_rename_a_passkey(app: Flask, browser: Browser) -> None:
    user_id, _ = signed_in_with_passkey(app, browser)
    [passkey] = stored_passkeys(app, user_id)
    page = browser.get(f"/account/passkeys/{passkey.id}/rename").get_data(as_text=True)
    assert 'value="Kitchen laptop"' in page
    assert_refused(browser.post_form(f"/account/passkeys/{passkey.id}/rename", {"name": "  "}), "Enter a name")
    response = browser.post_form(f"/account/passkeys/{passkey.id}/rename", {"name": "Old laptop"})
    assert response.location == "/account/passkeys"
    assert [p.name for p in stored_passkeys(app, user_id)] == ["Old laptop"]
    assert len(events(app, user_id, "passkey_renamed")) == 1


def test_remove_a_passkey_after_a_fresh_sign_in(app: Flask, browser: Browser) -> None:
    user_id, _ = signed_in_with_passkey(app, browser)
    [passkey] = stored_passkeys(app, user_id)
    page = browser.get(f"/account/passkeys/{passkey.id}/remove").get_data(as_text=True)
    assert 'name="password"' not in page, "a sign-in a moment ago is enough"
    response = browser.post_form(f"/account/passkeys/{passkey.id}/remove", {})
    assert response.location == "/account/passkeys"
    assert stored_passkeys(app, user_id) == []
    assert events(app, user_id, "passkey_removed")[0].details["passkey_id"] == passkey.id
    assert 'data-testid="no-passkeys"' in browser.get("/account/passkeys").get_data(as_text=True)


def test_remove_a_passkey_later_needs_the_password(
    app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, _ = signed_in_with_passkey(app, browser)
    [passkey] = stored_passkeys(app, user_id)
    monkeypatch.setitem(app.config, "IDP_ACCOUNT_CONFIRM_PASSWORD_SECONDS", -1)
    url = f"/account/passkeys/{passkey.id}/remove"
    assert 'name="password"' in browser.get(url).get_data(as_text=True)
    assert_refused(browser.post_form(url, {}), "Enter your password")
    assert_refused(browser.post_form(url, {"password": "not the password 1"}), "Incorrect password")
    assert len(stored_passkeys(app, user_id)) == 1
    assert len(events(app, user_id, "password_failed")) == 1
    assert browser.post_form(url, {"password": "correct horse 42"}).location == "/account/passkeys"
    assert stored_passkeys(app, user_id) == []


def test_a_removed_passkey_no_longer_signs_in(app: Flask, browser: Browser) -> None:
    user_id, authenticator = signed_in_with_passkey(app, browser)
    [passkey] = stored_passkeys(app, user_id)
    browser.get(f"/account/passkeys/{passkey.id}/remove")
    browser.post_form(f"/account/passkeys/{passkey.id}/remove", {})
    assert_refused(passkey_sign_in(Browser(app.test_client()), authenticator), UNKNOWN)


def test_another_citizens_passkey_cannot_be_renamed_or_removed(app: Flask, browser: Browser) -> None:
    other = create_citizen(app)
    give_passkey(app, other.user_id, name="Theirs")
    [theirs] = stored_passkeys(app, other.user_id)
    signed_in_with_passkey(app, browser)
    for action in ("rename", "remove"):
        assert browser.get(f"/account/passkeys/{theirs.id}/{action}").status_code == 404
        browser.get("/account/passkeys/add")  # a page with a form, for the CSRF token
        assert browser.post_form(f"/account/passkeys/{theirs.id}/{action}", {"name": "Mine"}).status_code == 404
    assert [p.name for p in stored_passkeys(app, other.user_id)] == ["Theirs"]


def test_a_removal_without_the_csrf_token_changes_nothing(app: Flask, browser: Browser) -> None:
    user_id, _ = signed_in_with_passkey(app, browser)
    [passkey] = stored_passkeys(app, user_id)
    response = browser.client.post(f"/account/passkeys/{passkey.id}/remove", data={})
    assert response.status_code == 400
    assert len(stored_passkeys(app, user_id)) == 1
