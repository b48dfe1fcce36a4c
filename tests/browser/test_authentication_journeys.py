"""Creating an account and signing in, in a real browser, from a department's service and back: security codes by
text message (read from the development inbox) and by an authenticator app (computed with pyotp), the errors a
citizen can make on the way, the lockout page, and the Welsh journey. Every page passes axe-core."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import Stack
from tests.browser.journeys import (
    codes_sent_to,
    continue_,
    create_account_up_to_security_codes,
    decline_a_passkey,
    fresh_totp,
    new_code_sent_to,
    set_up_authenticator_app,
)

pytestmark = pytest.mark.browser

PASSWORD = "licence to fish 2026"
MOBILE = "07123 456789"
MOBILE_E164 = "+447123456789"
WRONG_CODE = "The security code you entered is not correct, or may have expired, try again."


def _new_email() -> str:
    return f"citizen-{uuid.uuid4().hex[:8]}@example.com"


def _start_sign_in(page: Page, stack: Stack, lang: str = "") -> None:
    fishing, _ = stack.services
    page.goto(fishing.base_url + "/sign-in" + (f"?lang={lang}" if lang else ""))
    expect(page).to_have_url(re.compile(re.escape(stack.provider_url) + "sign-in"))


def _sign_out_at_the_service(page: Page, stack: Stack) -> None:
    fishing, _ = stack.services
    page.goto(fishing.base_url + "/account")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(re.escape(fishing.base_url) + "/signed-out"))


def _sign_in_again_up_to_the_code(page: Page, stack: Stack, email: str) -> None:
    _sign_out_at_the_service(page, stack)
    _start_sign_in(page, stack)
    page.get_by_label("Email address").fill(email)
    continue_(page)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    continue_(page)


def _error_shown(page: Page, message: str) -> None:
    expect(page.locator(".govuk-error-summary")).to_contain_text(message)
    expect(page.locator(".govuk-error-message")).to_contain_text(message)


def _signed_in_at_the_service(page: Page, stack: Stack, email: str) -> None:
    fishing, _ = stack.services
    expect(page).to_have_url(fishing.base_url + "/account")
    main = page.locator("main").inner_text()
    assert email in main and "Cl.Cm" in main


def test_create_an_account_and_sign_in_with_text_messages(stack: Stack, page: Page) -> None:
    email = _new_email()
    _start_sign_in(page, stack)
    create_account_up_to_security_codes(page, stack, email, PASSWORD)

    page.get_by_label("Text message").check()
    continue_(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your mobile phone number")
    assert_no_axe_violations(page, "set up text messages: number")
    page.get_by_label("Mobile phone number").fill("020 7946 0000")
    continue_(page)
    _error_shown(page, "Enter a UK mobile phone number, like 07700 900000")
    assert_no_axe_violations(page, "set up text messages: number, with an error")
    page.get_by_label("Mobile phone number").fill(MOBILE)
    continue_(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your phone")
    expect(page.locator("main")).to_contain_text("ending with 6789")
    assert_no_axe_violations(page, "set up text messages: check your phone")
    first = new_code_sent_to(page.context, stack, MOBILE_E164)
    page.get_by_label("Enter the 6 digit security code").fill(f"{(int(first) + 1) % 1_000_000:06d}")
    continue_(page)
    _error_shown(page, WRONG_CODE)
    assert_no_axe_violations(page, "set up text messages: check your phone, with an error")

    # Problems with the code: send it again; the new code replaces the first.
    page.get_by_text("Problems with the code?").click()
    continue_(page, "Send the code again")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("We have sent you a new code.")
    assert_no_axe_violations(page, "set up text messages: code sent again")
    second = new_code_sent_to(page.context, stack, MOBILE_E164, already=1)
    page.get_by_label("Enter the 6 digit security code").fill(second)
    continue_(page)
    decline_a_passkey(page)
    _signed_in_at_the_service(page, stack, email)

    # Sign in again: email, password, and a code sent by text message.
    _sign_in_again_up_to_the_code(page, stack, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your phone")
    assert_no_axe_violations(page, "sign in: check your phone")
    page.get_by_label("Enter the 6 digit security code").fill(new_code_sent_to(page.context, stack, MOBILE_E164, 2))
    continue_(page)
    _signed_in_at_the_service(page, stack, email)


def test_create_an_account_and_sign_in_with_an_authenticator_app(stack: Stack, page: Page) -> None:
    email = _new_email()
    used: set[str] = set()
    _start_sign_in(page, stack)
    create_account_up_to_security_codes(page, stack, email, PASSWORD)
    continue_(page)
    _error_shown(page, "Select how you want to get security codes")
    assert_no_axe_violations(page, "choose how to get security codes, with an error")
    secret = set_up_authenticator_app(page, used)
    _signed_in_at_the_service(page, stack, email)

    _sign_in_again_up_to_the_code(page, stack, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter the security code shown in your authenticator app")
    page.get_by_label(re.compile("security code")).fill(fresh_totp(secret, used))
    continue_(page)
    _signed_in_at_the_service(page, stack, email)


def test_wrong_passwords_lock_the_step_with_a_page_that_says_when(stack: Stack, page: Page) -> None:
    email = _new_email()
    _start_sign_in(page, stack)
    create_account_up_to_security_codes(page, stack, email, PASSWORD, check_pages=False)
    set_up_authenticator_app(page, set(), check_pages=False)
    _sign_out_at_the_service(page, stack)

    _start_sign_in(page, stack)
    page.get_by_label("Email address").fill(email)
    continue_(page)
    for attempt in range(1, 6):
        page.get_by_label("Password", exact=True).fill(f"not my password {attempt}")
        continue_(page)
        _error_shown(page, "Incorrect password")
    page.get_by_label("Password", exact=True).fill("not my password 6")
    continue_(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot sign in at the moment")
    expect(page.locator("main")).to_contain_text("You entered the wrong password too many times.")
    expect(page.get_by_test_id("try-again")).to_have_text("You can try again in 15 minutes.")
    assert_no_axe_violations(page, "locked: wrong passwords")
    # The right password does not open it.
    page.goto(stack.provider_url + "sign-in/password")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot sign in at the moment")


def test_the_development_inbox_shows_what_was_sent(stack: Stack, page: Page) -> None:
    email = _new_email()
    _start_sign_in(page, stack)
    page.get_by_role("link", name="Create a GOV.UK One Login").click()
    page.get_by_label("Email address").fill(email)
    continue_(page)
    code = new_code_sent_to(page.context, stack, email)
    page.goto(stack.provider_url + "dev/messages?to=" + email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Messages sent in development")
    message = page.get_by_test_id("message").first
    expect(message.get_by_test_id("message-to")).to_have_text(email)
    expect(message.get_by_test_id("message-body")).to_contain_text(f"Your security code is {code}")
    assert_no_axe_violations(page, "development inbox")
    assert codes_sent_to(page.context, stack, email) == [code]


def test_create_an_account_in_welsh(stack: Stack, page: Page) -> None:
    email = _new_email()
    used: set[str] = set()
    _start_sign_in(page, stack, lang="cy")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    page.get_by_role("link", name="Creu GOV.UK One Login").click()
    page.get_by_label("Cyfeiriad e-bost").fill(email)
    continue_(page, "Parhau")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gwiriwch eich e-bost")
    assert_no_axe_violations(page, "create an account: check your email (cy)")
    code = new_code_sent_to(page.context, stack, email)
    page.goto(stack.provider_url + "dev/messages?to=" + email)
    expect(page.get_by_test_id("message-body").first).to_contain_text(f"Eich cod diogelwch yw {code}")
    page.go_back()
    page.get_by_label("Rhowch y cod diogelwch 6 digid").fill(code)
    continue_(page, "Parhau")
    page.get_by_label("Creu eich cyfrinair").fill(PASSWORD)
    page.get_by_label("Cadarnhewch eich cyfrinair").fill(PASSWORD)
    continue_(page, "Parhau")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dewiswch sut i gael codau diogelwch")
    assert_no_axe_violations(page, "choose how to get security codes (cy)")
    page.get_by_label("Ap dilysu ar gyfer ffôn clyfar, llechen neu gyfrifiadur").check()
    continue_(page, "Parhau")
    assert_no_axe_violations(page, "set up an authenticator app (cy)")
    secret = page.get_by_test_id("secret-key").inner_text().replace(" ", "")
    page.get_by_label(re.compile("cod diogelwch")).fill(fresh_totp(secret, used))
    continue_(page, "Parhau")
    expect(page.get_by_role("heading", level=1)).to_have_text("Creu allwedd mynediad")
    assert_no_axe_violations(page, "offer a passkey (cy)")
    continue_(page, "Dim nawr")
    _signed_in_at_the_service(page, stack, email)
