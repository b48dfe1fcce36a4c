"""Server CPU time of one complete sign-in (password and authenticator-app code) at the production Argon2 cost, and
the server time of every page of the account-creation and sign-in journeys.

    .venv/bin/python bench/sign_in_cpu.py                       # SQLite and the SQL store, 20 rounds
    .venv/bin/python bench/sign_in_cpu.py --rounds 50 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/idp_cpu --redis-url redis://127.0.0.1:6379/3

The provider runs in this process, driven through Flask's test client like a browser (cookies, CSRF tokens from
the forms). A WSGI middleware records each request's thread CPU time and wall time, from the call to the last byte
of the body, so the figures are the server's alone: the client's own parsing is outside them. Argon2id runs at the
production cost (`IDP_ARGON2_MEMORY_KIB`, `IDP_ARGON2_TIME_COST`, OWASP's 19 MiB and 2 iterations by default).
Codes sent by email and text message are read from the development sender's inbox. Each round uses a new
citizen, so every code is fresh. The given PostgreSQL database is migrated, and its users and clients are
removed at the end; never point it at a database that matters.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyotp  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import delete  # noqa: E402

from idp import create_app, init_migrations  # noqa: E402
from idp.admin.commands import DEFAULT_KEYS  # noqa: E402
from idp.extensions import Base, db  # noqa: E402
from idp.models import AuditEvent, Client, OutboxMessage, RelyingPartySignIn, User  # noqa: E402
from idp.services import current_services  # noqa: E402
from tests.helpers import Browser, RelyingPartyUnderTest, create_citizen, latest_code_to  # noqa: E402

PASSWORD = "bench sign-in 2026"
MOBILE = "07123 456789"
MOBILE_E164 = "+447123456789"


@dataclass
class Request:
    method: str
    path: str
    status: int
    wall_ms: float
    cpu_ms: float


@dataclass
class TimedWsgi:
    """Measures each request in the thread that serves it, including the iteration of the response body."""

    app: Callable[..., Iterable[bytes]]
    requests: list[Request] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        status: list[int] = []

        def recording_start_response(status_line: str, headers: Any, *args: Any) -> Any:
            status.append(int(status_line.split()[0]))
            return start_response(status_line, headers, *args)

        cpu, wall = time.thread_time(), time.perf_counter()
        body = self.app(environ, recording_start_response)
        try:
            chunks = list(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        self.requests.append(
            Request(
                environ["REQUEST_METHOD"],
                environ["PATH_INFO"],
                status[0] if status else 0,
                (time.perf_counter() - wall) * 1000,
                (time.thread_time() - cpu) * 1000,
            )
        )
        return chunks

    def take(self) -> list[Request]:
        taken, self.requests = self.requests, []
        return taken


def build_app(database_url: str, redis_url: str) -> tuple[Flask, TimedWsgi]:
    work = Path(tempfile.mkdtemp(prefix="idp-cpu-"))
    app = create_app(
        {
            "IDP_ENV": "test",  # the development sender, whose inbox holds the codes
            "SECRET_KEY": secrets.token_hex(16),
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{work / 'idp.sqlite3'}",
            "REDIS_URL": redis_url,
            "IDP_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
            "IDP_OUTBOX_IN_PROCESS": False,
        }
    )
    init_migrations(app)
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        current_services().keyring.ensure_active(DEFAULT_KEYS)
        db.session.commit()
    timed = TimedWsgi(app.wsgi_app)
    app.wsgi_app = timed  # type: ignore[method-assign]
    return app, timed


def page_name(request: Request) -> str:
    return f"{request.method} {request.path}"


def sign_in_with_app(app: Flask, rp: RelyingPartyUnderTest) -> tuple[Browser, str]:
    citizen = create_citizen(app, email=f"bench-{uuid.uuid4().hex[:10]}@example.com", password=PASSWORD)
    browser = Browser(app.test_client())
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    browser.follow(browser.post_form("/sign-in/password", {"password": PASSWORD}))
    response = browser.follow(browser.post_form("/sign-in/security-code", {"code": citizen.totp_code()}))
    assert response.status_code == 302 and response.location.startswith(rp.redirect_uri), response.location
    return browser, response.location


def sign_in_with_text_message(app: Flask, rp: RelyingPartyUnderTest) -> None:
    citizen = create_citizen(app, email=f"bench-{uuid.uuid4().hex[:10]}@example.com", password=PASSWORD)
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.mfa_method, user.phone_number, user.phone_number_verified = "sms", MOBILE_E164, True
        db.session.commit()
    browser = Browser(app.test_client())
    browser.authorize(rp.authorize_params())
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    browser.follow(browser.post_form("/sign-in/password", {"password": PASSWORD}))
    code = latest_code_to(app, MOBILE_E164)
    response = browser.follow(browser.post_form("/sign-in/security-code", {"code": code}))
    assert response.status_code == 302 and response.location.startswith(rp.redirect_uri), response.location


def create_account(app: Flask, rp: RelyingPartyUnderTest, method: str) -> None:
    email = f"new-{uuid.uuid4().hex[:10]}@example.com"
    browser = Browser(app.test_client())
    browser.authorize(rp.authorize_params())
    browser.get("/create-account")
    browser.follow(browser.post_form("/create-account", {"email": email}))
    browser.follow(browser.post_form("/create-account/check-email", {"code": latest_code_to(app, email)}))
    browser.follow(browser.post_form("/create-account/password", {"password": PASSWORD, "confirm_password": PASSWORD}))
    browser.follow(browser.post_form("/choose-how-to-get-security-codes", {"method": method}))
    if method == "sms":
        browser.follow(browser.post_form("/set-up-text-message", {"phone_number": MOBILE}))
        code = latest_code_to(app, MOBILE_E164)
        response = browser.follow(browser.post_form("/set-up-text-message/check-phone", {"code": code}))
    else:
        secret = browser.last_html.split('data-testid="secret-key">', 1)[1].split("<", 1)[0].replace(" ", "")
        response = browser.follow(browser.post_form("/set-up-authenticator-app", {"code": pyotp.TOTP(secret).now()}))
    response = browser.follow(browser.post_form("/create-account/passkey/skip", {}))  # the passkey offer: not now
    assert response.status_code == 302 and response.location.startswith(rp.redirect_uri), response.location


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def totals(requests: list[Request]) -> tuple[float, float]:
    """CPU and wall milliseconds summed over one journey's requests."""
    return sum(r.cpu_ms for r in requests), sum(r.wall_ms for r in requests)


def report(title: str, by_page: dict[str, list[Request]]) -> Iterator[str]:
    yield title
    yield f"  {'request':<52} {'n':>4} {'wall ms':>9} {'CPU ms':>8}  (medians)"
    for name, requests in by_page.items():
        wall = median(r.wall_ms for r in requests)
        cpu = median(r.cpu_ms for r in requests)
        yield f"  {name:<52} {len(requests):>4} {wall:>9.2f} {cpu:>8.2f}"


def bench_arguments(description: str, default_rounds: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=default_rounds)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    return parser


def settings(app: Flask, redis_url: str) -> str:
    config = app.config
    return (
        f"Argon2id {config['IDP_ARGON2_MEMORY_KIB']} KiB, {config['IDP_ARGON2_TIME_COST']} iterations; "
        f"database {config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, "
        f"store {'Redis' if redis_url else 'SQL'}"
    )


def clear_tables(app: Flask, *models: type[Base]) -> None:
    with app.app_context():
        for model in models:
            db.session.execute(delete(model))
        db.session.commit()


def main() -> int:
    args = bench_arguments(__doc__, default_rounds=20).parse_args()

    app, timed = build_app(args.database_url, args.redis_url)
    rp = RelyingPartyUnderTest.register(app, key_alg="ES256")
    print(f"{settings(app, args.redis_url)}; {args.rounds} rounds; Python {sys.version.split()[0]}")

    sign_in_totals: list[tuple[float, float]] = []
    token_totals: list[tuple[float, float]] = []
    pages: dict[str, list[Request]] = defaultdict(list)
    journey_pages: dict[str, dict[str, list[Request]]] = {
        "sign in, authenticator app": defaultdict(list),
        "sign in, text message": defaultdict(list),
        "create an account, text message": defaultdict(list),
        "create an account, authenticator app": defaultdict(list),
    }
    sign_in_with_app(app, rp)  # warm up: templates compiled, connections open
    timed.take()
    try:
        for _ in range(args.rounds):
            browser, location = sign_in_with_app(app, rp)
            requests = timed.take()
            sign_in_totals.append(totals(requests))
            for request in requests:
                journey_pages["sign in, authenticator app"][page_name(request)].append(request)
                pages[page_name(request)].append(request)
            code = location.split("code=", 1)[1].split("&", 1)[0]
            token = browser.client.post("/token", data=rp.token_form(code))
            access_token = token.get_json()["access_token"]
            browser.client.get("/userinfo", headers={"Authorization": "Bearer " + access_token})
            token_totals.append(totals(timed.take()))

            for name, run in (
                ("sign in, text message", lambda: sign_in_with_text_message(app, rp)),
                ("create an account, text message", lambda: create_account(app, rp, "sms")),
                ("create an account, authenticator app", lambda: create_account(app, rp, "auth_app")),
            ):
                run()
                for request in timed.take():
                    journey_pages[name][page_name(request)].append(request)
    finally:
        clear_tables(app, RelyingPartySignIn, OutboxMessage, AuditEvent, User, Client)

    print()
    print("One complete sign-in with a password and an authenticator-app code, server time summed over its requests:")
    cpu, wall = [c for c, _ in sign_in_totals], [w for _, w in sign_in_totals]
    print(f"  CPU  median {median(cpu):8.2f} ms   min {min(cpu):8.2f} ms")
    print(f"  wall median {median(wall):8.2f} ms   min {min(wall):8.2f} ms")
    print("  then the service's token exchange and userinfo:")
    cpu, wall = [c for c, _ in token_totals], [w for _, w in token_totals]
    print(f"  CPU  median {median(cpu):8.2f} ms   wall median {median(wall):8.2f} ms")
    for title, by_page in journey_pages.items():
        print()
        for line in report(f"Each request of: {title}", by_page):
            print(line)
    print()
    for measure in ("cpu_ms", "wall_ms"):
        slow = sorted(
            {
                (name, median(getattr(r, measure) for r in requests))
                for by_page in journey_pages.values()
                for name, requests in by_page.items()
                if name.startswith("GET") and median(getattr(r, measure) for r in requests) >= 50
            }
        )
        found = ", ".join(f"{name} {ms:.1f} ms" for name, ms in slow) or "none"
        print(f"Pages (GET) with a median over 50 ms of server {measure.split('_')[0]} time: {found}")
    print("(Wall time includes waiting for a core on a shared machine, and the database's commits.)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
