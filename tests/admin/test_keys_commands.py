"""`idp keys`: list, generate, activate, retire, purge, rotate, rewrap. The clock is moved by ageing the keys'
recorded dates, which is what the rules read."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from idp import create_app
from idp.admin.commands import DEFAULT_KEYS
from idp.extensions import db
from idp.keys.encryption import SecretBox
from idp.models import SigningKey, User
from idp.services import current_services
from tests.admin.conftest import ACTOR, RunCommand, audit_events, json_of
from tests.backends import require_postgres
from tests.conftest import app_config
from tests.helpers import create_citizen

HOUR = 3600


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app of its own: these tests change the provider's keys, which the other tests sign with."""
    config = {**app_config(tmp_path_factory.mktemp("keys")), "IDP_JWKS_MAX_AGE": HOUR - 10}
    application = create_app(config)  # the keys are published for an hour: max-age + 10 s to reach every process
    with application.app_context():
        upgrade()
        current_services().keyring.ensure_active(DEFAULT_KEYS)
        db.session.commit()
    yield application


@pytest.fixture(autouse=True)
def _only_the_first_keys(app: Flask) -> Iterator[None]:
    """Each test starts with the two active keys of the first run, whatever the one before did to them."""
    columns = [column.name for column in SigningKey.__table__.columns]
    with app.app_context():
        first = [{name: getattr(row, name) for name in columns} for row in db.session.scalars(select(SigningKey))]
    yield
    with app.app_context():
        for row in db.session.scalars(select(SigningKey)).all():
            db.session.delete(row)
        db.session.flush()
        db.session.add_all(SigningKey(**values) for values in first)
        db.session.commit()
        current_services().keyring.forget_cache()


def keys(app: Flask) -> dict[str, tuple[str, str, str]]:
    """kid -> (purpose, alg, state)"""
    with app.app_context():
        return {row.kid: (row.purpose, row.alg, row.state) for row in db.session.scalars(select(SigningKey))}


def active_kid(app: Flask, alg: str = "ES256") -> str:
    return next(kid for kid, (purpose, a, state) in keys(app).items() if (purpose, a, state) == ("oidc", alg, "active"))


def age(app: Flask, kid: str, seconds: int) -> None:
    """Move a key's dates into the past, as if `seconds` had gone by."""
    with app.app_context():
        row = db.session.scalars(select(SigningKey).where(SigningKey.kid == kid)).one()
        row.created_at -= timedelta(seconds=seconds)
        if row.activated_at:
            row.activated_at -= timedelta(seconds=seconds)
        if row.retired_at:
            row.retired_at -= timedelta(seconds=seconds)
        db.session.commit()
        current_services().keyring.forget_cache()


def published_kids(app: Flask) -> set[str]:
    with app.app_context():
        current_services().keyring.forget_cache()
        return {jwk["kid"] for jwk in current_services().keyring.jwks("oidc")["keys"]}


# -- list ---------------------------------------------------------------------------------------------------------


def test_list_shows_every_key_with_its_dates(app: Flask, idp: RunCommand) -> None:
    output = idp("keys", "list").output
    assert output.splitlines()[0].split() == [
        "PURPOSE",
        "KID",
        "ALG",
        "STATE",
        "CREATED",
        "ACTIVATED",
        "RETIRED",
        "PURGE",
        "AFTER",
    ]
    for kid in keys(app):
        assert kid in output


def test_list_json_shape(app: Flask, idp: RunCommand) -> None:
    listed = json_of(idp("keys", "list", "--json"))
    assert {entry["kid"] for entry in listed} == set(keys(app))
    assert set(listed[0]) == {"purpose", "kid", "alg", "state", "created", "activated", "retired", "purge_after"}
    assert {(entry["alg"], entry["state"]) for entry in listed} == {("ES256", "active"), ("RS256", "active")}
    oidc = json_of(idp("keys", "list", "--purpose", "oidc", "--json"))
    assert sorted((entry["purpose"], entry["alg"]) for entry in oidc) == [("oidc", "ES256"), ("oidc", "RS256")]
    assert json_of(idp("keys", "list", "--purpose", "payments", "--json")) == []


# -- generate -----------------------------------------------------------------------------------------------------


def test_generate_publishes_a_pending_key_that_does_not_sign(app: Flask, idp: RunCommand) -> None:
    signing = active_kid(app)
    created = json_of(idp("keys", "generate", "--purpose", "oidc", "--alg", "ES256", "--json"))
    assert created["state"] == "pending" and created["alg"] == "ES256" and created["activate_after"]
    assert created["kid"] in published_kids(app)
    with app.app_context():
        assert current_services().keyring.active_kid("oidc", "ES256") == signing
    [event] = audit_events(app, "key_generated")
    assert event.actor == ACTOR and event.details["kid"] == created["kid"]


def test_generate_says_when_the_key_may_be_activated(idp: RunCommand) -> None:
    output = idp("keys", "generate", "--purpose", "identity").output
    assert "Generated pending identity ES256 key" in output and "activate it after" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--purpose", "payments"), "unknown key purpose 'payments'"),
        (("--purpose", "identity", "--alg", "RS256"), "identity keys sign with ES256, not RS256"),
        (("--purpose", "oidc", "--alg", "HS256"), "oidc keys sign with ES256, RS256, not HS256"),
    ],
)
def test_generate_refuses_what_cannot_sign(app: Flask, idp: RunCommand, args: tuple[str, ...], message: str) -> None:
    before = keys(app)
    result = idp("keys", "generate", *args, code=1)
    assert message in result.output
    assert keys(app) == before and audit_events(app, "key_generated") == []


# -- activate -----------------------------------------------------------------------------------------------------


def test_activation_waits_for_the_jwks_max_age(app: Flask, idp: RunCommand) -> None:
    kid = json_of(idp("keys", "generate", "--purpose", "oidc", "--json"))["kid"]
    result = idp("keys", "activate", kid, code=1)
    assert "relying parties cache the JWKS for 3600 s" in result.output and "--force" in result.output
    assert keys(app)[kid][2] == "pending" and audit_events(app, "key_activated") == []


def test_activation_retires_the_key_it_replaces(app: Flask, idp: RunCommand) -> None:
    old = active_kid(app)
    kid = json_of(idp("keys", "generate", "--purpose", "oidc", "--json"))["kid"]
    age(app, kid, HOUR + 1)
    activated = json_of(idp("keys", "activate", kid, "--json"))
    assert activated["state"] == "active" and activated["retired_keys"] == [old] and activated["forced"] is False
    assert keys(app)[old][2] == "retired" and old in published_kids(app)
    with app.app_context():
        assert current_services().keyring.active_kid("oidc", "ES256") == kid
    [event] = audit_events(app, "key_activated")
    assert event.actor == ACTOR and event.details == {
        "purpose": "oidc",
        "alg": "ES256",
        "kid": kid,
        "forced": False,
        "retired": [old],
    }


def test_forced_activation_says_what_may_break(app: Flask, idp: RunCommand) -> None:
    kid = json_of(idp("keys", "generate", "--purpose", "oidc", "--json"))["kid"]
    output = idp("keys", "activate", kid, "--force").output
    assert "Warning" in output and "may reject tokens signed with this key" in output
    assert keys(app)[kid][2] == "active"
    [event] = audit_events(app, "key_activated")
    assert event.details["forced"] is True


def test_activate_refuses_unknown_and_non_pending_keys(app: Flask, idp: RunCommand) -> None:
    assert "no key has kid nope" in idp("keys", "activate", "nope", code=1).output
    result = idp("keys", "activate", active_kid(app), code=1)
    assert "only a pending key can be activated; this one is active" in result.output
    assert audit_events(app, "key_activated") == []


# -- retire and purge ---------------------------------------------------------------------------------------------


def test_retiring_the_signing_key_is_refused_without_force(app: Flask, idp: RunCommand) -> None:
    kid = active_kid(app)
    assert "leaves nothing to sign them" in idp("keys", "retire", kid, code=1).output
    assert keys(app)[kid][2] == "active" and audit_events(app, "key_retired") == []
    retired = json_of(idp("keys", "retire", kid, "--force", "--json"))
    assert retired["state"] == "retired" and retired["purge_after"]
    assert kid in published_kids(app)
    [event] = audit_events(app, "key_retired")
    assert event.actor == ACTOR and event.details["kid"] == kid


def test_a_pending_key_can_be_retired(app: Flask, idp: RunCommand) -> None:
    kid = json_of(idp("keys", "generate", "--purpose", "oidc", "--json"))["kid"]
    assert "Retired oidc ES256 key" in idp("keys", "retire", kid).output
    assert "only an active or pending key can be retired" in idp("keys", "retire", kid, code=1).output
    assert len(audit_events(app, "key_retired")) == 1


def test_purge_removes_retired_keys_only_once_their_tokens_have_expired(app: Flask, idp: RunCommand) -> None:
    kid = json_of(idp("keys", "generate", "--purpose", "oidc", "--json"))["kid"]
    idp("keys", "retire", kid)
    assert "No retired key is due" in idp("keys", "purge").output
    assert kid in keys(app) and audit_events(app, "key_purged") == []
    age(app, kid, 180)  # the longest token lifetime: the access token's 180 s
    purged = json_of(idp("keys", "purge", "--json"))
    assert [entry["kid"] for entry in purged] == [kid]
    assert kid not in keys(app) and kid not in published_kids(app)
    [event] = audit_events(app, "key_purged")
    assert event.actor == ACTOR and event.details["kid"] == kid


# -- rotate -------------------------------------------------------------------------------------------------------


def test_rotate_goes_through_every_state_as_the_clock_allows(app: Flask, idp: RunCommand) -> None:
    old = active_kid(app)
    first = json_of(idp("keys", "rotate", "--purpose", "oidc", "--alg", "ES256", "--json"))
    [entry] = first
    assert [step["step"] for step in entry["done"]] == ["generate"]
    new = entry["done"][0]["kid"]
    assert keys(app)[new][2] == "pending"
    assert entry["next"]["step"] == "activate" and entry["next"]["kid"] == new and entry["next"]["at"]

    waiting = idp("keys", "rotate", "--purpose", "oidc", "--alg", "ES256").output
    assert "nothing is due now" in waiting and f"activate {new}" in waiting
    assert keys(app)[new][2] == "pending"

    age(app, new, HOUR)
    [entry] = json_of(idp("keys", "rotate", "--purpose", "oidc", "--alg", "ES256", "--json"))
    assert [(step["step"], step["kid"]) for step in entry["done"]] == [("activate", new)]
    assert keys(app)[new][2] == "active" and keys(app)[old][2] == "retired"
    assert entry["next"]["step"] == "purge" and entry["next"]["kid"] == old

    [entry] = json_of(idp("keys", "rotate", "--purpose", "oidc", "--alg", "ES256", "--json"))
    assert entry["done"] == [] and entry["next"]["step"] == "purge"

    age(app, old, 180)
    [entry] = json_of(idp("keys", "rotate", "--purpose", "oidc", "--alg", "ES256", "--json"))
    assert [(step["step"], step["kid"]) for step in entry["done"]] == [("purge", old)]
    assert entry["next"] == {"step": "complete", "kid": None, "at": None}
    assert old not in keys(app)
    assert [e.event for e in audit_events(app, "key_generated") + audit_events(app, "key_activated")] == [
        "key_generated",
        "key_activated",
    ]
    assert len(audit_events(app, "key_purged")) == 1


def test_rotate_without_alg_rotates_every_algorithm_of_the_purpose(idp: RunCommand) -> None:
    report = json_of(idp("keys", "rotate", "--purpose", "oidc", "--json"))
    assert [entry["alg"] for entry in report] == ["ES256", "RS256"]
    assert all(entry["done"][0]["step"] == "generate" for entry in report)


def test_rotate_gives_a_purpose_without_keys_an_active_one(app: Flask, idp: RunCommand) -> None:
    [entry] = json_of(idp("keys", "rotate", "--purpose", "identity:passport", "--json"))
    assert entry["done"][0]["step"] == "generate_active"
    assert keys(app)[entry["done"][0]["kid"]] == ("identity:passport", "ES256", "active")


def test_an_identity_checks_key_is_never_purged(app: Flask, idp: RunCommand) -> None:
    """Its credentials are stored and verified again on reuse: a rotation ends at the activation."""
    purpose = "issuer:passport"
    old = next(kid for kid, (p, _, state) in keys(app).items() if p == purpose and state == "active")
    [entry] = json_of(idp("keys", "rotate", "--purpose", purpose, "--json"))
    new = entry["done"][0]["kid"]
    [entry] = json_of(idp("keys", "rotate", "--purpose", purpose, "--json"))
    assert [(s["step"], s["kid"]) for s in entry["done"]] == [("activate", new)]  # a check's key is not published
    assert entry["next"]["step"] == "complete"
    age(app, old, 1000 * 86400)
    assert json_of(idp("keys", "purge", "--json")) == []
    [listed] = [k for k in json_of(idp("keys", "list", "--purpose", purpose, "--json")) if k["kid"] == old]
    assert listed["state"] == "retired" and listed["purge_after"] == "never"


def test_rotate_refuses_an_unknown_purpose(app: Flask, idp: RunCommand) -> None:
    before = keys(app)
    assert "unknown key purpose 'tokens'" in idp("keys", "rotate", "--purpose", "tokens", code=1).output
    assert "not PS256" in idp("keys", "rotate", "--purpose", "oidc", "--alg", "PS256", code=1).output
    assert keys(app) == before


# -- rewrap -------------------------------------------------------------------------------------------------------


def new_master_key() -> tuple[str, bytes]:
    raw = secrets.token_bytes(32)
    return base64.urlsafe_b64encode(raw).decode().rstrip("="), raw


def sealed_values(app: Flask) -> dict[str, bytes]:
    with app.app_context():
        values: dict[str, bytes | None] = {
            row.id: row.private_key_encrypted for row in db.session.scalars(select(SigningKey))
        }
        values.update({f"totp:{u.id}": u.totp_secret_encrypted for u in db.session.scalars(select(User))})
        return {k: bytes(v) for k, v in values.items() if v is not None}


def test_rewrap_reseals_every_secret_under_the_new_master_key(app: Flask, idp: RunCommand, tmp_path: Path) -> None:
    citizen = create_citizen(app)
    encoded, raw = new_master_key()
    key_file = tmp_path / "new.key"
    key_file.write_text(encoded + "\n")
    result = json_of(idp("keys", "rewrap", "--new-key-file", str(key_file), "--json"))
    assert result["rewrapped"]["signing_keys.private_key_encrypted"] == len(keys(app))
    assert result["rewrapped"]["users.totp_secret_encrypted"] == 1
    new_box = SecretBox(raw)
    for context, sealed in sealed_values(app).items():
        assert new_box.open(sealed, context)  # raises if it does not open
    assert new_box.open(sealed_values(app)[f"totp:{citizen.user_id}"], f"totp:{citizen.user_id}") == (
        citizen.totp_secret.encode()
    )
    [event] = audit_events(app, "master_key_rewrapped")
    assert event.actor == ACTOR and event.details["rewrapped"] == result["rewrapped"]
    # Put the keys back under the app's master key, for the tests that follow.
    with app.app_context():
        old_box = current_services().secret_box
    try:
        app.extensions["idp"].secret_box = SecretBox(raw)
        idp("keys", "rewrap", "--new-key-env", "OLD_KEY", env={"OLD_KEY": app.config["IDP_MASTER_KEY"]})
    finally:
        app.extensions["idp"].secret_box = old_box
    with app.app_context():
        current_services().keyring.sign({"sub": "x"}, "oidc", "ES256")


def test_rewrap_from_an_environment_variable(app: Flask, idp: RunCommand) -> None:
    idp("keys", "rewrap", "--new-key-env", "SAME_KEY", env={"SAME_KEY": app.config["IDP_MASTER_KEY"]})
    with app.app_context():
        current_services().keyring.forget_cache()
        for context, sealed in sealed_values(app).items():
            assert current_services().secret_box.open(sealed, context)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {}, "give exactly one of --new-key-file or --new-key-env"),
        (("--new-key-env", "UNSET_KEY"), {}, "the environment variable UNSET_KEY is not set"),
        (("--new-key-env", "SHORT_KEY"), {"SHORT_KEY": "c2hvcnQ"}, "the master key must be 32 bytes"),
        (("--new-key-env", "BAD_KEY"), {"BAD_KEY": "not base64 at all!"}, "cannot be used"),
        (("--new-key-file", "/nonexistent/new.key"), {}, "No such file"),
    ],
)
def test_rewrap_refuses_an_unusable_key_and_changes_nothing(
    app: Flask, idp: RunCommand, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    before = sealed_values(app)
    result = idp("keys", "rewrap", *args, env=env, code=2 if not args else 1)
    assert message in result.output
    assert sealed_values(app) == before and audit_events(app, "master_key_rewrapped") == []


def test_rewrap_is_all_or_nothing(app: Flask, idp: RunCommand) -> None:
    citizen = create_citizen(app)
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.totp_secret_encrypted = SecretBox(secrets.token_bytes(32)).seal(b"x", f"totp:{user.id}")
        db.session.commit()
    before = sealed_values(app)
    encoded, _ = new_master_key()
    result = idp("keys", "rewrap", "--new-key-env", "NEW_KEY", env={"NEW_KEY": encoded}, code=1)
    assert f"users.totp_secret_encrypted of {citizen.user_id} does not open" in result.output
    assert sealed_values(app) == before  # the signing keys, re-sealed before the failure, are as they were


@pytest.mark.postgres
def test_rewrap_on_postgresql(tmp_path: Path) -> None:
    """bytea columns come back as memoryview on PostgreSQL: the re-sealed values must still open."""
    admin_url = require_postgres()
    database_name = f"idp_rewrap_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database_name}"'))
    database_url = make_url(admin_url).set(database=database_name).render_as_string(hide_password=False)
    application = create_app(app_config(tmp_path, database_url=database_url))
    try:
        with application.app_context():
            upgrade()
            current_services().keyring.ensure_active(DEFAULT_KEYS)
            db.session.commit()
        citizen = create_citizen(application)
        encoded, raw = new_master_key()
        result = application.test_cli_runner().invoke(
            args=["keys", "rewrap", "--new-key-env", "NEW_KEY", "--json"], env={"NEW_KEY": encoded}
        )
        assert result.exit_code == 0, result.output
        assert json_of(result)["rewrapped"]["users.totp_secret_encrypted"] == 1
        new_box = SecretBox(raw)
        values = sealed_values(application)
        assert len(values) == len(DEFAULT_KEYS) + 1
        for context, sealed in values.items():
            assert new_box.open(sealed, context)
        assert (
            new_box.open(values[f"totp:{citizen.user_id}"], f"totp:{citizen.user_id}") == citizen.totp_secret.encode()
        )
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
            store: Any = current_services().store
            store.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)'))
        admin.dispose()
