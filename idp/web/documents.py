"""The published documents (discovery, JWKS, trustmark) served straight from WSGI.

RPs and their caches fetch these far more often than anything else, and they are the same bytes for everyone,
so they skip Flask's routing, sessions and templates. The bytes are rebuilt at most every few seconds, so a
new key reaches the JWKS of every process within that time. They are counted in the request metrics (route
and status 200) but not timed, and have no access log line: they are served from memory.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_REBUILD_SECONDS = 5.0


class PublishedDocument:
    def __init__(self, build: Callable[[], Any], cache_control: str) -> None:
        self._build = build
        self._cache_control = cache_control
        self._lock = threading.Lock()
        self._built_at = float("-inf")
        self._headers: list[tuple[str, str]] = []
        self._body = b""

    def invalidate(self) -> None:
        with self._lock:
            self._built_at = float("-inf")

    def response(self) -> tuple[list[tuple[str, str]], bytes]:
        if time.monotonic() - self._built_at > _REBUILD_SECONDS:
            with self._lock:
                if time.monotonic() - self._built_at > _REBUILD_SECONDS:
                    body = json.dumps(self._build(), separators=(",", ":")).encode()
                    self._headers = [
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(body))),
                        ("Cache-Control", self._cache_control),
                        ("X-Content-Type-Options", "nosniff"),
                        ("Access-Control-Allow-Origin", "*"),
                    ]
                    self._body = body
                    self._built_at = time.monotonic()
        return self._headers, self._body


def within(app: Flask, build: Callable[[], Any]) -> Callable[[], Any]:
    """A builder that needs the app (the keyring reads the database) runs inside an app context."""

    def run() -> Any:
        with app.app_context():
            return build()

    return run


class PublishedDocuments:
    """WSGI middleware: exact GET/HEAD paths answered from `PublishedDocument`s, everything else to the app."""

    def __init__(
        self,
        wsgi_app: WSGIApp,
        documents: dict[str, PublishedDocument],
        count: Callable[[str, str], None],
    ) -> None:
        self._wsgi_app = wsgi_app
        self._documents = documents
        self._count = count

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        document = self._documents.get(environ.get("PATH_INFO", ""))
        if document is None or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self._wsgi_app(environ, start_response)
        headers, body = document.response()
        self._count(environ["PATH_INFO"], environ["REQUEST_METHOD"])
        start_response("200 OK", list(headers))
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]
