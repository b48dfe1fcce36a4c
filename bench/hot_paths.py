"""Server CPU of the requests the load benchmark repeats, in process, one request at a time: the token exchange
(W3), userinfo (W4) and the single-sign-on authorization request (W5).

    .venv/bin/python bench/hot_paths.py --rounds 2000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/idp_hot --redis-url redis://127.0.0.1:6379/4
    ... --profile token        # cProfile of the token requests only: the functions that cost the most

One citizen signs in with a password and an authenticator-app code. Then, each round, the signed-in browser asks for a
code (W5), and the service, without cookies, exchanges it with `private_key_jwt` and PKCE (W3) and asks for userinfo
with the access token (W4). The client's work (its assertion, the test client) is outside the timing: each request's
thread CPU is taken inside WSGI, as bench/sign_in_cpu.py does. The given PostgreSQL database is migrated and its users
and clients are removed at the end; never point it at a database that matters.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sign_in_cpu import (  # noqa: E402
    bench_arguments,
    build_app,
    clear_tables,
    median,
    settings,
    sign_in_with_app,
)

from idp.models import AuditEvent, Client, OutboxMessage, RelyingPartySignIn, User  # noqa: E402
from tests.helpers import RelyingPartyUnderTest, redirect_params  # noqa: E402

WORKLOADS = ("authorize", "token", "userinfo")


class ProfiledWsgi:
    """cProfile around the app's own work only, when `profiling` is set."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.profile = cProfile.Profile(time.thread_time)  # CPU, not the wait for PostgreSQL or Redis
        self.profiling = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if not self.profiling:
            return list(self.app(environ, start_response))
        self.profile.enable()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.profile.disable()


def main() -> int:
    parser = bench_arguments(__doc__ or "", default_rounds=1000)
    parser.add_argument("--profile", choices=WORKLOADS, help="cProfile the requests of this workload")
    args = parser.parse_args()

    os.environ["IDP_LOG_LEVEL"] = "WARNING"  # as in the load benchmark: no access line per request
    app, timed = build_app(args.database_url, args.redis_url)
    profiled = ProfiledWsgi(timed.app)
    timed.app = profiled
    rp = RelyingPartyUnderTest.register(app, key_alg="ES256", pkce_enforced=True)
    print(f"{settings(app, args.redis_url)}; {args.rounds} rounds; Python {sys.version.split()[0]}")
    cpu: dict[str, list[float]] = {name: [] for name in WORKLOADS}
    try:
        browser, _ = sign_in_with_app(app, rp)
        service = app.test_client(use_cookies=False)  # the service's back end has no cookies of the citizen's
        timed.take()
        for round_number in range(args.rounds + 20):  # the first 20 warm up
            measured = round_number >= 20
            profiled.profiling = measured and args.profile == "authorize"
            response = browser.client.get("/authorize", query_string=rp.authorize_params())
            code = redirect_params(response.location)["code"]
            profiled.profiling = measured and args.profile == "token"
            token = service.post("/token", data=rp.token_form(code))
            assert token.status_code == 200, token.get_data(as_text=True)
            profiled.profiling = measured and args.profile == "userinfo"
            userinfo = service.get("/userinfo", headers={"Authorization": "Bearer " + token.get_json()["access_token"]})
            assert userinfo.status_code == 200, userinfo.get_data(as_text=True)
            profiled.profiling = False
            for name, request in zip(WORKLOADS, timed.take(), strict=True):
                if measured:
                    cpu[name].append(request.cpu_ms)
    finally:
        clear_tables(app, RelyingPartySignIn, OutboxMessage, AuditEvent, User, Client)

    print(f"{'request':<28}{'CPU ms median':>14}{'p90':>8}")
    for name, path in zip(WORKLOADS, ("GET /authorize (SSO)", "POST /token", "GET /userinfo"), strict=True):
        values = sorted(cpu[name])
        print(f"{path:<28}{median(values):>14.3f}{values[int(len(values) * 0.9)]:>8.3f}")
    if args.profile:
        out = io.StringIO()
        stats = pstats.Stats(profiled.profile, stream=out)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
