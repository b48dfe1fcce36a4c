"""Sending a citizen an email or a text message, through the outbox.

    from idp import notify
    from idp.notify.messages import EMAIL_CODE

    notify.send(EMAIL_CODE, to=email, code=code)   # added to the caller's transaction
    db.session.commit()                             # the message is sent once this commits

The message goes in the citizen's language at the time of sending (the page's locale, or `locale=`). The outbox
delivers it with retries through the app's `MessageSender` (`idp.notify.senders`: GOV.UK Notify in production, the
development inbox otherwise); a code in it is removed from the outbox row once delivered. Messages are listed in
`idp.notify.messages.CATALOGUE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import after_this_request, current_app, has_request_context
from flask_babel import get_locale

from idp.extensions import db
from idp.models.outbox import OutboxMessage
from idp.notify.messages import CATALOGUE, EMAIL, SMS, render
from idp.notify.outbox import enqueue
from idp.notify.senders import MessageSender

OUTBOX_KINDS = (EMAIL, SMS)


def send(name: str, to: str, *, locale: str | None = None, **personalisation: Any) -> OutboxMessage:
    template = CATALOGUE[name]
    missing = [field for field in template.fields if field not in personalisation]
    if missing:
        raise KeyError(f"message {name} needs {', '.join(missing)}")
    payload = {
        "message": name,
        "to": to,
        "locale": locale or current_locale(),
        "personalisation": personalisation,
        "secret_fields": list(template.secret_fields),
    }
    message = enqueue(db.session, template.channel, payload)
    worker = current_app.extensions.get("outbox_worker")
    if worker is not None and has_request_context():
        # Woken once the view has returned, by when it has committed the message.
        after_this_request(lambda response: (worker.wake(), response)[1])
    return message


def current_locale() -> str:
    if not has_request_context():
        return "en"
    locale = get_locale()
    return locale.language if locale is not None else "en"


def outbox_sender(sender: MessageSender) -> Callable[[dict[str, Any]], None]:
    """The outbox's sender for the `email` and `sms` kinds: render in the message's language, then deliver."""

    def deliver(payload: Mapping[str, Any]) -> None:
        personalisation = dict(payload.get("personalisation") or {})
        rendered = render(str(payload["message"]), str(payload["to"]), str(payload["locale"]), personalisation)
        sender.send(rendered, personalisation)

    return deliver
