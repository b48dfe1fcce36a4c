"""The identity half of the protocol (spec one-login-profile.md, "/userinfo"; reference §1.4, §4, §4.1, §4.2),
with the proving journey's outcome handed over directly, so that these tests pin the protocol alone."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from flask import Flask

from idp.identity.outcome import IdentityOutcome
from idp.oidc.journeys import load_journey, record_identity_outcome
from idp.services import current_services
from relying_party_examples.sample_service.core_identity import validate_core_identity_jwt
from relying_party_examples.sample_service.jwks import InvalidTokenError
from tests.helpers import ISSUER, Browser, redirect_params
from tests.integration._identity_support import (
    ADDRESS,
    CORE_IDENTITY_JWT,
    DRIVING_PERMIT,
    PASSPORT,
    RETURN_CODE,
    did_documents,
    identity_request,
    identity_service,
    start_identity_request,
    tokens_and_userinfo,
)
from tests.integration._support import quick_citizen

KENNETH: dict[str, Any] = {
    "name": [
        {"nameParts": [{"value": "KENNETH", "type": "GivenName"}, {"value": "DECERQUEIRA", "type": "FamilyName"}]}
    ],
    "birth_date": [{"value": "1965-07-08"}],
    "address": [
        {
            "buildingNumber": "8",
            "streetName": "HADLEY ROAD",
            "addressLocality": "BATH",
            "postalCode": "BA2 5AA",
            "validFrom": "2000-01-01",
        }
    ],
    "passport": [{"documentNumber": "321654987", "icaoIssuerCode": "GBR", "expiryDate": "2030-01-01"}],
}


def hand_back(app: Flask, browser: Browser, outcome: IdentityOutcome) -> str:
    """What the identity blueprint does when it finishes; returns where /authorize/continue sends the browser."""
    with browser.client.session_transaction() as session:
        journey_id = session["journey_id"]
    with app.test_request_context():
        journey = load_journey(journey_id)
        assert journey is not None
        record_identity_outcome(journey, outcome.to_dict())
    response = browser.get("/authorize/continue")
    assert response.status_code == 302
    return response.location


def test_did_document(app: Flask) -> None:
    response = app.test_client().get("/.well-known/did.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=3600, private"
    document = response.get_json()
    assert document["id"] == "did:web:localhost%3A8080"
    assert document["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"]
    with app.app_context():
        active = current_services().keyring.active_kid("identity")
    methods = {m["id"]: m for m in document["assertionMethod"]}
    method = methods[f"did:web:localhost%3A8080#{active}"]
    assert method["type"] == "JsonWebKey"
    assert method["controller"] == "did:web:localhost%3A8080"
    assert set(method["publicKeyJwk"]) == {"kty", "crv", "x", "y", "alg"}
    assert (method["publicKeyJwk"]["kty"], method["publicKeyJwk"]["crv"], method["publicKeyJwk"]["alg"]) == (
        "EC",
        "P-256",
        "ES256",
    )
    # The OIDC keys sign ID tokens, not identities: they are not in the DID document.
    oidc_kids = {k["kid"] for k in app.test_client().get("/.well-known/jwks.json").get_json()["keys"]}
    assert not {m.split("#")[1] for m in methods} & oidc_kids


def test_an_identity_request_hands_over_to_proving_after_sign_in(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    response = start_identity_request(browser, rp, quick_citizen(app))
    assert response.request.path.startswith("/identity/")


def test_proven_identity_reaches_the_service_as_a_core_identity_jwt(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app))
    location = hand_back(app, browser, IdentityOutcome(vot="P2", **KENNETH))
    body, userinfo = tokens_and_userinfo(browser.client, rp, location)
    id_token = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_token["vot"] == "Cl.Cm"  # reference §3.3: the credential part only

    token = userinfo[CORE_IDENTITY_JWT]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"].startswith("did:web:localhost%3A8080#")
    claims = validate_core_identity_jwt(
        token,
        did_documents=did_documents(browser.client),
        expected_did="did:web:localhost%3A8080",
        identity_issuer=ISSUER,
        client_id=rp.client_id,
        subject=id_token["sub"],
        required_vot="P2",
    )
    assert set(claims) == {"sub", "iss", "aud", "nbf", "iat", "exp", "vot", "vtm", "vc"}
    assert claims["exp"] - claims["iat"] == 1800
    assert claims["vot"] == "P2"
    assert claims["vtm"] == ISSUER + "trustmark"
    assert claims["vc"] == {
        "type": ["VerifiableCredential", "IdentityCheckCredential"],
        "credentialSubject": {"name": KENNETH["name"], "birthDate": KENNETH["birth_date"]},
    }
    assert userinfo[ADDRESS] == KENNETH["address"]
    assert userinfo[PASSPORT] == KENNETH["passport"]
    assert DRIVING_PERMIT not in userinfo  # only the document used
    assert RETURN_CODE not in userinfo  # the client is not registered for return codes

    proven = identity_request(browser.client, ["Cl.Cm.P2"]).identity_from(userinfo, rp.client_id, id_token["sub"])
    assert proven is not None and (proven.given_names, proven.family_name, proven.birth_date) == (
        "KENNETH",
        "DECERQUEIRA",
        "1965-07-08",
    )


def test_the_relying_party_refuses_a_core_identity_jwt_for_someone_else_or_too_low(
    app: Flask, browser: Browser
) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app), vtr='["Cl.Cm.P1"]')
    location = hand_back(app, browser, IdentityOutcome(vot="P1", **KENNETH))
    body, userinfo = tokens_and_userinfo(browser.client, rp, location)
    sub = jwt.decode(body["id_token"], options={"verify_signature": False})["sub"]
    checks: dict[str, Any] = {
        "did_documents": did_documents(browser.client),
        "expected_did": "did:web:localhost%3A8080",
        "identity_issuer": ISSUER,
    }
    token = userinfo[CORE_IDENTITY_JWT]
    with pytest.raises(InvalidTokenError, match="someone else"):
        validate_core_identity_jwt(
            token, client_id=rp.client_id, subject="urn:fdc:gov.uk:2022:other", required_vot="P1", **checks
        )
    with pytest.raises(InvalidTokenError, match="below the level"):
        validate_core_identity_jwt(token, client_id=rp.client_id, subject=sub, required_vot="P2", **checks)
    with pytest.raises(InvalidTokenError):
        validate_core_identity_jwt(token, client_id="another-service", subject=sub, required_vot="P1", **checks)
    with pytest.raises(InvalidTokenError, match="expired"):
        validate_core_identity_jwt(token, client_id=rp.client_id, subject=sub, required_vot="P1", now=2**31, **checks)
    with pytest.raises(InvalidTokenError, match="another controller"):
        validate_core_identity_jwt(
            token,
            client_id=rp.client_id,
            subject=sub,
            required_vot="P1",
            **{**checks, "expected_did": "did:web:identity.account.gov.uk"},
        )


def test_identity_claims_only_when_requested(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app), claims=[CORE_IDENTITY_JWT])
    _body, userinfo = tokens_and_userinfo(
        browser.client, rp, hand_back(app, browser, IdentityOutcome(vot="P2", **KENNETH))
    )
    assert CORE_IDENTITY_JWT in userinfo
    assert ADDRESS not in userinfo and PASSPORT not in userinfo


def test_failed_proving_is_access_denied_without_return_codes(app: Flask, browser: Browser) -> None:
    rp = identity_service(app, return_codes=False)
    start_identity_request(browser, rp, quick_citizen(app))
    location = hand_back(app, browser, IdentityOutcome(vot="P0", return_codes=["D"]))
    assert location.startswith(rp.redirect_uri)
    params = redirect_params(location)
    assert params == {"error": "access_denied", "error_description": "Access denied", "state": rp.last_state}


def test_failed_proving_gives_only_return_codes_to_a_service_registered_for_them(app: Flask, browser: Browser) -> None:
    rp = identity_service(app, return_codes=True)
    start_identity_request(browser, rp, quick_citizen(app))
    location = hand_back(app, browser, IdentityOutcome(vot="P0", return_codes=["D", "V"]))
    body, userinfo = tokens_and_userinfo(browser.client, rp, location)
    assert userinfo[RETURN_CODE] == [{"code": "D"}, {"code": "V"}]
    assert CORE_IDENTITY_JWT not in userinfo and ADDRESS not in userinfo
    assert "claims" not in jwt.decode(body["access_token"], options={"verify_signature": False})


def test_return_codes_need_the_claim_requested(app: Flask, browser: Browser) -> None:
    rp = identity_service(app, return_codes=True)
    start_identity_request(browser, rp, quick_citizen(app), claims=[CORE_IDENTITY_JWT])
    location = hand_back(app, browser, IdentityOutcome(vot="P0", return_codes=["Z"]))
    assert redirect_params(location)["error"] == "access_denied"


def test_return_codes_on_success_for_a_politically_exposed_person(app: Flask, browser: Browser) -> None:
    rp = identity_service(app, return_codes=True)
    start_identity_request(browser, rp, quick_citizen(app))
    location = hand_back(app, browser, IdentityOutcome(vot="P2", return_codes=["P"], **KENNETH))
    _body, userinfo = tokens_and_userinfo(browser.client, rp, location)
    assert userinfo[RETURN_CODE] == [{"code": "P"}]
    assert CORE_IDENTITY_JWT in userinfo
