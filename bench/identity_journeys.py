"""Server time of identity proving: a complete web proving journey (passport, address, fraud check, security
questions) and a reuse journey ("confirm your details" at a second service), through the Flask test client with
production settings (IDP_ENV=production: no test mode, simulations untrusted, the real Argon2 cost).

    .venv/bin/python bench/identity_journeys.py [--runs 20]

Prints, per journey, the median and 90th percentile of the provider's time (wall clock, and the process's CPU time,
which a busy machine inflates less) summed over every request of the
journey, and the number of requests: for proving, from the hand-over at /identity/start to the redirect back to
the service (signing in is not counted); for reuse, from /authorize (silent single sign-on) to the redirect back.
The figures are in-process server time: no network, no browser.
"""

from __future__ import annotations

import argparse
import base64
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from werkzeug.test import TestResponse  # noqa: E402

from idp import create_app  # noqa: E402
from idp.admin.commands import DEFAULT_KEYS  # noqa: E402
from idp.extensions import db  # noqa: E402
from idp.services import current_services  # noqa: E402
from tests.helpers import ISSUER, Browser  # noqa: E402
from tests.integration._identity_support import (  # noqa: E402
    KENNETH_ADDRESS,
    KENNETH_PASSPORT,
    choose_route,
    complete_check,
    identity_service,
    post_page,
    security_answers,
    start_identity_request,
)
from tests.integration._support import quick_citizen  # noqa: E402


class TimedBrowser(Browser):
    """Adds up the server time of the requests made while `timing` is on."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app.test_client())
        self.timing = False
        self.elapsed = 0.0
        self.cpu = 0.0
        self.requests = 0
        original = self.client.open

        def timed_open(*args: Any, **kwargs: Any) -> TestResponse:
            started, cpu_started = time.perf_counter(), time.process_time()
            response = original(*args, **kwargs)
            if self.timing:
                self.elapsed += time.perf_counter() - started
                self.cpu += time.process_time() - cpu_started
                self.requests += 1
            return response

        self.client.open = timed_open  # type: ignore[method-assign]

    def start_timing(self) -> None:
        self.timing, self.elapsed, self.cpu, self.requests = True, 0.0, 0.0, 0


def production_app(work: Path) -> Flask:
    app = create_app(
        {
            "IDP_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "IDP_ISSUER": ISSUER,
            "IDP_IDENTITY_ISSUER": ISSUER,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'idp.sqlite3'}",
            "REDIS_URL": "",
            "IDP_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
            "IDP_OUTBOX_IN_PROCESS": False,
            "IDP_IDENTITY_TEST_MODE": False,
        }
    )
    from idp import init_migrations

    init_migrations(app)
    with app.app_context():
        upgrade()
        current_services().keyring.ensure_active(DEFAULT_KEYS)
        db.session.commit()
    return app


def one_run(app: Flask) -> tuple[tuple[float, float, int], tuple[float, float, int]]:
    first, second = identity_service(app), identity_service(app, sector_identifier_uri="https://second.example")
    citizen = quick_citizen(app)
    browser = TimedBrowser(app)

    start_identity_request(browser, first, citizen)  # signing in: not timed
    browser.start_timing()
    browser.get("/identity/start")
    response = choose_route(browser, "web-passport")
    response = complete_check(browser, response, KENNETH_PASSPORT)
    response = complete_check(browser, response, KENNETH_ADDRESS)
    response = complete_check(browser, response, {})
    browser.timing = False
    answers = security_answers(app, browser)  # what the citizen knows: not the server's time
    browser.timing = True
    response = complete_check(browser, response, answers)
    assert response.status_code == 302 and response.location.startswith(first.redirect_uri), response.location
    proving = (browser.elapsed, browser.cpu, browser.requests)

    browser.start_timing()  # from /authorize: the citizen is signed in already, so single sign-on is silent
    response = start_identity_request(browser, second, citizen)
    assert response.request.path == "/identity/confirm-your-details"
    response = browser.follow(post_page(browser, "/identity/confirm-your-details", [("answer", "correct")]))
    assert response.status_code == 302 and response.location.startswith(second.redirect_uri), (
        response.status_code,
        re.findall(r'<h1[^>]*>([^<]*)|govuk-error-message">(.*?)</', browser.last_html, re.S),
    )
    reuse = (browser.elapsed, browser.cpu, browser.requests)
    browser.timing = False
    return proving, reuse


def _median_p90(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def report(name: str, runs: list[tuple[float, float, int]]) -> None:
    wall = _median_p90([elapsed * 1000 for elapsed, _, _ in runs])
    cpu = _median_p90([cpu * 1000 for _, cpu, _ in runs])
    print(
        f"{name:<38} wall median {wall[0]:7.1f} ms  p90 {wall[1]:7.1f} ms   "
        f"CPU median {cpu[0]:6.1f} ms  p90 {cpu[1]:6.1f} ms   {runs[0][2]:2d} requests   ({len(runs)} runs)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        app = production_app(Path(work))
        one_run(app)  # warm up: registers loaded, keys cached, templates compiled
        proving, reuse = [], []
        for _ in range(args.runs):
            first, second = one_run(app)
            proving.append(first)
            reuse.append(second)
    print("Identity journeys, server time in process (production settings, SQLite, SQL store)")
    report("web proving journey (passport route)", proving)
    report("reuse journey (confirm your details)", reuse)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
