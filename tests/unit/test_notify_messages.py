"""The message catalogue and the senders (idp/notify): every message renders in English and Welsh; Notify gets the
right template and personalisation; the development sender keeps messages and logs no code."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from idp.notify import outbox_sender
from idp.notify.messages import CATALOGUE, EMAIL, EMAIL_CODE, SMS, SMS_CODE, render
from idp.notify.outbox import without_secrets
from idp.notify.senders import DevelopmentSender, NotConfigured, NotifySender
from idp.store.sql import SqlStore

SAMPLE = {"code": "123456", "new_email": "new@example.com"}


@pytest.fixture
def context() -> Any:
    app = Flask(__name__)
    from idp import SUPPORTED_LOCALES  # noqa: F401 - the app package, for its translations directory
    from idp.extensions import babel

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).resolve().parents[2] / "idp" / "translations")
    babel.init_app(app)
    with app.app_context():
        yield


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_message_renders_in_both_languages(context: Any, name: str) -> None:
    english = render(name, "someone@example.com", "en", dict(SAMPLE))
    welsh = render(name, "someone@example.com", "cy", dict(SAMPLE))
    assert english.body and welsh.body
    assert "%(" not in english.body and "%(" not in welsh.body
    if CATALOGUE[name].channel == EMAIL:
        assert english.subject and welsh.subject
    if "code" in CATALOGUE[name].fields:
        assert "123456" in english.body and "123456" in welsh.body


def test_a_missing_field_is_an_error(context: Any) -> None:
    with pytest.raises(KeyError):
        render(EMAIL_CODE, "someone@example.com", "en", {})


class FakeNotifyClient:
    """Stands in for GOV.UK Notify's service, which cannot run here; same method names as the official client."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def send_email_notification(self, **kwargs: Any) -> None:
        self.calls.append(("email", kwargs))

    def send_sms_notification(self, **kwargs: Any) -> None:
        self.calls.append(("sms", kwargs))


def test_notify_gets_the_template_for_the_message_and_language(context: Any) -> None:
    client = FakeNotifyClient()
    sender = NotifySender(client, {EMAIL_CODE: {"en": "t-en", "cy": "t-cy"}, "default_sms": {"en": "t-sms"}})
    deliver = outbox_sender(sender)
    deliver({"message": EMAIL_CODE, "to": "a@example.com", "locale": "cy", "personalisation": {"code": "654321"}})
    deliver({"message": SMS_CODE, "to": "+447700900123", "locale": "cy", "personalisation": {"code": "111222"}})
    (channel, email), (sms_channel, sms) = client.calls
    assert channel == "email" and email["template_id"] == "t-cy" and email["email_address"] == "a@example.com"
    assert email["personalisation"]["code"] == "654321" and "654321" in email["personalisation"]["body"]
    assert sms_channel == "sms" and sms["template_id"] == "t-sms" and sms["phone_number"] == "+447700900123"


def test_notify_without_a_template_raises_so_the_outbox_tries_again(context: Any) -> None:
    sender = NotifySender(FakeNotifyClient(), {})
    with pytest.raises(NotConfigured):
        outbox_sender(sender)(
            {"message": EMAIL_CODE, "to": "a@example.com", "locale": "en", "personalisation": {"code": "1"}}
        )


def test_the_official_notify_client_is_built_from_settings() -> None:
    key = "test_key-" + "26785a09-ab16-4eb0-8407-a37497a57506" + "-" + "3d844edf-8d35-48ac-975b-e847b4f122b0"
    sender = NotifySender.from_config(key, '{"email_code": {"en": "x"}}')
    assert sender.template_id(EMAIL_CODE, "cy") == "x"


def test_the_development_sender_keeps_messages_and_logs_no_code(
    context: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = DevelopmentSender(SqlStore(f"sqlite:///{tmp_path / 's.sqlite3'}"))
    # Alembic's logging set-up (run by the app fixture's migrations) disables loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("idp.notify.senders"), "disabled", False)
    caplog.set_level(logging.INFO)
    deliver = outbox_sender(sender)
    deliver({"message": SMS_CODE, "to": "+447700900123", "locale": "en", "personalisation": {"code": "246810"}})
    deliver({"message": SMS_CODE, "to": "+447700900123", "locale": "en", "personalisation": {"code": "135791"}})
    newest = sender.messages_to("+447700900123")[0]
    assert newest["channel"] == SMS and "135791" in newest["body"]
    assert len(sender.recent()) == 2
    assert "246810" not in caplog.text and "135791" not in caplog.text
    assert "+447700900123" not in caplog.text and "sms_code" in caplog.text


def test_a_delivered_message_keeps_no_code() -> None:
    payload = {"message": EMAIL_CODE, "personalisation": {"code": "123456"}, "secret_fields": ["code"]}
    assert without_secrets(payload)["personalisation"] == {"code": ""}
    assert without_secrets({"kind": "x"}) == {"kind": "x"}
