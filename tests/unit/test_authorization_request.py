"""Validation of /authorize requests (reference §2.1, §2.2, §2.4, §10 item 2, and the simulator's list in §7.4)."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from idp.oidc.authorization_request import (
    INVALID_REQUEST,
    MISSING_PARAMETERS,
    AuthorizationRequest,
    AuthorizeError,
    ClientRegistration,
    RequestObjectKeyError,
    RequestObjectSignatureError,
    pkce_verifier_is_well_formed,
    redirect_uri_is_safe,
    validate_authorization_request,
)
from idp.oidc.vtr import Vector

AUTHORIZE = "https://oidc.example.gov.uk/authorize"
REDIRECT = "https://rp.example.gov.uk/callback"
CORE_IDENTITY = "https://vocab.account.gov.uk/v1/coreIdentityJWT"
ADDRESS = "https://vocab.account.gov.uk/v1/address"
PASSPORT = "https://vocab.account.gov.uk/v1/passport"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
NOW = 1_800_000_000.0

MISSING_METHOD = (
    "Request is missing code_challenge_method parameter. "
    "code_challenge_method is required when code_challenge is present."
)
PKCE_ENFORCED = "Request is missing code_challenge parameter, but PKCE is enforced."


@dataclass
class FakeClient:
    client_id: str = "client-1"
    redirect_uris: list[str] = field(default_factory=lambda: [REDIRECT, "https://rp.example.gov.uk/other"])
    scopes: list[str] = field(default_factory=lambda: ["openid", "email", "phone"])
    claims: list[str] = field(default_factory=lambda: [CORE_IDENTITY, ADDRESS])
    client_locs: list[str] = field(default_factory=lambda: ["P0", "P2"])
    identity_verification_supported: bool = True
    token_auth_method: str = "private_key_jwt"
    pkce_enforced: bool = False
    jar_required: bool = False
    max_age_enabled: bool = False
    permit_missing_nonce: bool = False
    is_active: bool = True


RP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def verify_with_rp_key(client: ClientRegistration, token: str) -> dict[str, Any]:
    """Stands in for the view's verifier: signature only; the validator checks the claims itself."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            RP_KEY.public_key(),
            algorithms=["RS256", "PS256"],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.InvalidSignatureError as exc:
        raise RequestObjectSignatureError(str(exc)) from exc
    return claims


def params(**overrides: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "response_type": "code",
        "scope": "openid email",
        "client_id": "client-1",
        "redirect_uri": REDIRECT,
        "state": "state-1",
        "nonce": "nonce-1",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def validate(
    request: dict[str, str],
    client: FakeClient | None = None,
    identity_available: bool = True,
    now: float = NOW,
) -> AuthorizationRequest:
    registered = client if client is not None else FakeClient()

    def find_client(client_id: str) -> ClientRegistration | None:
        return registered if client_id == registered.client_id else None

    return validate_authorization_request(
        request, find_client, verify_with_rp_key, AUTHORIZE, identity_available, now=lambda: now
    )


def fails(request: dict[str, str], client: FakeClient | None = None, **kwargs: Any) -> AuthorizeError:
    with pytest.raises(AuthorizeError) as caught:
        validate(request, client, **kwargs)
    return caught.value


def assert_redirected(
    error: AuthorizeError, code: str, description: str | None = None, state: str | None = "state-1"
) -> None:
    assert (error.error, error.status, error.redirect_uri, error.state) == (code, 302, REDIRECT, state)
    assert error.redirectable
    if description is not None:
        assert error.description == description


def assert_not_redirected(error: AuthorizeError, description: str, status: int = 400) -> None:
    assert (error.status, error.description) == (status, description)
    assert not error.redirectable
    assert error.state is None


# -- non-redirect errors (400) ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_params", "description"),
    [
        pytest.param({}, MISSING_PARAMETERS, id="no-parameters"),
        pytest.param(params(client_id=None), MISSING_PARAMETERS, id="no-client_id"),
        pytest.param(params(client_id=""), MISSING_PARAMETERS, id="empty-client_id"),
        pytest.param(params(redirect_uri=None), MISSING_PARAMETERS, id="no-redirect_uri"),
        pytest.param(params(client_id="unknown"), INVALID_REQUEST, id="unknown-client"),
        pytest.param(params(redirect_uri="https://evil.example.com/cb"), INVALID_REQUEST, id="unregistered-uri"),
        pytest.param(params(redirect_uri=REDIRECT + "/"), INVALID_REQUEST, id="uri-not-exact-match"),
        pytest.param(params(redirect_uri=REDIRECT.upper()), INVALID_REQUEST, id="uri-case-differs"),
        pytest.param(params(redirect_uri="not a url"), INVALID_REQUEST, id="malformed-uri"),
        pytest.param(params(response_mode="form_post"), INVALID_REQUEST, id="response_mode-form_post"),
        pytest.param(params(response_mode="bogus"), INVALID_REQUEST, id="response_mode-unknown"),
    ],
)
def test_non_redirect_errors(request_params: dict[str, str], description: str) -> None:
    error = fails(request_params)
    assert error.error == "invalid_request"
    assert_not_redirected(error, description)


def test_non_redirect_errors_come_before_every_other_check() -> None:
    # Everything else is wrong too, but an unregistered redirect URI must never be redirected to.
    request = {"client_id": "client-1", "redirect_uri": "https://evil.example.com/", "request_uri": "x"}
    assert_not_redirected(fails(request), INVALID_REQUEST)
    inactive = FakeClient(is_active=False, jar_required=True)
    assert_not_redirected(fails(params(response_mode="bogus"), inactive), INVALID_REQUEST)


# -- redirected errors, in the order of reference §10 item 2 -----------------------------------------------------


def test_errors_are_reported_in_the_reference_order() -> None:
    """client → redirect URI → response_mode → state → request_uri → response_type → scope → claims → nonce →
    PKCE → vtr → max_age → channel. Fixing each error in turn reveals the next one."""
    request: dict[str, str] = {
        "client_id": "client-1",
        "redirect_uri": REDIRECT,
        "request_uri": "https://rp.example.gov.uk/request.jwt",
        "scope": "email",
        "claims": "{not json",
        "code_challenge": "",
        "vtr": '["Cl.P2"]',
        "max_age": "-1",
        "channel": "carrier-pigeon",
    }
    steps: list[tuple[dict[str, str | None], str, str | None]] = [
        ({"state": "state-1"}, "invalid_request", "Request is missing state parameter"),
        ({"request_uri": None}, "request_uri_not_supported", None),
        ({"response_type": "code"}, "invalid_request", None),  # missing response_type
        ({"scope": "openid email"}, "invalid_request", None),  # scope without openid
        ({"claims": json.dumps({"userinfo": {CORE_IDENTITY: None}})}, "invalid_request", None),  # bad claims
        ({"nonce": "nonce-1"}, "invalid_request", "Request is missing nonce parameter"),
        (
            {"code_challenge": CHALLENGE, "code_challenge_method": "S256"},
            "invalid_request",
            "Invalid value for code_challenge parameter.",
        ),
        ({"vtr": '["Cl.Cm.P2"]'}, "invalid_request", "Request vtr not valid"),
        ({"max_age": "0"}, "invalid_request", "Max age is negative in query params"),
        ({"channel": "generic_app"}, "invalid_request", "Invalid value for channel parameter."),
    ]
    for fix, code, description in steps:
        error = fails(request)
        expected_state = None if "state" in fix else "state-1"
        assert_redirected(error, code, description, state=expected_state)
        for name, value in fix.items():
            if value is None:
                del request[name]
            else:
                request[name] = value
    validated = validate(request)
    assert validated.channel == "generic_app"
    assert validated.claims == (CORE_IDENTITY,)


def test_missing_state_is_reported_without_state() -> None:
    for request in (params(state=None), params(state="")):
        error = fails(request)
        assert_redirected(error, "invalid_request", "Request is missing state parameter", state=None)


@pytest.mark.parametrize(
    ("overrides", "code", "description"),
    [
        pytest.param(
            {"request_uri": "https://rp.example.gov.uk/r"},
            "request_uri_not_supported",
            None,
            id="request_uri",
        ),
        pytest.param({"response_type": None}, "invalid_request", None, id="no-response_type"),
        pytest.param({"response_type": "token"}, "unsupported_response_type", None, id="response_type-token"),
        pytest.param({"response_type": "id_token"}, "unsupported_response_type", None, id="response_type-id_token"),
        pytest.param({"response_type": "code id_token"}, "unsupported_response_type", None, id="response_type-hybrid"),
        pytest.param({"response_type": "bogus"}, "invalid_request", None, id="response_type-unknown"),
        pytest.param({"scope": None}, "invalid_request", None, id="no-scope"),
        pytest.param({"scope": "email phone"}, "invalid_request", None, id="scope-without-openid"),
        pytest.param(
            {"scope": "openid profile"}, "invalid_scope", "Invalid, unknown or malformed scope", id="unknown-scope"
        ),
        pytest.param(
            {"scope": "openid wallet-subject-id"},
            "invalid_scope",
            "Invalid, unknown or malformed scope",
            id="scope-not-registered",
        ),
        pytest.param({"claims": "{"}, "invalid_request", None, id="claims-bad-json"),
        pytest.param({"claims": "[]"}, "invalid_request", None, id="claims-not-object"),
        pytest.param(
            {"claims": json.dumps({"userinfo": {"https://vocab.account.gov.uk/v1/unknown": None}})},
            "invalid_request",
            "Request contains invalid claims",
            id="unknown-claim",
        ),
        pytest.param(
            {"claims": json.dumps({"userinfo": {PASSPORT: None}})},
            "invalid_request",
            "Request contains invalid claims",
            id="claim-not-registered",
        ),
        pytest.param(
            {"claims": json.dumps({"userinfo": {"email": None}})},
            "invalid_request",
            "Request contains invalid claims",
            id="non-vocab-claim",
        ),
        pytest.param({"prompt": "bogus"}, "invalid_request", None, id="unknown-prompt"),
        pytest.param({"prompt": "none login"}, "invalid_request", None, id="prompt-none-with-another"),
        pytest.param({"nonce": None}, "invalid_request", "Request is missing nonce parameter", id="no-nonce"),
        pytest.param({"nonce": ""}, "invalid_request", "Request is missing nonce parameter", id="empty-nonce"),
        pytest.param(
            {"code_challenge": ""},
            "invalid_request",
            "Invalid value for code_challenge parameter.",
            id="pkce-blank-challenge",
        ),
        pytest.param(
            {"code_challenge": "   ", "code_challenge_method": "S256"},
            "invalid_request",
            "Invalid value for code_challenge parameter.",
            id="pkce-whitespace-challenge",
        ),
        pytest.param(
            {"code_challenge": CHALLENGE}, "invalid_request", MISSING_METHOD, id="pkce-challenge-without-method"
        ),
        pytest.param(
            {"code_challenge": CHALLENGE, "code_challenge_method": "plain"},
            "invalid_request",
            "Invalid value for code_challenge_method parameter.",
            id="pkce-plain",
        ),
        pytest.param(
            {"code_challenge": CHALLENGE, "code_challenge_method": "s256"},
            "invalid_request",
            "Invalid value for code_challenge_method parameter.",
            id="pkce-lowercase-method",
        ),
        pytest.param({"vtr": "[]]"}, "invalid_request", "Request vtr not valid", id="vtr-bad-json"),
        pytest.param({"vtr": '["Ch"]'}, "invalid_request", "Request vtr not valid", id="vtr-Ch"),
        pytest.param({"vtr": '["Cl.P2"]'}, "invalid_request", "Request vtr not valid", id="vtr-Cl.P2"),
        pytest.param({"vtr": '["Cl.Cm.P2","Cl.Cm"]'}, "invalid_request", "Request vtr not valid", id="vtr-mixed"),
        pytest.param(
            {"vtr": '["Cl.Cm.P1"]'}, "invalid_request", "Request vtr is not permitted", id="vtr-LoC-not-allowed"
        ),
        pytest.param(
            {"max_age": "-1"}, "invalid_request", "Max age is negative in query params", id="max_age-negative"
        ),
        pytest.param({"max_age": "ten"}, "invalid_request", None, id="max_age-not-integer"),
        pytest.param({"max_age": "1.5"}, "invalid_request", None, id="max_age-fraction"),
        pytest.param(
            {"channel": "sms"}, "invalid_request", "Invalid value for channel parameter.", id="channel-unknown"
        ),
        pytest.param(
            {"login_hint": "a" * 245 + "@example.com"},
            "invalid_request",
            "login_hint parameter is invalid",
            id="login_hint-257",
        ),
        pytest.param(
            {"prompt": "select_account"}, "unmet_authentication_requirements", None, id="prompt-select_account"
        ),
    ],
)
def test_redirected_errors(overrides: dict[str, str | None], code: str, description: str | None) -> None:
    assert_redirected(fails(params(**overrides)), code, description)


def test_redirected_errors_keep_response_mode_fragment() -> None:
    error = fails(params(response_mode="fragment", nonce=None))
    assert_redirected(error, "invalid_request", "Request is missing nonce parameter")
    assert error.response_mode == "fragment"
    assert validate(params(response_mode="fragment")).response_mode == "fragment"
    assert validate(params(response_mode="query")).response_mode == "query"
    assert validate(params()).response_mode == "query"


def test_pkce_enforced() -> None:
    client = FakeClient(pkce_enforced=True)
    assert_redirected(fails(params(), client), "invalid_request", PKCE_ENFORCED)
    validated = validate(params(code_challenge=CHALLENGE, code_challenge_method="S256"), client)
    assert validated.code_challenge == CHALLENGE


def test_pkce_is_optional_unless_enforced() -> None:
    assert validate(params()).code_challenge is None
    assert validate(params(code_challenge=CHALLENGE, code_challenge_method="S256")).code_challenge == CHALLENGE


def test_inactive_client() -> None:
    assert_redirected(fails(params(), FakeClient(is_active=False)), "unauthorized_client", "client deactivated")


def test_jar_required_without_request_object() -> None:
    error = fails(params(), FakeClient(jar_required=True))
    assert_redirected(error, "access_denied", "JAR required for client but request does not contain Request Object")


def test_identity_unavailable() -> None:
    error = fails(params(vtr='["Cl.Cm.P2"]'), identity_available=False)
    assert_redirected(error, "temporarily_unavailable")
    # Authentication-only requests are unaffected.
    assert validate(params(vtr='["Cl.Cm.P0"]'), identity_available=False).vtr.requested == Vector("Cl.Cm", "P0")


@pytest.mark.parametrize(
    ("client", "vtr"),
    [
        (FakeClient(identity_verification_supported=False), '["Cl.Cm.P2"]'),
        (FakeClient(token_auth_method="client_secret_post"), '["Cl.Cm.P2"]'),
        (FakeClient(client_locs=["P0"]), '["Cl.Cm.P2"]'),
    ],
    ids=["identity-not-enabled", "client_secret_post", "LoC-not-registered"],
)
def test_vtr_not_permitted_for_client(client: FakeClient, vtr: str) -> None:
    assert_redirected(fails(params(vtr=vtr), client), "invalid_request", "Request vtr is not permitted")


# -- successful requests -----------------------------------------------------------------------------------------


def test_minimal_valid_request() -> None:
    validated = validate(params(scope="openid"))
    assert validated == AuthorizationRequest(
        client_id="client-1",
        redirect_uri=REDIRECT,
        state="state-1",
        nonce="nonce-1",
        scopes=("openid",),
        claims=(),
        vtr=validated.vtr,
        response_mode="query",
    )
    assert validated.vtr.vectors == (Vector("Cl.Cm"),)
    assert validated.channel == "web"


def test_valid_request_with_everything() -> None:
    validated = validate(
        params(
            scope="openid email phone email",
            claims=json.dumps({"userinfo": {CORE_IDENTITY: None, ADDRESS: {"essential": True}}}),
            vtr='["Cl.Cm.P2"]',
            prompt="login",
            max_age="300",
            code_challenge=CHALLENGE,
            code_challenge_method="S256",
            ui_locales="cy en-GB fr",
            login_hint="a" * 244 + "@example.com",
            channel="generic_app",
            id_token_hint="hint",
            rp_sid="rp-session",
            unknown_parameter="ignored",
        ),
        FakeClient(max_age_enabled=True),
    )
    assert validated.scopes == ("openid", "email", "phone")
    assert validated.claims == (CORE_IDENTITY, ADDRESS)
    assert validated.vtr.requested == Vector("Cl.Cm", "P2")
    assert validated.prompt == frozenset({"login"})
    assert validated.max_age == 300
    assert validated.code_challenge == CHALLENGE
    assert validated.ui_locales == ("cy", "en-GB")
    assert validated.login_hint is not None and len(validated.login_hint) == 256
    assert validated.channel == "generic_app"
    assert validated.id_token_hint == "hint"
    assert validated.rp_sid == "rp-session"


@pytest.mark.parametrize(("max_age_enabled", "expected"), [(True, 0), (False, None)])
def test_max_age_only_kept_for_clients_that_have_it(max_age_enabled: bool, expected: int | None) -> None:
    assert validate(params(max_age="0"), FakeClient(max_age_enabled=max_age_enabled)).max_age == expected


def test_missing_nonce_permitted_for_client() -> None:
    assert validate(params(nonce=None), FakeClient(permit_missing_nonce=True)).nonce is None


@pytest.mark.parametrize(
    ("vtr", "kept"),
    [(None, False), ('["Cl.Cm"]', False), ('["Cl.Cm.P0"]', False), ('["Cl.Cm.P2"]', True)],
)
def test_claims_only_kept_when_an_identity_level_is_requested(vtr: str | None, kept: bool) -> None:
    validated = validate(params(vtr=vtr, claims=json.dumps({"userinfo": {CORE_IDENTITY: None}})))
    assert validated.claims == ((CORE_IDENTITY,) if kept else ())


@pytest.mark.parametrize("prompt", ["none", "login", "consent", "create", "login consent"])
def test_valid_prompts(prompt: str) -> None:
    assert validate(params(prompt=prompt)).prompt == frozenset(prompt.split())


def test_to_dict_round_trips() -> None:
    validated = validate(
        params(vtr='["Cl.Cm.P2"]', claims=json.dumps({"userinfo": {CORE_IDENTITY: None}}), prompt="login")
    )
    assert AuthorizationRequest.from_dict(json.loads(json.dumps(validated.to_dict()))) == replace(
        validated, id_token_hint=None
    )


# -- request objects (reference §2.2) ----------------------------------------------------------------------------


def object_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": "client-1",
        "aud": AUTHORIZE,
        "client_id": "client-1",
        "response_type": "code",
        "scope": "openid email",
        "redirect_uri": REDIRECT,
        "state": "state-1",
        "nonce": "nonce-1",
        "exp": int(NOW) + 300,
        "iat": int(NOW),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def jar_params(claims: dict[str, Any], key: rsa.RSAPrivateKey = RP_KEY, **top_level: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "response_type": "code",
        "scope": "openid email",
        "client_id": "client-1",
        "request": jwt.encode(claims, key, algorithm="RS256"),
    }
    values.update(top_level)
    return {k: v for k, v in values.items() if v is not None}


def unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}."


def test_valid_request_object() -> None:
    validated = validate(
        jar_params(
            object_claims(
                vtr=["Cl.Cm.P2"],
                claims={"userinfo": {CORE_IDENTITY: None}},
                max_age=60,
                code_challenge=CHALLENGE,
                code_challenge_method="S256",
                response_mode="fragment",
                login_hint="someone@example.com",
                prompt="login",
                id_token_hint="hint",
            )
        ),
        FakeClient(jar_required=True, max_age_enabled=True),
    )
    assert validated.redirect_uri == REDIRECT
    assert validated.state == "state-1"
    assert validated.vtr.requested == Vector("Cl.Cm", "P2")
    assert validated.claims == (CORE_IDENTITY,)
    assert validated.max_age == 60
    assert validated.code_challenge == CHALLENGE
    assert validated.response_mode == "fragment"
    assert validated.login_hint == "someone@example.com"
    assert validated.id_token_hint == "hint"


@pytest.mark.parametrize("vtr", [["Cl.Cm.P2"], '["Cl.Cm.P2"]'], ids=["list", "string-holding-a-json-array"])
def test_request_object_vtr_forms(vtr: Any) -> None:
    assert validate(jar_params(object_claims(vtr=vtr))).vtr.requested == Vector("Cl.Cm", "P2")


def test_request_object_parameters_replace_top_level_ones() -> None:
    validated = validate(jar_params(object_claims(state="from-object"), state="from-query", nonce="query-nonce"))
    assert (validated.state, validated.nonce) == ("from-object", "nonce-1")


@pytest.mark.parametrize(
    ("claims", "code", "description"),
    [
        pytest.param(object_claims(aud="https://elsewhere.example/authorize"), "access_denied", None, id="wrong-aud"),
        pytest.param(object_claims(aud=None), "access_denied", None, id="no-aud"),
        pytest.param(object_claims(iss="someone-else"), "unauthorized_client", None, id="wrong-iss"),
        pytest.param(object_claims(iss=None), "unauthorized_client", None, id="no-iss"),
        pytest.param(object_claims(client_id=None), "unauthorized_client", None, id="no-client_id"),
        pytest.param(object_claims(client_id="client-2"), "unauthorized_client", None, id="other-client_id"),
        pytest.param(object_claims(request="x.y.z"), "invalid_request", None, id="request-inside"),
        pytest.param(object_claims(request_uri="https://x"), "invalid_request", None, id="request_uri-inside"),
        pytest.param(
            object_claims(response_type="token"),
            "unsupported_response_type",
            "Unsupported response type",
            id="response_type-mismatch",
        ),
        pytest.param(object_claims(scope="openid phone"), "invalid_request", None, id="scope-mismatch"),
        pytest.param(object_claims(nonce=None), "invalid_request", "Request is missing nonce parameter", id="nonce"),
        pytest.param(object_claims(vtr=["Cl.P2"]), "invalid_request", "Request vtr not valid", id="vtr"),
        pytest.param(object_claims(max_age=-1), "invalid_request", "Max age is negative in request object", id="neg"),
        pytest.param(object_claims(max_age="-5"), "invalid_request", None, id="max_age-negative-string"),
        pytest.param(object_claims(max_age=1.5), "invalid_request", None, id="max_age-fraction"),
        pytest.param(object_claims(max_age="soon"), "invalid_request", None, id="max_age-not-integer"),
        pytest.param(object_claims(login_hint="x" * 257), "invalid_request", None, id="login_hint-too-long"),
        pytest.param(object_claims(channel="tv"), "invalid_request", None, id="channel"),
        pytest.param(
            object_claims(prompt="select_account"), "unmet_authentication_requirements", None, id="select_account"
        ),
    ],
)
def test_request_object_claim_errors(claims: dict[str, Any], code: str, description: str | None) -> None:
    assert_redirected(fails(jar_params(claims)), code, description)


def test_request_object_without_state_is_reported_without_state() -> None:
    error = fails(jar_params(object_claims(state=None, aud="https://elsewhere/"), state="top-level-state"))
    assert_redirected(error, "invalid_request", "Request is missing state parameter", state=None)


def test_unsupported_response_type_in_request_object() -> None:
    error = fails(jar_params(object_claims(response_type="token"), response_type="token"))
    assert_redirected(error, "unsupported_response_type")


def test_top_level_response_type_differs_from_request_object() -> None:
    error = fails(jar_params(object_claims(), response_type="token"))
    assert error.redirectable
    assert error.error in ("invalid_request", "unsupported_response_type")


@pytest.mark.parametrize("scope", ["openid profile", "openid wallet-subject-id"], ids=["unknown", "unregistered"])
def test_bad_scope_in_request_object(scope: str) -> None:
    assert_redirected(fails(jar_params(object_claims(scope=scope), scope=scope)), "invalid_scope")


def test_request_uri_beside_a_request_object() -> None:
    error = fails(jar_params(object_claims(), request_uri="https://rp.example.gov.uk/r"))
    assert_redirected(error, "invalid_request")


@pytest.mark.parametrize(
    ("claims", "redirect_uri"),
    [
        (object_claims(redirect_uri="https://evil.example.com/"), REDIRECT),
        (object_claims(redirect_uri=None), REDIRECT),
        (object_claims(response_mode="form_post"), None),
    ],
    ids=["unregistered-redirect_uri", "no-redirect_uri-in-object", "bad-response_mode"],
)
def test_request_object_non_redirect_errors(claims: dict[str, Any], redirect_uri: str | None) -> None:
    # The redirect URI that counts is the one in the signed object, not a top-level one.
    error = fails(jar_params(claims, redirect_uri=redirect_uri))
    assert_not_redirected(error, INVALID_REQUEST)


@pytest.mark.parametrize(
    ("exp_offset", "nbf_offset", "expired"),
    [
        (-31, None, True),
        (-3600, None, True),
        (-29, None, False),
        (None, 31, True),
        (None, 29, False),
        (300, -10, False),
    ],
)
def test_request_object_expiry_allows_30_seconds_of_skew(
    exp_offset: int | None, nbf_offset: int | None, expired: bool
) -> None:
    claims = object_claims(
        exp=int(NOW) + exp_offset if exp_offset is not None else None,
        nbf=int(NOW) + nbf_offset if nbf_offset is not None else None,
    )
    if not expired:
        assert validate(jar_params(claims)).state == "state-1"
        return
    error = fails(jar_params(claims))
    assert (error.error, error.description, error.status) == ("invalid_request_object", "Request expired", 400)
    assert not error.redirectable


def test_request_object_signed_by_another_key() -> None:
    error = fails(jar_params(object_claims(), key=OTHER_KEY))
    assert error.error == "invalid_request"
    assert_not_redirected(error, "Validation failed")


def test_request_object_keys_unavailable() -> None:
    def unavailable(client: ClientRegistration, token: str) -> dict[str, Any]:
        raise RequestObjectKeyError("jwks_uri unreachable")

    client = FakeClient()
    with pytest.raises(AuthorizeError) as caught:
        validate_authorization_request(jar_params(object_claims()), lambda _: client, unavailable, AUTHORIZE, True)
    assert (caught.value.error, caught.value.status) == ("server_error", 500)
    assert not caught.value.redirectable


def test_unsigned_request_object_is_refused() -> None:
    request = jar_params(object_claims())
    request["request"] = unsigned(object_claims())
    # Without a usable redirect URI at the top level the error cannot be redirected.
    error = fails(request)
    assert (error.error, error.description, error.status) == (
        "invalid_request_object",
        "Request object JWT must be signed",
        400,
    )
    assert not error.redirectable
    redirected = fails({**request, "redirect_uri": REDIRECT, "state": "state-1"})
    assert_redirected(redirected, "invalid_request_object", "Request object JWT must be signed")


@pytest.mark.parametrize(
    "token",
    ["no-dots-at-all", "only.two", "!!!.e30.sig", base64.urlsafe_b64encode(b"[1]").decode().rstrip("=") + ".e30.s"],
    ids=["no-dot", "two-parts", "bad-header-encoding", "header-not-object"],
)
def test_unparseable_request_object(token: str) -> None:
    error = fails({**jar_params(object_claims()), "request": token})
    assert error.error == "invalid_request_object"
    assert error.status == 400
    assert not error.redirectable


def test_request_object_is_not_required_unless_registered() -> None:
    assert validate(params(), FakeClient(jar_required=False)).state == "state-1"
    assert validate(jar_params(object_claims()), FakeClient(jar_required=True)).state == "state-1"


def test_inactive_client_with_request_object() -> None:
    assert_redirected(fails(jar_params(object_claims()), FakeClient(is_active=False)), "unauthorized_client")


def test_request_object_expiry_uses_the_injected_clock() -> None:
    claims = object_claims(exp=int(time.time()) + 300)
    assert validate(jar_params(claims), now=time.time()).state == "state-1"
    error = fails(jar_params(claims), now=time.time() + 3600)
    assert error.description == "Request expired"


# -- redirect URI safety and PKCE verifiers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "safe"),
    [
        ("https://rp.example.gov.uk/callback", True),
        ("http://localhost:8080/oidc/authorization-code/callback", True),
        ("https://rp.example.gov.uk/cb?service=tax&codes=1", True),
        ("com.example.app:/oauth2redirect", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox(1)", False),
        ("https://rp.example.gov.uk/cb?code=1", False),
        ("https://rp.example.gov.uk/cb?a=1&state=2", False),
        ("https://rp.example.gov.uk/cb?response", False),
        ("https://rp.example.gov.uk/cb#fragment", False),
        ("/relative/callback", False),
        ("", False),
        ("http://[::1/cb", False),
    ],
)
def test_redirect_uri_is_safe(uri: str, safe: bool) -> None:
    assert redirect_uri_is_safe(uri) is safe


@pytest.mark.parametrize(
    ("verifier", "ok"),
    [
        ("a" * 43, True),
        ("A-._~z9" * 18 + "xx", True),
        ("a" * 128, True),
        ("a" * 42, False),
        ("a" * 129, False),
        ("a" * 42 + "+", False),
        ("a" * 42 + "=", False),
        ("", False),
    ],
)
def test_pkce_verifier_format(verifier: str, ok: bool) -> None:
    assert pkce_verifier_is_well_formed(verifier) is ok
