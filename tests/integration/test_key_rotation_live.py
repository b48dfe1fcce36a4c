"""Rotating the provider's OIDC and identity keys while services keep signing citizens in.

The sample service's own ID token and core identity JWT validation, with its JWKS and DID document caches
(relying_party_examples/sample_service), fetch the key set and the DID document over HTTP from the provider
served on a local port, honouring their `Cache-Control: max-age`. The operator drives the rotation with
`idp keys rotate` only; between runs, a citizen keeps signing in to three services (ES256 ID tokens, RS256 ID
tokens, and one that asks for a proven identity) and every ID token and core identity JWT is validated. No
validation may fail.

The JWKS and DID document max-age is 2 seconds here instead of a day and an hour, so the test waits for it for
real. The one wait it skips
is the lifetime of the tokens a retired key signed (three minutes for an access token, a day by default for the
identity key), which it must outlast before it is purged: the retired keys' retirement time is moved back.
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
from idp.identity.outcome import IdentityOutcome
from idp.models import SigningKey
from idp.models._types import utcnow
from idp.oidc.journeys import load_journey, record_identity_outcome
from idp.services import current_services
from relying_party_examples.sample_service.core_identity import (
    DidDocumentCache,
    did_for_url,
    validate_core_identity_jwt,
)
from relying_party_examples.sample_service.id_token import validate_id_token
from relying_party_examples.sample_service.jwks import InvalidTokenError, JwksCache
from tests.conftest import ISSUER, app_config
from tests.helpers import Browser, RelyingPartyUnderTest, redirect_params, sign_in
from tests.integration._identity_support import (
    CORE_IDENTITY_JWT,
    DID_URL,
    identity_params,
    identity_service,
    tokens_and_userinfo,
)
from tests.integration._support import exchange, quick_citizen

MAX_AGE = 2
KENNETH = IdentityOutcome(
    vot="P2",
    name=[{"nameParts": [{"value": "KENNETH", "type": "GivenName"}, {"value": "DECERQUEIRA", "type": "FamilyName"}]}],
    birth_date=[{"value": "1965-07-08"}],
)


@pytest.fixture
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A provider of its own, since the test changes the keys every other test signs with."""
    config = {
        **app_config(tmp_path_factory.mktemp("rotation")),
        "IDP_JWKS_MAX_AGE": MAX_AGE,
        "IDP_DID_MAX_AGE": MAX_AGE,
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
def base_url(provider: Flask) -> Iterator[str]:
    """The provider over HTTP on a local port, as the services' caches fetch from it."""
    server = make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@dataclass
class Services:
    """Services signing the same citizen in, each validating tokens through its own caches."""

    app: Flask
    browser: Browser
    relying_parties: list[RelyingPartyUnderTest]
    caches: list[JwksCache]
    identity_rp: RelyingPartyUnderTest
    identity_jwks: JwksCache
    did_documents: DidDocumentCache
    validated: int = 0
    failures: list[str] = field(default_factory=list)
    kids: dict[str, set[str]] = field(default_factory=dict)

    def validate_id_token(self, rp: RelyingPartyUnderTest, cache: JwksCache, tokens: dict[str, Any]) -> str:
        id_token = tokens["id_token"]
        header = jwt.get_unverified_header(id_token)
        self.kids.setdefault(header["alg"], set()).add(header["kid"])
        try:
            claims = validate_id_token(
                id_token,
                keys=cache,
                issuer=ISSUER,
                client_id=rp.client_id,
                nonce=rp.last_nonce,
                access_token=tokens["access_token"],
                expected_vot="Cl.Cm",
            )
            self.validated += 1
            return str(claims["sub"])
        except InvalidTokenError as error:
            self.failures.append(f"{header['alg']} {header['kid'][:12]}: {error}")
            return ""

    def sign_in_once(self) -> None:
        for rp, cache in zip(self.relying_parties, self.caches, strict=True):
            response = self.browser.authorize(rp.authorize_params())  # silent: the citizen is signed in
            code = redirect_params(response.location)["code"]
            self.validate_id_token(rp, cache, exchange(self.browser.client, rp, code).get_json())
        self.prove_identity_once()

    def prove_identity_once(self) -> None:
        """The identity service's request, with the proving journey's outcome handed back as it finishes."""
        self.browser.get("/authorize", query_string=identity_params(self.identity_rp))
        with self.browser.client.session_transaction() as session:
            journey_id = session["journey_id"]
        with self.app.test_request_context():
            journey = load_journey(journey_id)
            assert journey is not None
            record_identity_outcome(journey, KENNETH.to_dict())
        response = self.browser.get("/authorize/continue")
        tokens, userinfo = tokens_and_userinfo(self.browser.client, self.identity_rp, response.location)
        subject = self.validate_id_token(self.identity_rp, self.identity_jwks, tokens)
        core_identity = userinfo[CORE_IDENTITY_JWT]
        kid = jwt.get_unverified_header(core_identity)["kid"]
        self.kids.setdefault("identity", set()).add(kid.partition("#")[2])
        try:
            validate_core_identity_jwt(
                core_identity,
                did_documents=self.did_documents,
                expected_did=did_for_url(DID_URL),
                identity_issuer=ISSUER,
                client_id=self.identity_rp.client_id,
                subject=subject,
                required_vot="P2",
            )
            self.validated += 1
        except InvalidTokenError as error:
            self.failures.append(f"identity {kid[-12:]}: {error}")

    def keep_signing_in_until(self, moment: datetime | None) -> None:
        """Sign in at least once, and keep at it until the clock passes `moment`."""
        while True:
            self.sign_in_once()
            if moment is None or utcnow() >= moment:
                return
            time.sleep(0.2)


def services_for(app: Flask, base_url: str, min_refetch_interval: float) -> Services:
    relying_parties = [
        RelyingPartyUnderTest.register(app, id_token_signing_alg="ES256"),
        RelyingPartyUnderTest.register(app, id_token_signing_alg="RS256"),
    ]
    browser = Browser(app.test_client())
    sign_in(browser, relying_parties[0], quick_citizen(app))
    jwks_uri = base_url + ".well-known/jwks.json"
    return Services(
        app,
        browser,
        relying_parties,
        [JwksCache(jwks_uri, min_refetch_interval=min_refetch_interval) for _ in relying_parties],
        identity_service(app),
        JwksCache(jwks_uri, min_refetch_interval=min_refetch_interval),
        DidDocumentCache(base_url + ".well-known/did.json"),
    )


def rotate(app: Flask, purpose: str) -> list[dict[str, Any]]:
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--purpose", purpose, "--json"])
    assert result.exit_code == 0, result.output
    report: list[dict[str, Any]] = json.loads(result.stdout)
    return report


def rotate_all(app: Flask) -> list[dict[str, Any]]:
    return rotate(app, "oidc") + rotate(app, "identity")


def steps(report: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(entry["alg"], step["step"]) for entry in report for step in entry["done"]]


def next_at(report: list[dict[str, Any]]) -> datetime:
    return max(datetime.fromisoformat(entry["next"]["at"].rstrip("Z")) for entry in report)


def rotated_keys(app: Flask) -> dict[str, str]:
    with app.app_context():
        rows = db.session.scalars(select(SigningKey).where(SigningKey.purpose.in_(["oidc", "identity"])))
        return {row.kid: row.state for row in rows}


def test_rotating_the_oidc_and_identity_keys_fails_no_service(provider: Flask, base_url: str) -> None:
    app = provider
    services = services_for(app, base_url, min_refetch_interval=1.0)
    first_keys = set(rotated_keys(app))
    services.keep_signing_in_until(None)

    report = rotate_all(app)  # generate: published, not signing
    assert steps(report) == [("ES256", "generate"), ("RS256", "generate"), ("ES256", "generate")]
    services.keep_signing_in_until(next_at(report))

    report = rotate_all(app)  # activate: the services have had the max-age to fetch the new keys
    assert steps(report) == [("ES256", "activate"), ("RS256", "activate"), ("ES256", "activate")]
    assert sorted(rotated_keys(app).values()) == ["active"] * 3 + ["retired"] * 3
    for _ in range(3):
        services.keep_signing_in_until(None)

    report = rotate_all(app)  # nothing due: the retired keys are still published
    assert steps(report) == [] and all(entry["next"]["step"] == "purge" for entry in report)
    services.keep_signing_in_until(None)
    with app.app_context():
        for row in db.session.scalars(select(SigningKey).where(SigningKey.state == "retired")):
            assert row.retired_at is not None
            row.retired_at -= timedelta(days=1)  # the tokens' lifetimes, not waited for
        db.session.commit()
    report = rotate_all(app)
    assert steps(report) == [("ES256", "purge"), ("RS256", "purge"), ("ES256", "purge")]
    assert all(entry["next"]["step"] == "complete" for entry in report)
    for _ in range(3):
        services.keep_signing_in_until(None)

    assert services.failures == []
    assert services.validated >= 40
    final_keys = set(rotated_keys(app))
    assert not final_keys & first_keys and len(final_keys) == 3
    for kind in ("ES256", "RS256", "identity"):
        # Every service saw tokens from the old key and from the new one.
        assert len(services.kids[kind]) == 2 and services.kids[kind] & first_keys and services.kids[kind] & final_keys


def test_a_forced_early_activation_does_break_a_service_with_a_cached_jwks(provider: Flask, base_url: str) -> None:
    """The control: the same services and checks do notice a key that signs before they could have fetched it."""
    app = provider
    services = services_for(app, base_url, min_refetch_interval=60.0)
    services.keep_signing_in_until(None)
    runner = app.test_cli_runner()
    generated = runner.invoke(args=["keys", "generate", "--purpose", "oidc", "--alg", "ES256", "--json"])
    kid = json.loads(generated.stdout)["kid"]
    forced = runner.invoke(args=["keys", "activate", kid, "--force"])
    assert forced.exit_code == 0 and "may reject tokens signed with this key" in forced.output
    assert services.failures == []
    services.sign_in_once()
    assert services.failures[0] == f"ES256 {kid[:12]}: signing key (kid) not in the provider's JWKS"
