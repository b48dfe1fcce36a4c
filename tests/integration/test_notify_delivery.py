"""Email and text messages delivered through GOV.UK Notify's official client, to a stand-in for Notify's API on
127.0.0.1 (Notify itself cannot be reached from here): the client's real requests, authentication and retries."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from idp import create_app, notify
from idp.extensions import db
from idp.models import OutboxMessage
from idp.notify.messages import EMAIL_CODE, SMS_CODE
from idp.notify.senders import NotifySender
from idp.services import current_services, outbox_delivery_round
from tests.conftest import app_config
from tests.integration._support import LocalServer, local_server

SERVICE_ID = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
TEMPLATES = {
    EMAIL_CODE: {"en": "11111111-1111-1111-1111-111111111111", "cy": "22222222-2222-2222-2222-222222222222"},
    "default_sms": {"en": "33333333-3333-3333-3333-333333333333"},
}


@pytest.fixture
def notify_api() -> Iterator[LocalServer]:
    with local_server() as server:
        # What Notify answers to a notification it accepted (its response object, abridged).
        for channel in ("email", "sms"):
            server.post_replies[f"/v2/notifications/{channel}"] = {"id": str(uuid.uuid4()), "reference": None}
        yield server


@pytest.fixture
def notify_app(tmp_path: Path, notify_api: LocalServer) -> Iterator[Flask]:
    config = app_config(tmp_path)
    config.update(
        IDP_NOTIFY_API_KEY=f"idp_test-{SERVICE_ID}-{SECRET}",
        IDP_NOTIFY_TEMPLATE_IDS=json.dumps(TEMPLATES),
        IDP_NOTIFY_URL=notify_api.base_url,
    )
    application = create_app(config)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.session.remove()


def _queued(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_messages_go_to_notify_with_the_template_of_their_language(notify_app: Flask, notify_api: LocalServer) -> None:
    assert isinstance(notify_app.extensions["idp"].messages, NotifySender)
    with notify_app.test_request_context("/?lang=cy"):
        notify.send(EMAIL_CODE, to="someone@example.com", code="424242")
        notify.send(SMS_CODE, to="+447123456789", code="535353")
        db.session.commit()
    assert outbox_delivery_round(notify_app) == 2

    (email,) = notify_api.posts_to("/v2/notifications/email")
    (sms,) = notify_api.posts_to("/v2/notifications/sms")
    sent = json.loads(email.body)
    assert sent["email_address"] == "someone@example.com"
    assert sent["template_id"] == TEMPLATES[EMAIL_CODE]["cy"]
    assert sent["personalisation"]["code"] == "424242"
    assert "424242" in sent["personalisation"]["body"] and "Eich cod diogelwch" in sent["personalisation"]["body"]
    sent_sms = json.loads(sms.body)
    assert sent_sms["phone_number"] == "+447123456789"
    assert sent_sms["template_id"] == TEMPLATES["default_sms"]["en"]  # no Welsh template: the English one
    # The client authenticates as Notify expects: a JWT signed with the key's secret, issued by the service.
    token = email.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["iss"] == SERVICE_ID
    # Delivered messages keep no code.
    assert all(m.status == "delivered" and "424242" not in str(m.payload) for m in _queued(notify_app))


def test_a_failure_at_notify_is_tried_again_later(notify_app: Flask, notify_api: LocalServer) -> None:
    notify_api.statuses["/v2/notifications/email"] = [500]
    with notify_app.test_request_context("/"):
        notify.send(EMAIL_CODE, to="someone@example.com", code="616161")
        db.session.commit()
    assert outbox_delivery_round(notify_app) == 0
    (message,) = _queued(notify_app)
    assert message.status == "pending" and message.attempts == 1
    assert message.last_error and "616161" not in message.last_error
    with notify_app.app_context():
        assert current_services().messages is notify_app.extensions["idp"].messages
