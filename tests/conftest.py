from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import delete

from idp import create_app
from idp.admin.commands import DEFAULT_KEYS
from idp.extensions import db
from idp.models import (
    AuditEvent,
    Client,
    IdentityCredential,
    OutboxMessage,
    Passkey,
    ProvingRecord,
    RelyingPartySignIn,
    User,
)
from idp.services import current_services
from tests.helpers import Browser, RelyingPartyUnderTest

ISSUER = "http://localhost:8080/"


def app_config(tmp_path: Path, database_url: str | None = None, redis_url: str = "") -> dict[str, object]:
    return {
        "IDP_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": secrets.token_hex(16),
        "IDP_ISSUER": ISSUER,
        "IDP_IDENTITY_ISSUER": ISSUER,
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp_path / 'idp.sqlite3'}",
        "REDIS_URL": redis_url,
        "IDP_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        # A cheap Argon2 cost keeps the suite fast; the production cost is measured in the benchmark.
        "IDP_ARGON2_MEMORY_KIB": 1024,
        "IDP_ARGON2_TIME_COST": 1,
        "IDP_OUTBOX_IN_PROCESS": False,
    }


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app(app_config(tmp_path_factory.mktemp("idp")))
    with application.app_context():
        upgrade()
        current_services().keyring.ensure_active(DEFAULT_KEYS)
        db.session.commit()
    yield application


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        db.session.rollback()
        for model in (
            IdentityCredential,
            ProvingRecord,
            RelyingPartySignIn,
            OutboxMessage,
            AuditEvent,
            Passkey,
            User,
            Client,
        ):
            db.session.execute(delete(model))
        db.session.commit()
        current_services().store.flush_prefix()  # type: ignore[attr-defined]
        current_services().keyring.forget_cache()


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def rp(app: Flask) -> RelyingPartyUnderTest:
    return RelyingPartyUnderTest.register(app)
