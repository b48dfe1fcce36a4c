"""The real PostgreSQL and Redis the tests use when they are there: skipped on a laptop without them, required in CI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask

POSTGRES_URL = os.environ.get("IDP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"

# For a module-scoped fixture that runs its tests on SQLite and again on PostgreSQL (see migrated_app_on).
SQLITE_AND_POSTGRES = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


def _unavailable(what: str, reason: str) -> None:
    message = f"{what} is not reachable ({reason})"
    if IN_CI:
        pytest.fail(message + ": CI must provide it")
    pytest.skip(message)


def require_postgres() -> str:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        _unavailable("PostgreSQL", type(exc).__name__)
    return POSTGRES_URL


def require_redis() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        _unavailable("Redis", type(exc).__name__)
    return REDIS_URL


@contextmanager
def migrated_app_on(database: str, tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Flask]:
    """An app on a database built by the Alembic migrations: "sqlite", or "postgres" in a database of its own
    (`idp_<name>_<random>`) that is dropped afterwards."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from idp import create_app
    from idp.extensions import db
    from idp.services import current_services
    from tests.conftest import app_config

    tmp_path = tmp_path_factory.mktemp(f"{name}-{database}")
    admin_url: str | None = None
    database_name = f"idp_{name}_{uuid.uuid4().hex[:12]}"
    if database == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'idp.sqlite3'}"
    else:
        admin_url = require_postgres()
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database_name}"'))
        admin.dispose()
        database_url = make_url(admin_url).set(database=database_name).render_as_string(hide_password=False)
    application = create_app(app_config(tmp_path, database_url=database_url))
    try:
        with application.app_context():
            upgrade()
        yield application
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
            store: Any = current_services().store
            store.dispose()
        if admin_url is not None:
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)'))
            admin.dispose()
