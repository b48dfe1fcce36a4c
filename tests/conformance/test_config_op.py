"""The Config OP certification plan (`oidcc-config-certification-test-plan`): `oidcc-discovery-endpoint-verification`.

Every field of the discovery document is checked by a validator of its own, and a field without one fails the
test (the suite's "no unexpected fields"). HTTPS is required of every URL when the issuer is HTTPS; a plain
HTTP issuer is accepted only on a loopback host (local development and in-process tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conformance.harness import Provider, check_jwks, origin_of

# RFC 7518 §3.1: the JWS "alg" values.
JWS_ALGS = {
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512",
    "EdDSA", "Ed25519",
}  # fmt: skip
AUTH_METHODS = {
    "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none",
    "tls_client_auth", "self_signed_tls_client_auth",
}  # fmt: skip
GRANT_TYPES = {
    "authorization_code", "implicit", "refresh_token", "client_credentials", "password",
    "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:device_code",
    "urn:openid:params:grant-type:ciba",
}  # fmt: skip
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
# RFC 5646 (BCP 47), the common shapes: language, then script, region; language lower case, region upper case.
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
# The paths of the profile (one-login-profile.md: "Endpoints hang off it").
PROFILE_PATHS = {
    "authorization_endpoint": "authorize",
    "token_endpoint": "token",
    "userinfo_endpoint": "userinfo",
    "end_session_endpoint": "logout",
    "jwks_uri": ".well-known/jwks.json",
    "trustmarks": "trustmark",
}
BOOLEANS = (
    "request_parameter_supported", "request_uri_parameter_supported", "require_request_uri_registration",
    "claims_parameter_supported", "backchannel_logout_supported", "backchannel_logout_session_supported",
    "frontchannel_logout_supported", "frontchannel_logout_session_supported",
)  # fmt: skip
REQUIRED = {
    # OIDC Discovery §3: REQUIRED, and RECOMMENDED ones the Basic plan relies on.
    "issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
    "subject_types_supported", "id_token_signing_alg_values_supported", "userinfo_endpoint", "scopes_supported",
    "claims_supported",
}  # fmt: skip


def _strings(value: Any, allowed: set[str] | None = None) -> list[str]:
    assert isinstance(value, list) and value, f"a non-empty JSON array: {value!r}"
    assert all(isinstance(item, str) and item for item in value), value
    assert len(set(value)) == len(value), f"duplicates: {value}"
    if allowed is not None:
        assert set(value) <= allowed, f"unknown values: {set(value) - allowed}"
    return list(value)


def _boolean(value: Any) -> None:
    assert isinstance(value, bool), f"a JSON boolean: {value!r}"


def _url(value: Any, issuer: str) -> str:
    assert isinstance(value, str), value
    parts = urlsplit(value)
    assert parts.scheme in ("https", "http") and parts.hostname, f"an absolute URL: {value}"
    assert not parts.fragment, f"no fragment: {value}"
    if issuer.startswith("https://"):
        assert parts.scheme == "https", f"the issuer is HTTPS, so must this be: {value}"
    return value


def _algs(value: Any) -> list[str]:
    algs = _strings(value, JWS_ALGS | {"none"})
    # OIDC Discovery §3: "The value none MUST NOT be used" (token endpoint); we never sign or accept `none`.
    assert "none" not in algs, algs
    return algs


def _scopes(value: Any) -> None:
    scopes = _strings(value)
    assert "openid" in scopes, "OIDC Discovery §3: scopes_supported MUST contain openid"
    assert all(SCOPE_TOKEN.match(scope) for scope in scopes), scopes


def _response_types(value: Any) -> None:
    types = _strings(value)
    assert "code" in types, "the Basic profile needs response_type=code"
    for response_type in types:
        assert set(response_type.split()) <= {"code", "id_token", "token", "none"}, response_type


def _response_modes(value: Any) -> None:
    assert "query" in _strings(value, {"query", "fragment", "form_post"})


def _pkce_methods(value: Any) -> None:
    methods = _strings(value, {"S256", "plain"})
    assert methods == ["S256"], "RFC 9700 §2.1.1: S256 only, plain is not offered"


def _auth_methods(value: Any) -> None:
    methods = _strings(value, AUTH_METHODS)
    assert "none" not in methods, "no public clients"


def _auth_algs(value: Any) -> None:
    algs = _algs(value)
    # Only asymmetric algorithms: private_key_jwt is the only JWT method offered.
    assert not [alg for alg in algs if alg.startswith("HS")], algs


def _locales(value: Any) -> None:
    assert all(LANGUAGE_TAG.match(tag) for tag in _strings(value)), value


def _id_token_algs(value: Any) -> None:
    # OIDC Discovery §3: "The algorithm RS256 MUST be included."
    assert "RS256" in _algs(value), value


def _one_of(allowed: set[str]) -> Callable[[Any], object]:
    return lambda value: _strings(value, allowed)


def _validators(op: Provider) -> dict[str, Callable[[Any], object]]:
    """A validator for every field we know of (OIDC Discovery §3, RFC 8414 §2, RFC 7636 §6.2, Back-Channel
    Logout §2.1, RP-Initiated Logout §2.1, and One Login's `trustmarks`)."""
    issuer = op.issuer
    metadata = op.metadata

    def url(value: Any) -> object:
        return _url(value, issuer)

    def endpoint(name: str) -> Callable[[Any], object]:
        def check(value: Any) -> None:
            _url(value, issuer)
            assert value == issuer + PROFILE_PATHS[name], f"{name} should be {issuer + PROFILE_PATHS[name]}"

        return check

    def check_issuer(value: Any) -> None:
        _url(value, issuer)
        parts = urlsplit(value)
        # OIDC Discovery §3: "a case sensitive URL using the https scheme … and no query or fragment components".
        assert not parts.query and not parts.fragment, value
        assert value == issuer and value.endswith("/"), "the profile's issuer ends with a slash"
        # §4.3: the issuer is exactly the URL the document was fetched from, minus the well-known suffix.
        assert op.discovery_url == value.rstrip("/") + "/.well-known/openid-configuration"

    def check_grant_types(value: Any) -> None:
        grants = _strings(value, GRANT_TYPES)
        assert "authorization_code" in grants
        implicit = any(t != "code" for t in metadata["response_types_supported"])
        assert ("implicit" in grants) == implicit, "implicit is advertised exactly when implicit responses are"

    def check_claims(value: Any) -> None:
        claims = _strings(value)
        assert "sub" in claims
        by_scope = {"email": {"email", "email_verified"}, "phone": {"phone_number", "phone_number_verified"}}
        for scope in metadata["scopes_supported"]:
            assert by_scope.get(scope, set()) <= set(claims), f"claims of the {scope} scope"

    def check_request_object_algs(value: Any) -> None:
        _algs(value)
        assert metadata.get("request_parameter_supported") is True, "algs advertised for request objects"

    def check_documentation(value: Any) -> None:
        assert _url(value, issuer).startswith("https://"), value

    return {
        "issuer": check_issuer,
        **{name: endpoint(name) for name in PROFILE_PATHS},
        "registration_endpoint": url,
        "scopes_supported": _scopes,
        "response_types_supported": _response_types,
        "response_modes_supported": _response_modes,
        "grant_types_supported": check_grant_types,
        "code_challenge_methods_supported": _pkce_methods,
        "token_endpoint_auth_methods_supported": _auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": _auth_algs,
        "ui_locales_supported": _locales,
        "claims_locales_supported": _locales,
        "service_documentation": check_documentation,
        "op_policy_uri": url,
        "op_tos_uri": url,
        **dict.fromkeys(BOOLEANS, _boolean),
        "request_object_signing_alg_values_supported": check_request_object_algs,
        "subject_types_supported": _one_of({"public", "pairwise"}),
        "id_token_signing_alg_values_supported": _id_token_algs,
        "userinfo_signing_alg_values_supported": _algs,
        "claim_types_supported": _one_of({"normal", "aggregated", "distributed"}),
        "claims_supported": check_claims,
        "acr_values_supported": _strings,
        "display_values_supported": _one_of({"page", "popup", "touch", "wap"}),
    }


def test_oidcc_discovery_endpoint_verification(op: Provider) -> None:
    """OIDC Discovery §3 (metadata), §4.2 (response), §4.3 (issuer): a 200 JSON object whose every field is
    known and valid, with the REQUIRED ones present; served with One Login's `Cache-Control: max-age=86400`."""
    response = op.fetch_discovery()
    assert response.status == 200, response.describe()
    assert response.mimetype == "application/json", response.headers
    assert response.headers.get("cache-control") == "max-age=86400", response.headers
    document = response.json()
    assert isinstance(document, dict)

    missing = REQUIRED - set(document)
    assert not missing, f"required metadata missing: {missing}"
    validators = _validators(op)
    unexpected = set(document) - set(validators)
    assert not unexpected, f"fields without a meaning we know of: {unexpected}"
    failures = []
    for name, value in document.items():
        try:
            validators[name](value)
        except AssertionError as error:
            failures.append(f"{name}: {error}")
    assert not failures, "\n".join(failures)


def test_oidcc_discovery_endpoint_verification_https(op: Provider) -> None:
    """The suite's `CheckDiscEndpointAllEndpointsAreHttps` (OIDC Discovery §3, RFC 8414 §2): when the issuer is
    HTTPS every URL in the document is; a plain HTTP issuer is tolerated only on a loopback host."""
    urls = {name: value for name, value in op.metadata.items() if isinstance(value, str) and "://" in value}
    assert {"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"} <= set(urls)
    if op.issuer.startswith("https://"):
        plain = {name: url for name, url in urls.items() if not url.startswith("https://")}
        assert not plain, f"not HTTPS: {plain}"
    else:
        assert urlsplit(op.issuer).hostname in LOOPBACK, f"a plain-HTTP issuer off loopback: {op.issuer}"
        for name in PROFILE_PATHS:
            assert origin_of(urls[name]) == origin_of(op.issuer), name


def test_oidcc_discovery_endpoint_verification_jwks(op: Provider) -> None:
    """The suite's `FetchServerKeys`, `CheckServerKeysIsValid`, `CheckForKeyIdInServerJWKs` (OIDC Core §10.1,
    RFC 7517 §4-5): the jwks_uri serves public signing keys with distinct kids, cached as One Login's (a day),
    and there is a key for every advertised ID token algorithm."""
    response = op.back_channel.request("GET", op.endpoint("jwks_uri"))
    assert response.status == 200, response.describe()
    assert response.mimetype in ("application/json", "application/jwk-set+json"), response.headers
    assert response.headers.get("cache-control") == "max-age=86400", response.headers
    jwks = response.json()
    check_jwks(jwks)
    published = {key.get("alg") for key in jwks["keys"]}
    for alg in op.metadata["id_token_signing_alg_values_supported"]:
        assert alg in published, f"no published key for {alg}"


def test_oidcc_discovery_endpoint_verification_trustmark(op: Provider) -> None:
    """One Login profile (reference §1.3): the `trustmarks` document names this issuer and the credential and
    confidence levels on offer; every ID token's `vtm` points at it."""
    response = op.back_channel.request("GET", op.endpoint("trustmarks"))
    assert response.status == 200, response.describe()
    assert response.mimetype == "application/json"
    document = response.json()
    assert document["idp"] == op.issuer and document["trustmark_provider"] == op.issuer
    assert _strings(document["C"], {"Cl", "Cl.Cm"}) == ["Cl", "Cl.Cm"]
    assert set(_strings(document["P"], {"P0", "P1", "P2", "P3"})) >= {"P0"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("scopes_supported", ["email"]),
        ("id_token_signing_alg_values_supported", ["ES256"]),
        ("token_endpoint_auth_signing_alg_values_supported", ["RS256", "none"]),
        ("code_challenge_methods_supported", ["plain", "S256"]),
        ("ui_locales_supported", ["EN"]),
        ("backchannel_logout_supported", "true"),
        ("subject_types_supported", ["public", "secret"]),
    ],
)
def test_the_validators_reject_bad_metadata(op: Provider, name: str, value: Any) -> None:
    """The field validators above are not vacuous: each refuses a value OIDC Discovery §3 rules out."""
    with pytest.raises(AssertionError):
        _validators(op)[name](value)
