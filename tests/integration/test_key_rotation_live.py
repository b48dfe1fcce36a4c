"""Rotating the provider's OIDC keys while services keep signing citizens in.

The sample service's own ID token validation and JWKS cache (relying_party_examples/sample_service) fetch the
key set over HTTP from the provider served on a local port, honouring its `Cache-Control: max-age`. The operator
drives the rotation with `idp keys rotate` only; between runs, citizens keep signing in to two services (one
with ES256 ID tokens, one with RS256) and every ID token is validated. No validation may fail.

The JWKS max-age is 2 seconds here instead of a day, so the test waits for it for real. The one wait it skips
is the three minutes an access token lives (the longest-lived token these keys sign), which a retired key must
outlast before it is purged: the retired keys' retirement time is moved back instead.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from idp import create_app
from idp.admin.commands import DEFAULT_KEYS
from idp.extensions import db
from idp.models import SigningKey
from idp.models._types import utcnow
from idp.services import current_services
from relying_party_examples.sample_service.id_token import validate_id_token
from relying_party_examples.sample_service.jwks import InvalidTokenError, JwksCache
from tests.conftest import ISSUER, app_config
from tests.helpers import Browser, RelyingPartyUnderTest, redirect_params, sign_in
from tests.integration._support import exchange, quick_citizen

JWKS_MAX_AGE = 2


@pytest.fixture
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A provider of its own, since the test changes the keys every other test signs with."""
    config = {
        **app_config(tmp_path_factory.mktemp("rotation")),
        "IDP_JWKS_MAX_AGE": JWKS_MAX_AGE,
        # One process here: a key change reaches the published JWKS at once.
        "IDP_KEY_PUBLICATION_DELAY": 0,
    }
    application = create_app(config)
    with application.app_context():
        upgrade()
        current_services().keyring.ensure_active(DEFAULT_KEYS)
        db.session.commit()
    yield application


@pytest.fixture
def jwks_uri(provider: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@dataclass
class Services:
    """Two services signing the same citizen in, each validating ID tokens through its own JWKS cache."""

    browser: Browser
    relying_parties: list[RelyingPartyUnderTest]
    caches: list[JwksCache]
    validated: int = 0
    failures: list[str] = field(default_factory=list)
    kids: dict[str, set[str]] = field(default_factory=dict)

    def sign_in_once(self) -> None:
        for rp, cache in zip(self.relying_parties, self.caches, strict=True):
            response = self.browser.authorize(rp.authorize_params())  # silent: the citizen is signed in
            code = redirect_params(response.location)["code"]
            tokens: dict[str, Any] = exchange(self.browser.client, rp, code).get_json()
            id_token = tokens["id_token"]
            header = jwt.get_unverified_header(id_token)
            self.kids.setdefault(header["alg"], set()).add(header["kid"])
            try:
                validate_id_token(
                    id_token,
                    keys=cache,
                    issuer=ISSUER,
                    client_id=rp.client_id,
                    nonce=rp.last_nonce,
                    access_token=tokens["access_token"],
                    expected_vot="Cl.Cm",
                )
                self.validated += 1
            except InvalidTokenError as error:
                self.failures.append(f"{header['alg']} {header['kid'][:12]}: {error}")

    def keep_signing_in_until(self, moment: datetime | None) -> None:
        """Sign in at least once, and keep at it until the clock passes `moment`."""
        while True:
            self.sign_in_once()
            if moment is None or utcnow() >= moment:
                return
            time.sleep(0.2)


def services_for(app: Flask, jwks_uri: str, min_refetch_interval: float) -> Services:
    relying_parties = [
        RelyingPartyUnderTest.register(app, id_token_signing_alg="ES256"),
        RelyingPartyUnderTest.register(app, id_token_signing_alg="RS256"),
    ]
    browser = Browser(app.test_client())
    sign_in(browser, relying_parties[0], quick_citizen(app))
    caches = [JwksCache(jwks_uri, min_refetch_interval=min_refetch_interval) for _ in relying_parties]
    return Services(browser, relying_parties, caches)


def rotate(app: Flask) -> list[dict[str, Any]]:
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--purpose", "oidc", "--json"])
    assert result.exit_code == 0, result.output
    report: list[dict[str, Any]] = json.loads(result.stdout)
    return report


def steps(report: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(entry["alg"], step["step"]) for entry in report for step in entry["done"]]


def next_at(report: list[dict[str, Any]]) -> datetime:
    return max(datetime.fromisoformat(entry["next"]["at"].rstrip("Z")) for entry in report)


def oidc_keys(app: Flask) -> dict[str, str]:
    with app.app_context():
        return {
            row.kid: row.state for row in db.session.scalars(select(SigningKey).where(SigningKey.purpose == "oidc"))
        }


def test_rotating_the_oidc_keys_fails_no_service(provider: Flask, jwks_uri: str) -> None:
    app = provider
    services = services_for(app, jwks_uri, min_refetch_interval=1.0)
    first_keys = set(oidc_keys(app))
    services.keep_signing_in_until(None)

    report = rotate(app)  # generate: published, not signing
    assert steps(report) == [("ES256", "generate"), ("RS256", "generate")]
    services.keep_signing_in_until(next_at(report))

    report = rotate(app)  # activate: the services have had the max-age to fetch the new keys
    assert steps(report) == [("ES256", "activate"), ("RS256", "activate")]
    assert sorted(oidc_keys(app).values()) == ["active", "active", "retired", "retired"]
    for _ in range(3):
        services.keep_signing_in_until(None)

    report = rotate(app)  # nothing due: the retired keys are still published
    assert steps(report) == [] and all(entry["next"]["step"] == "purge" for entry in report)
    services.keep_signing_in_until(None)
    with app.app_context():
        for row in db.session.scalars(select(SigningKey).where(SigningKey.state == "retired")):
            assert row.retired_at is not None
            row.retired_at -= timedelta(seconds=180)  # the access token's lifetime, not waited for
        db.session.commit()
    report = rotate(app)
    assert steps(report) == [("ES256", "purge"), ("RS256", "purge")]
    assert all(entry["next"]["step"] == "complete" for entry in report)
    for _ in range(3):
        services.keep_signing_in_until(None)

    assert services.failures == []
    assert services.validated >= 20
    final_keys = set(oidc_keys(app))
    assert not final_keys & first_keys and len(final_keys) == 2
    for alg in ("ES256", "RS256"):
        # Every service saw tokens from the old key and from the new one.
        assert len(services.kids[alg]) == 2 and services.kids[alg] & first_keys and services.kids[alg] & final_keys


def test_a_forced_early_activation_does_break_a_service_with_a_cached_jwks(provider: Flask, jwks_uri: str) -> None:
    app = provider
    """The control: the same services and checks do notice a key that signs before they could have fetched it."""
    services = services_for(app, jwks_uri, min_refetch_interval=60.0)
    services.keep_signing_in_until(None)
    runner = app.test_cli_runner()
    generated = runner.invoke(args=["keys", "generate", "--purpose", "oidc", "--alg", "ES256", "--json"])
    kid = json.loads(generated.stdout)["kid"]
    forced = runner.invoke(args=["keys", "activate", kid, "--force"])
    assert forced.exit_code == 0 and "may reject tokens signed with this key" in forced.output
    services.sign_in_once()
    assert services.failures == [f"ES256 {kid[:12]}: signing key (kid) not in the provider's JWKS"]
