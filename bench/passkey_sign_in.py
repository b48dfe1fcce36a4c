"""Server CPU time of one passwordless sign-in with a passkey, beside one with a password and an authenticator-app
code at the production Argon2 cost.

    .venv/bin/python bench/passkey_sign_in.py                   # SQLite and the SQL store, 50 rounds
    .venv/bin/python bench/passkey_sign_in.py --rounds 100 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/idp_cpu --redis-url redis://127.0.0.1:6379/3

The provider runs in this process behind the timing middleware of bench/sign_in_cpu.py (each request's thread CPU
and wall time, to the last byte of the body). The passkey is real: a software authenticator
(tests/software_authenticator.py) holds a P-256 key and signs each round's fresh challenge, which py_webauthn
verifies. One sign-in is every request from /authorize to the redirect back to the service: the authorization
request, the sign-in page, the passkey page, the ceremony's options, the signed answer, and the journey's end.
The given PostgreSQL database is migrated, and its users and clients are removed at the end; never point it at a
database that matters.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
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
    sign_in_with_app,
    totals,
)

from idp.auth.passkeys import rp_id_and_origin  # noqa: E402
from idp.extensions import db  # noqa: E402
from idp.models import AuditEvent, Client, OutboxMessage, Passkey, RelyingPartySignIn, User  # noqa: E402
from tests.helpers import Browser, RelyingPartyUnderTest, create_citizen  # noqa: E402
from tests.software_authenticator import SoftwareAuthenticator  # noqa: E402


def citizen_with_passkey(app: Flask) -> SoftwareAuthenticator:
    citizen = create_citizen(app, email=f"bench-{uuid.uuid4().hex[:10]}@example.com", password=PASSWORD)
    rp_id, origin = rp_id_and_origin(app.config["IDP_ISSUER"])
    authenticator = SoftwareAuthenticator(origin, rp_id=rp_id, user_handle=citizen.user_id.encode())
    with app.app_context():
        db.session.add(
            Passkey(
                user_id=citizen.user_id,
                credential_id=authenticator.credential_id,
                public_key=authenticator.cose_public_key(),
                sign_count=0,
                name="Bench",
                transports=["internal"],
                aaguid="00000000-0000-0000-0000-000000000000",
            )
        )
        db.session.commit()
    return authenticator


def sign_in_with_passkey(app: Flask, rp: RelyingPartyUnderTest, authenticator: SoftwareAuthenticator) -> None:
    browser = Browser(app.test_client())
    browser.authorize(rp.authorize_params())
    browser.get("/sign-in/passkey")
    token = browser.last_html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    options = browser.client.post("/sign-in/passkey/options", headers={"X-CSRFToken": token})
    assertion = authenticator.get(options.get_data(as_text=True))
    response = browser.follow(browser.post_form("/sign-in/passkey", {"credential": json.dumps(assertion)}))
    assert response.status_code == 302 and response.location.startswith(rp.redirect_uri), response.location


def main() -> int:
    args = bench_arguments(__doc__, default_rounds=50).parse_args()

    app, timed = build_app(args.database_url, args.redis_url)
    rp = RelyingPartyUnderTest.register(app, key_alg="ES256")
    authenticator = citizen_with_passkey(app)
    print(f"{settings(app, args.redis_url)}; {args.rounds} rounds; Python {sys.version.split()[0]}")

    sign_in_with_passkey(app, rp, authenticator)  # warm up: templates compiled, connections open
    sign_in_with_app(app, rp)
    timed.take()
    passkey_totals: list[tuple[float, float]] = []
    password_totals: list[tuple[float, float]] = []
    pages: dict[str, list[Request]] = defaultdict(list)
    try:
        for _ in range(args.rounds):
            sign_in_with_passkey(app, rp, authenticator)
            requests = timed.take()
            passkey_totals.append(totals(requests))
            for request in requests:
                pages[page_name(request)].append(request)
            sign_in_with_app(app, rp)
            password_totals.append(totals(timed.take()))
    finally:
        clear_tables(app, RelyingPartySignIn, OutboxMessage, AuditEvent, Passkey, User, Client)

    print()
    for title, figures in (
        ("One passwordless sign-in with a passkey (Cl.Cm)", passkey_totals),
        ("One sign-in with a password and an authenticator-app code (Cl.Cm)", password_totals),
    ):
        cpu, wall = [c for c, _ in figures], [w for _, w in figures]
        print(f"{title}, server time summed over its requests:")
        print(f"  CPU  median {median(cpu):8.2f} ms   min {min(cpu):8.2f} ms")
        print(f"  wall median {median(wall):8.2f} ms   min {min(wall):8.2f} ms")
    print()
    for line in report("Each request of the passkey sign-in:", pages):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
