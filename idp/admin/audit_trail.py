"""`idp audit`: reading the audit trail. `export` streams a time range as JSON lines or CSV with constant
memory (a server-side cursor on PostgreSQL, SQLite's lazy cursor otherwise); `tail` shows the latest records
and follows new ones.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import click
from flask.cli import AppGroup
from sqlalchemy import CursorResult, Row, select

from idp import audit
from idp.admin.output import fails_cleanly, operator_actor
from idp.extensions import db
from idp.models import AuditEvent
from idp.models._types import utcnow

audit_group = AppGroup("audit", help="The audit trail: export a time range, or follow it as it is written.")

COLUMNS = ("id", "at", "event", "actor", "user_id", "client_id", "request_id", "details")
_FETCH_ROWS = 2000
_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_moment(value: str, now: datetime) -> datetime:
    """An ISO 8601 date or time (UTC unless it says otherwise), or a time ago such as 90m, 24h or 7d."""
    text = value.strip()
    relative = _RELATIVE.match(text)
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a date or time: use ISO 8601 (2026-03-30 or 2026-03-30T12:00:00Z) or an age (24h, 7d)"
        ) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _table() -> Any:
    return AuditEvent.__table__


def _record(row: Row[Any]) -> dict[str, Any]:
    mapping = row._mapping
    at = mapping["at"]
    return {
        "id": mapping["id"],
        "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if at else None,
        "event": mapping["event"],
        "actor": mapping["actor"],
        "user_id": mapping["user_id"],
        "client_id": mapping["client_id"],
        "request_id": mapping["request_id"],
        "details": mapping["details"] or {},
    }


def open_range(since: datetime, until: datetime, event: str | None = None) -> CursorResult[Any]:
    """The records in [since, until), oldest first, behind a cursor read a batch at a time: `yield_per` makes it
    a server-side cursor on PostgreSQL; SQLite's cursor steps through the table as it is read."""
    table = _table()
    query = select(table).where(table.c.at >= since, table.c.at < until).order_by(table.c.at, table.c.id)
    if event:
        query = query.where(table.c.event == event)
    result: CursorResult[Any] = db.session.execute(query.execution_options(yield_per=_FETCH_ROWS))  # type: ignore[assignment]
    return result


def stream_records(since: datetime, until: datetime, event: str | None = None) -> Iterator[dict[str, Any]]:
    result = open_range(since, until, event)
    try:
        for row in result:
            yield _record(row)
    finally:
        result.close()


def write_jsonl(records: Iterator[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, separators=(",", ":"), default=str))
        out.write("\n")
        count += 1
    return count


def write_csv(records: Iterator[dict[str, Any]], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for record in records:
        record["details"] = json.dumps(record["details"], separators=(",", ":"), default=str)
        writer.writerow([record[column] for column in COLUMNS])
        count += 1
    return count


@audit_group.command("export")
@click.option("--since", required=True, help="From this moment (ISO 8601, UTC by default) or age (24h, 7d).")
@click.option("--until", help="Up to, not including, this moment; now if left out.")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--event", help="Only records of this event (e.g. lockout, key_activated).")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file, not stdout.")
@fails_cleanly
def export(since: str, until: str | None, output_format: str, event: str | None, output: Path | None) -> None:
    """Export the audit records of a time range, streamed with constant memory."""
    now = utcnow()
    start = parse_moment(since, now)
    end = parse_moment(until, now) if until else now
    if start >= end:
        raise click.BadParameter(
            f"--since ({start:%Y-%m-%dT%H:%M:%SZ}) must be before --until ({end:%Y-%m-%dT%H:%M:%SZ})"
        )
    writer = write_csv if output_format == "csv" else write_jsonl
    records = stream_records(start, end, event)
    if output is None:
        count = writer(records, sys.stdout)
    else:
        with output.open("w", newline="" if output_format == "csv" else None, encoding="utf-8") as handle:
            count = writer(records, handle)
    audit.record(
        "audit_exported",
        actor=operator_actor(),
        since=start.isoformat(),
        until=end.isoformat(),
        format=output_format,
        records=count,
        event_filter=event,
    )
    db.session.commit()
    click.echo(f"Exported {count} record(s) from {start:%Y-%m-%dT%H:%M:%SZ} to {end:%Y-%m-%dT%H:%M:%SZ}.", err=True)


def _line(record: dict[str, Any]) -> str:
    parts = [record["at"][:19] + "Z", record["event"], record["actor"]]
    if record["user_id"]:
        parts.append(f"user={record['user_id']}")
    if record["client_id"]:
        parts.append(f"client={record['client_id']}")
    if record["details"]:
        parts.append(json.dumps(record["details"], separators=(",", ":"), default=str))
    return "  ".join(parts)


@audit_group.command("tail")
@click.option("-n", "--lines", "count", default=10, show_default=True, type=click.IntRange(0, 10000))
@click.option("--once", is_flag=True, help="Show the latest records and stop instead of following.")
@click.option(
    "--interval", default=1.0, show_default=True, type=click.FloatRange(0.1, 60), help="Seconds between polls."
)
@click.option("--event", help="Only records of this event.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@fails_cleanly
def tail(count: int, once: bool, interval: float, event: str | None, as_json: bool) -> None:
    """Show the latest audit records, then follow new ones as they are written (Ctrl-C stops)."""
    table = _table()

    def newer_than(last_id: int, limit: int | None) -> list[dict[str, Any]]:
        query = select(table).where(table.c.id > last_id)
        if event:
            query = query.where(table.c.event == event)
        query = query.order_by(table.c.id.desc()).limit(limit) if limit is not None else query.order_by(table.c.id)
        rows = [_record(row) for row in db.session.execute(query)]
        db.session.commit()  # a fresh snapshot for the next poll
        return sorted(rows, key=lambda r: r["id"])

    def show(records: list[dict[str, Any]]) -> None:
        for record in records:
            click.echo(json.dumps(record, default=str) if as_json else _line(record))

    latest = newer_than(0, count) if count else []
    show(latest)
    if once:
        return
    last_id = (
        latest[-1]["id"] if latest else int(db.session.scalar(select(table.c.id).order_by(table.c.id.desc())) or 0)
    )
    try:
        while True:
            time.sleep(interval)
            fresh = newer_than(last_id, None)
            show(fresh)
            if fresh:
                last_id = fresh[-1]["id"]
    except KeyboardInterrupt:
        return
