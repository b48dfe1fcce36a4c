"""The real PostgreSQL and Redis the tests use when they are there: skipped on a laptop without them, required in CI."""

from __future__ import annotations

import os

import pytest

POSTGRES_URL = os.environ.get("IDP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


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
