"""Discovery, JWKS and trustmark (reference §1.1–§1.3; spec "Issuers and discovery")."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from tests.integration._support import KID_PATTERN

ISSUER = "http://localhost:8080/"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
IDENTITY_CLAIMS = [
    "https://vocab.account.gov.uk/v1/coreIdentityJWT",
    "https://vocab.account.gov.uk/v1/address",
    "https://vocab.account.gov.uk/v1/passport",
    "https://vocab.account.gov.uk/v1/drivingPermit",
    "https://vocab.account.gov.uk/v1/returnCode",
]


def _values(document: Any) -> list[Any]:
    """Every string value and key in a JSON document, however deep."""
    if isinstance(document, dict):
        return [*document.keys(), *(v for value in document.values() for v in _values(value))]
    if isinstance(document, list):
        return [v for item in document for v in _values(item)]
    return [document]


def test_discovery_document_fields_and_values(app: Flask) -> None:
    response = app.test_client().get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["issuer"] == ISSUER
    assert doc["authorization_endpoint"] == ISSUER + "authorize"
    assert doc["token_endpoint"] == ISSUER + "token"
    assert doc["userinfo_endpoint"] == ISSUER + "userinfo"
    assert doc["end_session_endpoint"] == ISSUER + "logout"
    assert doc["jwks_uri"] == ISSUER + ".well-known/jwks.json"
    assert doc["trustmarks"] == ISSUER + "trustmark"
    assert doc["response_types_supported"] == ["code"]
    assert doc["grant_types_supported"] == ["authorization_code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["scopes_supported"][:3] == ["openid", "email", "phone"]
    assert "offline_access" not in doc["scopes_supported"]
    assert doc["token_endpoint_auth_methods_supported"] == ["private_key_jwt", "client_secret_post"]
    assert set(doc["token_endpoint_auth_signing_alg_values_supported"]) == {
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
    }
    assert doc["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
    assert doc["ui_locales_supported"] == ["en", "cy"]
    assert doc["request_parameter_supported"] is True
    assert doc["request_uri_parameter_supported"] is False
    assert doc["subject_types_supported"] == ["public", "pairwise"]
    assert doc["claim_types_supported"] == ["normal"]
    assert doc["service_documentation"] == "https://docs.sign-in.service.gov.uk/"
    assert {"sub", "email", "email_verified", "phone_number", "phone_number_verified", *IDENTITY_CLAIMS} <= set(
        doc["claims_supported"]
    )
    assert doc["backchannel_logout_supported"] is True
    assert doc["backchannel_logout_session_supported"] is False
    # Reference §1.1: vectors of trust are published at the trustmark, never in discovery.
    assert "acr_values_supported" not in doc
    assert "vtr_values_supported" not in doc


def test_discovery_never_offers_the_none_algorithm(app: Flask) -> None:
    doc = app.test_client().get("/.well-known/openid-configuration").get_json()
    values = [str(v).lower() for v in _values(doc) if isinstance(v, str)]
    assert "none" not in values
    for name, value in doc.items():
        if name.endswith("alg_values_supported"):
            assert value, name
            assert all(alg.lower() != "none" for alg in value), name


def test_discovery_is_cacheable_for_a_day(app: Flask) -> None:
    response = app.test_client().get("/.well-known/openid-configuration")
    assert response.headers["Cache-Control"] == "max-age=86400"


def test_discovery_endpoints_exist(app: Flask) -> None:
    """Every endpoint the document names is served by this provider (none 404s)."""
    client = app.test_client()
    doc = client.get("/.well-known/openid-configuration").get_json()
    for name in ("jwks_uri", "trustmarks"):
        assert client.get(doc[name].removeprefix(ISSUER[:-1])).status_code == 200, name
    assert client.post(doc["token_endpoint"].removeprefix(ISSUER[:-1])).status_code == 400
    assert client.get(doc["userinfo_endpoint"].removeprefix(ISSUER[:-1])).status_code == 401
    assert client.get(doc["authorization_endpoint"].removeprefix(ISSUER[:-1])).status_code == 400
    assert client.get(doc["end_session_endpoint"].removeprefix(ISSUER[:-1])).status_code == 302


def test_jwks_has_an_es256_and_an_rs256_signing_key(app: Flask) -> None:
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "max-age=86400"
    keys = response.get_json()["keys"]
    ec_keys = [k for k in keys if k["kty"] == "EC"]
    rsa_keys = [k for k in keys if k["kty"] == "RSA"]
    assert ec_keys and rsa_keys
    for key in ec_keys:
        assert key["crv"] == "P-256"
        assert key["alg"] == "ES256"
        assert {"x", "y"} <= set(key)
    for key in rsa_keys:
        assert key["alg"] == "RS256"
        assert {"n", "e"} <= set(key)
    for key in keys:
        assert key["use"] == "sig"
        assert KID_PATTERN.match(key["kid"]), key["kid"]
        assert not PRIVATE_MEMBERS & set(key), sorted(PRIVATE_MEMBERS & set(key))
    kids = [k["kid"] for k in keys]
    assert len(kids) == len(set(kids))


def test_trustmark_document(app: Flask) -> None:
    response = app.test_client().get("/trustmark")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "idp": ISSUER,
        "trustmark_provider": ISSUER,
        "C": ["Cl", "Cl.Cm"],
        "P": ["P0", "P1", "P2", "P3"],
    }
    assert json.loads(response.get_data()) == response.get_json()
    assert list(response.get_json()) == ["idp", "trustmark_provider", "C", "P"]
