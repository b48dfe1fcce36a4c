"""`idp audit export` and `idp audit tail`, on SQLite and on PostgreSQL (where the export reads through a
server-side cursor)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import insert, select

from idp.admin.audit_trail import open_range, parse_moment, stream_records
from idp.extensions import db
from idp.models import AuditEvent
from idp.models._types import utcnow
from tests.admin.conftest import ACTOR, RunCommand, audit_events
from tests.backends import SQLITE_AND_POSTGRES, migrated_app_on

BASE = datetime(2026, 3, 30, 12, 0, 0)


@pytest.fixture(scope="module", params=SQLITE_AND_POSTGRES)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with migrated_app_on(request.param, tmp_path_factory, "audit") as application:
        yield application


def add_events(app: Flask, count: int, start: datetime = BASE, step: timedelta = timedelta(minutes=1)) -> None:
    with app.app_context():
        db.session.execute(
            insert(AuditEvent),
            [
                {
                    "at": start + i * step,
                    "event": "sign_in" if i % 2 == 0 else "lockout",
                    "actor": "citizen",
                    "user_id": f"user-{i}",
                    "client_id": "fishing-licence" if i % 3 == 0 else None,
                    "request_id": f"r{i}",
                    "details": {"n": i, "level": "Cl.Cm"},
                }
                for i in range(count)
            ],
        )
        db.session.commit()


# -- export -------------------------------------------------------------------------------------------------------


def test_export_jsonl_streams_the_range_oldest_first(app: Flask, idp: RunCommand) -> None:
    add_events(app, 10)
    result = idp("audit", "export", "--since", "2026-03-30T12:02:00Z", "--until", "2026-03-30T12:07:00")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["details"]["n"] for record in lines] == [2, 3, 4, 5, 6]
    assert set(lines[0]) == {"id", "at", "event", "actor", "user_id", "client_id", "request_id", "details"}
    assert lines[0]["at"] == "2026-03-30T12:02:00.000000Z" and lines[0]["event"] == "sign_in"
    assert "Exported 5 record(s)" in result.stderr
    [event] = audit_events(app, "audit_exported")
    assert event.actor == ACTOR and event.details["records"] == 5 and event.details["format"] == "jsonl"


def test_export_csv(app: Flask, idp: RunCommand, tmp_path: Path) -> None:
    add_events(app, 4)
    output = tmp_path / "audit.csv"
    idp("audit", "export", "--since", "2026-03-30", "--until", "2026-03-31", "--format", "csv", "--output", str(output))
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert [row["user_id"] for row in rows] == ["user-0", "user-1", "user-2", "user-3"]
    assert list(rows[0]) == ["id", "at", "event", "actor", "user_id", "client_id", "request_id", "details"]
    assert json.loads(rows[1]["details"]) == {"n": 1, "level": "Cl.Cm"} and rows[1]["client_id"] == ""


def test_export_one_event_and_a_relative_range(app: Flask, idp: RunCommand) -> None:
    add_events(app, 6)
    add_events(app, 3, start=utcnow() - timedelta(minutes=30))
    lockouts = idp("audit", "export", "--since", "2026-03-30", "--until", "2026-03-31", "--event", "lockout").stdout
    assert [json.loads(line)["details"]["n"] for line in lockouts.splitlines()] == [1, 3, 5]
    recent = [json.loads(line) for line in idp("audit", "export", "--since", "1h").stdout.splitlines()]
    # The three from half an hour ago, and the record of the first export.
    assert [(r["event"], r["details"].get("n")) for r in recent] == [
        ("sign_in", 0),
        ("lockout", 1),
        ("sign_in", 2),
        ("audit_exported", None),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "last tuesday"), "is not a date or time"),
        (("--since", "2026-03-30", "--until", "2026-03-29"), "must be before --until"),
        (("--since", "2026-03-30", "--format", "xml"), "'xml' is not one of 'jsonl', 'csv'"),
        ((), "Missing option '--since'"),
    ],
)
def test_export_refuses_an_unclear_range(app: Flask, idp: RunCommand, args: tuple[str, ...], message: str) -> None:
    assert message in idp("audit", "export", *args, code=2).output
    assert audit_events(app, "audit_exported") == []


def test_export_reads_a_batch_at_a_time(app: Flask) -> None:
    """Constant memory: rows come through a cursor that is fetched from, never all at once (server-side on
    PostgreSQL). The benchmark shows the peak memory on a million records."""
    add_events(app, 4500, step=timedelta(seconds=1))
    with app.app_context():
        result = open_range(BASE, BASE + timedelta(days=1))
        if db.session.get_bind().dialect.name == "postgresql":
            assert type(result.cursor).__name__ == "ServerCursor"  # psycopg's named cursor, fetched in batches
        result.close()
        records = stream_records(BASE, BASE + timedelta(days=1))
        assert next(records)["details"]["n"] == 0
        assert sum(1 for _ in records) == 4499
        db.session.rollback()


def test_parse_moment() -> None:
    now = datetime(2026, 3, 30, 12, 0, 0)
    assert parse_moment("2026-03-01", now) == datetime(2026, 3, 1)
    assert parse_moment("2026-03-01T10:00:00+01:00", now) == datetime(2026, 3, 1, 9, 0, 0)
    assert parse_moment("90m", now) == datetime(2026, 3, 30, 10, 30)
    assert parse_moment("7d", now) == datetime(2026, 3, 23, 12, 0)


# -- tail ---------------------------------------------------------------------------------------------------------


def test_tail_shows_the_latest_records(app: Flask, idp: RunCommand) -> None:
    add_events(app, 12)
    lines = idp("audit", "tail", "-n", "3", "--once").output.splitlines()
    assert len(lines) == 3 and lines[0].startswith("2026-03-30T12:09:00Z  lockout  citizen  user=user-9")
    records = [json.loads(line) for line in idp("audit", "tail", "-n", "2", "--once", "--json").output.splitlines()]
    assert [r["details"]["n"] for r in records] == [10, 11]
    only = idp("audit", "tail", "--event", "sign_in", "-n", "1", "--once", "--json").output
    assert json.loads(only)["details"]["n"] == 10
    assert "Invalid value for '-n'" in idp("audit", "tail", "-n", "-1", "--once", code=2).output


def test_tail_of_an_empty_trail(app: Flask, idp: RunCommand) -> None:
    with app.app_context():
        assert db.session.scalars(select(AuditEvent)).first() is None
    assert idp("audit", "tail", "--once").output == ""


def test_tail_follows_new_records_until_interrupted(
    app: Flask, idp: RunCommand, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_events(app, 2)
    sleeps = 0

    def between_polls(_seconds: float) -> None:
        """Another process writes a record during the first wait; the operator presses Ctrl-C in the second."""
        nonlocal sleeps
        sleeps += 1
        if sleeps == 1:
            add_events(app, 1, start=BASE + timedelta(hours=1))
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr("idp.admin.audit_trail.time.sleep", between_polls)
    lines = idp("audit", "tail", "-n", "1", "--interval", "0.5", "--json").output.splitlines()
    assert [json.loads(line)["at"] for line in lines] == ["2026-03-30T12:01:00.000000Z", "2026-03-30T13:00:00.000000Z"]
    assert sleeps == 2
