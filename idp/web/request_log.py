"""Every request: a request id (on every log line, the audit rows and the response), metrics, one access line.

The access line has the method, the route rule, the status and the duration: never the raw path's query string
(/authorize's carries the citizen's hints) nor a body. Probes and scrapes are logged at DEBUG only.
"""

from __future__ import annotations

import logging
import random
import re
import time
from typing import Any

from flask import Flask, Response, g, request

from idp import logs, metrics

access_log = logging.getLogger("idp.access")

#: An X-Request-Id from the load balancer is kept when it looks like an id: short, and no characters that could
#: forge a log line or a header.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
#: Label values come from small sets: any other method a client invents is counted as "other".
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_id_from(header: str | None) -> str:
    if header and _SANE_REQUEST_ID.match(header):
        return header
    # An id to correlate lines by, not a secret: no need for the system's randomness (a syscall) on every request.
    return f"{random.getrandbits(64):016x}"


#: The labelled children of the request metrics, looked up once: labels() takes a lock and builds a key each time.
_counters: dict[tuple[str, str, int], Any] = {}
_timers: dict[tuple[str, str], Any] = {}


def record_request(method: str, route: str, status: int, duration: float) -> None:
    """The metrics and the access line of one request, by its route rule (never the raw path)."""
    if method not in _METHODS:
        method = "other"
    counter = _counters.get((route, method, status))
    if counter is None:
        counter = _counters[(route, method, status)] = metrics.HTTP_REQUESTS.labels(route, method, str(status))
    counter.inc()
    timer = _timers.get((route, method))
    if timer is None:
        timer = _timers[(route, method)] = metrics.HTTP_REQUEST_DURATION.labels(route, method)
    timer.observe(duration)
    level = logging.DEBUG if route in _QUIET_ROUTES else logging.INFO
    if access_log.isEnabledFor(level):
        access_log.log(
            level,
            "%s %s %s",
            method,
            route,
            status,
            extra={"method": method, "route": route, "status": status, "duration_ms": round(duration * 1000, 2)},
        )


def init_app(app: Flask) -> None:
    metrics.count_audited_events()

    def start_request() -> None:
        g.request_started = time.perf_counter()
        g.request_id_token = logs.request_id.set(request_id_from(request.headers.get("X-Request-Id")))

    # First of all the app's before-request functions, so that everything after it is timed and has the id.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)

    @app.after_request
    def finish_request(response: Response) -> Response:
        request_id = logs.request_id.get()
        if request_id:
            response.headers["X-Request-Id"] = request_id
        started = g.get("request_started")
        duration = time.perf_counter() - started if started is not None else 0.0
        route = request.url_rule.rule if request.url_rule is not None else metrics.UNMATCHED_ROUTE
        record_request(request.method, route, response.status_code, duration)
        return response

    @app.teardown_request
    def forget_request_id(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is None:
            return
        try:
            logs.request_id.reset(token)
        except ValueError:  # the request context ended in another context than it began (a streamed response)
            logs.request_id.set(None)
