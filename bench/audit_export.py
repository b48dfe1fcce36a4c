"""Benchmark of the operators' commands: `idp audit export` on a million audit records, and the wall time of
`idp keys list` and `idp clients list`.

    .venv/bin/python bench/audit_export.py                    # PostgreSQL when reachable, else SQLite
    .venv/bin/python bench/audit_export.py --records 200000 --sqlite

It makes a throwaway database (PostgreSQL: `idp_bench_audit` on BENCH_POSTGRES_URL, dropped and recreated;
SQLite: a temporary file), migrates it, bulk-inserts the records (COPY on PostgreSQL), and then runs the real
console script as a child process: the export to /dev/null in each format, at a tenth of the records and at all
of them, printing the wall time and the child's peak RSS. Constant memory shows as the same peak RSS for ten
times the records. Finally the median wall time of five runs of `idp keys list` and `idp clients list`,
start-up included, as an operator sees it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
IDP = ROOT / ".venv" / "bin" / "idp"
DEFAULT_POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "idp_bench_audit"
START = datetime(2026, 1, 1)
EVENTS = ("sign_in", "password_failed", "lockout", "service_sign_in", "sign_out", "key_activated")


def postgres_url(admin_url: str) -> str | None:
    try:
        admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{BENCH_DB}"'))
        admin.dispose()
    except sqlalchemy.exc.OperationalError:
        return None
    return make_url(admin_url).set(database=BENCH_DB).render_as_string(hide_password=False)


def timed_child(env: dict[str, str], *args: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (KiB) of a child, from wait4 on the child alone."""
    started = time.perf_counter()
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
    pid = os.posix_spawn(str(IDP), [str(IDP), *args], env, file_actions=quiet)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"idp {' '.join(args)} exited with status {status}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


# The commands themselves, without the process start-up: the app is built once, then each command runs five times.
IN_PROCESS = """
import statistics, time
from idp import create_app
app = create_app({"IDP_CLI_MIGRATIONS": False})
runner = app.test_cli_runner()
for args in (["keys", "list"], ["clients", "list"], ["keys", "list", "--json"]):
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        result = runner.invoke(args=args)
        samples.append(time.perf_counter() - started)
        assert result.exit_code == 0, result.output
    label = "idp " + " ".join(args) + " (in process, median of 5)"
    print(f"{label:<58} {'':>9} {statistics.median(samples):>8.3f}")
"""


def insert_records(url: str, count: int) -> float:
    started = time.perf_counter()
    engine = sqlalchemy.create_engine(url)
    rows = (
        (
            START + timedelta(seconds=i),
            EVENTS[i % len(EVENTS)],
            "citizen" if i % 7 else "operator:bench",
            f"{i % 50000:08d}-0000-4000-8000-000000000000",
            "fishing-licence" if i % 3 == 0 else None,
            f"{i:016x}",
            json.dumps({"attempt": i % 6, "level": "Cl.Cm"}),
        )
        for i in range(count)
    )
    columns = "at, event, actor, user_id, client_id, request_id, details"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY audit_events ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            batch: list[tuple[object, ...]] = []
            statement = f"INSERT INTO audit_events ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)"  # noqa: S608 (constant)
            for row in rows:
                batch.append((row[0].strftime("%Y-%m-%d %H:%M:%S.%f"), *row[1:]))  # as SQLAlchemy stores it
                if len(batch) == 50000:
                    cursor.executemany(statement, batch)
                    batch.clear()
            if batch:
                cursor.executemany(statement, batch)
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    return time.perf_counter() - started


def medians(env: dict[str, str], *args: str, runs: int = 5) -> tuple[float, float]:
    """Median wall and CPU seconds."""
    samples = [timed_child(env, *args) for _ in range(runs)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sqlite", action="store_true", help="SQLite even when PostgreSQL is reachable")
    options = parser.parse_args()
    if options.records < 10:
        parser.error("--records must be at least 10")

    workdir = Path(tempfile.mkdtemp(prefix="idp-bench-audit-"))
    url = None if options.sqlite else postgres_url(DEFAULT_POSTGRES)
    if url is None:
        url = f"sqlite:///{workdir / 'idp.sqlite3'}"
    backend = make_url(url).get_backend_name()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "IDP_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        "IDP_OPERATOR": "bench",
        "IDP_LOG_LEVEL": "WARNING",
        "IDP_OUTBOX_IN_PROCESS": "false",
    }
    subprocess.run([str(IDP), "setup"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for n in range(20):
        subprocess.run(
            [str(IDP), "clients", "add", "--client-id", f"service-{n:02d}", "--name", f"Service {n}"]
            + ["--redirect-uri", f"https://service-{n:02d}.example.gov.uk/callback"]
            + ["--jwks-uri", f"https://service-{n:02d}.example.gov.uk/jwks.json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    inserted = insert_records(url, options.records)
    print(f"backend: {backend}; inserted {options.records} audit records in {inserted:.1f} s")
    print(f"{'command':<58} {'records':>9} {'wall s':>8} {'CPU s':>7} {'peak RSS MiB':>13}")
    for fmt in ("jsonl", "csv"):
        for fraction in (10, 1):
            count = options.records // fraction
            until = (START + timedelta(seconds=count)).isoformat()
            args = ["audit", "export", "--since", START.isoformat(), "--until", until, "--format", fmt]
            args += ["--output", os.devnull]
            wall, cpu, rss = timed_child(env, *args)
            print(f"{'idp audit export --format ' + fmt:<58} {count:>9} {wall:>8.2f} {cpu:>7.2f} {rss / 1024:>13.1f}")
    for command in (("keys", "list"), ("clients", "list"), ("keys", "list", "--json")):
        wall, cpu = medians(env, *command)
        print(
            f"{'idp ' + ' '.join(command) + ' (median of 5, start-up included)':<58} {'':>9} {wall:>8.2f} {cpu:>7.2f}"
        )
    in_process = subprocess.run(
        [sys.executable, "-c", IN_PROCESS], env=env, check=True, capture_output=True, text=True
    ).stdout
    print(in_process, end="")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if backend == "postgresql":
        admin = sqlalchemy.create_engine(DEFAULT_POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        admin.dispose()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
