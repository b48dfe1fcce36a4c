"""What one /metrics scrape costs: its time and the SQL statements it sends, with a full outbox.

    .venv/bin/python bench/metrics_scrape.py                     # SQLite in a temporary folder
    .venv/bin/python bench/metrics_scrape.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/idp_bench \\
        --outbox 100000 --workers 8 --scrapes 200

The database is migrated and its outbox filled with `--outbox` pending messages (a backlog), so the one query a
scrape makes has something to count. `--workers N` scrapes in Prometheus multiprocess mode with the counter files
of N gunicorn workers, each having served every route, as under gunicorn. Also printed: what counting a JWKS
response on the fast path costs (the same requests with and without the counter). Everything runs in this
process on 127.0.0.1's database; a PostgreSQL database given here has its outbox emptied first.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _fill_worker_files(directory: Path, workers: int) -> None:
    """Counter and histogram files as N workers would leave them: every route, three statuses each."""
    code = """
import sys
from idp import create_app, metrics
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "IDP_MASTER_KEY": "A" * 43})
for rule in app.url_map.iter_rules():
    for status in ("200", "302", "400"):
        metrics.HTTP_REQUESTS.labels(rule.rule, "GET", status).inc(7)
    metrics.HTTP_REQUEST_DURATION.labels(rule.rule, "GET").observe(0.02)
for event in ("sign_in", "password_failed", "code_failed", "lockout", "account_created"):
    metrics.AUDIT_EVENTS.labels(event).inc(3)
"""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    for _ in range(workers):
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--outbox", type=int, default=10_000, help="pending outbox messages (default 10000)")
    parser.add_argument("--workers", type=int, default=0, help="multiprocess mode with N workers' files")
    parser.add_argument("--scrapes", type=int, default=100)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="idp-bench-metrics-"))
    if args.workers:
        metrics_directory = work / "metrics"
        metrics_directory.mkdir()
        _fill_worker_files(metrics_directory, args.workers)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_directory)  # before prometheus_client is imported

    from flask_migrate import upgrade
    from sqlalchemy import delete, event, insert

    from idp import create_app
    from idp.extensions import db
    from idp.models import OutboxMessage
    from idp.models._types import utcnow

    app = create_app(
        {
            "TESTING": True,
            "IDP_ENV": "test",
            "IDP_LOG_LEVEL": "WARNING",
            "SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{work / 'idp.sqlite3'}",
            "IDP_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
            "IDP_OUTBOX_IN_PROCESS": False,
        }
    )
    with app.app_context():
        upgrade()
        db.session.execute(delete(OutboxMessage))
        now = utcnow()
        rows = [{"kind": "backchannel_logout", "payload": {}, "created_at": now, "next_attempt_at": now}] * args.outbox
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(OutboxMessage), rows[start : start + 5000])
        db.session.commit()
        engine = db.engine

    client = app.test_client()
    statements: list[str] = []

    def on_execute(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    client.get("/metrics")  # warm: the first scrape compiles the query and opens the connection
    event.listen(engine, "before_cursor_execute", on_execute)
    times = []
    size = 0
    for _ in range(args.scrapes):
        started = time.perf_counter()
        response = client.get("/metrics")
        times.append(time.perf_counter() - started)
        size = len(response.data)
        assert response.status_code == 200
    event.remove(engine, "before_cursor_execute", on_execute)

    times.sort()
    backend = engine.dialect.name
    mode = f"multiprocess, {args.workers} workers' files" if args.workers else "single process"
    print(f"/metrics scrape ({backend}, outbox {args.outbox} pending, {mode}), {args.scrapes} scrapes:")
    print(f"  median {statistics.median(times) * 1000:.2f} ms, p95 {times[int(len(times) * 0.95) - 1] * 1000:.2f} ms")
    print(f"  SQL statements per scrape: {len(statements) / args.scrapes:g}")
    print(f"  response: {size} bytes")

    # The fast path: JWKS straight from WSGI, counted (as served) against the same app without the counter.
    documents: Any = app.wsgi_app
    environ = {"PATH_INFO": "/.well-known/jwks.json", "REQUEST_METHOD": "GET"}

    def served(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            documents(environ, lambda *_: None)
        return (time.perf_counter() - started) / n

    n = 20_000
    served(1000)
    counted = min(served(n) for _ in range(3))
    count = documents._count
    documents._count = None
    uncounted = min(served(n) for _ in range(3))
    documents._count = count
    print(
        f"JWKS on the fast path: {counted * 1e6:.2f} µs counted, {uncounted * 1e6:.2f} µs not counted "
        f"(the counter costs {(counted - uncounted) * 1e6:.2f} µs a request)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
