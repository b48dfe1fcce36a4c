"""Helpers for the identity tests: an identity-capable service, the journey up to the proving pages, and the
relying party's own check of the core identity JWT (the sample service's code, through the DID document)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
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


# -- filling in the proving pages as a citizen would --------------------------------------------------------------

_ASKED = re.compile(r'name="asked" value="([^"]*)"')
_CSRF_VALUE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
_RADIO = re.compile(
    r'<input class="govuk-radios__input" id="[^"]*" name="(?P<name>[^"]+)" type="radio" value="(?P<value>[^"]*)"'
    r"[^>]*>\s*<label[^>]*>\s*(?P<label>.*?)\s*</label>",
    re.S,
)

Answer = str | Callable[[list[tuple[str, str]]], str]

KENNETH_PASSPORT: dict[str, Answer] = {
    "passport_number": "321654987",
    "surname": "DECERQUEIRA",
    "given_names": "KENNETH",
    "birth_date": "1965-07-08",
    "expiry_date": "2030-01-01",
}
KENNETH_LICENCE: dict[str, Answer] = {
    "licence_number": "DECER607085K99AE",
    "surname": "DECERQUEIRA",
    "given_names": "KENNETH",
    "birth_date": "1965-07-08",
    "issue_date": "2024-03-15",
    "expiry_date": "2034-03-15",
    "issue_number": "24",
    "postcode": "BA2 5AA",
}


def option_labelled(text: str) -> Callable[[list[tuple[str, str]]], str]:
    def choose(options: list[tuple[str, str]]) -> str:
        return next(value for value, label in options if text in label)

    return choose


def address_answers(postcode: str, building: str, moved_in: str) -> dict[str, Answer]:
    return {"postcode": postcode, "uprn": option_labelled(building), "moved_in_year": moved_in}


KENNETH_ADDRESS = address_answers("BA2 5AA", "8 HADLEY ROAD", "2024")


def asked_fields(html: str) -> list[str]:
    found = _ASKED.search(html)
    return [name for name in found.group(1).split(",") if name] if found else []


def radio_options(html: str, name: str) -> list[tuple[str, str]]:
    return [
        (m["value"], unescape(re.sub(r"<[^>]+>", "", m["label"]))) for m in _RADIO.finditer(html) if m["name"] == name
    ]


def post_page(browser: Browser, path: str, pairs: list[tuple[str, str]]) -> TestResponse:
    """A form post as a browser sends it: repeated names kept (a date is three inputs of one name)."""
    token = _CSRF_VALUE.search(browser.last_html)
    data = MultiDict(pairs)
    if token and "csrf_token" not in data:
        data.add("csrf_token", token.group(1) or token.group(2))
    response = browser.client.post(path, data=data)
    if response.mimetype == "text/html":
        browser.last_html = response.get_data(as_text=True)
    return response


def form_pairs(html: str, answers: dict[str, Answer], asked: list[str]) -> list[tuple[str, str]]:
    pairs = [("asked", ",".join(asked))]
    for name in asked:
        answer = answers.get(name)
        if answer is None:
            continue
        if callable(answer):
            answer = answer(radio_options(html, name))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", answer) and f'id="{name}-day"' in html:
            year, month, day = answer.split("-")
            pairs += [(name, day), (name, month), (name, year)]
        else:
            pairs.append((name, answer))
    return pairs


def complete_check(browser: Browser, response: TestResponse, answers: dict[str, Answer]) -> TestResponse:
    """Answer the check on this page, including the questions the first answers bring (addresses at a postcode)."""
    for _ in range(4):
        assert response.status_code == 200, response.status_code
        path = response.request.path
        assert path.startswith("/identity/check/"), path
        asked = asked_fields(browser.last_html)
        response = post_page(browser, path, form_pairs(browser.last_html, answers, asked))
        if response.status_code != 200 or response.request.path != path or asked_fields(browser.last_html) == asked:
            return browser.follow(response)
        response = browser.follow(response)
    return response


def choose_route(browser: Browser, route: str) -> TestResponse:
    response = browser.get("/identity/choose-how")
    assert response.status_code == 200
    return browser.follow(post_page(browser, "/identity/choose-how", [("route", route)]))


def proving_state(app: Flask, browser: Browser) -> Any:
    from idp.proving import views

    with browser.client.session_transaction() as session:
        journey_id = session["journey_id"]
    with app.test_request_context():
        return views._load(journey_id)


def security_answers(app: Flask, browser: Browser, levels: tuple[str, ...] = ("P2",)) -> dict[str, Answer]:
    """The right answers, from the citizen's credit record: what the citizen knows about their own finances."""
    from idp.proving import service as proving

    state = proving_state(app, browser)
    with app.test_request_context():
        services = proving.identity_services()
        issuer = services.registry["security_questions"]
        context = proving.check_context(state, "security_questions", levels)
        return {q.id: q.answer for q in issuer.questions(services.registers, context)}  # type: ignore[attr-defined]


def wrong_security_answers(app: Flask, browser: Browser) -> dict[str, Answer]:
    def other_than(correct: Answer) -> Callable[[list[tuple[str, str]]], str]:
        return lambda options: next(value for value, _label in options if value != correct)

    return {name: other_than(value) for name, value in security_answers(app, browser).items()}
