"""/authorize (reference §2, the simulator's authorise list in §7.4, spec "/authorize")."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import Browser, RelyingPartyUnderTest, sign_in
from tests.integration._support import (
    AUTHORIZE_URL,
    CORE_IDENTITY_JWT,
    VOCAB,
    assert_not_redirected,
    authorize_query,
    complete_sign_in,
    exchange,
    local_server,
    pages_visited,
    public_jwk,
    quick_citizen,
    redirected_to,
    secret_hash,
    unsigned_jwt,
    verify_provider_jwt,
)

MISSING_PARAMETERS = "Request is missing parameters"
INVALID_REQUEST = "Invalid request"
START = "/sign-in-or-create"
MISSING_METHOD = (
    "Request is missing code_challenge_method parameter. "
    "code_challenge_method is required when code_challenge is present."
)
REMOVE = object()
BAD_VTRS = ["[]]", '["Ch"]', '["Cl.P2"]', '["Cl.Cm.P2","Cl.Cm"]']


def get(client: FlaskClient, params: dict[str, str]) -> TestResponse:
    return client.get(authorize_query(params))


def assert_error(
    response: TestResponse, rp: RelyingPartyUnderTest, error: str, description: str, state: str | None
) -> None:
    expected = {"error": error, "error_description": description}
    if state is not None:
        expected["state"] = state
    assert redirected_to(response, rp.redirect_uri) == expected


def assert_journey_started(response: TestResponse) -> None:
    """A valid request without a session sends the citizen to the sign-in journey (no error, no code yet)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.location == START


@pytest.fixture
def identity_rp(app: Flask) -> RelyingPartyUnderTest:
    """Configured like the simulator's tests: scopes openid+email, coreIdentityJWT, P0 and P2."""
    return RelyingPartyUnderTest.register(
        app,
        scopes=["openid", "email"],
        claims=[CORE_IDENTITY_JWT],
        client_locs=["P0", "P2"],
        identity_verification_supported=True,
    )


# -- non-redirecting errors (400) ---------------------------------------------------------------------------------


def test_no_parameters_at_all(app: Flask) -> None:
    assert_not_redirected(app.test_client().get("/authorize"), 400, MISSING_PARAMETERS)


def test_no_client_id(app: Flask, rp: RelyingPartyUnderTest) -> None:
    params = rp.authorize_params(client_id="__omit__")
    assert_not_redirected(get(app.test_client(), params), 400, MISSING_PARAMETERS)


def test_no_redirect_uri(app: Flask, rp: RelyingPartyUnderTest) -> None:
    params = rp.authorize_params(redirect_uri="__omit__")
    assert_not_redirected(get(app.test_client(), params), 400, MISSING_PARAMETERS)


def test_non_oidc_prompt_without_a_redirect_uri_is_not_redirected(app: Flask, rp: RelyingPartyUnderTest) -> None:
    params = {"client_id": rp.client_id, "response_type": "code", "prompt": "login unknown"}
    assert_not_redirected(get(app.test_client(), params), 400, MISSING_PARAMETERS)


@pytest.mark.parametrize(
    "redirect_uri",
    [
        ".notaredirectURI..",
        "https://some.other.client.example.com/auth-callback",
        "javascript:alert(1)",
    ],
)
def test_unregistered_or_malformed_redirect_uri(app: Flask, rp: RelyingPartyUnderTest, redirect_uri: str) -> None:
    params = rp.authorize_params(redirect_uri=redirect_uri)
    assert_not_redirected(get(app.test_client(), params), 400, INVALID_REQUEST)


def test_unknown_client(app: Flask, rp: RelyingPartyUnderTest) -> None:
    params = rp.authorize_params(client_id="no-such-client")
    assert_not_redirected(get(app.test_client(), params), 400, INVALID_REQUEST)


@pytest.mark.parametrize("mode", ["form_post", "banana", "query.jwt"])
def test_unknown_response_mode(app: Flask, rp: RelyingPartyUnderTest, mode: str) -> None:
    params = rp.authorize_params(response_mode=mode)
    assert_not_redirected(get(app.test_client(), params), 400, INVALID_REQUEST)


# -- redirected errors (302 to the registered redirect_uri) -------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"scope": "__omit__"}, "invalid_request", "Request is missing scope parameter"),
        ({"scope": "email"}, "invalid_request", "Request is missing openid scope"),
        ({"claims": "{{}"}, "invalid_request", "Request contains invalid claims"),
        ({"prompt": "login unknown"}, "invalid_request", "Invalid prompt parameter"),
        ({"prompt": "none login"}, "invalid_request", "Invalid prompt parameter"),
        ({"nonce": "__omit__"}, "invalid_request", "Request is missing nonce parameter"),
        ({"request_uri": "https://example.com/request-uri/12345"}, "request_uri_not_supported", None),
        ({"response_type": "id_token"}, "unsupported_response_type", "Unsupported response type"),
        ({"response_type": "token"}, "unsupported_response_type", "Unsupported response type"),
        ({"response_type": "code id_token"}, "unsupported_response_type", "Unsupported response type"),
        ({"response_type": "__omit__"}, "invalid_request", "Request is missing response_type parameter"),
        ({"response_type": "banana"}, "invalid_request", "Invalid response_type parameter"),
        ({"scope": "openid unknown"}, "invalid_scope", "Invalid, unknown or malformed scope"),
        ({"scope": "openid profile"}, "invalid_scope", "Invalid, unknown or malformed scope"),
        ({"claims": '{"userinfo":{"unknownClaim":null}}'}, "invalid_request", "Request contains invalid claims"),
        ({"claims": '["not", "an", "object"]'}, "invalid_request", "Request contains invalid claims"),
        ({"prompt": "select_account"}, "unmet_authentication_requirements", "Unmet authentication requirements"),
        ({"max_age": "-1"}, "invalid_request", "Max age is negative in query params"),
        ({"max_age": "abc"}, "invalid_request", "Max age could not be parsed to an integer"),
        ({"login_hint": "a" * 251 + "@x.com"}, "invalid_request", "login_hint parameter is invalid"),
        ({"channel": "banana"}, "invalid_request", "Invalid value for channel parameter."),
        ({"code_challenge": ""}, "invalid_request", "Invalid value for code_challenge parameter."),
        (
            {"code_challenge_method": "__omit__"},
            "invalid_request",
            MISSING_METHOD,
        ),
        ({"code_challenge_method": "plain"}, "invalid_request", "Invalid value for code_challenge_method parameter."),
    ],
)
def test_redirected_query_parameter_errors(
    app: Flask, rp: RelyingPartyUnderTest, overrides: dict[str, str], error: str, description: str | None
) -> None:
    params = rp.authorize_params(**overrides)
    response = get(app.test_client(), params)
    assert_error(response, rp, error, description or "Request URI parameter not supported", rp.last_state)


def test_missing_state_is_reported_without_a_state(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = get(app.test_client(), rp.authorize_params(state="__omit__"))
    assert_error(response, rp, "invalid_request", "Request is missing state parameter", None)


def test_scope_the_client_is_not_registered_for(app: Flask) -> None:
    rp = RelyingPartyUnderTest.register(app, scopes=["openid", "email"])
    response = get(app.test_client(), rp.authorize_params(scope="openid phone"))
    assert_error(response, rp, "invalid_scope", "Invalid, unknown or malformed scope", rp.last_state)


def test_claim_the_client_is_not_registered_for(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    claims = json.dumps({"userinfo": {VOCAB + "passport": None}})
    response = get(app.test_client(), identity_rp.authorize_params(scope="openid email", claims=claims))
    assert_error(response, identity_rp, "invalid_request", "Request contains invalid claims", identity_rp.last_state)


@pytest.mark.parametrize("vtr", [*BAD_VTRS, '["Cl.Cm.P1.P2"]', '["Cl.Cm.P4"]', '"Cl.Cm"', "[1]", '["Cl.Cm.Cx"]'])
def test_invalid_vtr(app: Flask, identity_rp: RelyingPartyUnderTest, vtr: str) -> None:
    claims = json.dumps({"userinfo": {CORE_IDENTITY_JWT: None}})
    params = identity_rp.authorize_params(scope="openid email", claims=claims, prompt="login", vtr=vtr)
    response = get(app.test_client(), params)
    assert_error(response, identity_rp, "invalid_request", "Request vtr not valid", identity_rp.last_state)


@pytest.mark.parametrize(
    "registration",
    [
        {"client_locs": ["P0"], "identity_verification_supported": True},
        {"client_locs": ["P0", "P2"], "identity_verification_supported": False},
    ],
)
def test_vtr_the_client_is_not_permitted(app: Flask, registration: dict[str, Any]) -> None:
    rp = RelyingPartyUnderTest.register(app, **registration)
    response = get(app.test_client(), rp.authorize_params(vtr='["Cl.Cm.P2"]'))
    assert_error(response, rp, "invalid_request", "Request vtr is not permitted", rp.last_state)


def test_vtr_with_a_level_the_client_may_not_request(app: Flask) -> None:
    rp = RelyingPartyUnderTest.register(app, client_locs=["P2"], identity_verification_supported=True)
    response = get(app.test_client(), rp.authorize_params(vtr='["Cl.Cm.P0"]'))
    assert_error(response, rp, "invalid_request", "Request vtr is not permitted", rp.last_state)


def test_identity_is_not_permitted_for_a_client_secret_post_client(app: Flask) -> None:
    rp = RelyingPartyUnderTest.register(
        app,
        token_auth_method="client_secret_post",
        client_secret_hash=secret_hash("s3cret"),
        public_key=None,
        client_locs=["P0", "P2"],
        identity_verification_supported=True,
    )
    response = get(app.test_client(), rp.authorize_params(vtr='["Cl.Cm.P2"]'))
    assert_error(response, rp, "invalid_request", "Request vtr is not permitted", rp.last_state)


def test_identity_request_from_an_allowed_client_is_temporarily_unavailable(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "IDP_IDENTITY_PROVING_AVAILABLE", False)
    identity_rp = RelyingPartyUnderTest.register(
        app,
        scopes=["openid", "email"],
        claims=[CORE_IDENTITY_JWT],
        client_locs=["P0", "P1", "P2", "P3"],
        identity_verification_supported=True,
    )
    claims = json.dumps({"userinfo": {CORE_IDENTITY_JWT: None}})
    for vtr in ('["Cl.Cm.P2"]', '["Cl.Cm.P1"]', '["Cl.Cm.P3"]', '["Cl.Cm.P2","Cl.Cm.P1"]'):
        params = identity_rp.authorize_params(scope="openid email", claims=claims, vtr=vtr)
        response = get(app.test_client(), params)
        assert_error(
            response,
            identity_rp,
            "temporarily_unavailable",
            "Identity proving is temporarily unavailable",
            identity_rp.last_state,
        )


def test_pkce_enforced_client_without_a_challenge(app: Flask) -> None:
    rp = RelyingPartyUnderTest.register(app, pkce_enforced=True)
    params = rp.authorize_params(code_challenge="__omit__", code_challenge_method="__omit__")
    response = get(app.test_client(), params)
    assert_error(
        response,
        rp,
        "invalid_request",
        "Request is missing code_challenge parameter, but PKCE is enforced.",
        rp.last_state,
    )


def test_deactivated_client(app: Flask) -> None:
    rp = RelyingPartyUnderTest.register(app, is_active=False)
    response = get(app.test_client(), rp.authorize_params())
    assert_error(response, rp, "unauthorized_client", "client deactivated", rp.last_state)


def test_client_that_requires_a_request_object(app: Flask) -> None:
    rp = RelyingPartyUnderTest.register(app, jar_required=True)
    response = get(app.test_client(), rp.authorize_params())
    assert_error(
        response,
        rp,
        "access_denied",
        "JAR required for client but request does not contain Request Object",
        rp.last_state,
    )


def test_client_that_requires_a_request_object_with_an_unregistered_redirect(app: Flask) -> None:
    rp = RelyingPartyUnderTest.register(app, jar_required=True)
    response = get(app.test_client(), rp.authorize_params(redirect_uri="https://evil.example.com/cb"))
    assert_not_redirected(response, 400, INVALID_REQUEST)


# -- valid requests -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": "__omit__", "code_challenge_method": "__omit__"},
        {"claims": json.dumps({"userinfo": {CORE_IDENTITY_JWT: None}})},
        {"claims": json.dumps({"userinfo": {CORE_IDENTITY_JWT: None}}), "prompt": "login"},
        {"claims": json.dumps({"userinfo": {CORE_IDENTITY_JWT: None}}), "prompt": "login", "vtr": '["Cl.Cm"]'},
        {"login_hint": "someone@example.com"},
        {"vtr": "[]"},
        {"vtr": '["Cl"]'},
        {"vtr": '["Cm.Cl"]'},
        {"vtr": '["Cl.Cm.P0"]'},
        {"vtr": '["Cl.P0"]'},
        {"ui_locales": "cy en"},
        {"channel": "generic_app"},
        {"max_age": "0"},
        {"rp_sid": "rp-session-1"},
        {"response_mode": "query"},
        {"response_mode": "fragment"},
        {"unknown_parameter": "ignored", "claims_locales": "fr"},
    ],
)
def test_valid_requests_start_the_sign_in_journey(
    app: Flask, identity_rp: RelyingPartyUnderTest, overrides: dict[str, str]
) -> None:
    params = identity_rp.authorize_params(scope="openid email", **overrides)
    assert_journey_started(get(app.test_client(), params))


def test_permit_missing_nonce_client(app: Flask) -> None:
    rp = RelyingPartyUnderTest.register(app, permit_missing_nonce=True)
    assert_journey_started(get(app.test_client(), rp.authorize_params(nonce="__omit__")))


def test_duplicate_parameters_last_value_wins(app: Flask, rp: RelyingPartyUnderTest) -> None:
    params = rp.authorize_params(nonce="__omit__")
    query = urlencode(params) + "&state=first&state=second&scope=phone&scope=openid+email"
    response = app.test_client().get("/authorize?state=zero&" + query)
    assert_error(response, rp, "invalid_request", "Request is missing nonce parameter", "second")


def test_duplicate_parameters_last_value_wins_for_a_valid_request(app: Flask, rp: RelyingPartyUnderTest) -> None:
    query = urlencode(rp.authorize_params()) + "&response_type=token&response_type=code&scope=email&scope=openid"
    assert_journey_started(app.test_client().get("/authorize?" + query))


def test_post_form_authorize(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    error = browser.client.post("/authorize", data=rp.authorize_params(nonce="__omit__"))
    assert_error(error, rp, "invalid_request", "Request is missing nonce parameter", rp.last_state)

    response = complete_sign_in(browser, browser.client.post("/authorize", data=rp.authorize_params()), citizen)
    result = redirected_to(response, rp.redirect_uri)
    assert result["state"] == rp.last_state
    token = exchange(browser.client, rp, result["code"])
    assert token.status_code == 200, token.get_json()


def test_post_form_authorize_with_an_unregistered_redirect_uri(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = app.test_client().post("/authorize", data=rp.authorize_params(redirect_uri="https://evil.example/cb"))
    assert_not_redirected(response, 400, INVALID_REQUEST)


def test_response_mode_fragment_for_errors(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = get(app.test_client(), rp.authorize_params(response_mode="fragment", nonce="__omit__"))
    assert redirected_to(response, rp.redirect_uri, mode="fragment") == {
        "error": "invalid_request",
        "error_description": "Request is missing nonce parameter",
        "state": rp.last_state,
    }


def test_response_mode_fragment_for_the_code(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    response = complete_sign_in(browser, get(browser.client, rp.authorize_params(response_mode="fragment")), citizen)
    result = redirected_to(response, rp.redirect_uri, mode="fragment")
    assert set(result) == {"code", "state"}
    assert result["state"] == rp.last_state
    silent = get(browser.client, rp.authorize_params(response_mode="fragment"))
    assert set(redirected_to(silent, rp.redirect_uri, mode="fragment")) == {"code", "state"}


def test_unknown_parameters_are_ignored_through_to_the_code(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    result = sign_in(browser, rp, citizen, unknown_parameter="x", acr_values="whatever", display="page")
    assert exchange(browser.client, rp, result["code"]).status_code == 200


def test_login_hint_prefills_the_email(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    response = browser.authorize(rp.authorize_params(login_hint="hinted@example.com"))
    assert response.status_code == 200
    assert response.request.path == "/sign-in"
    assert 'value="hinted@example.com"' in response.get_data(as_text=True)


def test_ui_locales_sets_the_language_of_the_pages(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    welsh = browser.authorize(rp.authorize_params(ui_locales="cy"))
    assert welsh.status_code == 200
    assert '<html lang="cy"' in welsh.get_data(as_text=True)
    english = Browser(app.test_client()).authorize(rp.authorize_params(ui_locales="fr en"))
    assert '<html lang="en"' in english.get_data(as_text=True)


# -- sessions: prompt, single sign-on, max_age, levels -------------------------------------------------------------


def test_prompt_none_without_a_session(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = get(app.test_client(), rp.authorize_params(prompt="none"))
    assert_error(response, rp, "login_required", "Login required", rp.last_state)


def test_prompt_none_with_a_session_signs_in_silently(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen)
    result = redirected_to(get(browser.client, rp.authorize_params(prompt="none")), rp.redirect_uri)
    assert set(result) == {"code", "state"}


def test_single_sign_on_redirects_straight_back_with_a_code(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    first = RelyingPartyUnderTest.register(app)
    second = RelyingPartyUnderTest.register(app)
    sign_in(browser, first, citizen)
    for rp in (first, second):
        response = get(browser.client, rp.authorize_params())
        result = redirected_to(response, rp.redirect_uri)
        assert result["state"] == rp.last_state
        token = exchange(browser.client, rp, result["code"])
        assert token.status_code == 200, token.get_json()


def test_prompt_login_with_a_session_asks_for_the_password_again(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen)
    response, paths = pages_visited(browser, get(browser.client, rp.authorize_params(prompt="login")))
    assert response.status_code == 200
    assert paths[0] == START
    assert response.request.path in ("/sign-in", "/sign-in/password")
    # The journey cannot be skipped by going straight to its end.
    assert browser.get("/authorize/continue").location == START
    response = complete_sign_in(browser, browser.get(START), citizen)
    result = redirected_to(response, rp.redirect_uri)
    assert result["state"] == rp.last_state


def test_prompt_login_shows_the_password_page(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen)
    response = browser.authorize(rp.authorize_params(prompt="login"))
    if response.request.path == "/sign-in":
        response = browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    assert response.status_code == 200
    assert response.request.path == "/sign-in/password"


def test_max_age_forces_re_authentication_when_exceeded(app: Flask, browser: Browser) -> None:
    rp = RelyingPartyUnderTest.register(app, max_age_enabled=True)
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen)
    # Within max_age the session is used silently.
    assert set(redirected_to(get(browser.client, rp.authorize_params(max_age="3600")), rp.redirect_uri)) == {
        "code",
        "state",
    }
    time.sleep(1.1)
    response, paths = pages_visited(browser, get(browser.client, rp.authorize_params(max_age="0")))
    assert response.status_code == 200, paths
    assert paths[0] == START
    assert response.request.path.startswith("/sign-in")
    result = redirected_to(complete_sign_in(browser, response, citizen), rp.redirect_uri)
    token = exchange(browser.client, rp, result["code"])
    assert token.status_code == 200
    _, claims = verify_provider_jwt(browser.client, token.get_json()["id_token"], audience=rp.client_id)
    assert claims["auth_time"] >= int(time.time()) - 5


def test_max_age_is_ignored_for_a_client_without_max_age(app: Flask, browser: Browser) -> None:
    rp = RelyingPartyUnderTest.register(app, max_age_enabled=False)
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen)
    time.sleep(1.1)
    assert set(redirected_to(get(browser.client, rp.authorize_params(max_age="0")), rp.redirect_uri)) == {
        "code",
        "state",
    }


def test_max_age_with_prompt_none_and_an_old_session(app: Flask, browser: Browser) -> None:
    rp = RelyingPartyUnderTest.register(app, max_age_enabled=True)
    sign_in(browser, rp, quick_citizen(app))
    time.sleep(1.1)
    response = get(browser.client, rp.authorize_params(max_age="0", prompt="none"))
    assert_error(response, rp, "login_required", "Login required", rp.last_state)


def test_cl_only_request_skips_the_security_code(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    response = browser.authorize(rp.authorize_params(vtr='["Cl"]'))
    assert response.request.path == "/sign-in"
    response = browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    assert response.request.path == "/sign-in/password"
    response = browser.post_form("/sign-in/password", {"password": citizen.password})
    response, paths = pages_visited(browser, response)
    assert "/sign-in/security-code" not in paths
    result = redirected_to(response, rp.redirect_uri)
    token = exchange(browser.client, rp, result["code"])
    _, claims = verify_provider_jwt(browser.client, token.get_json()["id_token"], audience=rp.client_id)
    assert claims["vot"] == "Cl"
    assert citizen.used_codes == set()


def test_cl_session_is_uplifted_with_only_the_security_code(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen, vtr='["Cl"]')
    response = browser.authorize(rp.authorize_params())
    assert response.status_code == 200
    assert response.request.path == "/sign-in/security-code"
    response = browser.follow(browser.post_form("/sign-in/security-code", {"code": citizen.totp_code()}))
    result = redirected_to(response, rp.redirect_uri)
    token = exchange(browser.client, rp, result["code"])
    _, claims = verify_provider_jwt(browser.client, token.get_json()["id_token"], audience=rp.client_id)
    assert claims["vot"] == "Cl.Cm"


def test_cl_session_does_not_satisfy_prompt_none_at_cl_cm(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    sign_in(browser, rp, quick_citizen(app), vtr='["Cl"]')
    response = get(browser.client, rp.authorize_params(prompt="none"))
    assert_error(response, rp, "login_required", "Login required", rp.last_state)


# -- an unregistered redirect_uri never redirects ------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"state": "__omit__"},
        {"nonce": "__omit__"},
        {"scope": "openid unknown"},
        {"response_type": "token"},
        {"prompt": "none"},
        {"prompt": "select_account"},
        {"vtr": '["Ch"]'},
        {"request_uri": "https://example.com/r"},
        {"response_mode": "fragment"},
    ],
)
@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/callback",
        "{registered}/",
        "{registered}?next=https://evil.example.com",
        "{registered}/../../evil",
        "{registered}#x",
        "{upper}",
        "",
    ],
)
def test_unregistered_redirect_uri_never_redirects(
    app: Flask, rp: RelyingPartyUnderTest, overrides: dict[str, str], redirect_uri: str
) -> None:
    uri = redirect_uri.format(registered=rp.redirect_uri, upper=rp.redirect_uri.upper())
    response = get(app.test_client(), rp.authorize_params(redirect_uri=uri, **overrides))
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unregistered_redirect_uri_with_a_session_never_redirects(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    sign_in(browser, rp, quick_citizen(app))
    response = get(browser.client, rp.authorize_params(redirect_uri="https://evil.example.com/callback"))
    assert_not_redirected(response, 400, INVALID_REQUEST)


# -- request objects (JAR, reference §2.2) ------------------------------------------------------------------------


def jar_claims(rp: RelyingPartyUnderTest, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": rp.client_id,
        "aud": AUTHORIZE_URL,
        "client_id": rp.client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": rp.redirect_uri,
        "state": "jar-state",
        "nonce": "jar-nonce",
        "iat": now,
        "exp": now + 300,
    }
    for name, value in overrides.items():
        if value is REMOVE:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def jar_params(rp: RelyingPartyUnderTest, request_object: str, **top: str) -> dict[str, str]:
    params = {"client_id": rp.client_id, "response_type": "code", "scope": "openid", "request": request_object}
    params.update(top)
    return params


def jar_get(client: FlaskClient, rp: RelyingPartyUnderTest, alg: str | None = None, **overrides: Any) -> TestResponse:
    return get(client, jar_params(rp, rp.request_object(jar_claims(rp, **overrides), alg=alg)))


def assert_jar_error(response: TestResponse, rp: RelyingPartyUnderTest, error: str, description: str) -> None:
    assert_error(response, rp, error, description, "jar-state")


def test_jar_unknown_client(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    token = identity_rp.request_object(jar_claims(identity_rp, client_id="unknown-client-id"))
    response = get(app.test_client(), jar_params(identity_rp, token, client_id="unknown-client-id"))
    assert_not_redirected(response, 400, INVALID_REQUEST)


def test_jar_signed_with_another_key(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(jar_claims(identity_rp), other, algorithm="RS256")
    assert_not_redirected(get(app.test_client(), jar_params(identity_rp, token)), 400, "Validation failed")


def test_jar_with_a_damaged_signature(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    token = identity_rp.request_object(jar_claims(identity_rp)) + "a"
    assert_not_redirected(get(app.test_client(), jar_params(identity_rp, token)), 400, "Validation failed")


def test_jar_signed_with_a_shared_secret(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    token = jwt.encode(jar_claims(identity_rp), "a-shared-secret-of-thirty-two-bytes!", algorithm="HS256")
    assert_not_redirected(get(app.test_client(), jar_params(identity_rp, token)), 400, "Validation failed")


@pytest.mark.parametrize("redirect_uri", ["https://example.com/auth-callback", "http^^^^://"])
def test_jar_unregistered_redirect_uri(app: Flask, identity_rp: RelyingPartyUnderTest, redirect_uri: str) -> None:
    response = jar_get(app.test_client(), identity_rp, redirect_uri=redirect_uri)
    assert_not_redirected(response, 400, INVALID_REQUEST)


def test_jar_without_a_redirect_uri(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    response = jar_get(app.test_client(), identity_rp, redirect_uri=REMOVE)
    assert_not_redirected(response, 400, INVALID_REQUEST)


def test_jar_unknown_response_mode(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    response = jar_get(app.test_client(), identity_rp, response_mode="form_post")
    assert_not_redirected(response, 400, INVALID_REQUEST)


def test_jar_unsigned_is_refused(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    token = unsigned_jwt(jar_claims(identity_rp))
    client = app.test_client()
    bare = get(client, jar_params(identity_rp, token))
    assert_not_redirected(bare, 400, "Request object JWT must be signed")
    with_redirect = get(client, jar_params(identity_rp, token, redirect_uri=identity_rp.redirect_uri, state="top"))
    assert_error(with_redirect, identity_rp, "invalid_request_object", "Request object JWT must be signed", "top")
    upper_none = unsigned_jwt(jar_claims(identity_rp), header={"alg": "None"})
    assert_not_redirected(get(client, jar_params(identity_rp, upper_none)), 400, "Request object JWT must be signed")


def test_jar_that_is_not_a_jwt(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    response = get(app.test_client(), jar_params(identity_rp, "not-a-jwt"))
    assert_not_redirected(response, 400, "Request object could not be parsed")


@pytest.mark.parametrize(("name", "offset"), [("exp", -120), ("nbf", 120)])
def test_jar_outside_its_lifetime(app: Flask, identity_rp: RelyingPartyUnderTest, name: str, offset: int) -> None:
    overrides: dict[str, Any] = {name: int(time.time()) + offset}
    response = jar_get(app.test_client(), identity_rp, **overrides)
    assert_not_redirected(response, 400, "Request expired")


def test_jar_clock_skew_is_allowed(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    now = int(time.time())
    assert_journey_started(jar_get(app.test_client(), identity_rp, exp=now - 10, nbf=now + 10))


def test_jar_missing_state(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    response = jar_get(app.test_client(), identity_rp, state=REMOVE)
    assert_error(response, identity_rp, "invalid_request", "Request is missing state parameter", None)


def test_jar_top_level_response_type_that_is_not_code(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    token = identity_rp.request_object(jar_claims(identity_rp))
    response = get(app.test_client(), jar_params(identity_rp, token, response_type="id_token"))
    assert_jar_error(response, identity_rp, "unsupported_response_type", "Unsupported response type")


@pytest.mark.parametrize("scope", ["openid profile", "openid phone"])
def test_jar_top_level_unknown_or_unregistered_scope(
    app: Flask, identity_rp: RelyingPartyUnderTest, scope: str
) -> None:
    token = identity_rp.request_object(jar_claims(identity_rp))
    response = get(app.test_client(), jar_params(identity_rp, token, scope=scope))
    assert_jar_error(response, identity_rp, "invalid_scope", "Invalid, unknown or malformed scope")


def test_jar_response_type_inside_that_is_not_code(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    response = jar_get(app.test_client(), identity_rp, response_type="id_token")
    assert_jar_error(response, identity_rp, "unsupported_response_type", "Unsupported response type")


@pytest.mark.parametrize("scope", ["openid profile", "openid phone"])
def test_jar_unknown_or_unregistered_scope_inside(app: Flask, identity_rp: RelyingPartyUnderTest, scope: str) -> None:
    response = jar_get(app.test_client(), identity_rp, scope=scope)
    assert_jar_error(response, identity_rp, "invalid_scope", "Invalid, unknown or malformed scope")


def test_jar_matching_bad_values_at_both_levels(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    client = app.test_client()
    token = identity_rp.request_object(jar_claims(identity_rp, response_type="token"))
    response = get(client, jar_params(identity_rp, token, response_type="token"))
    assert_jar_error(response, identity_rp, "unsupported_response_type", "Unsupported response type")
    token = identity_rp.request_object(jar_claims(identity_rp, scope="openid profile"))
    response = get(client, jar_params(identity_rp, token, scope="openid profile"))
    assert_jar_error(response, identity_rp, "invalid_scope", "Invalid, unknown or malformed scope")
    token = identity_rp.request_object(jar_claims(identity_rp, scope="email"))
    response = get(client, jar_params(identity_rp, token, scope="email"))
    assert_jar_error(response, identity_rp, "invalid_request", "Request is missing openid scope")


def test_jar_top_level_values_must_match_the_object(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    token = identity_rp.request_object(jar_claims(identity_rp, scope="openid email"))
    response = get(app.test_client(), jar_params(identity_rp, token, scope="openid"))
    assert_jar_error(response, identity_rp, "invalid_request", "Parameters must match those in the request object")


def test_jar_with_a_request_uri_at_the_top_level(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    token = identity_rp.request_object(jar_claims(identity_rp))
    response = get(app.test_client(), jar_params(identity_rp, token, request_uri="https://example.com/r/1"))
    assert_jar_error(response, identity_rp, "invalid_request", "Request must not contain both request and request_uri")


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({"client_id": REMOVE}, "Invalid client_id in request object"),
        ({"client_id": "different-client-id"}, "Invalid client_id in request object"),
        ({"iss": REMOVE}, "Invalid issuer in request object"),
        ({"iss": "not-client-id"}, "Invalid issuer in request object"),
    ],
)
def test_jar_unauthorized_client(
    app: Flask, identity_rp: RelyingPartyUnderTest, overrides: dict[str, Any], description: str
) -> None:
    response = jar_get(app.test_client(), identity_rp, **overrides)
    assert_jar_error(response, identity_rp, "unauthorized_client", description)


@pytest.mark.parametrize("name", ["request", "request_uri"])
def test_jar_must_not_nest_request_or_request_uri(app: Flask, identity_rp: RelyingPartyUnderTest, name: str) -> None:
    response = jar_get(app.test_client(), identity_rp, **{name: "another-request-object"})
    assert_jar_error(response, identity_rp, "invalid_request", "Request object must not contain request or request_uri")


@pytest.mark.parametrize(
    "aud", [REMOVE, "http://not-authorise-endpoint.com/authorize", "http://localhost:8080/token"], ids=str
)
def test_jar_audience_must_be_the_authorize_endpoint(app: Flask, identity_rp: RelyingPartyUnderTest, aud: Any) -> None:
    response = jar_get(app.test_client(), identity_rp, aud=aud)
    assert_jar_error(response, identity_rp, "access_denied", "Invalid audience in request object")


def test_jar_audience_as_a_list(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    assert_journey_started(jar_get(app.test_client(), identity_rp, aud=["https://other.example", AUTHORIZE_URL]))


@pytest.mark.parametrize(
    "claims",
    [
        ["invalid claims"],
        {"userinfo": {"invalidClaim": {"essential": True}}},
        {"userinfo": {VOCAB + "passport": {"essential": True}}},
        '{"userinfo": {"unknown": null}}',
    ],
    ids=["list", "unknown", "unregistered", "string"],
)
def test_jar_invalid_claims(app: Flask, identity_rp: RelyingPartyUnderTest, claims: Any) -> None:
    response = jar_get(app.test_client(), identity_rp, claims=claims)
    assert_jar_error(response, identity_rp, "invalid_request", "Request contains invalid claims")


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"nonce": REMOVE}, "invalid_request", "Request is missing nonce parameter"),
        ({"max_age": -1000}, "invalid_request", "Max age is negative in request object"),
        ({"max_age": "notANumber"}, "invalid_request", "Max age could not be parsed to an integer"),
        ({"login_hint": "x" * 257}, "invalid_request", "login_hint parameter is invalid"),
        ({"channel": "banana"}, "invalid_request", "Invalid value for channel parameter."),
        ({"prompt": "select_account"}, "unmet_authentication_requirements", "Unmet authentication requirements"),
        ({"code_challenge": "abc", "code_challenge_method": "plain"}, "invalid_request", None),
        ({"code_challenge": ""}, "invalid_request", "Invalid value for code_challenge parameter."),
    ],
)
def test_jar_redirected_errors(
    app: Flask, identity_rp: RelyingPartyUnderTest, overrides: dict[str, Any], error: str, description: str | None
) -> None:
    response = jar_get(app.test_client(), identity_rp, **overrides)
    assert_jar_error(response, identity_rp, error, description or "Invalid value for code_challenge_method parameter.")


@pytest.mark.parametrize("vtr", BAD_VTRS)
def test_jar_invalid_vtr(app: Flask, identity_rp: RelyingPartyUnderTest, vtr: str) -> None:
    response = jar_get(app.test_client(), identity_rp, vtr=vtr)
    assert_jar_error(response, identity_rp, "invalid_request", "Request vtr not valid")


def test_jar_vtr_and_claims_as_json_values(
    app: Flask, identity_rp: RelyingPartyUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "IDP_IDENTITY_PROVING_AVAILABLE", False)
    client = app.test_client()
    claims = {"userinfo": {CORE_IDENTITY_JWT: {"essential": True}}}
    assert_journey_started(jar_get(client, identity_rp, vtr=["Cl.Cm"], claims=claims))
    response = jar_get(client, identity_rp, vtr=["Cl.Cm.P2"], claims=claims)
    assert_jar_error(response, identity_rp, "temporarily_unavailable", "Identity proving is temporarily unavailable")


def test_jar_valid_minimal(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    assert_journey_started(jar_get(app.test_client(), identity_rp))


def test_jar_valid_with_all_parameters(app: Flask, identity_rp: RelyingPartyUnderTest) -> None:
    claims = '{"userinfo": { "https://vocab.account.gov.uk/v1/coreIdentityJWT": { "essential": true }}}'
    response = jar_get(
        app.test_client(),
        identity_rp,
        max_age=123,
        prompt="login",
        claims=claims,
        ui_locales="en",
        login_hint="someone@example.com",
        channel="web",
        code_challenge="eIe4S9eBZL3SvHEtvsxhvN4FQ8ln3VmwUQvjdVJ-VEY",
        code_challenge_method="S256",
        vtr='["Cl.Cm"]',
        response_mode="query",
    )
    assert_journey_started(response)


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_jar_rsa_algorithms(app: Flask, identity_rp: RelyingPartyUnderTest, alg: str) -> None:
    assert_journey_started(jar_get(app.test_client(), identity_rp, alg=alg))


def test_jar_to_the_code_and_the_id_token(app: Flask, browser: Browser) -> None:
    rp = RelyingPartyUnderTest.register(app, jar_required=True)
    citizen = quick_citizen(app)
    token = rp.request_object(jar_claims(rp, nonce="object-nonce", state="object-state"))
    response = complete_sign_in(browser, get(browser.client, jar_params(rp, token)), citizen)
    result = redirected_to(response, rp.redirect_uri)
    assert result["state"] == "object-state"
    body = exchange(browser.client, rp, result["code"], code_verifier=None).get_json()
    _, claims = verify_provider_jwt(browser.client, body["id_token"], audience=rp.client_id)
    assert claims["nonce"] == "object-nonce"


def test_jar_es256_client(app: Flask, browser: Browser) -> None:
    rp = RelyingPartyUnderTest.register(app, key_alg="ES256")
    assert_journey_started(jar_get(browser.client, rp))
    other = RelyingPartyUnderTest.register(app, key_alg="ES256")
    forged = jwt.encode(jar_claims(rp), other.private_key, algorithm="ES256")
    assert_not_redirected(get(browser.client, jar_params(rp, forged)), 400, "Validation failed")
    citizen = quick_citizen(app)
    response = complete_sign_in(browser, jar_get(browser.client, rp), citizen)
    result = redirected_to(response, rp.redirect_uri)
    token = exchange(browser.client, rp, result["code"], code_verifier=None)
    assert token.status_code == 200, token.get_json()


def test_jar_keys_from_a_jwks_uri(app: Flask) -> None:
    client = app.test_client()
    with local_server() as server:
        rp = RelyingPartyUnderTest.register(
            app, public_key=None, public_key_source="JWKS", jwks_uri=server.url("/jwks")
        )
        server.documents["/jwks"] = {"keys": [public_jwk(rp.private_key, "key-1", "RS256")]}
        claims = jar_claims(rp)
        good = jwt.encode(claims, rp.private_key, algorithm="RS256", headers={"kid": "key-1"})
        assert_journey_started(get(client, jar_params(rp, good)))
        assert [r.path for r in server.received] == ["/jwks"]
        assert server.received[0].headers.get("User-Agent")

        server_error = {"error": "server_error", "error_description": "Unexpected server error"}
        no_kid = jwt.encode(claims, rp.private_key, algorithm="RS256")
        for token in (no_kid, jwt.encode(claims, rp.private_key, algorithm="RS256", headers={"kid": "unknown"})):
            response = get(client, jar_params(rp, token))
            assert response.status_code == 500
            assert "Location" not in response.headers
            assert response.get_json() == server_error


def test_jar_jwks_key_source_failures(app: Flask) -> None:
    client = app.test_client()
    server_error = {"error": "server_error", "error_description": "Unexpected server error"}
    with local_server() as server:
        no_url = RelyingPartyUnderTest.register(app, public_key=None, public_key_source="JWKS", jwks_uri=None)
        unreachable = RelyingPartyUnderTest.register(
            app, public_key=None, public_key_source="JWKS", jwks_uri=server.url("/missing")
        )
        for rp in (no_url, unreachable):
            token = jwt.encode(jar_claims(rp), rp.private_key, algorithm="RS256", headers={"kid": "key-1"})
            response = get(client, jar_params(rp, token))
            assert response.status_code == 500, rp.client_id
            assert response.get_json() == server_error
