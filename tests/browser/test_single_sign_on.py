"""The foundation journey in a real browser: create an account, single sign-on, sign out everywhere."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import Stack
from tests.browser.journeys import create_account_up_to_security_codes, set_up_authenticator_app

pytestmark = pytest.mark.browser

PASSWORD = "fishing and driving 2026"


def _summary_value(page: Page, key: str) -> str:
    row = page.locator(".govuk-summary-list__row", has=page.locator(".govuk-summary-list__key", has_text=key))
    return row.locator(".govuk-summary-list__value").inner_text().strip()


def test_create_account_single_sign_on_and_sign_out_everywhere(stack: Stack, page: Page) -> None:
    fishing, vehicles = stack.services
    email = f"citizen-{uuid.uuid4().hex[:8]}@example.com"

    # Sign in at the first service: no account yet, so create one with an authenticator app.
    page.goto(fishing.base_url + "/")
    assert_no_axe_violations(page, "the service's start page")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(stack.provider_url) + "sign-in"))
    assert_no_axe_violations(page, "sign in: email")
    create_account_up_to_security_codes(page, stack, email, PASSWORD)
    set_up_authenticator_app(page, used=set())

    expect(page).to_have_url(fishing.base_url + "/account")
    assert_no_axe_violations(page, "the service's account page")
    assert _summary_value(page, "Email") == email
    assert _summary_value(page, "vot") == "Cl.Cm" or "Cl.Cm" in page.content()
    fishing_sub = page.locator("main").inner_text()
    assert "urn:fdc:gov.uk:2022:" in fishing_sub

    # The second service signs the citizen in without asking anything, with its own pairwise sub.
    page.goto(vehicles.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(vehicles.base_url + "/account")
    vehicles_text = page.locator("main").inner_text()
    assert email in vehicles_text
    fishing_subject = re.search(r"urn:fdc:gov\.uk:2022:[\w-]+", fishing_sub)
    vehicles_subject = re.search(r"urn:fdc:gov\.uk:2022:[\w-]+", vehicles_text)
    assert fishing_subject and vehicles_subject
    assert fishing_subject.group(0) != vehicles_subject.group(0)

    # Signing out at the first service ends the provider session and, by back-channel logout, the second's.
    page.goto(fishing.base_url + "/account")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(re.escape(fishing.base_url) + "/signed-out"))
    assert_no_axe_violations(page, "the service's signed-out page")

    deadline = time.monotonic() + 15
    while True:
        page.goto(vehicles.base_url + "/account")
        if page.url.rstrip("/") == vehicles.base_url or "/account" not in page.url:
            break
        assert time.monotonic() < deadline, "the second service was never told of the sign-out"
        time.sleep(0.5)

    # And the provider session is gone: signing in again asks for the email address.
    page.goto(vehicles.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(stack.provider_url) + "sign-in"))
