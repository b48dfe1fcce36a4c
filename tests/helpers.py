"""Test helpers: a relying party that speaks the protocol, a cookie-keeping browser, citizens."""

from __future__ import annotations

import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pyotp
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from idp.extensions import db
from idp.models import Client, User
from idp.services import current_services

ISSUER = "http://localhost:8080/"
PASSWORD = "correct horse 42"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def public_pem(private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class RelyingPartyUnderTest:
    client_id: str
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    redirect_uri: str
    alg: str = "RS256"
    last_nonce: str = ""
    last_state: str = ""
    last_verifier: str = ""

    @classmethod
    def register(
        cls, app: Flask, key_alg: str = "RS256", client_id: str | None = None, **fields: Any
    ) -> RelyingPartyUnderTest:
        private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
        if key_alg == "ES256":
            private_key = ec.generate_private_key(ec.SECP256R1())
        else:
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        client_id = client_id or f"rp-{uuid.uuid4().hex[:12]}"
        redirect_uri = f"https://{client_id}.example.gov.uk/callback"
        registration: dict[str, Any] = {
            "client_id": client_id,
            "name": f"Test service {client_id}",
            "redirect_uris": [redirect_uri],
            "post_logout_redirect_uris": [f"https://{client_id}.example.gov.uk/signed-out"],
            "backchannel_logout_uri": f"https://{client_id}.example.gov.uk/backchannel-logout",
            "scopes": ["openid", "email", "phone"],
            "public_key": public_pem(private_key),
        }
        registration.update(fields)
        with app.app_context():
            db.session.add(Client(**registration))
            db.session.commit()
        return cls(client_id, private_key, redirect_uri, alg=key_alg)

    def authorize_params(self, **extra: Any) -> dict[str, str]:
        self.last_state = secrets.token_urlsafe(8)
        self.last_nonce = secrets.token_urlsafe(8)
        self.last_verifier = secrets.token_urlsafe(48)
        params = {
            "response_type": "code",
            "scope": "openid email phone",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": self.last_state,
            "nonce": self.last_nonce,
            "code_challenge": create_s256_code_challenge(self.last_verifier),
            "code_challenge_method": "S256",
        }
        params.update({k: v for k, v in extra.items() if v is not None})
        return {k: v for k, v in params.items() if v != "__omit__"}

    def assertion(self, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": ISSUER + "token",
            "exp": now + 300,
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private_key, algorithm=self.alg)

    def token_form(self, code: str, **overrides: Any) -> dict[str, str]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.last_verifier,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.assertion(),
        }
        form.update(overrides)
        return {k: v for k, v in form.items() if v is not None}

    def request_object(self, claims: dict[str, Any], alg: str | None = None) -> str:
        return jwt.encode(claims, self.private_key, algorithm=alg or self.alg)


@dataclass
class Citizen:
    user_id: str
    email: str
    password: str
    totp_secret: str
    used_codes: set[str] = field(default_factory=set)

    def totp_code(self) -> str:
        """A code not used before: waits for the next time step if the current code was already spent."""
        totp = pyotp.TOTP(self.totp_secret)
        code = totp.now()
        while code in self.used_codes:
            time.sleep(0.5)
            code = totp.now()
        self.used_codes.add(code)
        return code


def create_citizen(app: Flask, email: str | None = None, password: str = PASSWORD) -> Citizen:
    email = email or f"citizen-{uuid.uuid4().hex[:8]}@example.com"
    secret = pyotp.random_base32(32)
    with app.app_context():
        services = current_services()
        user = User(email=email, email_verified=True, password_hash=services.passwords.hash(password))
        db.session.add(user)
        db.session.flush()
        user.totp_secret_encrypted = services.secret_box.seal(secret.encode(), context=f"totp:{user.id}")
        user.mfa_method = "auth_app"
        db.session.commit()
        return Citizen(user.id, email, password, secret)


class Browser:
    """The Flask test client with the habits of a browser: cookies kept, CSRF tokens taken from forms."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.last_html = ""

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(url, **kwargs)
        if response.mimetype == "text/html":
            self.last_html = response.get_data(as_text=True)
        return response

    def post_form(self, url: str, data: dict[str, str]) -> TestResponse:
        match = _CSRF.search(self.last_html)
        form = dict(data)
        if match and "csrf_token" not in form:
            form["csrf_token"] = match.group(1) or match.group(2)
        response = self.client.post(url, data=form)
        if response.mimetype == "text/html":
            self.last_html = response.get_data(as_text=True)
        return response

    def follow(self, response: TestResponse, limit: int = 10) -> TestResponse:
        """Follow redirects within the provider; stop at a redirect that leaves it."""
        for _ in range(limit):
            if response.status_code not in (301, 302, 303, 307) or not is_local(response.location):
                return response
            response = self.get(path_of(response.location))
        return response

    def authorize(self, params: dict[str, str]) -> TestResponse:
        return self.follow(self.get("/authorize?" + urlencode(params)))


def free_ports(count: int) -> list[int]:
    """Distinct free ports on 127.0.0.1: each socket stays bound until all are chosen, or the system could hand one
    out twice, and a server would find its port taken by another (whose health check then answers for it)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll briefly for something that happens on another thread (a back-channel delivery)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def stop_process_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """Stop a server started with `start_new_session=True`: SIGTERM, and after `grace` seconds SIGKILL to its whole
    group (a gunicorn arbiter and its workers)."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def first_to_see_every_record(handler: logging.Handler) -> Iterator[None]:
    """`handler` on the root logger at DEBUG, ahead of the others: the production handler's redacting filter rewrites
    records in place, so a handler after it would see them redacted."""
    root = logging.getLogger()
    level = root.level
    root.handlers.insert(0, handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def is_local(location: str) -> bool:
    parts = urlsplit(location)
    return not parts.netloc or location.startswith(ISSUER)


def path_of(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def redirect_params(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    source = parts.fragment if parts.fragment and not parts.query else parts.query
    return {k: v[-1] for k, v in parse_qs(source).items()}


def sign_in(browser: Browser, rp: RelyingPartyUnderTest, citizen: Citizen, **auth_params: Any) -> dict[str, str]:
    """Run a whole sign-in from /authorize to the redirect back; returns the redirect's parameters."""
    response = browser.authorize(rp.authorize_params(**auth_params))
    if response.status_code == 200 and "/sign-in" in (response.request.path or ""):
        response = browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    if response.status_code == 200 and response.request.path == "/sign-in/password":
        response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    if response.status_code == 200 and response.request.path == "/sign-in/security-code":
        response = browser.follow(browser.post_form("/sign-in/security-code", {"code": citizen.totp_code()}))
    assert response.status_code == 302, f"sign-in stopped at {response.request.path}: {response.status_code}"
    assert response.location.startswith(rp.redirect_uri), response.location
    return redirect_params(response.location)


def latest_message_to(app: Flask, address: str) -> dict[str, Any] | None:
    """Deliver the outbox, then the newest message the development sender kept for this address."""
    from idp.notify.development_inbox import latest_message_to as kept_for
    from idp.services import outbox_delivery_round

    outbox_delivery_round(app)
    with app.app_context():
        return kept_for(address)


def latest_code_to(app: Flask, address: str) -> str:
    """The 6-digit code in the newest message to this address (email or phone number in E.164)."""
    from idp.notify.development_inbox import code_in

    code = code_in(latest_message_to(app, address))
    assert code is not None, f"no code was sent to {address}"
    return code
