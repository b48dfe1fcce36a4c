"""Deleting an account, as the account page and the operators' command do it, on SQLite and on real PostgreSQL
(where the passkeys' foreign key to the account is enforced)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp import notify
from idp.account.deletion import delete_account
from idp.extensions import db
from idp.models import AuditEvent, Client, OutboxMessage, Passkey, RelyingPartySignIn, User
from idp.notify.messages import EMAIL_CODE, PASSWORD_CHANGED, SMS_CODE
from idp.services import outbox_delivery_round
from tests.backends import SQLITE_AND_POSTGRES, migrated_app_on


@pytest.fixture(scope="module", params=SQLITE_AND_POSTGRES)
def deleting_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with migrated_app_on(request.param, tmp_path_factory, "deletion") as application:
        yield application


def _earlier_messages(app: Flask, email: str, phone: str) -> None:
    with app.test_request_context("/"):
        notify.send(PASSWORD_CHANGED, to=email)
        notify.send(SMS_CODE, to=phone, code="123456")
        db.session.commit()
    outbox_delivery_round(app)
    with app.test_request_context("/"):
        notify.send(EMAIL_CODE, to=email, code="654321")  # not sent yet when the account goes
        notify.send(PASSWORD_CHANGED, to="someone-else@example.com")
        db.session.commit()


def _citizen_with_everything(app: Flask) -> tuple[str, str]:
    """An account with a passkey, a service signed in to and some history; returns its id and email."""
    email = f"leaving-{uuid.uuid4().hex[:8]}@example.com"
    client_id = f"rp-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        user = User(email=email, password_hash="not used here", phone_number="+447911123456", mfa_method="sms")
        db.session.add(user)
        db.session.add(
            Client(client_id=client_id, name="A service", backchannel_logout_uri="https://rp.example/logout")
        )
        db.session.flush()
        db.session.add(
            Passkey(user_id=user.id, credential_id=uuid.uuid4().bytes, public_key=b"k", name="Phone", aaguid="0")
        )
        db.session.add(RelyingPartySignIn(user_id=user.id, client_id=client_id, subject="urn:sub", session_ref="s"))
        db.session.add(AuditEvent(event="sign_in", actor="citizen", user_id=user.id, details={"level": "Cl.Cm"}))
        db.session.commit()
        return user.id, email


def _count(model: Any, user_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id)) or 0


def test_deletion_removes_personal_data_and_keeps_an_audit_record(deleting_app: Flask) -> None:
    user_id, email = _citizen_with_everything(deleting_app)
    _earlier_messages(deleting_app, email, "+447911123456")
    with deleting_app.app_context():
        assert delete_account(user_id, actor="operator:alice") is True
        assert db.session.get(User, user_id) is None
        assert _count(Passkey, user_id) == 0
        assert _count(RelyingPartySignIn, user_id) == 0
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == user_id)).all()
        assert [e.event for e in events][-1] == "account_deleted"
        assert events[-1].actor == "operator:alice"
        assert all(email not in str(e.details) and "+4479" not in str(e.details) for e in events)
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        logouts = [m.payload for m in messages if m.kind == "backchannel_logout"]
        assert logouts == [{"client_id": logouts[0]["client_id"], "sub": "urn:sub"}]
        told = [m for m in messages if m.kind == "email" and m.payload["message"] == "account_deleted"]
        assert [(m.payload["to"], m.status) for m in told] == [(email, "pending")]
        earlier = [m for m in messages if m.kind in ("email", "sms") and m not in told]
        assert [m.payload["to"] for m in earlier] == ["", "", "", "someone-else@example.com"]
        assert [m.status for m in earlier] == ["delivered", "delivered", "failed", "pending"]
        assert "123456" not in str([m.payload for m in earlier]) and "654321" not in str([m.payload for m in earlier])
    # Once the notice is delivered, no address of the citizen is left in the outbox.
    outbox_delivery_round(deleting_app)
    with deleting_app.app_context():
        payloads = [m.payload for m in db.session.scalars(select(OutboxMessage))]
        assert email not in str(payloads) and "+447911123456" not in str(payloads)
        assert "someone-else@example.com" in str(payloads)


def test_deleting_an_account_that_is_not_there_changes_nothing(deleting_app: Flask) -> None:
    with deleting_app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        assert delete_account(str(uuid.uuid4()), actor="operator:alice") is False
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
