"""The outbox: messages written with the change that caused them, delivered later with retries.

`enqueue` adds to the caller's transaction. `OutboxDelivery.deliver_due` sends what is due; a failed message is
tried again with exponential back-off until `max_attempts`, then marked failed. A restart loses nothing:
undelivered messages are still rows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, scoped_session

from idp.models._types import utcnow
from idp.models.outbox import OutboxMessage

log = logging.getLogger(__name__)

Sender = Callable[[dict[str, Any]], None]


class DeliveryFailed(Exception):
    pass


def enqueue(session: Session | scoped_session[Any], kind: str, payload: dict[str, Any]) -> OutboxMessage:
    message = OutboxMessage(kind=kind, payload=payload)
    session.add(message)
    return message


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … capped at an hour."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


class OutboxDelivery:
    def __init__(self, session: Session | scoped_session[Any], senders: dict[str, Sender], max_attempts: int) -> None:
        self._session = session
        self._senders = senders
        self._max_attempts = max_attempts

    def deliver_due(self, limit: int = 50) -> int:
        """Send up to `limit` due messages; returns how many were delivered."""
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= utcnow())
            .order_by(OutboxMessage.next_attempt_at)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        delivered = 0
        for message in self._session.scalars(query).all():
            delivered += self._attempt(message)
        self._session.commit()
        return delivered

    def _attempt(self, message: OutboxMessage) -> int:
        sender = self._senders.get(message.kind)
        message.attempts += 1
        try:
            if sender is None:
                raise DeliveryFailed(f"no sender for {message.kind}")
            sender(message.payload)
        except Exception as exc:  # noqa: BLE001 - any failure of a sender means "try again later"
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if message.attempts >= self._max_attempts:
                message.status = "failed"
                log.warning("outbox message %s (%s) failed for good", message.id, message.kind)
            else:
                message.next_attempt_at = utcnow() + backoff(message.attempts)
            return 0
        message.status = "delivered"
        message.delivered_at = utcnow()
        message.last_error = None
        message.payload = without_secrets(message.payload)
        return 1


def without_secrets(payload: dict[str, Any]) -> dict[str, Any]:
    """A delivered message keeps no code: the fields it names in `secret_fields` are blanked. One marked
    `forget_recipient` (the notice that an account was deleted) keeps no address either."""
    if payload.get("forget_recipient"):
        payload = {**payload, "to": ""}
    secret = set(payload.get("secret_fields") or ())
    if not secret:
        return payload
    personalisation = {k: ("" if k in secret else v) for k, v in (payload.get("personalisation") or {}).items()}
    return {**payload, "personalisation": personalisation}


class InProcessWorker:
    """Delivers in a background thread of the web process: the embedded default. Production runs a worker."""

    def __init__(self, run_once: Callable[[], int], interval: float = 1.0) -> None:
        self._run_once = run_once
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._run_once()
            except Exception:
                log.exception("outbox delivery round failed")
            self._wake.wait(self._interval)
            self._wake.clear()
