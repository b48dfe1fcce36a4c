"""No password, security code, token, secret or key reaches a log line.

Real journeys run with every logger at DEBUG and every record captured as it is created, before the redacting
filter: the filter is defence in depth, and this test proves the code itself logs none of them.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import parse_qs, urlencode

import pyotp
import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from idp.extensions import db
from idp.logs import JsonFormatter
from idp.models import OutboxMessage, User
from idp.services import outbox_delivery_round
from idp.web.sessions import COOKIE_NAME
from tests.helpers import (
    PASSWORD,
    Browser,
    RelyingPartyUnderTest,
    first_to_see_every_record,
    latest_code_to,
    latest_message_to,
    sign_in,
)
from tests.integration._support import exchange, local_server, quick_citizen, redirected_to, secret_hash

_SECRET_KEY_ON_PAGE = re.compile(r'data-testid="secret-key">([A-Z2-7 ]+)<')
CLIENT_SECRET = "a-client-secret-" + uuid.uuid4().hex


class EveryRecord(logging.Handler):
    """Keeps the full text of every record: message, `extra=` fields, exception, and the JSON line."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.loggers: set[str] = set()
        self._json = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.loggers.add(record.name)
        fields = " ".join(f"{name}={value!r}" for name, value in vars(record).items())
        self.texts.append(f"{record.getMessage()} {fields} {self._json.format(record)}")


@pytest.fixture
def every_record() -> Iterator[EveryRecord]:
    handler = EveryRecord()
    disabled = {
        name: logger.disabled
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    for name in disabled:
        logging.getLogger(name).disabled = False
    with first_to_see_every_record(handler):
        yield handler
    for name, was_disabled in disabled.items():
        logging.getLogger(name).disabled = was_disabled


def test_no_secret_reaches_a_log_line(app: Flask, rp: RelyingPartyUnderTest, every_record: EveryRecord) -> None:
    secrets_seen: dict[str, str] = {"client secret": CLIENT_SECRET}

    # Account creation: a code by email through the development sender, a password, an authenticator app's key and
    # its first code.
    browser = Browser(app.test_client())
    email = f"logs-{uuid.uuid4().hex[:8]}@example.com"
    new_password = "Pa55word-" + uuid.uuid4().hex[:10]
    secrets_seen["new password"] = new_password
    browser.authorize(rp.authorize_params())
    browser.post_form("/sign-in", {"email": email})
    browser.get("/create-account")
    assert browser.follow(browser.post_form("/create-account", {"email": email})).request.path == (
        "/create-account/check-email"
    )
    email_code = latest_code_to(app, email)
    secrets_seen["email code"] = email_code
    response = browser.follow(browser.post_form("/create-account/check-email", {"code": email_code}))
    assert response.request.path == "/create-account/password"
    mismatch = browser.post_form("/create-account/password", {"password": new_password, "confirm_password": "other1"})
    assert mismatch.status_code == 200
    response = browser.follow(
        browser.post_form("/create-account/password", {"password": new_password, "confirm_password": new_password})
    )
    assert response.request.path == "/choose-how-to-get-security-codes"
    response = browser.follow(browser.post_form("/choose-how-to-get-security-codes", {"method": "auth_app"}))
    assert response.request.path == "/set-up-authenticator-app"
    match = _SECRET_KEY_ON_PAGE.search(response.get_data(as_text=True))
    assert match
    totp_key = match.group(1).replace(" ", "")
    secrets_seen["authenticator key"] = totp_key
    first_code = pyotp.TOTP(totp_key).now()
    secrets_seen["set-up code"] = first_code
    response = browser.follow(browser.post_form("/set-up-authenticator-app", {"code": first_code}))
    if response.status_code == 200 and response.request.path == "/create-account/passkey":
        # With passkeys, setting up a second factor ends with the offer of one: not now.
        response = browser.follow(browser.post_form("/create-account/passkey/skip", {}))
    result = redirected_to(response, rp.redirect_uri)
    secrets_seen["authorization code (new account)"] = result["code"]
    latest_message_to(app, email)  # the "account created" email, through the development sender too
    session_cookie = browser.client.get_cookie(COOKIE_NAME)
    assert session_cookie is not None
    secrets_seen["session cookie"] = session_cookie.value

    # Signing in: a wrong password, the right one, a wrong security code, then the right one.
    citizen = quick_citizen(app)
    signing_in = Browser(app.test_client())
    signing_in.authorize(rp.authorize_params())
    signing_in.follow(signing_in.post_form("/sign-in", {"email": citizen.email}))
    wrong_password = "Wr0ng-" + uuid.uuid4().hex[:10]
    secrets_seen["wrong password"] = wrong_password
    assert signing_in.post_form("/sign-in/password", {"password": wrong_password}).status_code == 200
    signing_in.follow(signing_in.post_form("/sign-in/password", {"password": citizen.password}))
    wrong_code = citizen.wrong_code()
    secrets_seen["wrong code"] = wrong_code
    assert signing_in.post_form("/sign-in/security-code", {"code": wrong_code}).status_code == 200
    code = citizen.totp_code()
    secrets_seen["security code"] = code
    result = redirected_to(
        signing_in.follow(signing_in.post_form("/sign-in/security-code", {"code": code})), rp.redirect_uri
    )
    secrets_seen["password"] = PASSWORD

    # /token with a client assertion, then the same assertion replayed; /userinfo with the access token.
    form = rp.token_form(result["code"])
    secrets_seen["authorization code"] = result["code"]
    secrets_seen["client assertion"] = form["client_assertion"]
    secrets_seen["code verifier"] = form["code_verifier"]
    token = signing_in.client.post("/token", data=form)
    assert token.status_code == 200
    body = token.get_json()
    secrets_seen["access token"] = body["access_token"]
    secrets_seen["ID token"] = body["id_token"]
    assert signing_in.client.post("/token", data=form).status_code in (400, 401)
    userinfo = signing_in.client.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]})
    assert userinfo.status_code == 200
    forged = body["access_token"][:-4] + "AAAA"
    secrets_seen["forged access token"] = forged
    assert signing_in.client.post("/userinfo", data={"access_token": forged}).status_code == 401

    # A service that authenticates with a client secret.
    secret_rp = RelyingPartyUnderTest.register(
        app, token_auth_method="client_secret_post", client_secret_hash=secret_hash(CLIENT_SECRET), public_key=None
    )
    result = sign_in(signing_in, secret_rp, citizen)
    secrets_seen["authorization code (secret client)"] = result["code"]
    secret_form = {
        "grant_type": "authorization_code",
        "code": result["code"],
        "redirect_uri": secret_rp.redirect_uri,
        "code_verifier": secret_rp.last_verifier,
        "client_id": secret_rp.client_id,
        "client_secret": CLIENT_SECRET,
    }
    assert signing_in.client.post("/token", data=secret_form).status_code == 200
    wrong_secret = dict(secret_form, client_secret=CLIENT_SECRET[::-1])
    secrets_seen["wrong client secret"] = wrong_secret["client_secret"]
    assert signing_in.client.post("/token", data=wrong_secret).status_code in (400, 401)

    # Signing out with an ID token as the hint; the logout token goes to a service that fails, then accepts it.
    with local_server() as service:
        logout_rp = RelyingPartyUnderTest.register(app, backchannel_logout_uri=service.url("/backchannel-logout"))
        service.statuses["/backchannel-logout"] = [500]
        hint = exchange(signing_in.client, logout_rp, sign_in(signing_in, logout_rp, citizen)["code"]).get_json()
        secrets_seen["ID token hint"] = hint["id_token"]
        logout_params = {
            "id_token_hint": hint["id_token"],
            "post_logout_redirect_uri": logout_rp.redirect_uri.replace("/callback", "/signed-out"),
        }
        assert signing_in.get("/logout?" + urlencode(logout_params)).status_code == 302
        assert outbox_delivery_round(app) == 0
        with app.app_context():
            db.session.execute(update(OutboxMessage).values(next_attempt_at=datetime(2000, 1, 1)))
            db.session.commit()
        assert outbox_delivery_round(app) == 1
        logout_tokens = [parse_qs(r.body.decode())["logout_token"][0] for r in service.posts_to("/backchannel-logout")]
    assert len(logout_tokens) == 2
    secrets_seen["logout token"] = logout_tokens[0]

    # The capture saw the journeys: an access line for each step, and the development sender's line for each
    # message (which names the message and a masked address), so silence cannot pass for success.
    assert "idp.access" in every_record.loggers
    assert any(text.startswith("email email_code to ") for text in every_record.texts)
    assert len(every_record.texts) > 30
    leaked = {
        what: [text for text in every_record.texts if value in text]
        for what, value in secrets_seen.items()
        if any(value in text for text in every_record.texts)
    }
    assert leaked == {}


def test_a_database_error_does_not_carry_the_values(app: Flask) -> None:
    """An error is logged with its exception; SQLAlchemy's would otherwise show the statement's parameters."""
    citizen = quick_citizen(app)
    with app.app_context():
        existing = db.session.get(User, citizen.user_id)
        assert existing is not None
        password_hash = existing.password_hash
        db.session.add(User(email=citizen.email, email_verified=True, password_hash=password_hash))
        with pytest.raises(IntegrityError) as raised:
            db.session.commit()
        db.session.rollback()
    message = str(raised.value)
    assert "INSERT INTO users" in message
    assert password_hash not in message and citizen.email not in message
