"""Steps of the citizen journeys for the browser tests, done the way a citizen does them: codes are read from the
development sender's inbox at /dev/messages (in a tab of its own), authenticator codes computed with pyotp."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pyotp
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import Stack

_CODE = re.compile(r"\b(\d{6})\b")


def codes_sent_to(context: BrowserContext, stack: Stack, address: str) -> list[str]:
    """Every code the development inbox holds for this address, newest first."""
    inbox = context.new_page()
    try:
        inbox.goto(stack.provider_url + "dev/messages?to=" + quote(address))
        bodies = inbox.get_by_test_id("message-body").all_inner_texts()
    finally:
        inbox.close()
    return [found.group(1) for body in bodies if (found := _CODE.search(body))]


def new_code_sent_to(context: BrowserContext, stack: Stack, address: str, already: int = 0) -> str:
    """Wait (a few seconds at most) for message number `already + 1` to arrive; its code."""
    deadline = time.monotonic() + 10
    while True:
        codes = codes_sent_to(context, stack, address)
        if len(codes) > already:
            return codes[0]
        assert time.monotonic() < deadline, f"no new code reached {address}"
        time.sleep(0.2)


def continue_(page: Page, name: str = "Continue") -> None:
    page.get_by_role("button", name=name, exact=True).click()


def fresh_totp(secret: str, used: set[str]) -> str:
    """A code not used before: an authenticator code is accepted once (RFC 6238 §5.2)."""
    totp = pyotp.TOTP(secret)
    for moment in (time.time(), time.time() + 30):
        code = totp.at(moment)
        if code not in used:
            used.add(code)
            return code
    raise AssertionError("no unused code in the accepted window")


def create_account_up_to_security_codes(
    page: Page, stack: Stack, email: str, password: str, check_pages: bool = True
) -> None:
    """From the provider's sign-in page: the email, its code, the password; stops at the choice of method."""
    page.get_by_role("link", name="Create a GOV.UK One Login").click()
    if check_pages:
        assert_no_axe_violations(page, "create an account: email")
    page.get_by_label("Email address").fill(email)
    continue_(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    if check_pages:
        assert_no_axe_violations(page, "create an account: check your email")
    page.get_by_label("Enter the 6 digit security code").fill(new_code_sent_to(page.context, stack, email))
    continue_(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your password")
    if check_pages:
        assert_no_axe_violations(page, "create an account: password")
    page.get_by_label("Create your password").fill(password)
    page.get_by_label("Confirm your password").fill(password)
    continue_(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose how to get security codes")
    if check_pages:
        assert_no_axe_violations(page, "create an account: choose how to get security codes")


def set_up_authenticator_app(page: Page, used: set[str], check_pages: bool = True) -> str:
    """From the choice of method: the app, its key typed in, a code; returns the key."""
    page.get_by_label("Authenticator app for smartphone, tablet or computer").check()
    continue_(page)
    if check_pages:
        assert_no_axe_violations(page, "set up an authenticator app")
    secret = page.get_by_test_id("secret-key").inner_text().replace(" ", "")
    page.get_by_label(re.compile("security code")).fill(fresh_totp(secret, used))
    continue_(page)
    decline_a_passkey(page, check_pages)
    return secret


def decline_a_passkey(page: Page, check_pages: bool = True) -> None:
    """The end of account creation offers a passkey (tests/browser/test_passkeys.py takes it): not now."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a passkey")
    if check_pages:
        assert_no_axe_violations(page, "offer a passkey")
    continue_(page, "Not now")
