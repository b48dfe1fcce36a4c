"""Helpers shared by the integration tests: quick sign-ins, token checks, a local HTTP server, SQL recording."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

import argon2
import jwt
import pyotp
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from flask.testing import FlaskClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy import event
from werkzeug.test import TestResponse

from idp.extensions import db
from tests.helpers import (
    ISSUER,
    Browser,
    Citizen,
    RelyingPartyUnderTest,
    create_citizen,
    is_local,
    path_of,
    redirect_params,
)

AUTHORIZE_URL = ISSUER + "authorize"
TOKEN_URL = ISSUER + "token"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
VOCAB = "https://vocab.account.gov.uk/v1/"
CORE_IDENTITY_JWT = VOCAB + "coreIdentityJWT"
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
SUBJECT_PATTERN = re.compile(r"^urn:fdc:gov\.uk:2022:[A-Za-z0-9_-]{43}$")
KID_PATTERN = re.compile(r"^[0-9a-f]{64}$")
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token", error_description="Invalid access token"'
SECURITY_CODE_ERROR = "The security code you entered is not correct, or may have expired, try again."


# -- citizens whose security codes do not make a test wait --------------------------------------------------------


class QuickCitizen(Citizen):
    """The provider accepts the codes of the previous, current and next time step (each once), so a test can
    sign in up to three times in one 30-second window without waiting for a fresh code."""

    def totp_code(self) -> str:
        totp = pyotp.TOTP(self.totp_secret)
        now = time.time()
        for moment in (now, now + 30, now - 30):
            code = totp.at(moment)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code
        return super().totp_code()

    def wrong_code(self) -> str:
        """A well-formed code that no step of the accepted window produces."""
        totp = pyotp.TOTP(self.totp_secret)
        now = time.time()
        near = {totp.at(now + offset) for offset in (-60, -30, 0, 30, 60)}
        candidate = 123456
        while f"{candidate:06d}" in near:
            candidate += 1
        return f"{candidate:06d}"


def quick_citizen(app: Flask, email: str | None = None) -> QuickCitizen:
    citizen = create_citizen(app, email=email)
    return QuickCitizen(citizen.user_id, citizen.email, citizen.password, citizen.totp_secret)


# -- browser journeys ---------------------------------------------------------------------------------------------


def complete_sign_in(browser: Browser, response: TestResponse, citizen: Citizen) -> TestResponse:
    """Carry on from a response of the journey (email, password, security code) until it leaves the pages."""
    response = browser.follow(response)
    for _ in range(5):
        if response.status_code != 200:
            return response
        path = response.request.path
        if path == "/sign-in":
            response = browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
        elif path == "/sign-in/password":
            response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
        elif path == "/sign-in/security-code":
            response = browser.follow(browser.post_form("/sign-in/security-code", {"code": citizen.totp_code()}))
        else:
            return response
    return response


def past_the_passkey_offer(browser: Browser, response: TestResponse) -> TestResponse:
    """Setting up a second factor ends with the offer of a passkey: not now (test_passkeys.py takes it)."""
    assert response.status_code == 200 and response.request.path == "/create-account/passkey", response.status_code
    return browser.follow(browser.post_form("/create-account/passkey/skip", {}))


def authorize_query(params: dict[str, str]) -> str:
    return "/authorize?" + urlencode(params)


def pages_visited(browser: Browser, response: TestResponse, limit: int = 10) -> tuple[TestResponse, list[str]]:
    """Follow redirects inside the provider, remembering the path of every page on the way."""
    paths = []
    for _ in range(limit):
        if response.status_code not in (301, 302, 303, 307) or not is_local(response.location):
            break
        paths.append(urlsplit(response.location).path)
        response = browser.get(path_of(response.location))
    return response, paths


# -- the token endpoint and the tokens ------------------------------------------------------------------------------


def exchange(client: FlaskClient, rp: RelyingPartyUnderTest, code: str, **overrides: Any) -> TestResponse:
    return client.post("/token", data=rp.token_form(code, **overrides))


def json_error(response: TestResponse) -> dict[str, Any]:
    body = response.get_json()
    assert isinstance(body, dict), response.get_data(as_text=True)
    return body


def jwks(client: FlaskClient) -> list[dict[str, Any]]:
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert isinstance(keys, list)
    return keys


def verify_provider_jwt(
    client: FlaskClient, token: str, audience: str | None = None, verify_exp: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify one of the provider's JWTs as an RP would: key chosen by `kid` from the published JWKS."""
    header = jwt.get_unverified_header(token)
    matches = [k for k in jwks(client) if k["kid"] == header.get("kid")]
    assert len(matches) == 1, f"kid {header.get('kid')!r} is not published exactly once"
    jwk = matches[0]
    assert header["alg"] == jwk["alg"]
    claims = jwt.decode(
        token,
        jwt.PyJWK.from_dict(jwk).key,
        algorithms=[jwk["alg"]],
        audience=audience,
        issuer=ISSUER,
        options={"verify_aud": audience is not None, "verify_exp": verify_exp},
    )
    return header, claims


def at_hash(access_token: str) -> str:
    import hashlib

    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def unsigned_jwt(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part(header or {'alg': 'none'})}.{part(claims)}."


def assertion_claims(rp: RelyingPartyUnderTest, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": rp.client_id,
        "sub": rp.client_id,
        "aud": TOKEN_URL,
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def secret_hash(secret: str) -> str:
    """An Argon2id encoded hash with One Login's parameters (reference §3.1)."""
    return argon2.PasswordHasher(time_cost=2, memory_cost=15360, parallelism=1, hash_len=16).hash(secret)


def public_jwk(private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str, alg: str) -> dict[str, Any]:
    if isinstance(private_key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": alg}


# -- responses -------------------------------------------------------------------------------------------------------


def redirected_to(response: TestResponse, redirect_uri: str, mode: str = "query") -> dict[str, str]:
    """The parameters of a redirect back to the RP, checking it goes exactly to `redirect_uri`."""
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:300])
    location = response.location
    separator = "#" if mode == "fragment" else "?"
    assert location.startswith(redirect_uri + separator), location
    if mode == "fragment":
        assert "?" not in location, location
    return redirect_params(location)


def assert_not_redirected(response: TestResponse, status: int, body: str) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert "Location" not in response.headers
    assert response.get_data(as_text=True) == body


# -- a real HTTP server on 127.0.0.1 for the provider to call -------------------------------------------------------


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    """Answers GET with `documents[path]` (JSON) and POST with the next status of `statuses[path]` (200 when none
    is queued), recording every request."""

    documents: dict[str, Any] = field(default_factory=dict)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    post_replies: dict[str, Any] = field(default_factory=dict)  # JSON bodies for POSTs, by path
    received: list[ReceivedRequest] = field(default_factory=list)
    base_url: str = ""

    def url(self, path: str) -> str:
        return self.base_url + path

    def posts_to(self, path: str) -> list[ReceivedRequest]:
        return [r for r in self.received if r.method == "POST" and r.path == path]


@contextmanager
def local_server() -> Iterator[LocalServer]:
    state = LocalServer()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                state.received.append(ReceivedRequest(self.command, self.path, dict(self.headers.items()), body))

        def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._record()
            if self.path in state.documents:
                self._reply(200, json.dumps(state.documents[self.path]).encode())
            else:
                self._reply(404, b"{}")

        def do_POST(self) -> None:
            self._record()
            with lock:
                queued = state.statuses.get(self.path) or []
                status = queued.pop(0) if queued else 200
            if self.path in state.post_replies:
                self._reply(status, json.dumps(state.post_replies[self.path]).encode())
            else:
                self._reply(status, b"", "text/plain")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="local-test-server", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- what the database was asked to do -------------------------------------------------------------------------------


@contextmanager
def recorded_sql(app: Flask) -> Iterator[list[str]]:
    """Every statement sent to the app's database, with "COMMIT" where a transaction was committed."""
    with app.app_context():
        engine = db.engine
    entries: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        entries.append(" ".join(statement.split()))

    def on_commit(_conn: Any) -> None:
        entries.append("COMMIT")

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield entries
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


def transactions(entries: list[str]) -> list[list[str]]:
    """Split recorded statements into committed transactions (the tail after the last COMMIT is dropped)."""
    groups: list[list[str]] = []
    current: list[str] = []
    for entry in entries:
        if entry == "COMMIT":
            groups.append(current)
            current = []
        else:
            current.append(entry)
    return groups
