"""The provider under gunicorn with two worker processes: /metrics adds up every worker's counters, a dead
worker's counts are kept, counts of an earlier run are not, and every line gunicorn and the app write is JSON."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import free_ports, stop_process_group, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HEALTHZ = ("idp_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))


@dataclass
class Provider:
    url: str
    log: Path
    process: subprocess.Popen[bytes]
    metrics_directory: Path

    def lines(self) -> list[dict[str, Any]]:
        text = self.log.read_text()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def access_lines(self, route: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == "idp.access" and line.get("route") == route]


def _stale_counts(directory: Path, env: dict[str, str]) -> None:
    """What a previous run of gunicorn would have left: a thousand /healthz requests."""
    code = "from idp import metrics; metrics.HTTP_REQUESTS.labels('/healthz', 'GET', '200').inc(1000)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
    assert list(directory.glob("counter_*.db"))


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    work = tmp_path_factory.mktemp("gunicorn")
    metrics_directory = work / "metrics"
    metrics_directory.mkdir()
    port = free_ports(1)[0]
    env = {
        **os.environ,
        "IDP_ENV": "development",
        "IDP_ISSUER": f"http://127.0.0.1:{port}/",
        "DATABASE_URL": f"sqlite:///{work / 'idp.sqlite3'}",
        "REDIS_URL": "",
        "IDP_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        "SECRET_KEY": secrets.token_hex(16),
        "IDP_OUTBOX_IN_PROCESS": "false",
        "IDP_LOG_LEVEL": "DEBUG",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_directory),
    }
    subprocess.run([BIN / "flask", "--app", "idp", "setup"], check=True, cwd=ROOT, env=env, capture_output=True)
    _stale_counts(metrics_directory, env)
    log = work / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = Provider(f"http://127.0.0.1:{port}", log, process, metrics_directory)
    try:
        assert wait_for(lambda: _booted_workers(started) >= 2, timeout=60), log.read_text()[-3000:]
        # A worker answers once it has loaded the app, which takes a while on a busy machine.
        assert wait_for(lambda: _answers(started), timeout=60), log.read_text()[-3000:]
        yield started
    finally:
        stop_process_group(process, grace=15)


def _booted_workers(provider: Provider) -> int:
    try:
        return sum(1 for line in provider.lines() if line["message"].startswith("Booting worker"))
    except (OSError, json.JSONDecodeError):
        return 0


def _answers(provider: Provider) -> bool:
    try:
        return requests.get(provider.url + "/readyz", timeout=5).status_code == 200  # not /healthz: it is counted
    except requests.RequestException:
        return False


def _healthz(provider: Provider) -> None:
    # A new connection each time, so that either worker may take it.
    response = requests.get(provider.url + "/healthz", headers={"Connection": "close"}, timeout=30)
    assert response.status_code == 200


def _scrape(provider: Provider) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = requests.get(provider.url + "/metrics", headers={"Connection": "close"}, timeout=30)
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_counters_of_both_workers_add_up(provider: Provider) -> None:
    # Until both workers have answered some: the second may still be loading the app when the first answers.
    sent = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _healthz(provider)
        sent += 1
        if sent >= 20 and len({line["process"] for line in provider.access_lines("/healthz")}) == 2:
            break
    served_by = {line["process"] for line in provider.access_lines("/healthz")}
    assert len(served_by) == 2, f"one worker answered all {sent} requests"
    samples = _scrape(provider)
    # Exactly what was sent: both workers' counts, and nothing of the stale run's thousand.
    assert samples[HEALTHZ] == sent
    assert samples[("idp_outbox_messages", (("status", "pending"),))] == 0


def test_a_dead_workers_counts_are_kept(provider: Provider) -> None:
    before = _scrape(provider)[HEALTHZ]
    _healthz(provider)
    victim = provider.access_lines("/healthz")[-1]["process"]
    booted = _booted_workers(provider)
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: _booted_workers(provider) > booted, timeout=30), "gunicorn replaced the worker"
    assert _scrape(provider)[HEALTHZ] == before + 1


def test_every_line_is_json_with_the_request_id(provider: Provider) -> None:
    response = requests.get(provider.url + "/healthz", headers={"X-Request-Id": "from-the-edge-1"}, timeout=30)
    assert response.headers["X-Request-Id"] == "from-the-edge-1"
    lines = provider.lines()  # each parses as a JSON object, gunicorn's own included
    assert any(line["logger"] == "gunicorn.error" and "Listening at" in line["message"] for line in lines)
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    assert [line["request_id"] for line in provider.access_lines("/healthz")][-1] == "from-the-edge-1"
