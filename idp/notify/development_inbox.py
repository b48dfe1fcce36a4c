"""The development inbox: `/dev/messages` shows what the development sender would have sent.

Registered only when `IDP_ENV` is `development` or `test`, and refused (404) otherwise by its access rule.
Tests read codes with `latest_message_to(address)` inside an app context (after the outbox has delivered).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from idp.notify.senders import DevelopmentSender
from idp.services import current_services

DEVELOPMENT_ENVIRONMENTS = ("development", "test")

development_inbox_blueprint = Blueprint("development_inbox", __name__)


def development_only() -> None:
    """Only a developer's own provider shows the messages it would have sent."""
    if current_app.config["IDP_ENV"] not in DEVELOPMENT_ENVIRONMENTS or not isinstance(_inbox(), DevelopmentSender):
        abort(404)


def _inbox() -> DevelopmentSender | None:
    sender = current_services().messages
    return sender if isinstance(sender, DevelopmentSender) else None


def latest_message_to(address: str) -> dict[str, Any] | None:
    """The newest message the development sender kept for this address: name, channel, subject, body, locale."""
    inbox = _inbox()
    if inbox is None:
        return None
    messages = inbox.messages_to(address)
    return messages[0] if messages else None


def code_in(message: dict[str, Any] | None) -> str | None:
    found = re.search(r"\b(\d{6})\b", str((message or {}).get("body", "")))
    return found.group(1) if found else None


@development_inbox_blueprint.get("/dev/messages")
def messages() -> ResponseReturnValue:
    inbox = _inbox()
    assert inbox is not None
    address = (request.args.get("to") or "").strip()
    kept = inbox.messages_to(address) if address else inbox.recent()
    return render_template("dev/messages.html", messages=kept, address=address)
