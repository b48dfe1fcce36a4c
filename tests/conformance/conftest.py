"""How the black-box suite reaches the provider: in-process through Flask's test client (the default), or over
the network with `requests` when `--live-url` is given.

Live mode needs the test RP registered on that server and a citizen with an authenticator app:

    pytest tests/conformance --live-url=http://127.0.0.1:8080/ --live-client-id=conformance-rp \\
        --live-client-key=keys/conformance-rp.pem --live-email=citizen@example.com \\
        --live-password='…' --live-totp-secret=BASE32SECRET

`--live-issuer` names the issuer when the server is reached at another address than its issuer (default: the
live URL). Tests that need an operator action on the server (another client registration, key rotation,
running the outbox) are skipped there with the reason. The options exist only when this directory is named on
the command line. A live run is slow: one citizen cannot use a TOTP code twice, so every sign-in with a second
factor waits for the next 30-second step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import argon2
import pyotp
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import Client, OutboxMessage
from idp.services import current_services, outbox_delivery_round
from tests.conformance.harness import (
    ConformanceRP,
    HttpResponse,
    Operator,
    Provider,
    ScriptedBrowser,
    SignInCitizen,
    Transport,
    UserAgent,
    origin_of,
)
from tests.helpers import Citizen, RelyingPartyUnderTest, create_citizen

LIVE_OPTIONS = (
    ("--live-url", "base URL of a running provider; without it the suite drives the app in-process"),
    ("--live-issuer", "the provider's issuer, if it differs from --live-url"),
    ("--live-client-id", "client id of the test RP registered on the live server (private_key_jwt)"),
    ("--live-client-key", "path to the PEM private key of that client"),
    ("--live-redirect-uri", "its registered redirect URI (default https://<client id>.example.gov.uk/callback)"),
    ("--live-post-logout-redirect-uri", "its post-logout redirect URI (default …/signed-out)"),
    ("--live-id-token-alg", "the ID token alg it is registered for (default ES256)"),
    ("--live-email", "email of a citizen with an authenticator app on the live server"),
    ("--live-password", "that citizen's password"),
    ("--live-totp-secret", "that citizen's authenticator-app secret (base32)"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "black-box conformance suite (tests/conformance)")
    for name, help_text in LIVE_OPTIONS:
        group.addoption(name, default=None, help=help_text)


def _option(config: pytest.Config, name: str) -> str | None:
    # The options exist only when this conftest was loaded at start-up (pytest tests/conformance …).
    value = config.getoption(name.lstrip("-").replace("-", "_"), default=None)
    return str(value) if value else None


def _headers(items: Any) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in items}


# -- in-process ---------------------------------------------------------------------------------------------------


class FlaskUserAgent:
    def __init__(self, app: Flask, issuer: str, cookies: bool) -> None:
        self._client = app.test_client(use_cookies=cookies)
        self._origin = origin_of(issuer)

    def request(
        self, method: str, url: str, *, data: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        parts = urlsplit(url)
        assert origin_of(url) == self._origin, f"in-process transport reaches only {self._origin}, not {url}"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self._client.open(
            path,
            method=method,
            data=dict(data) if data is not None else None,
            headers=dict(headers or {}),
            base_url=self._origin,
        )
        return HttpResponse(response.status_code, _headers(response.headers.items()), response.get_data(), url)


class FlaskTransport:
    live = False

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.issuer: str = app.config["IDP_ISSUER"]

    def user_agent(self, cookies: bool) -> UserAgent:
        return FlaskUserAgent(self.app, self.issuer, cookies)


class InProcessOperator:
    def __init__(self, app: Flask, provider: Provider) -> None:
        self.app = app
        self.provider = provider

    def default_client(self) -> ConformanceRP:
        return self.register_client()

    def register_client(self, *, client_secret: str | None = None, **fields: Any) -> ConformanceRP:
        key_alg = fields.pop("key_alg", "RS256")
        if client_secret:
            hasher = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
            fields.update(
                token_auth_method="client_secret_post", client_secret_hash=hasher.hash(client_secret), public_key=None
            )
        registered = RelyingPartyUnderTest.register(self.app, key_alg=key_alg, **fields)
        redirect_uris: list[str] = fields.get("redirect_uris") or [registered.redirect_uri]
        post_logout = fields.get("post_logout_redirect_uris") or [
            f"https://{registered.client_id}.example.gov.uk/signed-out"
        ]
        return ConformanceRP(
            provider=self.provider,
            client_id=registered.client_id,
            redirect_uri=redirect_uris[0],
            post_logout_redirect_uri=post_logout[0],
            private_key=None if client_secret else registered.private_key,
            client_secret=client_secret,
            id_token_alg=fields.get("id_token_signing_alg", "ES256"),
            extra_redirect_uris=list(redirect_uris[1:]),
        )

    def new_citizen(self) -> SignInCitizen:
        return create_citizen(self.app)

    def key_rotation(self, alg: str = "ES256") -> Callable[[], str]:
        def rotate() -> str:
            """What `flask keys generate` + `flask keys activate --force` do: a new key signs from now on."""
            with self.app.app_context():
                keyring = current_services().keyring
                key = keyring.generate("oidc", alg)
                keyring.activate(key.kid, publish_period=timedelta(0), force=True)
                db.session.commit()
                return str(key.kid)

        return rotate

    def deliver_back_channel_logouts(self) -> int:
        """One round of the outbox worker. Only ever to receivers on 127.0.0.1 that a test started."""
        with self.app.app_context():
            pending = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
            for message in pending:
                client = db.session.get(Client, message.payload.get("client_id"))
                uri = client.backchannel_logout_uri if client else None
                assert uri is None or uri.startswith("http://127.0.0.1:"), f"refusing to deliver to {uri}"
            db.session.remove()
        return outbox_delivery_round(self.app)


# -- live -----------------------------------------------------------------------------------------------------------


class RequestsUserAgent:
    def __init__(self, base_url: str, issuer: str, cookies: bool) -> None:
        self._base = base_url
        self._issuer = issuer
        self._cookies = cookies
        self._session = requests.Session()
        self._session.trust_env = False  # no proxies: talk to the server and nothing else

    def _to_server(self, url: str) -> str:
        if url.startswith(self._issuer):
            return self._base + url[len(self._issuer) :]
        assert origin_of(url) == origin_of(self._base), f"live transport reaches only {self._base}, not {url}"
        return url

    def _to_issuer(self, url: str) -> str:
        return self._issuer + url[len(self._base) :] if url.startswith(self._base) else url

    def request(
        self, method: str, url: str, *, data: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        response = self._session.request(
            method, self._to_server(url), data=data, headers=dict(headers or {}), allow_redirects=False, timeout=10
        )
        if not self._cookies:
            self._session.cookies.clear()
        found = _headers(response.headers.items())
        if "location" in found:
            found["location"] = self._to_issuer(found["location"])
        return HttpResponse(response.status_code, found, response.content, url)


class RequestsTransport:
    live = True

    def __init__(self, base_url: str, issuer: str) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.issuer = issuer.rstrip("/") + "/"

    def user_agent(self, cookies: bool) -> UserAgent:
        return RequestsUserAgent(self.base_url, self.issuer, cookies)


def _skip_live(what: str) -> NoReturn:
    pytest.skip(f"live mode: {what} needs an operator action on the server; this test runs in-process")


class LiveOperator:
    def __init__(self, config: pytest.Config, provider: Provider, citizen: Citizen | None) -> None:
        self.config = config
        self.provider = provider
        self.citizen = citizen

    def default_client(self) -> ConformanceRP:
        client_id = _option(self.config, "--live-client-id")
        key_path = _option(self.config, "--live-client-key")
        if not client_id or not key_path:
            pytest.skip("live mode needs --live-client-id and --live-client-key for an RP registered on the server")
        loaded = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey), "an EC P-256 or RSA key"
        return ConformanceRP(
            provider=self.provider,
            client_id=client_id,
            redirect_uri=_option(self.config, "--live-redirect-uri") or f"https://{client_id}.example.gov.uk/callback",
            post_logout_redirect_uri=_option(self.config, "--live-post-logout-redirect-uri")
            or f"https://{client_id}.example.gov.uk/signed-out",
            private_key=loaded,
            id_token_alg=_option(self.config, "--live-id-token-alg") or "ES256",
        )

    def register_client(self, *, client_secret: str | None = None, **fields: Any) -> ConformanceRP:
        wanted = ", ".join(sorted([*fields, *(["client_secret"] if client_secret else [])])) or "a second client"
        _skip_live(f"a client registered with {wanted}")

    def new_citizen(self) -> SignInCitizen:
        if self.citizen is None:
            pytest.skip("live mode needs --live-email, --live-password and --live-totp-secret")
        return self.citizen

    def key_rotation(self, alg: str = "ES256") -> Callable[[], str]:
        _skip_live("rotating the signing key (flask keys generate / activate)")

    def deliver_back_channel_logouts(self) -> int:
        _skip_live("delivering back-channel logouts to a receiver registered for this test")


# -- fixtures -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_citizen(pytestconfig: pytest.Config) -> Citizen | None:
    """One citizen for the whole live run, so that no TOTP code is ever offered twice."""
    email = _option(pytestconfig, "--live-email")
    password = _option(pytestconfig, "--live-password")
    secret = _option(pytestconfig, "--live-totp-secret")
    if not (email and password and secret):
        return None
    citizen = Citizen("live", email, password, secret)
    # A run that starts within the TOTP step in which the last run signed in would offer a spent code.
    citizen.used_codes.add(pyotp.TOTP(secret).now())
    return citizen


@pytest.fixture
def transport(request: pytest.FixtureRequest) -> Transport:
    live_url = _option(request.config, "--live-url")
    if live_url:
        return RequestsTransport(live_url, _option(request.config, "--live-issuer") or live_url)
    app: Flask = request.getfixturevalue("app")
    return FlaskTransport(app)


@pytest.fixture
def op(transport: Transport) -> Provider:
    return Provider(transport)


@pytest.fixture
def operator(request: pytest.FixtureRequest, transport: Transport, op: Provider) -> Operator:
    if isinstance(transport, FlaskTransport):
        return InProcessOperator(transport.app, op)
    return LiveOperator(request.config, op, request.getfixturevalue("live_citizen"))


@pytest.fixture
def rp(operator: Operator) -> ConformanceRP:
    """The test RP: `private_key_jwt`, one redirect URI, one post-logout redirect URI."""
    return operator.default_client()


@pytest.fixture
def citizen(operator: Operator) -> SignInCitizen:
    """A citizen of their own for each test in-process, so that no test waits for a fresh TOTP code."""
    return operator.new_citizen()


@pytest.fixture
def browser(op: Provider) -> ScriptedBrowser:
    return op.browser()
