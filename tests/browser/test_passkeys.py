"""Passkeys in real Chromium, with its virtual authenticator (DevTools protocol `WebAuthn.addVirtualAuthenticator`,
ctap2, internal transport, resident keys, user verification): registered at account creation, a passwordless
sign-in through a sample service, the passkey as the second factor, rename and remove, another origin refused.
Every passkey page is checked with axe-core."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import Service, Stack
from tests.browser.journeys import continue_, create_account_up_to_security_codes

pytestmark = pytest.mark.browser

PASSWORD = "passkeys and passwords 2026"


def add_virtual_authenticator(page: Page) -> tuple[Any, str]:
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable", {"enableUI": False})
    added = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return devtools, str(added["authenticatorId"])


def credentials(devtools: Any, authenticator_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    return found


def start_sign_in(page: Page, stack: Stack, service: Service) -> None:
    page.goto(service.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(stack.provider_url) + "sign-in"))


def sign_out(page: Page, service: Service) -> None:
    page.goto(service.base_url + "/account")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(re.escape(service.base_url) + "/signed-out"))


def create_account_with_a_passkey(page: Page, stack: Stack, service: Service, email: str) -> str:
    start_sign_in(page, stack, service)
    create_account_up_to_security_codes(page, stack, email, PASSWORD, check_pages=False)
    page.get_by_label("Authenticator app for smartphone, tablet or computer").check()
    continue_(page)
    secret = page.get_by_test_id("secret-key").inner_text().replace(" ", "")
    page.get_by_label(re.compile("security code")).fill(pyotp.TOTP(secret).now())
    continue_(page)

    expect(page).to_have_url(stack.provider_url + "create-account/passkey")
    expect(page.get_by_text("To use a passkey, your browser needs JavaScript")).to_be_hidden()
    assert_no_axe_violations(page, "offer a passkey")
    page.get_by_role("button", name="Create a passkey").click()
    expect(page.locator(".govuk-error-summary:not([hidden])")).to_contain_text("Enter a name for your passkey")
    assert_no_axe_violations(page, "offer a passkey, with an error")
    page.get_by_label("Name your passkey").fill("This browser")
    page.get_by_role("button", name="Create a passkey").click()
    expect(page).to_have_url(service.base_url + "/account")
    return secret


def test_passkey_at_account_creation_then_passwordless_and_second_factor(stack: Stack, page: Page) -> None:
    fishing, vehicles = stack.services
    devtools, authenticator_id = add_virtual_authenticator(page)
    email = f"citizen-{uuid.uuid4().hex[:8]}@example.com"

    create_account_with_a_passkey(page, stack, fishing, email)
    [credential] = credentials(devtools, authenticator_id)
    assert credential["isResidentCredential"] is True
    assert credential["rpId"] == "localhost"
    assert credential["signCount"] == 0 or credential["signCount"] >= 0
    sign_out(page, fishing)

    # Passwordless: from the second service, straight back with Cl.Cm, no password, no code.
    start_sign_in(page, stack, vehicles)
    page.get_by_role("link", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in with a passkey")
    assert_no_axe_violations(page, "sign in with a passkey")
    page.get_by_role("button", name="Use your passkey").click()
    expect(page).to_have_url(vehicles.base_url + "/account")
    assert email in page.locator("main").inner_text()
    assert "Cl.Cm" in page.locator("main").inner_text()
    assert credentials(devtools, authenticator_id)[0]["signCount"] >= 1
    sign_out(page, vehicles)

    # The second factor after the password.
    start_sign_in(page, stack, fishing)
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Use your passkey")
    assert_no_axe_violations(page, "the passkey as the second factor")
    page.get_by_role("button", name="Use your passkey").click()
    expect(page).to_have_url(fishing.base_url + "/account")
    assert "Cl.Cm" in page.locator("main").inner_text()


def test_manage_passkeys_add_rename_and_remove(stack: Stack, page: Page) -> None:
    fishing, _ = stack.services
    devtools, first_authenticator = add_virtual_authenticator(page)
    email = f"citizen-{uuid.uuid4().hex[:8]}@example.com"
    create_account_with_a_passkey(page, stack, fishing, email)

    page.goto(stack.provider_url + "account/passkeys")
    assert_no_axe_violations(page, "your passkeys")
    cards = page.get_by_test_id("passkey")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("This browser")

    # A second authenticator (a security key, say) adds a second passkey.
    devtools.send("WebAuthn.setAutomaticPresenceSimulation", {"authenticatorId": first_authenticator, "enabled": False})
    devtools.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first_authenticator})
    _, second_authenticator = add_virtual_authenticator(page)
    page.get_by_role("button", name="Add a passkey").click()
    assert_no_axe_violations(page, "add a passkey")
    page.get_by_label("Name your passkey").fill("Security key")
    page.get_by_role("button", name="Create a passkey").click()
    expect(page).to_have_url(stack.provider_url + "account/passkeys")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Security key")
    expect(cards).to_have_count(2)

    # Rename the first.
    page.get_by_role("link", name="Rename (This browser)").click()
    assert_no_axe_violations(page, "rename a passkey")
    page.get_by_label("Name your passkey").fill("Old laptop")
    page.get_by_role("button", name="Save").click()
    expect(cards.filter(has_text="Old laptop")).to_have_count(1)

    # Remove it: signed in a moment ago, so no password is asked for.
    page.get_by_role("link", name="Remove (Old laptop)").click()
    assert_no_axe_violations(page, "remove a passkey")
    page.get_by_role("button", name="Remove passkey").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Old laptop")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Security key")
    assert credentials(devtools, second_authenticator), "the authenticator still holds the remaining passkey"

    # The same pages in Welsh.
    page.goto(stack.provider_url + "account/passkeys?lang=cy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Eich allweddi mynediad")
    assert_no_axe_violations(page, "your passkeys (cy)")
    page.get_by_role("button", name="Ychwanegu allwedd mynediad").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ychwanegu allwedd mynediad")
    assert_no_axe_violations(page, "add a passkey (cy)")


def test_a_passkey_used_on_another_origin_is_refused(stack: Stack, page: Page) -> None:
    fishing, _ = stack.services
    devtools, authenticator_id = add_virtual_authenticator(page)
    email = f"citizen-{uuid.uuid4().hex[:8]}@example.com"
    create_account_with_a_passkey(page, stack, fishing, email)
    sign_out(page, fishing)

    # The provider's challenge, answered on another origin that shares the rp id (every port of localhost does):
    # what a look-alike site could try to relay.
    page.goto(stack.provider_url + "sign-in/passkey")
    options = page.evaluate(
        """async () => {
          const token = document.querySelector('input[name=csrf_token]').value
          const reply = await fetch('/sign-in/passkey/options', {method: 'POST', headers: {'X-CSRFToken': token}})
          return await reply.json()
        }"""
    )
    page.goto(fishing.base_url + "/")
    answer = page.evaluate(
        """async (json) => {
          const options = PublicKeyCredential.parseRequestOptionsFromJSON(json)
          const credential = await navigator.credentials.get({publicKey: options})
          return JSON.stringify(credential.toJSON())
        }""",
        options,
    )
    assert json.loads(answer)["response"]["clientDataJSON"]
    page.goto(stack.provider_url + "sign-in/passkey")
    page.evaluate(
        """(answer) => {
          const form = document.querySelector('form[data-passkey-ceremony]')
          form.querySelector('input[name=credential]').value = answer
          HTMLFormElement.prototype.submit.call(form)
        }""",
        answer,
    )
    summary = page.locator(".govuk-error-summary:not([hidden])")
    expect(summary).to_contain_text("This passkey is for a different website")
    assert_no_axe_violations(page, "sign in with a passkey, refused")
    page.goto(stack.provider_url + "account")
    expect(page).to_have_url(re.compile(re.escape(stack.provider_url) + "sign-in"))

    # A device that cannot check it is the citizen: the page's script says what happened, and nothing changes.
    start_sign_in(page, stack, fishing)
    page.get_by_role("link", name="Sign in with a passkey").click()
    devtools.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator_id, "isUserVerified": False})
    page.get_by_role("button", name="Use your passkey").click()
    summary = page.locator(".govuk-error-summary:not([hidden])")
    expect(summary).to_contain_text("You did not finish using your passkey. Try again.")
    expect(summary).to_be_focused()
    assert_no_axe_violations(page, "sign in with a passkey, not finished")

    # The real thing, on the provider's own origin, still works.
    devtools.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator_id, "isUserVerified": True})
    page.get_by_role("button", name="Use your passkey").click()
    expect(page).to_have_url(fishing.base_url + "/account")
