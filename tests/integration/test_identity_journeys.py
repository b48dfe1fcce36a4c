"""The proving journeys end to end through the protocol: /authorize → sign in → prove → /token → /userinfo →
the core identity JWT checked exactly as a relying party does (the sample service's code, via the DID document)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import IdentityCredential, ProvingRecord
from idp.proving import service as proving
from tests.helpers import Browser, RelyingPartyUnderTest, redirect_params
from tests.integration._identity_support import (
    ADDRESS,
    CORE_IDENTITY_JWT,
    DRIVING_PERMIT,
    KENNETH_ADDRESS,
    KENNETH_LICENCE,
    KENNETH_PASSPORT,
    PASSPORT,
    RETURN_CODE,
    Answer,
    address_answers,
    choose_route,
    complete_check,
    identity_request,
    identity_service,
    post_page,
    security_answers,
    start_identity_request,
    tokens_and_userinfo,
    wrong_security_answers,
)
from tests.integration._support import QuickCitizen, quick_citizen

DAY = 86400


def stored_count(app: Flask, user_id: str) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).where(IdentityCredential.user_id == user_id)) or 0)


def prove_with_passport(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen, vtr: str = '["Cl.Cm.P2"]'
) -> str:
    """The web passport route for Kenneth Decerqueira; returns where the provider sends the browser at the end."""
    response = start_identity_request(browser, rp, citizen, vtr=vtr)
    assert response.request.path == "/identity/prove-your-identity"
    assert "Prove your identity" in browser.last_html
    response = choose_route(browser, "web-passport")
    assert response.request.path == "/identity/check/passport"
    response = complete_check(browser, response, KENNETH_PASSPORT)
    assert response.request.path == "/identity/check/address"
    response = complete_check(browser, response, KENNETH_ADDRESS)
    assert response.request.path == "/identity/check/fraud"
    response = complete_check(browser, response, {})
    assert response.request.path == "/identity/check/security_questions"
    response = complete_check(browser, response, security_answers(app, browser))
    assert response.status_code == 302, browser.last_html[:2000]
    return str(response.location)


def verified_identity(
    browser: Browser, rp: RelyingPartyUnderTest, location: str, vtr: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    body, userinfo = tokens_and_userinfo(browser.client, rp, location)
    sub = jwt.decode(body["id_token"], options={"verify_signature": False})["sub"]
    request = identity_request(browser.client, vtr)
    proven = request.identity_from(userinfo, rp.client_id, sub)
    assert proven is not None
    # As the documents say, or as the citizen typed it on the route without photo ID.
    assert (proven.given_names.upper(), proven.family_name.upper(), proven.birth_date) == (
        "KENNETH",
        "DECERQUEIRA",
        "1965-07-08",
    )
    claims = jwt.decode(userinfo[CORE_IDENTITY_JWT], options={"verify_signature": False})
    assert claims["sub"] == sub and claims["aud"] == rp.client_id
    return claims, userinfo


def test_web_passport_route(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    citizen = quick_citizen(app)
    location = prove_with_passport(app, browser, rp, citizen)
    claims, userinfo = verified_identity(browser, rp, location, ["Cl.Cm.P2"])
    assert claims["vot"] == "P2"
    assert userinfo[PASSPORT] == [{"documentNumber": "321654987", "icaoIssuerCode": "GBR", "expiryDate": "2030-01-01"}]
    assert DRIVING_PERMIT not in userinfo
    assert userinfo[ADDRESS][0]["postalCode"] == "BA2 5AA"
    assert stored_count(app, citizen.user_id) == 4
    with app.app_context():
        record = db.session.scalars(select(ProvingRecord).where(ProvingRecord.user_id == citizen.user_id)).one()
        assert (record.kind, record.level, record.profile) == ("new", "P2", "M1A")


def test_web_driving_licence_route(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app))
    response = choose_route(browser, "web-driving-licence")
    response = complete_check(browser, response, KENNETH_LICENCE)
    response = complete_check(browser, response, KENNETH_ADDRESS)
    response = complete_check(browser, response, {})
    response = complete_check(browser, response, security_answers(app, browser))
    claims, userinfo = verified_identity(browser, rp, response.location, ["Cl.Cm.P2"])
    assert claims["vot"] == "P2"
    assert userinfo[DRIVING_PERMIT][0]["personalNumber"] == "DECER607085K99AE"
    assert set(userinfo[DRIVING_PERMIT][0]) <= {"expiryDate", "issueNumber", "issuedBy", "personalNumber"}
    assert PASSPORT not in userinfo


def test_document_app_route_says_it_is_a_simulation(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app), vtr='["Cl.Cm.P3"]')
    response = choose_route(browser, "app")
    assert response.request.path == "/identity/check/document_app"
    assert "This is a simulation" in browser.last_html
    app_answers: dict[str, Answer] = {
        "document": "chipped_passport",
        "document_number": "321654987",
        "outcome": "success",
    }
    response = complete_check(browser, response, app_answers)
    response = complete_check(browser, response, KENNETH_ADDRESS)
    response = complete_check(browser, response, {})
    claims, userinfo = verified_identity(browser, rp, response.location, ["Cl.Cm.P3"])
    assert claims["vot"] == "P3"  # H1A: a chipped passport read by the app, with a face match


def test_no_photo_id_route(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app))
    response = choose_route(browser, "no-photo-id")
    assert response.request.path == "/identity/check/claimed_identity"
    claimed: dict[str, Answer] = {"given_names": "Kenneth", "family_name": "Decerqueira", "birth_date": "1965-07-08"}
    response = complete_check(browser, response, claimed)
    assert response.request.path == "/identity/check/bank_account"
    # Kenneth's bank account at Severn Bank.
    response = complete_check(browser, response, {"sort_code": "09-01-42", "account_number": "58977619"})
    assert response.request.path == "/identity/check/national_insurance", browser.last_html[:3000]
    response = complete_check(browser, response, {"national_insurance_number": "CE 37 18 39 B"})
    response = complete_check(browser, response, KENNETH_ADDRESS)
    response = complete_check(browser, response, {})
    response = complete_check(browser, response, security_answers(app, browser))
    claims, userinfo = verified_identity(browser, rp, response.location, ["Cl.Cm.P2"])
    assert claims["vot"] == "P2"  # M2B: bank account 3/2 and National Insurance number 2/2
    assert PASSPORT not in userinfo and DRIVING_PERMIT not in userinfo


def test_reuse_by_a_second_service_confirms_details_with_no_new_checks(app: Flask, browser: Browser) -> None:
    first, second = identity_service(app), identity_service(app, sector_identifier_uri="https://pensions.example")
    citizen = quick_citizen(app)
    first_claims, _ = verified_identity(browser, first, prove_with_passport(app, browser, first, citizen), ["Cl.Cm.P2"])
    kept = stored_count(app, citizen.user_id)

    response = start_identity_request(browser, second, citizen, vtr='["Cl.Cm.P1"]')
    assert response.request.path == "/identity/confirm-your-details"
    assert "KENNETH DECERQUEIRA" in browser.last_html and "1965-07-08" in browser.last_html
    assert "BA2 5AA" in browser.last_html
    response = post_page(browser, "/identity/confirm-your-details", [("answer", "correct")])
    second_claims, _ = verified_identity(browser, second, browser.follow(response).location, ["Cl.Cm.P1"])
    assert second_claims["vot"] == "P1"  # the level this service asked for
    assert second_claims["aud"] == second.client_id != first_claims["aud"]
    assert second_claims["sub"] != first_claims["sub"]
    assert stored_count(app, citizen.user_id) == kept
    with app.app_context():
        kinds = db.session.scalars(select(ProvingRecord.kind).where(ProvingRecord.user_id == citizen.user_id)).all()
    assert sorted(kinds) == ["new", "reuse"]


def test_a_stale_fraud_check_means_a_fresh_fraud_check_only(
    app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    rp = identity_service(app)
    citizen = quick_citizen(app)
    now = proving.clock()
    # Proved 181 days ago: the credentials carry that `nbf`.
    monkeypatch.setattr(proving, "clock", lambda: now - 181 * DAY)
    prove_with_passport(app, browser, rp, citizen)
    monkeypatch.setattr(proving, "clock", lambda: now)

    response = start_identity_request(browser, rp, citizen)
    assert response.request.path == "/identity/confirm-your-details"
    response = browser.follow(post_page(browser, "/identity/confirm-your-details", [("answer", "correct")]))
    assert response.request.path == "/identity/check/fraud"  # not the passport, not the address
    response = complete_check(browser, response, {})
    assert response.status_code == 302 and response.location.startswith(rp.redirect_uri)
    with app.app_context():
        records = db.session.scalars(select(ProvingRecord).where(ProvingRecord.user_id == citizen.user_id)).all()
    assert sorted(r.kind for r in records) == ["fraud-refresh", "new"]
    assert all(r.level == "P2" for r in records)


def test_a_change_of_address_means_an_address_and_fraud_check(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    citizen = quick_citizen(app)
    prove_with_passport(app, browser, rp, citizen)
    start_identity_request(browser, rp, citizen)
    response = browser.follow(post_page(browser, "/identity/confirm-your-details", [("answer", "address")]))
    assert response.request.path == "/identity/check/address"
    # Kenneth's previous address in the registers, as if he had told us of a move.
    response = complete_check(browser, response, address_answers("BA2 5AA", "73 HADLEY ROAD", "2025"))
    assert response.request.path == "/identity/check/fraud", browser.last_html[:2000]
    response = complete_check(browser, response, {})
    _claims, userinfo = verified_identity(browser, rp, response.location, ["Cl.Cm.P2"])
    assert userinfo[ADDRESS][0]["buildingNumber"] == "73"


def test_a_changed_date_of_birth_means_proving_again(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    citizen = quick_citizen(app)
    prove_with_passport(app, browser, rp, citizen)
    start_identity_request(browser, rp, citizen)
    response = browser.follow(post_page(browser, "/identity/confirm-your-details", [("answer", "identity")]))
    assert response.request.path == "/identity/prove-your-identity"
    response = choose_route(browser, "web-passport")
    assert response.request.path == "/identity/check/passport"


def test_failed_security_questions_route_to_the_document_app(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app))
    response = choose_route(browser, "web-passport")
    response = complete_check(browser, response, KENNETH_PASSPORT)
    response = complete_check(browser, response, KENNETH_ADDRESS)
    response = complete_check(browser, response, {})
    response = complete_check(browser, response, wrong_security_answers(app, browser))
    assert response.status_code == 200
    assert "GOV.UK ID Check app" in browser.last_html  # V03's mitigation
    response = browser.get("/identity/check/document_app")
    assert response.request.path == "/identity/check/document_app"


def test_a_passport_with_no_record_offers_another_document(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app))
    response = choose_route(browser, "web-passport")
    response = complete_check(browser, response, {**KENNETH_PASSPORT, "expiry_date": "2031-01-01"})
    assert response.status_code == 200
    assert "different document" in browser.last_html  # D02's mitigation
    assert browser.get("/identity/check/driving_licence").status_code == 200


@pytest.mark.parametrize(
    ("client_return_codes", "expected"),
    [(False, {"error": "access_denied"}), (True, {RETURN_CODE: [{"code": "F"}]})],
)
def test_a_fraud_marker_is_access_denied_or_return_codes(
    app: Flask, browser: Browser, client_return_codes: bool, expected: dict[str, object]
) -> None:
    rp = identity_service(app, return_codes=client_return_codes)
    citizen = quick_citizen(app)
    start_identity_request(browser, rp, citizen)
    response = choose_route(browser, "web-passport")
    moriarty: dict[str, Answer] = {
        "passport_number": "920882973",
        "surname": "MORIARTY",
        "given_names": "JAMES",
        "birth_date": "1971-05-05",
        "expiry_date": "2028-05-19",
    }
    response = complete_check(browser, response, moriarty)
    response = complete_check(browser, response, address_answers("N1 9GU", "41 ELM GROVE", "2024"))
    response = complete_check(browser, response, {})
    assert response.status_code == 302 and response.location.startswith(rp.redirect_uri)
    if client_return_codes:
        _body, userinfo = tokens_and_userinfo(browser.client, rp, response.location)
        assert userinfo[RETURN_CODE] == expected[RETURN_CODE]
        assert CORE_IDENTITY_JWT not in userinfo
    else:
        assert redirect_params(response.location)["error"] == "access_denied"
    assert stored_count(app, citizen.user_id) == 0


# -- bad input ----------------------------------------------------------------------------------------------------


def test_a_malformed_passport_number_is_refused_and_nothing_is_kept(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    citizen = quick_citizen(app)
    start_identity_request(browser, rp, citizen)
    response = choose_route(browser, "web-passport")
    response = complete_check(browser, response, {**KENNETH_PASSPORT, "passport_number": "32165A987"})
    assert response.status_code == 400
    assert "govuk-error-summary" in browser.last_html
    assert "should not include letters or symbols" in browser.last_html
    assert response.request.path == "/identity/check/passport"
    assert stored_count(app, citizen.user_id) == 0


def test_an_impossible_date_is_refused(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app))
    response = choose_route(browser, "web-passport")
    response = complete_check(browser, response, {**KENNETH_PASSPORT, "birth_date": "1965-02-30"})
    assert response.status_code == 400
    assert "govuk-error-message" in browser.last_html


def test_a_postcode_that_does_not_parse_is_refused(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app))
    response = complete_check(browser, choose_route(browser, "web-passport"), KENNETH_PASSPORT)
    response = post_page(
        browser, "/identity/check/address", [("asked", "postcode,uprn,moved_in_year"), ("postcode", "NOT A POSTCODE")]
    )
    assert response.status_code == 400
    assert "govuk-error-summary" in browser.last_html


def test_answers_posted_out_of_order_are_refused(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    citizen = quick_citizen(app)
    start_identity_request(browser, rp, citizen)
    choose_route(browser, "web-passport")
    response = post_page(browser, "/identity/check/fraud", [("asked", "")])
    assert response.status_code == 409
    assert "You cannot answer these questions yet" in browser.last_html
    assert stored_count(app, citizen.user_id) == 0
    assert browser.get("/identity/check/fraud").headers["Location"].endswith("/identity/check/passport")


def test_a_journey_resumed_in_another_browser_is_refused(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    citizen = quick_citizen(app)
    start_identity_request(browser, rp, citizen)
    choose_route(browser, "web-passport")
    other = Browser(app.test_client())
    # Without the first browser's session there is no form token either: refused before any check runs.
    response = other.client.post("/identity/check/passport", data={"passport_number": "321654987"})
    assert response.status_code == 400
    response = other.client.get("/identity/check/passport")
    assert response.status_code == 400
    assert "same browser you started in" in response.get_data(as_text=True)
    assert stored_count(app, citizen.user_id) == 0


def test_an_unknown_contra_indicator_in_test_mode_is_refused(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    citizen = quick_citizen(app)
    start_identity_request(browser, rp, citizen)
    choose_route(browser, "web-passport")
    response = browser.get("/identity/check/passport/test-mode")
    assert response.status_code == 200 and "Test mode" in browser.last_html
    test_answers: dict[str, Answer] = {
        "imitates": "passport",
        "given_names": "KENNETH",
        "family_name": "DECERQUEIRA",
        "birth_date": "1965-07-08",
        "strength": "4",
        "validity": "2",
        "contra_indicators": "X99",
    }
    response = complete_check(browser, response, test_answers)
    assert response.status_code == 400
    assert "X99 is not a contra-indicator we know" in browser.last_html
    assert stored_count(app, citizen.user_id) == 0


def test_the_test_mode_is_off_unless_configured(app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app))
    choose_route(browser, "web-passport")
    with app.app_context():
        services = proving.identity_services()
    monkeypatch.setattr(services.registry, "test_mode", None)
    assert browser.get("/identity/check/passport/test-mode").status_code == 404
    browser.get("/identity/check/passport")
    assert "Test mode" not in browser.last_html


def test_a_stored_credential_with_a_bad_signature_is_not_read(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    citizen = quick_citizen(app)
    prove_with_passport(app, browser, rp, citizen)
    with app.app_context():
        for row in db.session.scalars(select(IdentityCredential).where(IdentityCredential.user_id == citizen.user_id)):
            head, body, signature = row.signed_jwt.split(".")
            row.signed_jwt = f"{head}.{body}.{signature[::-1]}"
        db.session.commit()
    response = start_identity_request(browser, rp, citizen)
    assert response.request.path == "/identity/prove-your-identity"  # not "confirm your details"


def test_the_proving_pages_in_welsh(app: Flask, browser: Browser) -> None:
    rp = identity_service(app)
    start_identity_request(browser, rp, quick_citizen(app))
    browser.get("/identity/prove-your-identity?lang=cy")
    assert "Profi eich hunaniaeth" in browser.last_html
    browser.get("/identity/choose-how?lang=cy")
    assert "Sut ydych chi eisiau profi eich hunaniaeth?" in browser.last_html
    post_page(browser, "/identity/choose-how", [("route", "web-passport")])
    browser.get("/identity/check/passport?lang=cy")
    assert "Diwrnod" in browser.last_html and "Blwyddyn" in browser.last_html
