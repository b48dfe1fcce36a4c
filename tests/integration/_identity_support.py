"""Helpers for the identity tests: an identity-capable service, the journey up to the proving pages, and the
relying party's own check of the core identity JWT (the sample service's code, through the DID document)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from relying_party_examples.sample_service.core_identity import (
    VOCAB,
    DidDocumentCache,
    IdentityRequest,
    cache_max_age,
    did_for_url,
)
from tests.helpers import ISSUER, Browser, Citizen, RelyingPartyUnderTest, redirect_params
from tests.integration._support import complete_sign_in, exchange

CORE_IDENTITY_JWT = VOCAB + "coreIdentityJWT"
ADDRESS = VOCAB + "address"
PASSPORT = VOCAB + "passport"
DRIVING_PERMIT = VOCAB + "drivingPermit"
RETURN_CODE = VOCAB + "returnCode"
ALL_IDENTITY_CLAIMS = [CORE_IDENTITY_JWT, ADDRESS, PASSPORT, DRIVING_PERMIT, RETURN_CODE]
DID_URL = ISSUER + ".well-known/did.json"


def identity_service(app: Flask, return_codes: bool = False, **fields: Any) -> RelyingPartyUnderTest:
    registration: dict[str, Any] = {
        "scopes": ["openid", "email"],
        "claims": list(ALL_IDENTITY_CLAIMS),
        "client_locs": ["P0", "P1", "P2", "P3"],
        "identity_verification_supported": True,
        "return_codes_enabled": return_codes,
    }
    registration.update(fields)
    return RelyingPartyUnderTest.register(app, **registration)


def identity_params(
    rp: RelyingPartyUnderTest, vtr: str = '["Cl.Cm.P2"]', claims: list[str] | None = None
) -> dict[str, str]:
    requested = claims if claims is not None else [CORE_IDENTITY_JWT, ADDRESS, PASSPORT, DRIVING_PERMIT, RETURN_CODE]
    return rp.authorize_params(scope="openid email", vtr=vtr, claims=json.dumps({"userinfo": dict.fromkeys(requested)}))


def start_identity_request(
    browser: Browser, rp: RelyingPartyUnderTest, citizen: Citizen, **kwargs: Any
) -> TestResponse:
    """/authorize with an identity request, through sign-in, to the first page the identity blueprint shows."""
    response = browser.get("/authorize", query_string=identity_params(rp, **kwargs))
    return complete_sign_in(browser, response, citizen)


def tokens_and_userinfo(
    client: FlaskClient, rp: RelyingPartyUnderTest, location: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    params = redirect_params(location)
    assert "code" in params, params
    assert params["state"] == rp.last_state
    body = exchange(client, rp, params["code"]).get_json()
    assert "access_token" in body, body
    userinfo = client.get("/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}).get_json()
    return body, userinfo


def did_documents(client: FlaskClient) -> DidDocumentCache:
    """The relying party's DID document cache, fetching from the provider's fixed URL through the test client."""

    def fetch(url: str) -> tuple[dict[str, Any], float]:
        assert url == DID_URL, "the DID document is fetched only from the configured URL"
        response = client.get("/.well-known/did.json")
        assert response.status_code == 200
        return response.get_json(), cache_max_age(response.headers.get("Cache-Control"))

    return DidDocumentCache(DID_URL, fetch=fetch)


def identity_request(client: FlaskClient, vtr: list[str]) -> IdentityRequest:
    return IdentityRequest(
        claims=list(ALL_IDENTITY_CLAIMS),
        vtr=vtr,
        identity_issuer=ISSUER,
        expected_did=did_for_url(DID_URL),
        did_documents=did_documents(client),
    )
