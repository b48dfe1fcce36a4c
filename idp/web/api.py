"""The endpoints services' servers call, /token and /userinfo, served straight from WSGI.

A service's server sends no cookies, fills in no form of ours and reads no page, and it calls these once or more
per sign-in. Flask's request machinery (a request context, a session, the CSRF check, the language, the before-
and after-request functions) costs more than these endpoints do, so they run here instead: inside an app context
(for the database, the store, the config and `g`), with what the Flask hooks give every page: a request id, the
strict headers, the metrics and the access line. Everything else goes on to the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from flask import Flask

from idp import logs
from idp.web.request_log import record_request, request_id_from
from idp.web.security_headers import EVERY_RESPONSE, HSTS
from idp.web.urlencoded import TooManyFields, UrlencodedParser

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

log = logging.getLogger(__name__)

#: A token request is a few kilobytes even with a request object; anything far larger is not one.
MAX_FORM_BYTES = 256 * 1024
MAX_FORM_FIELDS = 1000
_FORMS = UrlencodedParser(max_fields=MAX_FORM_FIELDS)
_STATUS_LINES = {
    200: "200 OK",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
    500: "500 Internal Server Error",
}


class ApiRequest:
    """What an endpoint may read of a request: the method, the headers and, for a form post, the form."""

    __slots__ = ("method", "form", "_environ")

    def __init__(self, environ: dict[str, Any], form: dict[str, str]) -> None:
        self.method: str = environ["REQUEST_METHOD"]
        #: Reference §2: duplicate parameters are not rejected; the last value wins.
        self.form = form
        self._environ = environ

    def header(self, name: str) -> str | None:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        value = self._environ.get(key)
        return value if isinstance(value, str) else None


@dataclass
class ApiResponse:
    status: int
    body: dict[str, Any] | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


ApiHandler = Callable[[ApiRequest], ApiResponse]
#: Runs before the endpoint: a response refuses the request, None lets it through.
AccessRule = Callable[[ApiRequest], ApiResponse | None]


@dataclass(frozen=True)
class ApiRoute:
    endpoint: ApiHandler
    methods: frozenset[str]
    access_rule: AccessRule

    def __post_init__(self) -> None:
        # RFC 9110 §9.3.2: what answers GET answers HEAD, as a Flask route does (a body-less GET, see ApiEndpoints);
        # and, as for a Flask route, OPTIONS says which methods the endpoint takes (§9.3.7).
        added = {"HEAD", "OPTIONS"} if "GET" in self.methods else {"OPTIONS"}
        object.__setattr__(self, "methods", self.methods | added)

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.methods))


def public(_request: ApiRequest) -> None:
    """Anyone may call the endpoint; it authenticates the caller itself, in the protocol's terms."""


def _form(environ: dict[str, Any]) -> dict[str, str] | None:
    """The urlencoded form of a POST (empty for anything else); None when it is too large to be a real one."""
    if environ["REQUEST_METHOD"] != "POST":
        return {}
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        return {}
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_FORM_BYTES:
        return None
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        return _FORMS.parse(body.decode("utf-8", "replace"))
    except TooManyFields:  # too large, as werkzeug's form parser says too (not a server error)
        return None


def _encode(response: ApiResponse) -> bytes:
    return orjson.dumps(response.body) if response.body is not None else b""


class ApiEndpoints:
    """WSGI middleware: the exact paths of `routes` are answered here, everything else goes to the app."""

    def __init__(self, wsgi_app: WSGIApp, app: Flask, routes: dict[str, ApiRoute]) -> None:
        self._wsgi_app = wsgi_app
        self._app = app
        self._routes = routes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        route = self._routes.get(environ.get("PATH_INFO", ""))
        if route is None:
            return self._wsgi_app(environ, start_response)
        started = time.perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        context_token = logs.request_id.set(request_id)
        path = environ["PATH_INFO"]
        method = environ["REQUEST_METHOD"]
        try:
            try:
                response = self._respond(route, environ)
                body = _encode(response)
            except Exception:
                log.exception("Exception on %s [%s]", path, method)
                response = ApiResponse(500, {"error": "server_error", "error_description": "Internal server error"})
                body = _encode(response)
            headers = [
                *((("Content-Type", "application/json"),) if body else ()),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                *response.headers,
                *EVERY_RESPONSE,
                ("X-Request-Id", request_id),
            ]
            if environ.get("wsgi.url_scheme") == "https":
                headers.append(HSTS)
            start_response(_STATUS_LINES.get(response.status, f"{response.status} Error"), headers)
            record_request(method, path, response.status, time.perf_counter() - started)
        finally:
            logs.request_id.reset(context_token)
        return [body] if method != "HEAD" else [b""]

    def _respond(self, route: ApiRoute, environ: dict[str, Any]) -> ApiResponse:
        method = environ["REQUEST_METHOD"]
        if method not in route.methods:
            return ApiResponse(405, None, [("Allow", route.allow)])
        if method == "OPTIONS":  # before the access rule: it tells nothing but the methods, as Flask's answer does
            return ApiResponse(200, None, [("Allow", route.allow)])
        form = _form(environ)
        if form is None:
            return ApiResponse(413, {"error": "invalid_request", "error_description": "Request body too large"})
        request = ApiRequest(environ, form)
        with self._app.app_context():
            refusal = route.access_rule(request)
            if refusal is not None:
                return refusal
            return route.endpoint(request)


def serve_api(app: Flask, routes: dict[str, ApiRoute]) -> None:
    """Answer `routes` ahead of Flask, and list their access rules beside the blueprints' (see idp.web.access)."""
    access_rules = app.extensions.setdefault("access_rules", {})
    for route in routes.values():
        access_rules[route.endpoint.__name__] = route.access_rule.__name__
    app.wsgi_app = ApiEndpoints(app.wsgi_app, app, routes)  # type: ignore[method-assign]
