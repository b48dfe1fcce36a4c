"""A bare WSGI app for test_event_loop_worker.py, run by a real gunicorn: each path shows one thing the worker does.

/echo...            the request as the app saw it, as JSON (any path under /echo)
/slow?ms=N          sleeps N ms first; with started=NAME it first creates NAME in $WORKER_TEST_DIR
/big?mb=N           N MiB of a repeating byte pattern
/empty              204, with a body the worker must not send
/raise              raises
/length?declared=N  "hello" with the app's own Content-Length (5 unless declared says otherwise)
/hop                sets hop-by-hop headers, which are the server's to write
/crlf               a header value with CR/LF in it
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

StartResponse = Callable[..., Any]

PATTERN = bytes(range(256)) * 4096  # 1 MiB


def big_body(megabytes: int) -> bytes:
    return PATTERN * megabytes


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    query = {name: values[-1] for name, values in parse_qs(environ["QUERY_STRING"]).items()}
    if path.startswith("/echo"):
        return _echo(environ, start_response)
    if path == "/slow":
        if "started" in query:
            (Path(os.environ["WORKER_TEST_DIR"]) / Path(query["started"]).name).touch()
        time.sleep(int(query.get("ms", "500")) / 1000)
        return _text(start_response, f"slept {query.get('ms', '500')} ms in {os.getpid()}")
    if path == "/big":
        body = big_body(int(query.get("mb", "1")))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [body]
    if path == "/empty":
        start_response("204 No Content", [])
        return [b"not for the client"]
    if path == "/raise":
        raise RuntimeError("the app failed")
    if path == "/length":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", query.get("declared", "5"))])
        return [b"hel", b"lo"]
    if path == "/hop":
        start_response(
            "200 OK",
            [("Content-Type", "text/plain"), ("Connection", "close"), ("Keep-Alive", "timeout=99"), ("Upgrade", "h2c")],
        )
        return [b"hop"]
    if path == "/crlf":
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Injected", "a\r\nSet-Cookie: stolen=1")])
        return [b"crlf"]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


def _echo(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    seen = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "raw_uri": environ["RAW_URI"],
        "query": environ["QUERY_STRING"],
        "protocol": environ["SERVER_PROTOCOL"],
        "headers": {key: value for key, value in environ.items() if key.startswith("HTTP_")},
        "content_type": environ.get("CONTENT_TYPE"),
        "content_length": environ.get("CONTENT_LENGTH"),
        "body": body.decode("latin-1"),
        "pid": os.getpid(),
        "thread": threading.current_thread().name,
    }
    payload = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [payload]


def _text(start_response: StartResponse, text: str) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode()]
