"""The sample service's routes, with the provider faked: its discovery document is given, its JWKS comes from an
injected fetcher, and its token and userinfo endpoints answer through a fake HTTP transport."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey

from relying_party_examples.keys import public_key_path
from relying_party_examples.sample_service import create_app
from relying_party_examples.sample_service.id_token import at_hash
from tests.relying_party_examples.rp_fakes import ACCESS_TOKEN, CLIENT_ID, ISSUER, FakeProvider

BASE_URL = "http://localhost:8081"
SUB = "urn:fdc:gov.uk:2022:JG0RJI1pYbnanbvPs-j4j5-a-PFcmhry9Qu9NCEp5d4"


class FakeEndpoints:
    """The provider's token and userinfo endpoints, reached through `requests.Session.send`."""

    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider
        self.nonce = ""
        self.id_token_overrides: dict[str, Any] = {}
        self.token_response: tuple[int, dict[str, Any]] | None = None
        self.userinfo = {"sub": SUB, "email": "citizen@example.com", "email_verified": True}
        self.token_requests: list[dict[str, str]] = []
        self.fail_with: Exception | None = None

    def send(self, request: requests.PreparedRequest) -> requests.Response:
        if self.fail_with:
            raise self.fail_with
        if request.url == f"{ISSUER}token":
            assert isinstance(request.body, str)
            self.token_requests.append({k: v[0] for k, v in parse_qs(request.body).items()})
            status, body = self.token_response or (200, self.tokens())
        elif request.url == f"{ISSUER}userinfo":
            assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
            status, body = 200, self.userinfo
        else:
            raise AssertionError(f"unexpected request to {request.url}")
        response = requests.Response()
        response.status_code, response.url, response.request = status, str(request.url), request
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(body).encode()
        return response

    def tokens(self) -> dict[str, Any]:
        claims = self.provider.id_token_claims(**{"sub": SUB, "nonce": self.nonce, **self.id_token_overrides})
        return {
            "access_token": ACCESS_TOKEN,
            "token_type": "Bearer",
            "expires_in": 180,
            "id_token": self.provider.sign(claims),
        }


@pytest.fixture
def endpoints(provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> FakeEndpoints:
    fake = FakeEndpoints(provider)
    monkeypatch.setattr(requests.Session, "send", lambda _session, request, **_kwargs: fake.send(request))
    return fake


@pytest.fixture
def make_service(provider: FakeProvider, rp_private_key: Path) -> Callable[..., Flask]:
    def make(**overrides: Any) -> Flask:
        config = {
            "RP_NAME": "Apply for a fishing licence",
            "RP_CLIENT_ID": CLIENT_ID,
            "RP_BASE_URL": BASE_URL,
            "RP_ISSUER": ISSUER,
            "RP_PRIVATE_KEY": str(rp_private_key),
            "RP_SECRET_KEY": "test-secret",
            "PROVIDER_METADATA": provider.metadata(),
            "JWKS_FETCHER": provider.fetch,
        }
        config.update(overrides)
        service_app = create_app(config)
        service_app.testing = True
        return service_app

    return make


@pytest.fixture
def service_app(make_service: Callable[..., Flask]) -> Flask:
    return make_service()


@pytest.fixture
def service_client(service_app: Flask) -> Iterator[FlaskClient]:
    with service_app.test_client() as test_client:
        yield test_client


def sign_in(service_client: FlaskClient, endpoints: FakeEndpoints) -> requests.Response | Any:
    started = service_client.get("/sign-in")
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    endpoints.nonce = query["nonce"][0]
    return service_client.get(f"/callback?code=the-code&state={query['state'][0]}")


def set_session(service_client: FlaskClient, **values: Any) -> None:
    with service_client.session_transaction() as session:
        session.update(values)


def test_start_page(service_app: Flask, service_client: FlaskClient) -> None:
    response = service_client.get("/")
    assert response.status_code == 200
    assert '<h1 class="govuk-heading-xl">Apply for a fishing licence</h1>' in response.text
    assert 'href="/sign-in"' in response.text
    # GOV.UK Frontend's stylesheet is linked only when `make assets` has copied it into static/.
    stylesheet = Path(service_app.root_path, "static", "govuk-frontend.min.css").exists()
    assert ('href="/static/govuk-frontend.min.css"' in response.text) == stylesheet
    if stylesheet:
        with service_client.get("/assets/images/favicon.ico") as favicon:
            assert favicon.status_code == 200
    assert service_client.get("/assets/../__init__.py").status_code == 404


def test_healthz(service_client: FlaskClient) -> None:
    response = service_client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


def test_account_redirects_to_the_start_page_when_signed_out(service_client: FlaskClient) -> None:
    response = service_client.get("/account")
    assert (response.status_code, response.headers["Location"]) == (302, "/")


def test_sign_in_sends_the_one_login_authorization_request(service_client: FlaskClient) -> None:
    response = service_client.get("/sign-in?lang=cy")
    assert response.status_code == 302
    url = urlsplit(response.headers["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}authorize"
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{BASE_URL}/callback"
    assert query["scope"] == "openid email"
    assert query["vtr"] == '["Cl.Cm"]'
    assert query["ui_locales"] == "cy"
    assert query["code_challenge_method"] == "S256"
    with service_client.session_transaction() as session:
        pending = session["sign_in"]
    assert (query["state"], query["nonce"]) == (pending["state"], pending["nonce"])
    verifier_hash = hashlib.sha256(pending["code_verifier"].encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(verifier_hash).rstrip(b"=").decode()


def test_sign_in_ignores_languages_one_login_does_not_offer(service_client: FlaskClient) -> None:
    assert "ui_locales" not in service_client.get("/sign-in?lang=fr").headers["Location"]


def test_a_full_sign_in(service_client: FlaskClient, endpoints: FakeEndpoints, rp_private_key: Path) -> None:
    response = sign_in(service_client, endpoints)
    assert (response.status_code, response.headers["Location"]) == (302, "/account")
    page = service_client.get("/account")
    assert page.status_code == 200
    assert SUB in page.text and "citizen@example.com" in page.text and "Cl.Cm" in page.text
    assert page.headers["Cache-Control"] == "no-store"

    # The token request: the code, its redirect_uri, the PKCE verifier and a private_key_jwt client assertion.
    token_request = endpoints.token_requests[0]
    assert token_request["grant_type"] == "authorization_code"
    assert token_request["code"] == "the-code"
    assert token_request["redirect_uri"] == f"{BASE_URL}/callback"
    assert len(token_request["code_verifier"]) >= 43
    assert token_request["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    public_key = serialization.load_pem_public_key(public_key_path(rp_private_key).read_bytes())
    assert isinstance(public_key, rsa.RSAPublicKey)
    assertion = token_request["client_assertion"]
    claims = jwt.decode(assertion, public_key, algorithms=["RS256"], audience=f"{ISSUER}token")
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"]
    assert jwt.get_unverified_header(assertion)["kid"] == RSAKey.import_key(rp_private_key.read_bytes()).thumbprint()


def test_each_client_assertion_has_a_fresh_jti(service_client: FlaskClient, endpoints: FakeEndpoints) -> None:
    sign_in(service_client, endpoints)
    sign_in(service_client, endpoints)
    assertions = [request["client_assertion"] for request in endpoints.token_requests]
    jtis = {jwt.decode(assertion, options={"verify_signature": False})["jti"] for assertion in assertions}
    assert len(jtis) == 2


@pytest.mark.parametrize(
    "overrides",
    [{"nonce": "someone-elses-nonce"}, {"aud": "vehicle-register"}, {"vot": "Cl"}, {"at_hash": at_hash("other")}],
)
def test_a_bad_id_token_does_not_sign_in(
    service_client: FlaskClient, endpoints: FakeEndpoints, overrides: dict[str, Any]
) -> None:
    endpoints.id_token_overrides = overrides
    response = sign_in(service_client, endpoints)
    assert response.status_code == 400
    assert "Sorry, there is a problem" in response.text
    assert service_client.get("/account").status_code == 302


def test_a_userinfo_sub_other_than_the_id_tokens_does_not_sign_in(
    service_client: FlaskClient, endpoints: FakeEndpoints
) -> None:
    endpoints.userinfo = {"sub": "urn:fdc:gov.uk:2022:someone-else", "email": "other@example.com"}
    assert sign_in(service_client, endpoints).status_code == 400
    assert service_client.get("/account").status_code == 302


def test_a_token_endpoint_error_is_shown_not_raised(service_client: FlaskClient, endpoints: FakeEndpoints) -> None:
    endpoints.token_response = (400, {"error": "invalid_grant", "error_description": "Invalid grant"})
    assert sign_in(service_client, endpoints).status_code == 400


def test_an_unreachable_provider_is_shown_not_raised(service_client: FlaskClient, endpoints: FakeEndpoints) -> None:
    started = service_client.get("/sign-in")
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    endpoints.fail_with = requests.ConnectionError("down")
    assert service_client.get(f"/callback?code=c&state={state}").status_code == 503


def test_an_error_from_the_provider_is_shown_on_an_error_page(service_client: FlaskClient) -> None:
    service_client.get("/sign-in")
    response = service_client.get("/callback?error=access_denied&error_description=<script>alert(1)</script>&state=x")
    assert response.status_code == 400
    assert "access_denied" in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert" not in response.text


def test_login_required_ends_the_local_session(service_client: FlaskClient) -> None:
    set_session(service_client, sub=SUB, vot="Cl.Cm", id_token="x", signed_in_at=time.time())
    assert service_client.get("/callback?error=login_required&state=x").status_code == 400
    assert service_client.get("/account").status_code == 302


@pytest.mark.parametrize("query", ["code=c&state=wrong", "code=c", "state=x"])
def test_a_callback_without_the_matching_state_is_refused(service_client: FlaskClient, query: str) -> None:
    service_client.get("/sign-in")
    assert service_client.get(f"/callback?{query}").status_code == 400


def test_a_callback_with_no_sign_in_started_is_refused(service_client: FlaskClient) -> None:
    assert service_client.get("/callback?code=c&state=x").status_code == 400


def test_discovery_failures_are_shown_not_raised(make_service: Callable[..., Flask], endpoints: FakeEndpoints) -> None:
    endpoints.fail_with = requests.ConnectionError("down")
    service_app = make_service(PROVIDER_METADATA=None)
    assert service_app.test_client().get("/sign-in").status_code == 503


def test_a_discovery_document_for_another_issuer_is_refused(
    make_service: Callable[..., Flask], provider: FakeProvider
) -> None:
    service_app = make_service(PROVIDER_METADATA={**provider.metadata(), "issuer": "https://elsewhere.test/"})
    assert service_app.test_client().get("/sign-in").status_code == 503


def test_sign_out_goes_to_the_providers_end_session_endpoint_and_comes_back(service_client: FlaskClient) -> None:
    set_session(service_client, sub=SUB, vot="Cl.Cm", id_token="the.id.token", signed_in_at=time.time())
    response = service_client.post("/sign-out")
    url = urlsplit(response.headers["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}logout"
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query["id_token_hint"] == "the.id.token"
    assert query["post_logout_redirect_uri"] == f"{BASE_URL}/signed-out"
    assert service_client.get("/account").status_code == 302
    assert service_client.get("/signed-out?state=wrong").status_code == 400

    service_client.post("/sign-out")  # the wrong state used up the expected one; a signed-out citizen signs out locally
    set_session(service_client, sub=SUB, vot="Cl.Cm", id_token="the.id.token", signed_in_at=time.time())
    state = parse_qs(urlsplit(service_client.get("/sign-out").headers["Location"]).query)["state"][0]
    page = service_client.get(f"/signed-out?state={state}")
    assert page.status_code == 200
    assert "You have signed out" in page.text


def test_signing_out_when_not_signed_in_shows_the_signed_out_page(service_client: FlaskClient) -> None:
    response = service_client.post("/sign-out")
    assert response.status_code == 200
    assert "You have signed out" in response.text


def test_backchannel_logout_ends_every_session_of_that_sub(service_app: Flask, provider: FakeProvider) -> None:
    citizen, other_browser, someone_else = (service_app.test_client() for _ in range(3))
    for browser, sub in ((citizen, SUB), (other_browser, SUB), (someone_else, "urn:fdc:gov.uk:2022:other")):
        set_session(browser, sub=sub, vot="Cl.Cm", id_token="x", signed_in_at=time.time() - 5)
        assert browser.get("/account").status_code == 200

    response = citizen.post("/backchannel-logout", data={"logout_token": provider.logout_token(sub=SUB)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"

    assert citizen.get("/account").headers["Location"] == "/"
    assert other_browser.get("/account").headers["Location"] == "/"
    assert someone_else.get("/account").status_code == 200


def test_signing_in_again_after_a_backchannel_logout_works(service_client: FlaskClient, provider: FakeProvider) -> None:
    service_client.post("/backchannel-logout", data={"logout_token": provider.logout_token(sub=SUB)})
    set_session(service_client, sub=SUB, vot="Cl.Cm", id_token="x", signed_in_at=time.time() + 1)
    assert service_client.get("/account").status_code == 200


@pytest.mark.parametrize("data", [{}, {"logout_token": ""}, {"logout_token": "not-a-jwt"}])
def test_backchannel_logout_rejects_garbage_with_400(service_client: FlaskClient, data: dict[str, str]) -> None:
    response = service_client.post("/backchannel-logout", data=data)
    assert response.status_code == 400
    body = response.json
    assert body is not None
    assert body["error"] == "invalid_request"


def test_backchannel_logout_rejects_a_replay_and_a_token_for_another_service(
    service_client: FlaskClient, provider: FakeProvider
) -> None:
    token = provider.logout_token()
    assert service_client.post("/backchannel-logout", data={"logout_token": token}).status_code == 200
    assert service_client.post("/backchannel-logout", data={"logout_token": token}).status_code == 400
    other = provider.logout_token(aud="vehicle-register")
    assert service_client.post("/backchannel-logout", data={"logout_token": other}).status_code == 400


def test_a_sign_in_older_than_the_session_max_age_ends(service_client: FlaskClient) -> None:
    set_session(service_client, sub=SUB, vot="Cl.Cm", id_token="x", signed_in_at=time.time() - 3601)
    assert service_client.get("/account").status_code == 302


def test_two_services_on_one_host_use_different_session_cookies(make_service: Callable[..., Flask]) -> None:
    fishing = make_service()
    vehicles = make_service(RP_CLIENT_ID="vehicle-register", RP_BASE_URL="http://localhost:8082")
    assert fishing.config["SESSION_COOKIE_NAME"] != vehicles.config["SESSION_COOKIE_NAME"]


def test_missing_settings_are_reported(make_service: Callable[..., Flask], tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="RP_CLIENT_ID"):
        make_service(RP_CLIENT_ID="")
    with pytest.raises(RuntimeError, match="relying_party_examples.keys"):
        make_service(RP_PRIVATE_KEY=str(tmp_path / "absent.private.pem"))
    with pytest.raises(RuntimeError, match="RP_VTR"):
        make_service(RP_VTR='"Cl.Cm"')


def test_request_lines_are_logged_without_their_query_strings(service_app: Flask) -> None:
    request_line = ("GET /callback?code=c&state=s HTTP/1.1", 302, "-")
    record = logging.LogRecord("werkzeug", logging.INFO, "", 0, '"%s" %s %s', request_line, None)
    assert logging.getLogger("werkzeug").filter(record)
    assert record.getMessage() == '"GET /callback?… HTTP/1.1" 302 -'
