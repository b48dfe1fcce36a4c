"""Identity proving in a real browser, through the sample services that ask for a proven identity ("Check your
State Pension" and "Apply for Carer's Allowance", both P2): one journey per route, and reuse ("confirm your
details") at a second service. The security questions are answered from the citizen's credit record, as the
citizen would from what they know."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import Service, Stack
from tests.browser.journeys import create_account_up_to_security_codes, set_up_authenticator_app

pytestmark = pytest.mark.browser

PASSWORD = "pension and allowance 2026"
DATA = Path(__file__).resolve().parents[2] / "idp/identity/registers/data"
KINDS = ("mobile phone contract", "current account", "credit card", "mortgage", "loan")


def _kenneth_accounts() -> list[dict[str, Any]]:
    records = json.loads((DATA / "credit_records.json").read_text())
    record = next(r for r in records if (r["givenNames"], r["familyName"]) == ("KENNETH", "DECERQUEIRA"))
    accounts: list[dict[str, Any]] = record["accounts"]
    return accounts


def _right_answer(question: str, options: list[str], accounts: list[dict[str, Any]]) -> str:
    kind = next(k for k in KINDS if k in question)
    if question.startswith("Which of these"):
        lenders = {a["lender"] for a in accounts if a["kind"] == kind}
        return next((o for o in options if o in lenders), "None of these")
    account = next(a for a in accounts if a["kind"] == kind and a["lender"] in question)
    if question.startswith("In which year"):
        return str(account["opened"][:4])
    for option in options:
        low, _, high = option.replace("£", "").replace(",", "").partition(" to ")
        low_value = int(low.split()[0])
        high_value = int(high) if high else None
        if account["balance"] >= low_value and (high_value is None or account["balance"] <= high_value):
            return option
    raise AssertionError(f"no band fits {account['balance']}")


def _answer_security_questions(page: Page) -> None:
    expect(page.get_by_role("heading", name="Answer security questions")).to_be_visible()
    assert_no_axe_violations(page, "security questions")
    accounts = _kenneth_accounts()
    for fieldset in page.locator("fieldset").all():
        question = fieldset.locator("legend").inner_text().strip()
        options = [label.inner_text().strip() for label in fieldset.locator("label").all()]
        answer = _right_answer(question, options, accounts)
        fieldset.get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Continue").click()


def _fill_date(page: Page, name: str, value: str) -> None:
    year, month, day = value.split("-")
    page.locator(f"#{name}-day").fill(day)
    page.locator(f"#{name}-month").fill(month)
    page.locator(f"#{name}-year").fill(year)


def _create_account_and_start(stack: Stack, page: Page, service: Service) -> None:
    """Sign in at `service` with a new account; the service asks for P2, so proving starts straight after."""
    email = f"citizen-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(service.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    create_account_up_to_security_codes(page, stack, email, PASSWORD, check_pages=False)
    set_up_authenticator_app(page, used=set(), check_pages=False)
    expect(page.get_by_role("heading", name="Prove your identity")).to_be_visible()
    assert_no_axe_violations(page, "prove your identity")
    page.get_by_role("button", name="Continue").click()


def _choose(page: Page, route_label: str) -> None:
    assert_no_axe_violations(page, "choose a route")
    page.get_by_label(route_label).check()
    page.get_by_role("button", name="Continue").click()


def _address_and_fraud(page: Page) -> None:
    assert_no_axe_violations(page, "address")
    page.get_by_label("Postcode").fill("BA2 5AA")
    page.get_by_role("button", name="Continue").click()
    assert_no_axe_violations(page, "addresses at a postcode")
    page.get_by_label("8 HADLEY ROAD", exact=False).first.check()
    page.get_by_label("What year did you start living at this address?").fill("2024")
    page.get_by_role("button", name="Continue").click()
    # The fraud check asks nothing: the citizen agrees to it.
    assert_no_axe_violations(page, "fraud check")
    page.get_by_role("button", name="Continue").click()


def _expect_proven(page: Page, service: Service) -> None:
    expect(page).to_have_url(service.base_url + "/account", timeout=30000)
    main = page.locator("main").inner_text()
    assert "KENNETH DECERQUEIRA" in main.upper()
    assert "1965-07-08" in main


def _passport(page: Page) -> None:
    assert_no_axe_violations(page, "passport")
    # Nothing entered: the error summary and the errors against each field.
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_no_axe_violations(page, "passport, with errors")
    page.get_by_label("Passport number").fill("321654987")
    page.get_by_label("Surname").fill("DECERQUEIRA")
    page.get_by_label("Given names").fill("KENNETH")
    _fill_date(page, "birth_date", "1965-07-08")
    _fill_date(page, "expiry_date", "2030-01-01")
    page.get_by_role("button", name="Continue").click()


def test_web_passport_route_then_reuse_at_the_state_pension_service(stack: Stack, page: Page) -> None:
    pension, carers = stack.identity_services
    _create_account_and_start(stack, page, carers)
    _choose(page, "Online, with a UK passport")
    _passport(page)
    _address_and_fraud(page)
    _answer_security_questions(page)
    _expect_proven(page, carers)
    carers_sub = re.search(r"urn:fdc:gov\.uk:2022:[\w-]+", page.locator("main").inner_text())

    # The third sample service: signed in silently, then only "confirm your details"; no checks again.
    page.goto(pension.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Confirm your details")).to_be_visible()
    assert_no_axe_violations(page, "confirm your details")
    details = page.locator(".govuk-summary-list").inner_text()
    assert "KENNETH DECERQUEIRA" in details and "BA2 5AA" in details
    page.get_by_label("Yes, my details are correct").check()
    page.get_by_role("button", name="Continue").click()
    _expect_proven(page, pension)
    pension_sub = re.search(r"urn:fdc:gov\.uk:2022:[\w-]+", page.locator("main").inner_text())
    assert carers_sub and pension_sub and carers_sub.group(0) != pension_sub.group(0)


def test_web_driving_licence_route(stack: Stack, page: Page) -> None:
    pension = stack.identity_services[0]
    _create_account_and_start(stack, page, pension)
    _choose(page, "Online, with a UK photocard driving licence")
    assert_no_axe_violations(page, "driving licence")
    page.get_by_label("Surname").fill("DECERQUEIRA")
    page.get_by_label("First names").fill("KENNETH")
    _fill_date(page, "birth_date", "1965-07-08")
    _fill_date(page, "issue_date", "2024-03-15")
    _fill_date(page, "expiry_date", "2034-03-15")
    page.get_by_label("Licence number").fill("DECER607085K99AE")
    page.get_by_label("Issue number").fill("24")
    page.get_by_label("Postcode").fill("BA2 5AA")
    page.get_by_role("button", name="Continue").click()
    _address_and_fraud(page)
    _answer_security_questions(page)
    _expect_proven(page, pension)


def test_document_app_route_is_a_plain_simulation(stack: Stack, page: Page) -> None:
    pension = stack.identity_services[0]
    _create_account_and_start(stack, page, pension)
    _choose(page, "With the GOV.UK ID Check app (a simulation in this service)")
    expect(page.get_by_text("This is a simulation", exact=False)).to_be_visible()
    assert_no_axe_violations(page, "document app")
    page.get_by_label("UK passport with a chip").check()
    page.get_by_label("Passport number or licence number").fill("321654987")
    page.get_by_label("The document was read and the face matched").check()
    page.get_by_role("button", name="Continue").click()
    _address_and_fraud(page)
    _expect_proven(page, pension)


def test_route_without_photo_id(stack: Stack, page: Page) -> None:
    pension = stack.identity_services[0]
    _create_account_and_start(stack, page, pension)
    _choose(page, "Online, without photo ID: with your bank account and National Insurance number")
    assert_no_axe_violations(page, "your details")
    page.get_by_label("First names").fill("Kenneth")
    page.get_by_label("Last name").fill("Decerqueira")
    _fill_date(page, "birth_date", "1965-07-08")
    page.get_by_role("button", name="Continue").click()
    assert_no_axe_violations(page, "bank account")
    page.get_by_label("Sort code").fill("090142")
    page.get_by_label("Account number").fill("58977619")
    page.get_by_role("button", name="Continue").click()
    assert_no_axe_violations(page, "National Insurance number")
    page.get_by_label("National Insurance number").fill("CE371839B")
    page.get_by_role("button", name="Continue").click()
    _address_and_fraud(page)
    _answer_security_questions(page)
    _expect_proven(page, pension)
