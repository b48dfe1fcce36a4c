"""The development sender's inbox: `/dev/messages` in development and test only, and what tests read codes from."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from idp import create_app, notify
from idp.extensions import db
from idp.notify.messages import EMAIL_CODE, SMS_CODE
from tests.conftest import app_config
from tests.helpers import Browser, latest_code_to, latest_message_to


def test_messages_are_kept_and_shown_with_their_code(app: Flask, browser: Browser) -> None:
    with app.test_request_context("/?lang=cy"):
        notify.send(EMAIL_CODE, to="reader@example.com", code="314159")
        notify.send(SMS_CODE, to="+447700900123", locale="en", code="271828")
        db.session.commit()
    assert latest_code_to(app, "reader@example.com") == "314159"
    message = latest_message_to(app, "+447700900123")
    assert message is not None and message["channel"] == "sms" and message["locale"] == "en"

    page = browser.get("/dev/messages")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "314159" in html and "271828" in html and "reader@example.com" in html
    only = browser.get("/dev/messages?to=%2B447700900123").get_data(as_text=True)
    assert "271828" in only and "314159" not in only


def test_a_delivered_code_is_removed_from_the_outbox(app: Flask) -> None:
    from idp.models import OutboxMessage

    with app.test_request_context("/"):
        message = notify.send(EMAIL_CODE, to="reader@example.com", code="161803")
        db.session.commit()
        message_id = message.id
    latest_code_to(app, "reader@example.com")
    with app.app_context():
        stored = db.session.get(OutboxMessage, message_id)
        assert stored is not None and stored.status == "delivered"
        assert "161803" not in str(stored.payload)


def test_there_is_no_inbox_in_production(tmp_path: Path) -> None:
    config = app_config(tmp_path)
    config.update(IDP_ENV="production")
    production = create_app(config)
    assert production.test_client().get("/dev/messages").status_code == 404
    assert "development_inbox" not in production.blueprints
