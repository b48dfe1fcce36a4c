"""A signed-in browser's /authorize, answered ahead of Flask (idp.oidc.single_sign_on): the same answer as the view
gives, with the same headers, and every other case left to the view."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask, request, request_started
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.test import TestResponse

from idp import create_app, metrics
from idp.admin.commands import DEFAULT_KEYS
from idp.extensions import db
from idp.models import RelyingPartySignIn, User
from idp.oidc import single_sign_on
from idp.oidc.single_sign_on import SingleSignOnAuthorize
from idp.services import current_services
from idp.web.citizen_session import end_every_session
from tests.backends import require_redis
from tests.conftest import app_config
from tests.helpers import Browser, RelyingPartyUnderTest, sign_in
from tests.integration._support import exchange, quick_citizen, redirected_to, verify_provider_jwt

pytestmark = pytest.mark.usefixtures("app")


@contextmanager
def views_entered(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests that reached Flask (its request_started signal); the layer sends none."""
    entered: list[str] = []

    def record(_sender: Flask, **_extra: Any) -> None:
        entered.append(request.path)

    with request_started.connected_to(record, app):
        yield entered


def authorize(browser: Browser, params: dict[str, str], **kwargs: Any) -> TestResponse:
    return browser.client.get("/authorize?" + urlencode(params), **kwargs)


@pytest.fixture
def signed_in(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> Browser:
    """A browser signed in at `rp`: its session has recorded the service, so the next /authorize is the layer's."""
    sign_in(browser, rp, quick_citizen(app))
    return browser


def stored_session(app: Flask, browser: Browser) -> tuple[str, dict[str, Any]]:
    cookie = browser.client.get_cookie("idp_session")
    assert cookie is not None
    with app.app_context():
        raw = current_services().store.get(f"session:{cookie.value}")
    assert raw is not None
    return cookie.value, json.loads(raw)


def rewrite_session(app: Flask, sid: str, data: dict[str, Any]) -> None:
    with app.app_context():
        current_services().store.set(f"session:{sid}", json.dumps(data).encode(), 3600)


def test_a_signed_in_browser_gets_a_code_without_reaching_flask(
    app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest
) -> None:
    with views_entered(app) as entered:
        response = authorize(signed_in, rp.authorize_params())
    assert entered == []
    result = redirected_to(response, rp.redirect_uri)
    assert result["state"] == rp.last_state
    token = exchange(signed_in.client, rp, result["code"])
    assert token.status_code == 200, token.get_json()
    _, claims = verify_provider_jwt(signed_in.client, token.get_json()["id_token"], audience=rp.client_id)
    with app.app_context():
        user = db.session.scalars(select(User)).one()
    assert claims["nonce"] == rp.last_nonce
    assert claims["vot"] == "Cl.Cm"
    assert claims["sub"].startswith("urn:fdc:gov.uk:2022:")
    assert user.id not in claims["sub"]


def test_the_answer_is_the_views_answer(
    app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    ahead = authorize(signed_in, rp.authorize_params(response_mode="fragment"), headers={"X-Request-Id": "req-1"})
    ahead_state = rp.last_state
    monkeypatch.setattr(SingleSignOnAuthorize, "_code_location", lambda _self, _environ: None)
    with views_entered(app) as entered:
        view = authorize(signed_in, rp.authorize_params(response_mode="fragment"), headers={"X-Request-Id": "req-2"})
    assert entered == ["/authorize"]

    assert (ahead.status, view.status) == ("302 FOUND", "302 FOUND")
    varying = {"Location", "Content-Length", "X-Request-Id"}
    assert sorted((k, v) for k, v in ahead.headers.items() if k not in varying) == sorted(
        (k, v) for k, v in view.headers.items() if k not in varying
    )
    assert (ahead.headers["X-Request-Id"], view.headers["X-Request-Id"]) == ("req-1", "req-2")
    for response, state in ((ahead, ahead_state), (view, rp.last_state)):
        location = urlsplit(response.location)
        assert f"{location.scheme}://{location.netloc}{location.path}" == rp.redirect_uri
        assert location.query == ""
        assert sorted(part.split("=")[0] for part in location.fragment.split("&")) == ["code", "state"]
        assert f"state={state}" in location.fragment
        assert html.escape(response.location) in response.get_data(as_text=True)


def test_under_https_the_answer_carries_hsts(app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest) -> None:
    response = authorize(signed_in, rp.authorize_params(), base_url="https://localhost:8080")
    assert response.status_code == 302
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in authorize(signed_in, rp.authorize_params()).headers


def test_the_answer_is_counted_and_logged_under_its_route(
    app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    counter = metrics.HTTP_REQUESTS.labels("/authorize", "GET", "302")
    before = counter._value.get()
    with caplog.at_level(logging.INFO, logger="idp.access"), views_entered(app) as entered:
        authorize(signed_in, rp.authorize_params())
    assert entered == []
    assert counter._value.get() == before + 1
    access_lines = [record for record in caplog.records if record.name == "idp.access"]
    assert [record.getMessage() for record in access_lines] == ["GET /authorize 302"]
    assert rp.last_state not in caplog.text


def test_the_last_of_repeated_parameters_wins(app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest) -> None:
    params = rp.authorize_params()
    query = urlencode(params) + "&state=second"
    with views_entered(app) as entered:
        response = signed_in.client.get("/authorize?" + query)
    assert entered == []
    assert redirected_to(response, rp.redirect_uri)["state"] == "second"


def test_a_service_new_to_the_session_is_left_to_the_view_which_records_it(app: Flask, signed_in: Browser) -> None:
    other = RelyingPartyUnderTest.register(app)
    with views_entered(app) as entered:
        redirected_to(authorize(signed_in, other.authorize_params()), other.redirect_uri)
        with app.app_context():
            recorded = db.session.scalars(
                select(RelyingPartySignIn.client_id).where(RelyingPartySignIn.client_id == other.client_id)
            ).all()
        assert recorded == [other.client_id]
        redirected_to(authorize(signed_in, other.authorize_params()), other.redirect_uri)
    assert entered == ["/authorize"]


@pytest.mark.parametrize(
    ("extra", "answer"),
    [
        ({"prompt": "login"}, "the sign-in page"),
        ({"ui_locales": "cy"}, "code"),
        ({"lang": "cy"}, "code"),
        ({"redirect_uri": "https://elsewhere.example/callback"}, "an error page"),
        ({"vtr": '["P2.Cl.Cm"]'}, "error"),
        ({"state": "__omit__"}, "error"),
    ],
)
def test_anything_but_a_plain_code_is_left_to_the_view(
    app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest, extra: dict[str, str], answer: str
) -> None:
    with views_entered(app) as entered:
        response = authorize(signed_in, rp.authorize_params(**extra))
    assert entered == ["/authorize"]
    if answer == "an error page":
        assert response.status_code == 400
    elif answer == "the sign-in page":
        assert response.status_code == 302
        assert urlsplit(response.location).path.startswith("/sign-in")
    else:
        assert answer in redirected_to(response, rp.redirect_uri)


def test_a_language_the_cookie_does_not_hold_yet_is_left_to_the_view(
    app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest
) -> None:
    authorize(signed_in, rp.authorize_params(lang="cy"))
    signed_in.client.delete_cookie("lang")
    with views_entered(app) as entered:
        response = authorize(signed_in, rp.authorize_params())
        assert "lang=cy" in response.headers.get("Set-Cookie", "")
        authorize(signed_in, rp.authorize_params())
    assert entered == ["/authorize"]


def test_a_session_due_its_refresh_is_left_to_the_view(
    app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest
) -> None:
    sid, data = stored_session(app, signed_in)
    rewrite_session(app, sid, {**data, "_refreshed": data["_refreshed"] - 3600})
    with views_entered(app) as entered:
        refreshed = authorize(signed_in, rp.authorize_params())
        assert f"idp_session={sid}" in refreshed.headers.get("Set-Cookie", "")
        assert redirected_to(refreshed, rp.redirect_uri)["state"] == rp.last_state
        authorize(signed_in, rp.authorize_params())
    assert entered == ["/authorize"]
    assert stored_session(app, signed_in)[1]["_refreshed"] > data["_refreshed"]


def test_a_citizen_signed_out_elsewhere_is_left_to_the_view(
    app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest
) -> None:
    _, data = stored_session(app, signed_in)
    with app.test_request_context():
        end_every_session(data["user_id"])
    with views_entered(app) as entered:
        response = authorize(signed_in, rp.authorize_params())
    assert entered == ["/authorize"]
    assert urlsplit(response.location).path.startswith("/sign-in")


def test_a_suspended_citizen_is_denied_ahead_of_flask(
    app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest
) -> None:
    _, data = stored_session(app, signed_in)
    with app.app_context():
        user = db.session.get(User, data["user_id"])
        assert user is not None
        user.suspended = True
        db.session.commit()
    with views_entered(app) as entered:
        response = authorize(signed_in, rp.authorize_params())
    assert entered == []
    assert redirected_to(response, rp.redirect_uri) == {
        "error": "access_denied",
        "error_description": "Access denied",
        "state": rp.last_state,
    }


def test_the_view_reuses_the_session_read_ahead_of_it(
    app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.extensions["idp"].store
    reads: list[str] = []
    monkeypatch.setattr(store, "get_linked", _counted(store.get_linked, "get_linked", reads))
    with views_entered(app) as entered:
        response = authorize(signed_in, rp.authorize_params(prompt="login"))
    assert entered == ["/authorize"]
    assert response.status_code == 302
    assert len(reads) == 1


def test_a_failure_ahead_of_flask_is_answered_by_the_view(
    app: Flask,
    signed_in: Browser,
    rp: RelyingPartyUnderTest,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the layer broke")

    monkeypatch.setattr(single_sign_on, "answer_with_code", broken)
    with caplog.at_level(logging.WARNING, logger="idp.oidc.single_sign_on"), views_entered(app) as entered:
        response = authorize(signed_in, rp.authorize_params())
    assert entered == ["/authorize"]
    assert "code" in redirected_to(response, rp.redirect_uri)
    assert "single sign-on left to the authorize view" in caplog.text


def test_other_methods_and_paths_go_to_flask(app: Flask, signed_in: Browser, rp: RelyingPartyUnderTest) -> None:
    with views_entered(app) as entered:
        head = signed_in.client.head("/authorize?" + urlencode(rp.authorize_params()))
        post = signed_in.client.post("/authorize", data=rp.authorize_params())
    assert entered == ["/authorize", "/authorize"]
    assert head.status_code == 302
    assert "code" in redirected_to(head, rp.redirect_uri)
    assert redirected_to(post, rp.redirect_uri)["state"] == rp.last_state


def test_a_browser_without_a_session_goes_to_the_sign_in(app: Flask, rp: RelyingPartyUnderTest) -> None:
    browser = Browser(app.test_client())
    browser.client.set_cookie("idp_session", "not-a-session")
    with views_entered(app) as entered:
        response = authorize(browser, rp.authorize_params())
    assert entered == ["/authorize"]
    assert urlsplit(response.location).path.startswith("/sign-in")


@pytest.mark.redis
def test_on_redis_the_layer_reads_the_session_and_the_citizen_in_one_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_app = create_app(app_config(tmp_path, redis_url=require_redis()))
    with redis_app.app_context():
        upgrade()
        current_services().keyring.ensure_active(DEFAULT_KEYS)
        db.session.commit()
    store = redis_app.extensions["idp"].store
    try:
        browser = Browser(redis_app.test_client())
        rp = RelyingPartyUnderTest.register(redis_app)
        sign_in(browser, rp, quick_citizen(redis_app))
        round_trips: list[str] = []
        for name in ("get", "get_many", "get_linked"):
            monkeypatch.setattr(store, name, _counted(getattr(store, name), name, round_trips))
        with views_entered(redis_app) as entered:
            response = authorize(browser, rp.authorize_params())
        assert entered == []
        assert round_trips == ["get_linked"]
        token = exchange(browser.client, rp, redirected_to(response, rp.redirect_uri)["code"])
        assert token.status_code == 200, token.get_json()
    finally:
        store.flush_prefix()


def _counted(method: Any, name: str, calls: list[str]) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return method(*args, **kwargs)

    return counted
