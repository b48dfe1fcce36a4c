"""Server time of every page of the citizen's account and of recovery, and of the changes made there, at the
production Argon2 cost.

    .venv/bin/python bench/account_pages.py                     # SQLite and the SQL store, 20 rounds
    .venv/bin/python bench/account_pages.py --rounds 50 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/idp_cpu --redis-url redis://127.0.0.1:6379/3

Driven like `bench/sign_in_cpu.py` (whose in-process harness it uses): Flask's test client as a browser, each
request's thread CPU time and wall time recorded by a WSGI middleware. The account page grows with the citizen's
history, so each round's citizen first signs in to the service `--history` times. Codes are read from the
development sender's inbox. The given PostgreSQL database is migrated, and its users and clients are removed at
the end; never point it at a database that matters.
"""

from __future__ import annotations

import sys
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sign_in_cpu import (  # noqa: E402
    PASSWORD,
    Request,
    bench_arguments,
    build_app,
    clear_tables,
    median,
    page_name,
    report,
    settings,
)

from idp.models import AuditEvent, Client, OutboxMessage, RelyingPartySignIn, User  # noqa: E402
from tests.helpers import Browser, RelyingPartyUnderTest, create_citizen, latest_code_to  # noqa: E402
from tests.integration._support import QuickCitizen, complete_sign_in  # noqa: E402

ACCOUNT_PAGES = (
    "/account",
    "/account/change-password",
    "/account/change-email",
    "/account/change-security-codes",
    "/account/change-security-codes/authenticator-app",
    "/account/change-security-codes/phone-number",
    "/account/sign-out-everywhere",
    "/account/delete",
)


def one_round(app: object, rp: RelyingPartyUnderTest, history: int) -> None:
    from flask import Flask

    assert isinstance(app, Flask)
    made = create_citizen(app, email=f"bench-{uuid.uuid4().hex[:10]}@example.com", password=PASSWORD)
    citizen = QuickCitizen(made.user_id, made.email, made.password, made.totp_secret)
    browser = Browser(app.test_client())
    for _ in range(history):
        browser.authorize(rp.authorize_params())  # already signed in: straight back to the service
    complete_sign_in(browser, browser.get("/account"), citizen)
    for _ in range(history):
        browser.authorize(rp.authorize_params())
    for path in ACCOUNT_PAGES:
        browser.get(path)
    browser.get("/account/change-password")
    browser.post_form(
        "/account/change-password",
        {"current_password": PASSWORD, "password": PASSWORD + " new", "confirm_password": PASSWORD + " new"},
    )
    new_email = f"moved-{uuid.uuid4().hex[:10]}@example.com"
    browser.get("/account/change-email")
    browser.post_form("/account/change-email", {"email": new_email})
    browser.get("/account/change-email/check-your-email")
    browser.post_form("/account/change-email/check-your-email", {"code": latest_code_to(app, new_email)})
    browser.get("/account/delete")
    browser.post_form("/account/delete", {"password": PASSWORD + " new"})

    # Recovery, from the password page of another sign-in.
    made = create_citizen(app, email=f"bench-{uuid.uuid4().hex[:10]}@example.com", password=PASSWORD)
    other = Browser(app.test_client())
    other.authorize(rp.authorize_params())
    other.follow(other.post_form("/sign-in", {"email": made.email}))
    other.get("/reset-password")
    other.post_form("/reset-password", {})
    other.get("/reset-password/check-your-email")
    other.post_form("/reset-password/check-your-email", {"code": latest_code_to(app, made.email)})
    other.get("/reset-password/new-password")
    other.post_form("/reset-password/new-password", {"password": PASSWORD + " 2", "confirm_password": PASSWORD + " 2"})


def main() -> int:
    parser = bench_arguments(__doc__, default_rounds=20)
    parser.add_argument("--history", type=int, default=20, help="sign-ins to the service before each round")
    args = parser.parse_args()

    app, timed = build_app(args.database_url, args.redis_url)
    rp = RelyingPartyUnderTest.register(app, key_alg="ES256")
    print(f"{settings(app, args.redis_url)}; {args.rounds} rounds, {args.history} sign-ins of history")
    pages: dict[str, list[Request]] = defaultdict(list)
    try:
        one_round(app, rp, args.history)  # warm up
        timed.take()
        for _ in range(args.rounds):
            one_round(app, rp, args.history)
            for request in timed.take():
                if request.path.startswith(("/account", "/reset-password")):
                    pages[page_name(request)].append(request)
    finally:
        clear_tables(app, RelyingPartySignIn, OutboxMessage, AuditEvent, User, Client)
    print()
    for line in report("Each request of the account and of recovery:", dict(sorted(pages.items()))):
        print(line)
    slow = sorted(
        (name, median(r.wall_ms for r in requests))
        for name, requests in pages.items()
        if name.startswith("GET") and median(r.wall_ms for r in requests) >= 50
    )
    print()
    print("Pages (GET) with a median over 50 ms of server wall time: " + (", ".join(n for n, _ in slow) or "none"))
    print("(POSTs that check or set a password run Argon2id, once or more, at the cost above.)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
