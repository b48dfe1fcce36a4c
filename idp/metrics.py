"""Prometheus metrics with the official client: requests, audited events, tokens issued, the outbox.

Under gunicorn several worker processes serve the app, so the counters live in files shared through
`PROMETHEUS_MULTIPROC_DIR` (set by `gunicorn.conf.py` before any worker imports this module) and a scrape adds up
every process's files; in a single process (`flask run`, the tests) the client's default registry holds them.

Every audited event is counted by name, from the audit rows a transaction commits: so an event whose transaction
rolls back is not counted, and no team has to count its own events. The outbox gauges cost the one database
query a scrape makes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, scoped_session

from idp.models._types import utcnow
from idp.models.audit import AuditEvent
from idp.models.outbox import OutboxMessage

__all__ = ["CONTENT_TYPE_LATEST", "exposition"]

# The `_created` series double every counter's lines; Prometheus does not need them to compute rates.
disable_created_metrics()

#: The label of a request that matched no route: never the raw path, which anyone can vary without end.
UNMATCHED_ROUTE = "<unmatched>"

HTTP_REQUESTS = Counter(
    "idp_http_requests",
    "HTTP requests answered, by route rule (not the raw path), method and status.",
    ["route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "idp_http_request_duration_seconds",
    "Time to answer an HTTP request, by route rule and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
AUDIT_EVENTS = Counter(
    "idp_audit_events",
    "Audited events committed, by event name (sign_in, password_failed, lockout, identity_proved, ...) and the "
    "event's `result` detail where it has one (an identity check's continue, mitigate, fail).",
    ["event", "result"],
)
TOKENS_ISSUED = Counter("idp_tokens_issued", "Successful token responses from /token (an ID and an access token each).")

_PENDING_EVENTS = "idp_metrics_audit_events"


def multiprocess_directory() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# -- audited events, counted when their transaction commits ------------------------------------------------------


#: A label value must come from a small set: a `result` that is not a short word is counted as "other".
_WORD = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _result_of(event: AuditEvent) -> str:
    result = (event.details or {}).get("result")
    if result is None:
        return ""
    return result if isinstance(result, str) and _WORD.match(result) else "other"


def _collect_audit_events(session: Session, _flush_context: Any) -> None:
    # In after_flush `session.new` still lists what this flush inserted.
    labels = [(item.event, _result_of(item)) for item in session.new if isinstance(item, AuditEvent)]
    if labels:
        session.info.setdefault(_PENDING_EVENTS, []).extend(labels)


def _count_committed_audit_events(session: Session) -> None:
    for event_name, result in session.info.pop(_PENDING_EVENTS, ()):
        AUDIT_EVENTS.labels(event_name, result).inc()


def _forget_rolled_back_audit_events(session: Session, _previous_transaction: Any = None) -> None:
    session.info.pop(_PENDING_EVENTS, None)


def count_audited_events() -> None:
    """Listen on every session (once per process): audit rows flushed, then committed, are counted by name."""
    if not event.contains(Session, "after_flush", _collect_audit_events):
        event.listen(Session, "after_flush", _collect_audit_events)
        event.listen(Session, "after_commit", _count_committed_audit_events)
        event.listen(Session, "after_rollback", _forget_rolled_back_audit_events)


# -- the outbox, read once per scrape ----------------------------------------------------------------------------


class OutboxCollector:
    """`idp_outbox_messages{status}` (pending, failed) and the age of the oldest pending message, in one query."""

    def __init__(self, session: Session | scoped_session[Any]) -> None:
        self._session = session

    def collect(self) -> Iterator[Metric]:
        rows = self._session.execute(
            select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
            .where(OutboxMessage.status.in_(("pending", "failed")))
            .group_by(OutboxMessage.status)
        ).all()
        by_status = {status: (count, oldest) for status, count, oldest in rows}
        depth = GaugeMetricFamily(
            "idp_outbox_messages",
            "Outbox messages not delivered: pending (will be tried again) and failed (given up).",
            labels=["status"],
        )
        for status in ("pending", "failed"):
            depth.add_metric([status], by_status.get(status, (0, None))[0])
        yield depth
        oldest_pending = by_status.get("pending", (0, None))[1]
        age = (utcnow() - oldest_pending).total_seconds() if oldest_pending is not None else 0.0
        yield GaugeMetricFamily(
            "idp_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest pending outbox message was written; 0 when none is pending.",
            value=max(age, 0.0),
        )


class _ProcessRegistry:
    """The default registry's metrics (this process's counters, and its CPU and memory) inside a scrape's."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition(session: Session | scoped_session[Any]) -> bytes:
    """The text a scrape returns: every worker's counters (or this process's), then the outbox gauges."""
    registry = CollectorRegistry()
    directory = multiprocess_directory()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ProcessRegistry())
    registry.register(OutboxCollector(session))
    return generate_latest(registry)
