"""/authorize from a browser that is signed in already, answered ahead of Flask.

Single sign-on is the commonest request a browser makes of the provider: a citizen signed in for one service goes to
another, and the browser comes straight back with a code. Flask's request machinery (the contexts, the hooks, the
response object) costs more than that answer, so this layer gives it, with what the hooks would have given: the
request id, the strict headers, the metrics and the access line.

It answers only the plain case, where Flask's view would issue a code and change nothing else. Every other request
(no session or a session to refresh, a language to remember, an invalid request, a sign-in or an identity journey
to start, a service this session has not signed in to yet) goes on to the view, which decides everything again. The
session read here is handed over with it, so nothing is read twice.
"""

from __future__ import annotations

import html
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.http import parse_cookie
from werkzeug.urls import iri_to_uri

from idp import SUPPORTED_LOCALES, logs
from idp.lookups import keep_reads, read, remember_reads_in_this_context
from idp.oidc.authorization_request import AuthorizeError
from idp.oidc.views import answer_with_code, single_sign_on_applies, validated_authorization_request
from idp.web.citizen_session import sign_in_from, signed_out_key
from idp.web.language import LANGUAGE_COOKIE
from idp.web.request_log import record_request, request_id_from
from idp.web.security_headers import EVERY_RESPONSE, HSTS, content_security_policy
from idp.web.sessions import COOKIE_NAME, SESSION_READ_AHEAD, StoreSessionInterface, needs_refresh
from idp.web.urlencoded import UrlencodedParser

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

log = logging.getLogger(__name__)

ROUTE = "/authorize"
#: A redirect renders no page, so its policy has no script nonce and no form target (see security_headers).
_REDIRECT_POLICY = content_security_policy(None, [])
_QUERIES = UrlencodedParser(errors="werkzeug.url_quote")


class SingleSignOnAuthorize:
    """WSGI middleware: a signed-in browser's GET /authorize that Flask's view would answer with a code."""

    def __init__(self, wsgi_app: WSGIApp, app: Flask, sessions: StoreSessionInterface) -> None:
        self._wsgi_app = wsgi_app
        self._app = app
        self._sessions = sessions

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") != ROUTE
            or environ.get("REQUEST_METHOD") != "GET"
            or COOKIE_NAME not in environ.get("HTTP_COOKIE", "")
        ):
            return self._wsgi_app(environ, start_response)
        started = time.perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        context_token = logs.request_id.set(request_id)
        try:
            try:
                with self._app.app_context():
                    location = self._code_location(environ)
            except Exception:
                # Nothing has been issued unless a location came back: the view can still answer, with its own
                # error page if it fails the same way.
                log.warning("single sign-on left to the authorize view", exc_info=True)
                location = None
            if location is not None:
                return self._redirect(environ, start_response, location, request_id, started)
        finally:
            logs.request_id.reset(context_token)
        return self._wsgi_app(environ, start_response)

    @staticmethod
    def _redirect(
        environ: dict[str, Any], start_response: StartResponse, location: str, request_id: str, started: float
    ) -> list[bytes]:
        """The response Flask's view gives (views.issue_code), with the headers of its hooks."""
        if not location.isascii():
            location = iri_to_uri(location)
        body = _redirect_note(location)
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Location", location),
            ("Cache-Control", "no-store"),
            *EVERY_RESPONSE,
            ("Content-Security-Policy", _REDIRECT_POLICY),
            ("X-Request-Id", request_id),
        ]
        if environ.get("wsgi.url_scheme") == "https":
            headers.append(HSTS)
        start_response("302 FOUND", headers)
        record_request("GET", ROUTE, 302, time.perf_counter() - started)
        return [body]

    def _code_location(self, environ: dict[str, Any]) -> str | None:
        """Where the browser goes back to the service with its code; None when the view must answer."""
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        sid = cookies.get(COOKIE_NAME)
        stored = self._sessions.read(sid) if sid else None
        environ[SESSION_READ_AHEAD] = (sid, stored)
        if stored is None or needs_refresh(stored.data, time.time()):
            return None
        session = stored.data
        # Parsed as werkzeug's Request.args parses it; the last of repeated parameters wins, as in the view.
        query = environ.get("QUERY_STRING", "").encode("latin-1").decode()
        params = _QUERIES.parse(query)
        locale = session.get("locale")
        if "lang" in params or (locale in SUPPORTED_LOCALES and cookies.get(LANGUAGE_COOKIE) != locale):
            return None  # a language to remember, in the session or the cookie (idp.web.language)
        user_id = session.get("user_id")
        if not isinstance(user_id, str):
            return None
        remember_reads_in_this_context()
        keep_reads(stored.user_records)
        sign_in = sign_in_from(session, read(signed_out_key(user_id)))
        if sign_in is None:
            return None
        try:
            auth_request = validated_authorization_request(params)
        except AuthorizeError:
            return None
        if (
            auth_request.ui_locales
            or auth_request.vtr.needs_identity
            or not single_sign_on_applies(auth_request, sign_in)
            # The first code for a service records it in the session, for logout (logout.remember_service).
            or auth_request.client_id not in session.get("services", ())
        ):
            return None
        return answer_with_code(auth_request, sign_in, journey_id=secrets.token_urlsafe(16)).location


def _redirect_note(location: str) -> bytes:
    """RFC 9110 §15.4: a redirect's content is usually a short note with a link to where it leads."""
    link = html.escape(location)
    return (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
        f'<p>You should be redirected automatically to the target URL: <a href="{link}">{link}</a>.\n'
    ).encode()


def serve_single_sign_on(app: Flask) -> None:
    sessions = app.session_interface
    assert isinstance(sessions, StoreSessionInterface)
    app.wsgi_app = SingleSignOnAuthorize(app.wsgi_app, app, sessions)  # type: ignore[method-assign]
