"""The durable models, on a database built only by the Alembic migrations: SQLite, and PostgreSQL when it is there.

Each PostgreSQL run migrates a database of its own (`idp_models_<random>`) and drops it afterwards.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from sqlalchemy import Column, Integer, MetaData, Table, delete, func, select, text
from sqlalchemy.exc import IntegrityError

from idp.extensions import db
from idp.keys.keyring import Keyring, NoActiveKeyError, UnknownKeyError
from idp.keys.rotation import KeyRuleError, KeyState, kid_for
from idp.models import Client, SigningKey, User
from idp.models._types import utcnow
from idp.services import current_services
from tests.backends import SQLITE_AND_POSTGRES, migrated_app_on

PUBLISH_PERIOD = timedelta(days=1)


@pytest.fixture(scope="module", params=SQLITE_AND_POSTGRES)
def migrated_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with migrated_app_on(request.param, tmp_path_factory, "models") as application:
        yield application


@pytest.fixture
def context(migrated_app: Flask) -> Iterator[Flask]:
    with migrated_app.app_context():
        try:
            yield migrated_app
        finally:
            db.session.rollback()
            db.session.remove()


# -- the schema --------------------------------------------------------------------------------------------------


def test_migrations_reach_the_head_revision(context: Flask) -> None:
    script = ScriptDirectory.from_config(context.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    assert current == set(script.get_heads())
    assert current


def _only_the_models(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """The SQL store creates its own table (`store_entries`); it is not a model and has no migration."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table != "store_entries"


def test_migrated_schema_matches_the_models(context: Flask) -> None:
    with db.engine.connect() as conn:
        migration_context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _only_the_models}
        )
        differences = compare_metadata(migration_context, db.metadata)
    assert differences == []


def test_schema_comparison_would_see_a_difference(context: Flask) -> None:
    """Guards the test above against comparing nothing: a model the migrations lack is reported."""
    models = MetaData()
    for table in db.metadata.tables.values():
        table.to_metadata(models)
    Table("not_migrated", models, Column("id", Integer, primary_key=True))
    with db.engine.connect() as conn:
        migration_context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _only_the_models}
        )
        differences = compare_metadata(migration_context, models)
    assert [d[0] for d in differences] == ["add_table"]
    assert differences[0][1].name == "not_migrated"


def test_every_model_has_a_migrated_table(context: Flask) -> None:
    with db.engine.connect() as conn:
        tables = set(db.inspect(conn).get_table_names())
    assert set(db.metadata.tables) <= tables


# -- clients and users -------------------------------------------------------------------------------------------


def test_client_round_trips_its_json_list_fields(context: Flask) -> None:
    client_id = f"client-{uuid.uuid4().hex[:8]}"
    lists: dict[str, list[str]] = {
        "redirect_uris": ["https://rp.example.gov.uk/callback", "https://rp.example.gov.uk/cb?x=é"],
        "post_logout_redirect_uris": ["https://rp.example.gov.uk/signed-out"],
        "scopes": ["openid", "email", "phone"],
        "claims": ["https://vocab.account.gov.uk/v1/coreIdentityJWT", "https://vocab.account.gov.uk/v1/address"],
        "client_locs": ["P0", "P2"],
    }
    db.session.add(Client(client_id=client_id, name="Round trip", **lists))
    db.session.commit()
    db.session.expunge_all()

    loaded = db.session.get(Client, client_id)
    assert loaded is not None
    for name, value in lists.items():
        assert getattr(loaded, name) == value
    assert loaded.registration()["RedirectUrls"] == lists["redirect_uris"]
    assert loaded.registration()["ClientLoCs"] == ["P0", "P2"]


def test_client_defaults(context: Flask) -> None:
    client_id = f"client-{uuid.uuid4().hex[:8]}"
    db.session.add(Client(client_id=client_id, name="Defaults"))
    db.session.commit()
    db.session.expunge_all()
    loaded = db.session.get(Client, client_id)
    assert loaded is not None
    assert (loaded.redirect_uris, loaded.scopes, loaded.claims, loaded.client_locs) == ([], ["openid"], [], ["P0"])
    assert (loaded.id_token_signing_alg, loaded.token_auth_method, loaded.is_active) == (
        "ES256",
        "private_key_jwt",
        True,
    )


def test_user_email_is_unique(context: Flask) -> None:
    email = f"citizen-{uuid.uuid4().hex[:8]}@example.com"
    db.session.add(User(email=email, password_hash="x"))
    db.session.commit()
    db.session.add(User(email=email, password_hash="y"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == email)) == 1


def test_user_defaults(context: Flask) -> None:
    user = User(email=f"citizen-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    db.session.add(user)
    db.session.commit()
    assert len(user.id) == 36
    assert len(user.subject_salt) == 32
    other = User(email=f"citizen-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    db.session.add(other)
    db.session.commit()
    assert other.subject_salt != user.subject_salt


# -- signing keys through the keyring ----------------------------------------------------------------------------


@pytest.fixture
def keyring(context: Flask) -> Keyring:
    return current_services().keyring


@pytest.fixture
def purpose(context: Flask) -> Iterator[str]:
    """A purpose of this test's own, so that other keys in the database do not interfere."""
    name = f"oidc:test-{uuid.uuid4().hex[:8]}"
    yield name
    db.session.rollback()
    db.session.execute(delete(SigningKey).where(SigningKey.purpose == name))
    db.session.commit()


def backdate(key: SigningKey, age: timedelta) -> None:
    key.created_at = utcnow() - age
    db.session.commit()


def active_keys(purpose: str, alg: str) -> list[SigningKey]:
    return list(
        db.session.scalars(
            select(SigningKey).where(
                SigningKey.purpose == purpose, SigningKey.alg == alg, SigningKey.state == KeyState.ACTIVE.value
            )
        )
    )


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_generate(keyring: Keyring, purpose: str, alg: str) -> None:
    key = keyring.generate(purpose, alg)
    db.session.commit()
    assert key.state == KeyState.PENDING.value
    assert key.kid == kid_for(key.id)
    assert key.activated_at is None
    assert {key.public_jwk[name] for name in ("kid", "alg", "use")} == {key.kid, alg, "sig"}
    assert "d" not in key.public_jwk


@pytest.mark.parametrize(("purpose_name", "alg"), [("identity", "RS256"), ("oidc", "PS256"), ("bogus", "ES256")])
def test_generate_refuses_what_the_rules_forbid(keyring: Keyring, purpose_name: str, alg: str) -> None:
    before = db.session.scalar(select(func.count()).select_from(SigningKey))
    with pytest.raises(KeyRuleError):
        keyring.generate(purpose_name, alg)
    assert db.session.scalar(select(func.count()).select_from(SigningKey)) == before


def test_activation_and_retirement_rules(keyring: Keyring, purpose: str) -> None:
    first = keyring.generate(purpose, "ES256")
    db.session.commit()
    # Published only just now: relying parties may not have it yet.
    with pytest.raises(KeyRuleError, match="--force"):
        keyring.activate(first.kid, PUBLISH_PERIOD)
    assert first.state == KeyState.PENDING.value
    keyring.activate(first.kid, PUBLISH_PERIOD, force=True)
    db.session.commit()
    assert first.state == KeyState.ACTIVE.value
    assert first.activated_at is not None

    rsa_key = keyring.generate(purpose, "RS256")
    backdate(rsa_key, PUBLISH_PERIOD)
    keyring.activate(rsa_key.kid, PUBLISH_PERIOD)
    second = keyring.generate(purpose, "ES256")
    backdate(second, PUBLISH_PERIOD + timedelta(minutes=1))
    keyring.activate(second.kid, PUBLISH_PERIOD)
    db.session.commit()

    # One active key per (purpose, alg): the ES256 key it replaced is retired, the RS256 key is untouched.
    assert [k.kid for k in active_keys(purpose, "ES256")] == [second.kid]
    assert [k.kid for k in active_keys(purpose, "RS256")] == [rsa_key.kid]
    assert first.state == KeyState.RETIRED.value
    assert first.retired_at is not None

    for kid in (second.kid, first.kid):
        with pytest.raises(KeyRuleError, match="only a pending key"):
            keyring.activate(kid, PUBLISH_PERIOD, force=True)
    with pytest.raises(KeyRuleError, match="only an active or pending key"):
        keyring.retire(first.kid)
    with pytest.raises(KeyRuleError, match="no key with kid"):
        keyring.retire("0" * 64)

    keyring.retire(second.kid)
    db.session.commit()
    assert second.state == KeyState.RETIRED.value
    assert active_keys(purpose, "ES256") == []
    with pytest.raises(NoActiveKeyError):
        keyring.sign({"sub": "x"}, purpose, "ES256")


def test_a_pending_key_can_be_withdrawn(keyring: Keyring, purpose: str) -> None:
    key = keyring.generate(purpose, "ES256")
    keyring.retire(key.kid)
    db.session.commit()
    assert key.state == KeyState.RETIRED.value


def test_jwks_publishes_pending_active_and_retired_keys(keyring: Keyring, purpose: str) -> None:
    retired = keyring.generate(purpose, "ES256")
    keyring.activate(retired.kid, PUBLISH_PERIOD, force=True)
    active = keyring.generate(purpose, "ES256")
    keyring.activate(active.kid, PUBLISH_PERIOD, force=True)
    pending = keyring.generate(purpose, "ES256")
    rsa_key = keyring.generate(purpose, "RS256")
    elsewhere = keyring.generate(f"oidc:other-{uuid.uuid4().hex[:8]}", "ES256")
    db.session.commit()
    try:
        published = keyring.jwks(purpose)["keys"]
        assert {k["kid"] for k in published} == {retired.kid, active.kid, pending.kid, rsa_key.kid}
        for jwk in published:
            assert jwk["use"] == "sig"
            assert jwk["alg"] in ("ES256", "RS256")
            assert jwk["kty"] == ("EC" if jwk["alg"] == "ES256" else "RSA")
            assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)
    finally:
        db.session.delete(elsewhere)
        db.session.commit()


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_sign_sets_kid_and_no_typ_and_verify_chooses_by_kid(keyring: Keyring, purpose: str, alg: str) -> None:
    key = keyring.generate(purpose, alg)
    keyring.activate(key.kid, PUBLISH_PERIOD, force=True)
    db.session.commit()
    claims = {"iss": "https://oidc.example.gov.uk/", "sub": "s", "aud": "client-1", "exp": int(time.time()) + 60}
    token = keyring.sign(claims, purpose, alg)
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": key.kid}
    assert keyring.verify(token, purpose, audience="client-1") == claims

    # After a rotation the old key still verifies what it signed, and new tokens carry the new kid.
    successor = keyring.generate(purpose, alg)
    keyring.activate(successor.kid, PUBLISH_PERIOD, force=True)
    db.session.commit()
    assert keyring.verify(token, purpose, audience="client-1") == claims
    assert jwt.get_unverified_header(keyring.sign(claims, purpose, alg))["kid"] == successor.kid


def test_sign_keeps_extra_headers_but_always_sets_kid(keyring: Keyring, purpose: str) -> None:
    key = keyring.generate(purpose, "ES256")
    keyring.activate(key.kid, PUBLISH_PERIOD, force=True)
    db.session.commit()
    token = keyring.sign({"sub": "s"}, purpose, headers={"typ": "logout+jwt", "kid": "forged"})
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": key.kid, "typ": "logout+jwt"}
    did = keyring.sign({"sub": "s"}, purpose, kid_prefix="did:web:identity.example.gov.uk#")
    assert jwt.get_unverified_header(did)["kid"] == "did:web:identity.example.gov.uk#" + key.kid
    assert keyring.verify(did, purpose, kid_prefix="did:web:identity.example.gov.uk#") == {"sub": "s"}
    with pytest.raises(UnknownKeyError):
        keyring.verify(did, purpose)


def test_verify_refuses_unknown_kids_other_purposes_and_forgeries(keyring: Keyring, purpose: str) -> None:
    key = keyring.generate(purpose, "ES256")
    keyring.activate(key.kid, PUBLISH_PERIOD, force=True)
    db.session.commit()
    forger = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(UnknownKeyError):
        keyring.verify(jwt.encode({"sub": "s"}, forger, algorithm="ES256", headers={"kid": "0" * 64}), purpose)
    with pytest.raises(UnknownKeyError):
        keyring.verify(keyring.sign({"sub": "s"}, purpose), f"oidc:other-{uuid.uuid4().hex[:8]}")
    with pytest.raises(jwt.InvalidSignatureError):
        keyring.verify(jwt.encode({"sub": "s"}, forger, algorithm="ES256", headers={"kid": key.kid}), purpose)
    expired = keyring.sign({"sub": "s", "exp": int(time.time()) - 120}, purpose)
    with pytest.raises(jwt.ExpiredSignatureError):
        keyring.verify(expired, purpose)
    assert keyring.verify(expired, purpose, verify_exp=False)["sub"] == "s"


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_private_key_is_stored_encrypted(keyring: Keyring, purpose: str, alg: str) -> None:
    key = keyring.generate(purpose, alg)
    db.session.commit()
    raw = bytes(
        db.session.execute(
            text("SELECT private_key_encrypted FROM signing_keys WHERE id = :id"), {"id": key.id}
        ).scalar_one()
    )
    box = current_services().secret_box
    der = box.open(raw, context=key.id)
    private_key = serialization.load_der_private_key(der, password=None)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    # The stored value is the key, sealed: not the DER, nor any recognisable part of it.
    assert der not in raw
    assert der[-32:] not in raw
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        assert private_key.private_numbers().private_value.to_bytes(32, "big") not in raw
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    published = next(k for k in keyring.published(purpose) if k.kid == key.kid)
    assert (
        published.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        == public_der
    )
    # Sealed for this key only: copied onto another record it does not open.
    with pytest.raises(InvalidTag):
        box.open(raw, context=str(uuid.uuid4()))
