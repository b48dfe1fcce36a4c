"""JSON logs: one object per line, a request id on every line of a request and in its response, an access line
without query strings; the redacting filter; /readyz really asks the database and the store."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from idp import create_app
from idp.extensions import db
from idp.logs import JsonFormatter, RedactSecrets, redact
from idp.models import AuditEvent
from tests.conftest import app_config
from tests.helpers import Browser, RelyingPartyUnderTest, sign_in
from tests.integration._support import quick_citizen

GENERATED_ID = re.compile(r"^[0-9a-f]{16}$")


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The JSON lines the production handler would write, at DEBUG, for the duration of a test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    def lines() -> list[dict[str, Any]]:
        text = stream.getvalue()
        assert text.endswith("\n")
        return [json.loads(line) for line in text.splitlines()]  # each line is one JSON object, or this fails

    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def test_every_line_is_a_json_object_with_the_request_id(
    app: Flask, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    response = app.test_client().get("/healthz", headers={"X-Request-Id": "lb-7f3a.2:1"})
    assert response.headers["X-Request-Id"] == "lb-7f3a.2:1"
    logging.getLogger("idp.test").info("after the request")
    lines = log_lines()
    access = [line for line in lines if line["logger"] == "idp.access"]
    assert len(access) == 1
    line = access[0]
    assert set(line) >= {"time", "level", "logger", "message", "request_id", "method", "route", "status", "duration_ms"}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", line["time"])
    assert (line["level"], line["method"], line["route"], line["status"]) == ("DEBUG", "GET", "/healthz", 200)
    assert line["request_id"] == "lb-7f3a.2:1"
    assert isinstance(line["duration_ms"], float)
    outside = [line for line in lines if line["message"] == "after the request"]
    assert outside and outside[0]["request_id"] is None


@pytest.mark.parametrize("header", [None, "", "a" * 65, "has spaces", "semi;colon", 'quote"d', "ünïcode"])
def test_an_unusable_request_id_is_replaced_by_a_generated_one(app: Flask, header: str | None) -> None:
    headers = {"X-Request-Id": header} if header is not None else {}
    first = app.test_client().get("/healthz", headers=headers).headers["X-Request-Id"]
    second = app.test_client().get("/healthz", headers=headers).headers["X-Request-Id"]
    assert GENERATED_ID.match(first) and GENERATED_ID.match(second)
    assert first != second


def test_the_request_id_is_on_every_line_and_audit_row_of_a_journey(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen, login_hint=citizen.email)
    lines = log_lines()
    access = [line for line in lines if line["logger"] == "idp.access"]
    assert [line["route"] for line in access][:2] == ["/authorize", "/sign-in-or-create"]
    assert all(GENERATED_ID.match(line["request_id"]) for line in access)
    assert len({line["request_id"] for line in access}) == len(access), "one id per request"
    # The /authorize line names the route, never the query string with its hint and state.
    assert all("?" not in line["message"] and citizen.email not in json.dumps(line) for line in access)
    assert all(line["level"] == "INFO" for line in access)

    with app.app_context():
        sign_in_event = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "sign_in")).one()
    assert sign_in_event.request_id in {
        line["request_id"] for line in access if line["route"] == "/sign-in/security-code"
    }


def test_lines_logged_inside_a_request_carry_its_id(tmp_path: Path) -> None:
    config = app_config(tmp_path, redis_url="redis://127.0.0.1:1/0")
    broken_store = create_app(config)
    with broken_store.app_context():
        db.create_all()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        response = broken_store.test_client().get("/readyz", headers={"X-Request-Id": "probe-1"})
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 503
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    warning = [line for line in lines if line["logger"] == "idp.web.pages"]
    assert warning and warning[0]["level"] == "WARNING"
    assert warning[0]["message"] == "not ready: the store did not answer (RedisUnavailable)"
    assert warning[0]["request_id"] == "probe-1"


def test_configuring_logging_twice_adds_one_handler(tmp_path: Path) -> None:
    create_app(app_config(tmp_path))
    create_app(app_config(tmp_path))
    json_handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert len(json_handlers) == 1


# -- readiness ----------------------------------------------------------------------------------------------------


def test_ready_when_the_database_and_the_store_answer(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert (response.status_code, response.data) == (200, b"ok")
    assert response.headers["Cache-Control"] == "no-store"
    assert app.test_client().get("/healthz").status_code == 200


def test_not_ready_without_the_store(tmp_path: Path) -> None:
    app = create_app(app_config(tmp_path, redis_url="redis://127.0.0.1:1/0"))
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/readyz")
    assert (response.status_code, response.data) == (503, b"not ready")
    assert app.test_client().get("/healthz").status_code == 200, "the process is still up"


def test_not_ready_without_the_database(tmp_path: Path) -> None:
    # Nothing listens on port 1; the store is unreachable too, and the database is what is reported first.
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2"
    app = create_app(app_config(tmp_path, database_url=unreachable, redis_url="redis://127.0.0.1:1/0"))
    response = app.test_client().get("/readyz")
    assert (response.status_code, response.data) == (503, b"not ready")


# -- the redacting filter -------------------------------------------------------------------------------------------


def _redacted(message: str, *args: object, **extra: object) -> str:
    record = logging.LogRecord("idp.test", logging.INFO, __file__, 1, message, args or None, None)
    for name, value in extra.items():
        setattr(record, name, value)
    assert RedactSecrets().filter(record)
    return JsonFormatter().format(record)


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ("password=%s", "hunter2-hunter2"),
        ("sent client_secret: %s", "s3cr3t-value"),
        ('{"access_token": "%s"}', "opaque-token-value"),
        ("Authorization: Bearer %s", "abc.def-ghi"),
        ("id token %s", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"),
        ('"GET /authorize?%s HTTP/1.1" 302', "login_hint=someone%40example.com&state=xyz"),
        ("redirecting to https://rp.example/callback?%s", "code=abc123&state=s"),
        ("otp=%s", "123456"),
    ],
)
def test_the_filter_masks_what_looks_like_a_secret(message: str, secret: str) -> None:
    line = _redacted(message, secret)
    assert secret not in line
    assert "[redacted]" in json.loads(line)["message"]


def test_the_filter_masks_extra_fields_and_leaves_ordinary_text() -> None:
    line = json.loads(
        _redacted(
            "sign-in for %s",
            "user 42",
            detail="token=abcdef123456",
            client_secret="s3cr3t-s3cr3t",
            request={"form": {"password": "hunter2-x", "email": "a@b.c"}, "headers": ["Bearer abc.def"]},
            attempts=3,
        )
    )
    assert line["message"] == "sign-in for user 42"
    assert line["detail"] == "token=[redacted]"
    assert line["client_secret"] == "[redacted]"
    assert line["request"] == {"form": {"password": "[redacted]", "email": "a@b.c"}, "headers": ["Bearer [redacted]"]}
    assert line["attempts"] == 3
    assert redact("GET /healthz 200 status_code=200 kid=abc") == "GET /healthz 200 status_code=200 kid=abc"
