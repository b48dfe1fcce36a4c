"""The outbox (idp/notify/outbox.py): delivery, back-off and giving up, on an in-memory SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from idp.models import OutboxMessage
from idp.models._types import utcnow
from idp.notify import outbox
from idp.notify.outbox import OutboxDelivery, backoff, enqueue


class Clock:
    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(outbox, "utcnow", fake)
    return fake


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    OutboxMessage.__table__.create(engine)
    with Session(engine) as db_session:
        yield db_session
    engine.dispose()


class Sender:
    """Fails the first `failures` calls, then succeeds."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.payloads: list[dict[str, Any]] = []

    def __call__(self, payload: dict[str, Any]) -> None:
        self.payloads.append(payload)
        if len(self.payloads) <= self.failures:
            raise ConnectionError("the relying party did not answer")


def add(session: Session, kind: str = "backchannel_logout", **payload: Any) -> OutboxMessage:
    message = enqueue(session, kind, payload or {"client_id": "client-1", "sub": "urn:fdc:gov.uk:2022:x"})
    session.commit()
    return message


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(0, 5), (1, 5), (2, 10), (3, 20), (4, 40), (8, 640), (10, 2560), (11, 3600), (12, 3600), (40, 3600)],
)
def test_backoff_schedule(attempts: int, seconds: int) -> None:
    assert backoff(attempts) == timedelta(seconds=seconds)


def test_enqueue_is_part_of_the_callers_transaction(session: Session) -> None:
    enqueue(session, "email", {"to": "a@example.com"})
    session.rollback()
    assert session.scalars(select(OutboxMessage)).all() == []
    message = add(session, "email", to="a@example.com")
    assert (message.status, message.attempts, message.payload) == ("pending", 0, {"to": "a@example.com"})


def test_delivered(session: Session, clock: Clock) -> None:
    sender = Sender()
    message = add(session, client_id="client-1")
    delivery = OutboxDelivery(session, {"backchannel_logout": sender}, max_attempts=3)
    assert delivery.deliver_due() == 1
    assert sender.payloads == [{"client_id": "client-1"}]
    session.refresh(message)
    assert (message.status, message.attempts, message.last_error) == ("delivered", 1, None)
    assert message.delivered_at == clock.now
    # A delivered message is never sent again.
    clock.advance(3600)
    assert delivery.deliver_due() == 0
    assert len(sender.payloads) == 1


def test_failed_delivery_is_retried_with_back_off(session: Session, clock: Clock) -> None:
    sender = Sender(failures=3)
    message = add(session)
    delivery = OutboxDelivery(session, {"backchannel_logout": sender}, max_attempts=10)
    expected_waits = [5, 10, 20]
    for attempt, wait in enumerate(expected_waits, start=1):
        assert delivery.deliver_due() == 0
        session.refresh(message)
        assert (message.status, message.attempts) == ("pending", attempt)
        assert message.next_attempt_at == clock.now + timedelta(seconds=wait)
        assert message.last_error == "ConnectionError: the relying party did not answer"
        # Not due before its time.
        clock.advance(wait - 1)
        assert delivery.deliver_due() == 0
        assert len(sender.payloads) == attempt
        clock.advance(1)
    assert delivery.deliver_due() == 1
    session.refresh(message)
    assert (message.status, message.attempts, message.last_error) == ("delivered", 4, None)


def test_failure_after_max_attempts(session: Session, clock: Clock) -> None:
    sender = Sender(failures=100)
    message = add(session)
    delivery = OutboxDelivery(session, {"backchannel_logout": sender}, max_attempts=3)
    for _ in range(3):
        delivery.deliver_due()
        clock.advance(3600)
    session.refresh(message)
    assert (message.status, message.attempts) == ("failed", 3)
    assert message.delivered_at is None
    assert message.last_error is not None and "ConnectionError" in message.last_error
    clock.advance(10 * 3600)
    assert delivery.deliver_due() == 0
    assert len(sender.payloads) == 3


def test_kind_without_a_sender(session: Session, clock: Clock) -> None:
    message = add(session, "carrier_pigeon")
    delivery = OutboxDelivery(session, {"backchannel_logout": Sender()}, max_attempts=2)
    assert delivery.deliver_due() == 0
    session.refresh(message)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == "DeliveryFailed: no sender for carrier_pigeon"
    clock.advance(5)
    delivery.deliver_due()
    session.refresh(message)
    assert (message.status, message.attempts) == ("failed", 2)


def test_long_errors_are_truncated(session: Session, clock: Clock) -> None:
    def noisy(payload: dict[str, Any]) -> None:
        raise RuntimeError("x" * 5000)

    message = add(session)
    OutboxDelivery(session, {"backchannel_logout": noisy}, max_attempts=3).deliver_due()
    session.refresh(message)
    assert message.last_error is not None and len(message.last_error) == 500


def test_one_failure_does_not_hold_up_the_others(session: Session, clock: Clock) -> None:
    good, bad = Sender(), Sender(failures=100)
    first = add(session, "email", to="a@example.com")
    second = add(session, "backchannel_logout", client_id="client-1")
    third = add(session, "email", to="b@example.com")
    delivered = OutboxDelivery(session, {"email": good, "backchannel_logout": bad}, max_attempts=5).deliver_due()
    assert delivered == 2
    for message in (first, second, third):
        session.refresh(message)
    assert [first.status, second.status, third.status] == ["delivered", "pending", "delivered"]
    assert good.payloads == [{"to": "a@example.com"}, {"to": "b@example.com"}]


def test_limit_and_order(session: Session, clock: Clock) -> None:
    sender = Sender()
    for n in range(5):
        message = add(session, "email", n=n)
        message.next_attempt_at = clock.now - timedelta(seconds=10 - n)
    session.commit()
    delivery = OutboxDelivery(session, {"email": sender}, max_attempts=3)
    assert delivery.deliver_due(limit=2) == 2
    assert sender.payloads == [{"n": 0}, {"n": 1}]
    assert delivery.deliver_due(limit=10) == 3
    assert [p["n"] for p in sender.payloads] == [0, 1, 2, 3, 4]


def test_nothing_due(session: Session, clock: Clock) -> None:
    message = add(session)
    message.next_attempt_at = clock.now + timedelta(minutes=5)
    session.commit()
    sender = Sender()
    assert OutboxDelivery(session, {"backchannel_logout": sender}, max_attempts=3).deliver_due() == 0
    assert sender.payloads == []
