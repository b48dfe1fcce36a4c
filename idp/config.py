"""Settings, read from environment variables with embedded defaults.

The defaults are the embedded single-machine setup (`make run`): SQLite, the SQL store, keys under `keys/`.
Production sets `DATABASE_URL`, `REDIS_URL`, `IDP_ISSUER`, `IDP_MASTER_KEY` and `SECRET_KEY`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def with_trailing_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def settings_from_environment() -> dict[str, Any]:
    """Every setting the app reads. `docker-compose.yml` is checked against these names."""
    env = os.environ
    environment = env.get("IDP_ENV", "development")
    issuer = with_trailing_slash(env.get("IDP_ISSUER", "http://localhost:8080/"))
    return {
        "IDP_ENV": environment,
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "IDP_ISSUER": issuer,
        "IDP_IDENTITY_ISSUER": with_trailing_slash(env.get("IDP_IDENTITY_ISSUER", issuer)),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'instance' / 'idp.sqlite3'}"),
        "REDIS_URL": env.get("REDIS_URL", ""),
        "IDP_MASTER_KEY": env.get("IDP_MASTER_KEY", ""),
        "IDP_MASTER_KEY_PREVIOUS": env.get("IDP_MASTER_KEY_PREVIOUS", ""),
        "IDP_MASTER_KEY_FILE": env.get("IDP_MASTER_KEY_FILE", str(PROJECT_ROOT / "keys" / "master.key")),
        "IDP_TRUST_PROXY": _bool(env.get("IDP_TRUST_PROXY"), False),
        "IDP_IDENTITY_PROVING_AVAILABLE": _bool(env.get("IDP_IDENTITY_PROVING_AVAILABLE"), True),
        # Identity proving: the GPG 45 policy ("onelogin" or "gpg45"), and the test mode whose key production
        # does not trust (on in development and test, off in production).
        "IDP_IDENTITY_POLICY": env.get("IDP_IDENTITY_POLICY", "onelogin"),
        "IDP_IDENTITY_TEST_MODE": _bool(env.get("IDP_IDENTITY_TEST_MODE"), environment != "production"),
        # One Login's lifetimes (reference §3.3): code 300 s, access token 180 s, ID token 120 s, session 3600 s.
        "IDP_AUTH_CODE_TTL": _int("IDP_AUTH_CODE_TTL", 300),
        "IDP_ACCESS_TOKEN_TTL": _int("IDP_ACCESS_TOKEN_TTL", 180),
        "IDP_ID_TOKEN_TTL": _int("IDP_ID_TOKEN_TTL", 120),
        "IDP_SESSION_IDLE_TTL": _int("IDP_SESSION_IDLE_TTL", 3600),
        "IDP_JOURNEY_TTL": _int("IDP_JOURNEY_TTL", 3600),
        "IDP_JWKS_MAX_AGE": _int("IDP_JWKS_MAX_AGE", 86400),
        "IDP_DID_MAX_AGE": _int("IDP_DID_MAX_AGE", 3600),  # reference §1.4: max-age=3600, private
        # How long a new key may take to reach every process's published documents (keyring cache, document rebuild).
        "IDP_KEY_PUBLICATION_DELAY": _int("IDP_KEY_PUBLICATION_DELAY", 10),
        # How long a retired identity key stays published: longer than any core identity JWT it signed lives.
        "IDP_IDENTITY_KEY_RETENTION": _int("IDP_IDENTITY_KEY_RETENTION", 86400),
        "IDP_CLIENT_JWKS_TIMEOUT": float(env.get("IDP_CLIENT_JWKS_TIMEOUT", "5")),
        # Argon2id cost: OWASP's recommended minimum is 19 MiB, 2 iterations, 1 lane.
        "IDP_ARGON2_MEMORY_KIB": _int("IDP_ARGON2_MEMORY_KIB", 19456),
        "IDP_ARGON2_TIME_COST": _int("IDP_ARGON2_TIME_COST", 2),
        "IDP_ARGON2_CONCURRENCY": _int("IDP_ARGON2_CONCURRENCY", 1),
        "IDP_SIGN_IN_ATTEMPTS": _int("IDP_SIGN_IN_ATTEMPTS", 6),
        "IDP_SIGN_IN_LOCKOUT_SECONDS": _int("IDP_SIGN_IN_LOCKOUT_SECONDS", 900),
        # Changing the email or the security codes needs the password again unless given this recently.
        "IDP_ACCOUNT_CONFIRM_PASSWORD_SECONDS": _int("IDP_ACCOUNT_CONFIRM_PASSWORD_SECONDS", 300),
        # Lockouts as One Login: 6 wrong passwords, 6 wrong codes, 6 code requests; each locks its step.
        "IDP_PASSWORD_ATTEMPTS": _int("IDP_PASSWORD_ATTEMPTS", _int("IDP_SIGN_IN_ATTEMPTS", 6)),
        "IDP_CODE_ATTEMPTS": _int("IDP_CODE_ATTEMPTS", _int("IDP_SIGN_IN_ATTEMPTS", 6)),
        "IDP_CODE_REQUESTS": _int("IDP_CODE_REQUESTS", 6),
        "IDP_EMAIL_CODE_TTL": _int("IDP_EMAIL_CODE_TTL", 900),
        "IDP_SMS_CODE_TTL": _int("IDP_SMS_CODE_TTL", 900),
        # GOV.UK Notify (production): the API key, and a template id per message and language (JSON).
        "IDP_NOTIFY_API_KEY": env.get("IDP_NOTIFY_API_KEY", ""),
        "IDP_NOTIFY_TEMPLATE_IDS": env.get("IDP_NOTIFY_TEMPLATE_IDS", ""),
        "IDP_NOTIFY_URL": env.get("IDP_NOTIFY_URL", ""),
        # How long a passkey ceremony's challenge may be answered (WebAuthn recommends 300 s with user verification).
        "IDP_PASSKEY_CHALLENGE_TTL": _int("IDP_PASSKEY_CHALLENGE_TTL", 300),
        "IDP_OUTBOX_IN_PROCESS": _bool(env.get("IDP_OUTBOX_IN_PROCESS"), environment == "development"),
        "IDP_OUTBOX_MAX_ATTEMPTS": _int("IDP_OUTBOX_MAX_ATTEMPTS", 12),
        "IDP_LOG_LEVEL": env.get("IDP_LOG_LEVEL", "INFO"),
        "IDP_METRICS_TOKEN": env.get("IDP_METRICS_TOKEN", ""),
        # hide_parameters: a database error logged with its exception never carries the values (hashes, emails).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
    }
