"""The layer that serves /token and /userinfo ahead of Flask (idp.web.api): methods, body size, a failing handler,
the request id, the headers, the access line, the metrics and how forms are read. The protocol itself is in
test_token.py and test_userinfo.py."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from werkzeug.test import TestResponse

from idp import create_app, logs
from idp.logs import JsonFormatter
from idp.oidc import token_endpoint, userinfo
from idp.web.api import MAX_FORM_BYTES
from idp.web.security_headers import EVERY_RESPONSE
from tests.conftest import app_config
from tests.helpers import Browser, RelyingPartyUnderTest, first_to_see_every_record, sign_in
from tests.integration._support import INVALID_TOKEN_CHALLENGE, exchange, quick_citizen

FORM = "application/x-www-form-urlencoded"
GENERATED_ID = re.compile(r"^[0-9a-f]{16}$")
HSTS = "Strict-Transport-Security"
SERVER_ERROR = {"error": "server_error", "error_description": "Internal server error"}
TOO_LARGE = {"error": "invalid_request", "error_description": "Request body too large"}


@dataclass
class Entry:
    logger: str
    raw: str  # the message and every attribute of the record, before any filter rewrites them
    line: dict[str, Any]  # the JSON line the production formatter makes of it


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.entries: list[Entry] = []
        self._json = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        raw = f"{record.getMessage()} {vars(record)!r}"
        self.entries.append(Entry(record.name, raw, json.loads(self._json.format(record))))

    def lines(self, logger: str, since: int = 0) -> list[dict[str, Any]]:
        return [entry.line for entry in self.entries[since:] if entry.logger == logger]

    def access(self, route: str, since: int = 0) -> list[dict[str, Any]]:
        return [line for line in self.lines("idp.access", since) if line["route"] == route]


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    """Every record at DEBUG, seen first: the production handler's redacting filter rewrites records in place."""
    handler = Recorded()
    with first_to_see_every_record(handler):
        yield handler


@pytest.fixture(scope="module")
def proxied_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """Behind a proxy it trusts; no database, which the requests made of it never reach."""
    return create_app({**app_config(tmp_path_factory.mktemp("proxied")), "IDP_TRUST_PROXY": True})


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def tokens_issued() -> float:
    return sample("idp_tokens_issued_total")


def signed_in_code(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> str:
    return sign_in(browser, rp, quick_citizen(app))["code"]


def assert_api_headers(response: TestResponse) -> None:
    """What the layer adds to every answer over plain HTTP, each exactly once."""
    headers = response.headers
    # A 401, a 405 or an answer to OPTIONS has an empty body, so no content type to declare.
    empty = response.status_code in (401, 405) or response.request.method == "OPTIONS"
    assert headers.getlist("Content-Type") == ([] if empty else ["application/json"])
    assert headers.getlist("Cache-Control") == ["no-store"]
    assert headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert headers.getlist("X-Frame-Options") == ["DENY"]
    assert headers.getlist("Referrer-Policy") == ["no-referrer"]
    for name, value in EVERY_RESPONSE:
        assert headers.getlist(name) == [value], name
    assert len(headers.getlist("X-Request-Id")) == 1
    assert HSTS not in headers
    assert headers["Content-Length"] == str(len(response.data))


# -- methods ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/token", "OPTIONS, POST"),
        ("PUT", "/token", "OPTIONS, POST"),
        ("DELETE", "/token", "OPTIONS, POST"),
        ("HEAD", "/token", "OPTIONS, POST"),
        ("PUT", "/userinfo", "GET, HEAD, OPTIONS, POST"),
        ("DELETE", "/userinfo", "GET, HEAD, OPTIONS, POST"),
        ("PATCH", "/userinfo", "GET, HEAD, OPTIONS, POST"),
    ],
)
def test_a_method_the_endpoint_does_not_take_is_refused_before_anything_else(
    app: Flask, method: str, path: str, allow: str
) -> None:
    # No Authorization on /userinfo and no form on /token: the method is refused before the access rule runs.
    response = app.test_client().open(path, method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert "WWW-Authenticate" not in response.headers
    assert response.data == b""
    assert_api_headers(response)


@pytest.mark.parametrize(("path", "allow"), [("/token", "OPTIONS, POST"), ("/userinfo", "GET, HEAD, OPTIONS, POST")])
def test_options_lists_the_methods_as_a_flask_route_does(app: Flask, path: str, allow: str) -> None:
    response = app.test_client().options(path)
    assert (response.status_code, response.headers["Allow"], response.data) == (200, allow, b"")
    assert "WWW-Authenticate" not in response.headers
    assert_api_headers(response)
    # A page's route, answered by Flask, says the same kind of thing of its own methods.
    flask_allow = app.test_client().options("/authorize").headers["Allow"]
    assert sorted(flask_allow.split(", ")) == ["GET", "HEAD", "OPTIONS", "POST"]


def test_head_of_userinfo_is_its_get_without_the_body(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    body = exchange(browser.client, rp, signed_in_code(app, browser, rp)).get_json()
    bearer = {"Authorization": "Bearer " + body["access_token"]}
    got = browser.client.get("/userinfo", headers=bearer)
    head = browser.client.head("/userinfo", headers=bearer)
    assert got.status_code == head.status_code == 200
    assert got.get_json()["sub"]
    assert head.data == b""
    assert head.headers["Content-Length"] == str(len(got.data))
    assert head.headers["Cache-Control"] == "no-store"
    refused = browser.client.head("/userinfo")
    assert (refused.status_code, refused.headers["WWW-Authenticate"], refused.data) == (401, "Bearer", b"")


# -- the size of a form ----------------------------------------------------------------------------------------


def test_an_oversized_form_is_refused_and_changes_nothing(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    form = urlencode(rp.token_form(signed_in_code(app, browser, rp)))
    oversized = form + "&padding=" + "x" * (MAX_FORM_BYTES - len(form))
    issued = tokens_issued()
    response = browser.client.post("/token", data=oversized, content_type=FORM)
    assert response.status_code == 413
    assert response.get_json() == TOO_LARGE
    assert_api_headers(response)
    assert tokens_issued() == issued
    # Neither the code nor the client assertion's jti was spent: the same form, unpadded, gets the tokens.
    response = browser.client.post("/token", data=form, content_type=FORM)
    assert response.status_code == 200, response.get_json()
    assert tokens_issued() == issued + 1


def test_a_form_of_exactly_the_limit_is_read(app: Flask, rp: RelyingPartyUnderTest) -> None:
    form = urlencode(rp.token_form("unknown-code"))
    padded = form + "&padding=" + "x" * (MAX_FORM_BYTES - len(form) - len("&padding="))
    assert len(padded) == MAX_FORM_BYTES
    response = app.test_client().post("/token", data=padded, content_type=FORM)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_an_oversized_form_to_userinfo_is_refused_before_its_access_rule(app: Flask) -> None:
    response = app.test_client().post("/userinfo", data="a=" + "x" * MAX_FORM_BYTES, content_type=FORM)
    assert response.status_code == 413
    assert response.get_json() == TOO_LARGE
    assert "WWW-Authenticate" not in response.headers


def test_a_form_of_too_many_fields_is_refused_not_a_server_error(app: Flask, recorded: Recorded) -> None:
    fields = "&".join(f"f{number}=x" for number in range(1001))
    assert len(fields) < MAX_FORM_BYTES
    response = app.test_client().post("/token", data="grant_type=authorization_code&" + fields, content_type=FORM)
    assert response.status_code == 413
    assert response.get_json() == TOO_LARGE
    assert recorded.lines("idp.web.api") == []


# -- a handler that fails --------------------------------------------------------------------------------------


def test_an_exception_in_the_handler_is_a_logged_500_and_the_next_request_is_answered(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = rp.token_form(signed_in_code(app, browser, rp))

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the key service fell over")

    monkeypatch.setattr(token_endpoint, "authenticate_client", broken)
    issued = tokens_issued()
    since = len(recorded.entries)
    response = browser.client.post("/token", data=form, headers={"X-Request-Id": "rp-call-500"})
    assert response.status_code == 500
    assert response.get_json() == SERVER_ERROR
    assert response.headers["X-Request-Id"] == "rp-call-500"
    assert_api_headers(response)
    assert tokens_issued() == issued

    errors = recorded.lines("idp.web.api", since)
    assert len(errors) == 1
    assert (errors[0]["level"], errors[0]["message"], errors[0]["request_id"]) == (
        "ERROR",
        "Exception on /token [POST]",
        "rp-call-500",
    )
    assert "RuntimeError: the key service fell over" in errors[0]["exception"]
    assert [(line["status"], line["request_id"]) for line in recorded.access("/token", since)] == [(500, "rp-call-500")]
    assert logs.request_id.get() is None, "the request's id does not outlive it"

    monkeypatch.undo()
    response = browser.client.post("/token", data=form)
    assert response.status_code == 200, response.get_json()
    assert tokens_issued() == issued + 1


def test_an_exception_in_the_access_rule_is_a_500_too(
    app: Flask, recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise ConnectionError("the store is away")

    monkeypatch.setattr(userinfo, "current_services", broken)
    bearer = {"Authorization": "Bearer some-token", "X-Request-Id": "ui-500"}
    response = app.test_client().get("/userinfo", headers=bearer)
    assert (response.status_code, response.get_json()) == (500, SERVER_ERROR)
    assert "WWW-Authenticate" not in response.headers
    assert_api_headers(response)
    errors = recorded.lines("idp.web.api")
    assert [(line["message"], line["request_id"]) for line in errors] == [("Exception on /userinfo [GET]", "ui-500")]
    assert "ConnectionError: the store is away" in errors[0]["exception"]

    monkeypatch.undo()
    response = app.test_client().get("/userinfo", headers=bearer)
    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, INVALID_TOKEN_CHALLENGE)


# -- the request id --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/token", "/userinfo"])
def test_a_sane_request_id_is_kept(app: Flask, recorded: Recorded, path: str) -> None:
    response = app.test_client().post(path, headers={"X-Request-Id": "lb-7f3a.2:1"})
    assert response.status_code in (400, 401)
    assert response.headers["X-Request-Id"] == "lb-7f3a.2:1"
    assert [line["request_id"] for line in recorded.access(path)] == ["lb-7f3a.2:1"]


@pytest.mark.parametrize(
    "incoming", [None, "", "a" * 65, "has spaces", "abc\r\nX-Injected: 1", "abc\nX-Injected: 1", "ünïcode", "a;b"]
)
def test_an_unusable_request_id_is_replaced_by_a_generated_one(
    app: Flask, recorded: Recorded, incoming: str | None
) -> None:
    # Set in the environ: the test client would refuse a header value with a line break, a server may not.
    environ = {"HTTP_X_REQUEST_ID": incoming} if incoming is not None else {}
    client = app.test_client()
    first = client.post("/token", environ_overrides=environ)
    second = client.get("/userinfo", environ_overrides=environ)
    ids = [first.headers["X-Request-Id"], second.headers["X-Request-Id"]]
    assert all(GENERATED_ID.match(request_id) for request_id in ids), ids
    assert ids[0] != ids[1]
    assert "X-Injected" not in first.headers
    logged = [line["request_id"] for line in recorded.access("/token") + recorded.access("/userinfo")]
    assert logged == ids


# -- headers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/token", {}, 400),
        ("POST", "/token", {"data": {"grant_type": "password"}}, 400),
        ("GET", "/userinfo", {}, 401),
        ("POST", "/userinfo", {"headers": {"Authorization": "Bearer not-a-token"}}, 401),
        ("PUT", "/token", {}, 405),
        ("POST", "/userinfo", {"data": "a=" + "x" * MAX_FORM_BYTES, "content_type": FORM}, 413),
    ],
)
def test_security_headers_on_error_responses(
    app: Flask, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = app.test_client().open(path, method=method, **kwargs)
    assert response.status_code == status
    assert_api_headers(response)


def test_security_headers_on_success_responses(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    token = exchange(browser.client, rp, signed_in_code(app, browser, rp))
    assert token.status_code == 200
    assert_api_headers(token)
    assert token.headers.getlist("Pragma") == ["no-cache"]
    bearer = {"Authorization": "Bearer " + token.get_json()["access_token"]}
    for response in (browser.client.get("/userinfo", headers=bearer), browser.client.post("/userinfo", headers=bearer)):
        assert response.status_code == 200
        assert_api_headers(response)


@pytest.mark.parametrize(("path", "status"), [("/token", 400), ("/userinfo", 401)])
def test_hsts_behind_a_trusted_proxy_that_saw_https(proxied_app: Flask, path: str, status: int) -> None:
    client = proxied_app.test_client()
    secure = client.post(path, headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == status
    assert secure.headers.getlist(HSTS) == ["max-age=31536000; includeSubDomains"]
    plain = client.post(path)
    assert plain.status_code == status
    assert HSTS not in plain.headers


@pytest.mark.parametrize("path", ["/token", "/userinfo"])
def test_hsts_follows_the_scheme_of_the_request_when_no_proxy_is_trusted(app: Flask, path: str) -> None:
    client = app.test_client()
    assert HSTS not in client.post(path, headers={"X-Forwarded-Proto": "https"}).headers
    assert HSTS in client.post(path, base_url="https://localhost/").headers


# -- the access line and the metrics ---------------------------------------------------------------------------


def test_the_access_line_of_a_token_request_has_no_secret(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, recorded: Recorded
) -> None:
    form = rp.token_form(signed_in_code(app, browser, rp))
    since = len(recorded.entries)
    response = browser.client.post("/token", data=form, headers={"X-Request-Id": "token-call-1"})
    assert response.status_code == 200
    body = response.get_json()
    lines = recorded.access("/token", since)
    assert len(lines) == 1
    line = lines[0]
    assert (line["level"], line["message"], line["method"], line["route"], line["status"], line["request_id"]) == (
        "INFO",
        "POST /token 200",
        "POST",
        "/token",
        200,
        "token-call-1",
    )
    assert isinstance(line["duration_ms"], float)
    secrets = [form["code"], form["client_assertion"], form["code_verifier"], body["access_token"], body["id_token"]]
    for entry in recorded.entries[since:]:
        assert not [secret for secret in secrets if secret in entry.raw or secret in json.dumps(entry.line)], entry.raw


def test_both_endpoints_are_counted_by_path_and_tokens_only_when_issued(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    code = signed_in_code(app, browser, rp)
    client = browser.client
    requests = "idp_http_requests_total"
    series = [
        ("/token", "POST", "200"),
        ("/token", "POST", "400"),
        ("/token", "PUT", "405"),
        ("/token", "other", "405"),
        ("/userinfo", "GET", "200"),
        ("/userinfo", "POST", "401"),
        ("<unmatched>", "POST", "405"),
        ("<unmatched>", "GET", "404"),
    ]
    before = {labels: sample(requests, route=labels[0], method=labels[1], status=labels[2]) for labels in series}
    timed = sample("idp_http_request_duration_seconds_count", route="/userinfo", method="GET")
    issued = tokens_issued()

    assert client.post("/token", data={"grant_type": "password"}).status_code == 400
    assert client.put("/token").status_code == 405
    assert client.open("/token", method="BREW").status_code == 405
    response = exchange(client, rp, code)
    assert response.status_code == 200
    bearer = {"Authorization": "Bearer " + response.get_json()["access_token"]}
    assert client.get("/userinfo", headers=bearer).status_code == 200
    assert client.post("/userinfo").status_code == 401
    assert exchange(client, rp, code).status_code == 400  # a code is single-use

    delta = {
        labels: sample(requests, route=labels[0], method=labels[1], status=labels[2]) - before[labels]
        for labels in series
    }
    assert delta == {
        ("/token", "POST", "200"): 1,
        ("/token", "POST", "400"): 2,
        ("/token", "PUT", "405"): 1,
        ("/token", "other", "405"): 1,
        ("/userinfo", "GET", "200"): 1,
        ("/userinfo", "POST", "401"): 1,
        ("<unmatched>", "POST", "405"): 0,
        ("<unmatched>", "GET", "404"): 0,
    }
    assert sample("idp_http_request_duration_seconds_count", route="/userinfo", method="GET") == timed + 1
    assert tokens_issued() == issued + 1


# -- forms -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("grant_type=authorization_code&grant_type=password", ("unsupported_grant_type", "Unsupported grant type")),
        (
            "grant_type=password&grant_type=authorization_code",
            ("invalid_request", "Request is missing redirect_uri parameter"),
        ),
        ("grant_type=authorization_code&grant_type=", ("invalid_request", "Request is missing grant_type parameter")),
    ],
)
def test_of_duplicate_fields_the_last_wins(app: Flask, body: str, error: tuple[str, str]) -> None:
    response = app.test_client().post("/token", data=body, content_type=FORM)
    assert response.status_code == 400
    assert (response.get_json()["error"], response.get_json()["error_description"]) == error


def test_userinfo_takes_the_token_from_a_urlencoded_post_form_only(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    code = signed_in_code(app, browser, rp)
    # The last of duplicate fields wins on a real exchange too.
    token = browser.client.post("/token", data=urlencode(rp.token_form(code)) + "&code=" + code, content_type=FORM)
    body = token.get_json()
    assert token.status_code == 200, body
    access_token = body["access_token"]
    client = browser.client

    form = client.post(
        "/userinfo", data=urlencode({"access_token": access_token}), content_type=FORM + "; charset=UTF-8"
    )
    assert form.status_code == 200
    assert form.get_json()["sub"]
    last = client.post("/userinfo", data=f"access_token=not-a-token&access_token={access_token}", content_type=FORM)
    assert last.status_code == 200
    first = client.post("/userinfo", data=f"access_token={access_token}&access_token=not-a-token", content_type=FORM)
    assert (first.status_code, first.headers["WWW-Authenticate"]) == (401, INVALID_TOKEN_CHALLENGE)

    not_a_form = [
        client.post("/userinfo", json={"access_token": access_token}),
        client.post("/userinfo", data=f"access_token={access_token}", content_type="text/plain"),
        client.post("/userinfo", data={"access_token": access_token}, content_type="multipart/form-data"),
        client.get("/userinfo", data=f"access_token={access_token}", content_type=FORM),
    ]
    for response in not_a_form:
        # RFC 6750 §3.1: no usable credentials at all, so the bare challenge.
        assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, "Bearer")
        assert response.data == b""


# -- the register of access rules -------------------------------------------------------------------------------


def test_the_endpoints_are_in_the_register_of_access_rules_and_not_flask_routes(app: Flask) -> None:
    rules = app.extensions["access_rules"]
    assert (rules["token"], rules["userinfo"]) == ("public", "bearer_token_required")
    assert not {"/token", "/userinfo"} & {rule.rule for rule in app.url_map.iter_rules()}
