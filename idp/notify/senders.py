"""Who delivers email and text messages: GOV.UK Notify in production, a readable inbox in development and tests.

Both implement `MessageSender`; `create_sender(config, store)` picks one. The outbox calls `sender.send(rendered,
personalisation)` for each queued message (see `idp.notify`).

- `DevelopmentSender` keeps each message in the store for a day, where `/dev/messages` (development and test only)
  and `latest_message_to(address)` read it, and logs one line without the message's text (which may hold a code).
- `NotifySender` uses GOV.UK Notify's official client, `NotificationsAPIClient`, with a template id per message
  and language from `IDP_NOTIFY_TEMPLATE_IDS` (JSON: {"email_code": {"en": "<uuid>", "cy": "<uuid>"}, …}); a
  message without its own falls back to "default_email" or "default_sms", and a language without its own to
  "en". The personalisation is the message's fields plus `subject` and `body` as rendered here, so one generic
  template per channel (`((subject))`, `((body))`) is enough.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, Protocol

from idp.notify.messages import EMAIL, RenderedMessage
from idp.store import Store

log = logging.getLogger(__name__)

_INBOX_TTL = 86400
_INBOX_SIZE = 50
_RECENT_KEY = "dev-messages:recent"


class MessageSender(Protocol):
    def send(self, message: RenderedMessage, personalisation: Mapping[str, Any]) -> None:
        """Deliver or raise; the outbox tries again later when this raises."""


class NotConfigured(Exception):
    pass


def mask(address: str) -> str:
    """Enough of an address to tell messages apart in a log, not enough to identify anyone."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"***{address[-3:]}"


class DevelopmentSender:
    def __init__(self, store: Store) -> None:
        self._store = store

    def send(self, message: RenderedMessage, personalisation: Mapping[str, Any]) -> None:
        entry = {**asdict(message), "sent_at": time.time()}
        for key in (_RECENT_KEY, _address_key(message.to)):
            kept = _read_list(self._store.get(key))
            kept.insert(0, entry)
            self._store.set(key, json.dumps(kept[:_INBOX_SIZE]).encode(), _INBOX_TTL)
        log.info("%s %s to %s kept at /dev/messages", message.channel, message.name, mask(message.to))

    def messages_to(self, address: str) -> list[dict[str, Any]]:
        """Newest first."""
        return _read_list(self._store.get(_address_key(address)))

    def recent(self) -> list[dict[str, Any]]:
        return _read_list(self._store.get(_RECENT_KEY))


class NotifySender:
    def __init__(self, client: Any, template_ids: Mapping[str, Mapping[str, str]]) -> None:
        self._client = client
        self._template_ids = template_ids

    @classmethod
    def from_config(cls, api_key: str, template_ids_json: str, base_url: str = "") -> NotifySender:
        from notifications_python_client.notifications import NotificationsAPIClient

        client = NotificationsAPIClient(api_key, base_url=base_url) if base_url else NotificationsAPIClient(api_key)
        return cls(client, json.loads(template_ids_json or "{}"))

    def template_id(self, name: str, locale: str) -> str:
        by_locale = self._template_ids.get(name) or self._template_ids.get("default_" + _channel_of(name), {})
        template_id = by_locale.get(locale) or by_locale.get("en")
        if not template_id:
            raise NotConfigured(f"no GOV.UK Notify template for {name} ({locale})")
        return template_id

    def send(self, message: RenderedMessage, personalisation: Mapping[str, Any]) -> None:
        fields = {**personalisation, "subject": message.subject, "body": message.body}
        template_id = self.template_id(message.name, message.locale)
        if message.channel == EMAIL:
            self._client.send_email_notification(
                email_address=message.to, template_id=template_id, personalisation=fields
            )
        else:
            self._client.send_sms_notification(phone_number=message.to, template_id=template_id, personalisation=fields)


class UnconfiguredSender:
    """Production without Notify: nothing is sent, and the outbox keeps each message to try again later."""

    def send(self, message: RenderedMessage, personalisation: Mapping[str, Any]) -> None:
        raise NotConfigured("IDP_NOTIFY_API_KEY is not set")


def create_sender(config: Mapping[str, Any], store: Store) -> MessageSender:
    if config.get("IDP_NOTIFY_API_KEY"):
        return NotifySender.from_config(
            config["IDP_NOTIFY_API_KEY"], config.get("IDP_NOTIFY_TEMPLATE_IDS", ""), config.get("IDP_NOTIFY_URL", "")
        )
    if config["IDP_ENV"] in ("development", "test"):
        return DevelopmentSender(store)
    log.warning("IDP_NOTIFY_API_KEY is not set: email and text messages will wait in the outbox until it is")
    return UnconfiguredSender()


def _channel_of(name: str) -> str:
    from idp.notify.messages import CATALOGUE

    return CATALOGUE[name].channel


def _address_key(address: str) -> str:
    return "dev-messages:to:" + address.strip().lower()


def _read_list(raw: bytes | None) -> list[dict[str, Any]]:
    return list(json.loads(raw)) if raw else []
