"""The citizen's account in a real browser, with the two sample services running as real processes."""

from __future__ import annotations

import datetime
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import Service, Stack
from tests.browser.journeys import (
    codes_sent_to,
    create_account_up_to_security_codes,
    new_code_sent_to,
    set_up_authenticator_app,
)
from tests.helpers import wait_for

pytestmark = pytest.mark.browser

PASSWORD = "fishing and driving 2026"


@dataclass
class AccountHolder:
    email: str
    password: str
    totp_secret: str
    used_steps: set[int]

    def security_code(self) -> str:
        """A code the provider has not seen yet: each time step's code is accepted once."""
        totp = pyotp.TOTP(self.totp_secret)
        for offset in (0, 30, -30):
            step = totp.timecode(_now(offset))
            if step not in self.used_steps:
                self.used_steps.add(step)
                return totp.at(time.time() + offset)
        time.sleep(5)
        return self.security_code()


def _now(offset: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(time.time() + offset, tz=datetime.UTC)


def create_account_at(page: Page, stack: Stack, service: Service) -> AccountHolder:
    """Create an account from a service's sign-in button; ends back at the service, signed in."""
    email = f"citizen-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(service.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    create_account_up_to_security_codes(page, stack, email, PASSWORD, check_pages=False)
    secret = set_up_authenticator_app(page, used=set(), check_pages=False)
    # The code just entered (of this time step or, at a boundary, the one before) is spent.
    step = pyotp.TOTP(secret).timecode(_now(0))
    holder = AccountHolder(email, PASSWORD, secret, {step - 1, step})
    expect(page).to_have_url(service.base_url + "/account", timeout=15000)  # the passkey offer declined above
    return holder


def give_email_at(page: Page, service: Service, email: str) -> None:
    """From a service's sign-in button to the One Login page after the email address."""
    page.goto(service.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()


def sign_in_at(page: Page, service: Service, holder: AccountHolder, password: str | None = None) -> None:
    page.goto(service.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    if "/sign-in" in page.url:
        page.get_by_label("Email address").fill(holder.email)
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Password", exact=True).fill(password or holder.password)
        page.get_by_role("button", name="Continue").click()
        page.get_by_label(re.compile("security code")).fill(holder.security_code())
        page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(service.base_url + "/account")


def signed_out_of(page: Page, service: Service, timeout: float = 15) -> bool:
    """Whether the service has ended its session (told by back-channel logout, which takes a moment)."""

    def ended() -> bool:
        page.goto(service.base_url + "/account")
        return not page.url.endswith("/account")

    return wait_for(ended, timeout)


def test_the_account_page_and_changing_the_password(stack: Stack, page: Page) -> None:
    fishing, _vehicles = stack.services
    holder = create_account_at(page, stack, fishing)

    page.goto(stack.provider_url + "account")
    expect(page.get_by_role("heading", name="Your GOV.UK One Login")).to_be_visible()
    expect(page.get_by_test_id("services")).to_contain_text(fishing.name)
    expect(page.get_by_test_id("services")).to_contain_text("Last used:")
    expect(page.get_by_test_id("activity")).to_contain_text("Signed in")
    expect(page.get_by_test_id("activity")).to_contain_text("Account created")
    expect(page.locator("main")).to_contain_text(holder.email)
    assert_no_axe_violations(page, "the account")

    page.get_by_role("link", name="Change password").click()
    assert_no_axe_violations(page, "change password")
    page.get_by_label("Current password").fill("not my password 1")
    page.get_by_label("New password", exact=True).fill("a new password 99")
    page.get_by_label("Confirm your new password").fill("a new password 99")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Incorrect password")
    assert_no_axe_violations(page, "change password, with an error")

    page.get_by_label("Current password").fill(holder.password)
    page.get_by_label("New password", exact=True).fill("a new password 99")
    page.get_by_label("Confirm your new password").fill("a new password 99")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(stack.provider_url + "account")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have changed your password")
    expect(page.get_by_test_id("activity")).to_contain_text("Password changed")
    assert_no_axe_violations(page, "the account, with a banner")
    page.goto(stack.provider_url + "account/confirm-password?change=change-email")
    assert_no_axe_violations(page, "confirm your password")

    # Signed out, the new password is the one that works.
    page.goto(stack.provider_url + "account/sign-out-everywhere")
    page.get_by_role("button", name="Sign out everywhere").click()
    page.context.clear_cookies()
    sign_in_at(page, fishing, holder, password="a new password 99")


def test_sign_out_everywhere_tells_every_service(stack: Stack, page: Page) -> None:
    fishing, vehicles = stack.services
    holder = create_account_at(page, stack, fishing)
    sign_in_at(page, vehicles, holder)

    page.goto(stack.provider_url + "account")
    page.get_by_role("link", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="Sign out everywhere")).to_be_visible()
    assert_no_axe_violations(page, "sign out everywhere")
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="You have signed out")).to_be_visible()

    # Both services' sessions end by back-channel logout: their cookies are still in this browser.
    assert signed_out_of(page, vehicles), "the vehicle service was never told of the sign-out"
    assert signed_out_of(page, fishing), "the fishing service was never told of the sign-out"
    page.goto(stack.provider_url + "account")
    expect(page).to_have_url(re.compile(re.escape(stack.provider_url) + "sign-in"))


def test_delete_the_account(stack: Stack, page: Page) -> None:
    fishing, _vehicles = stack.services
    holder = create_account_at(page, stack, fishing)

    page.goto(stack.provider_url + "account")
    page.get_by_role("link", name="Delete your GOV.UK One Login").click()
    assert_no_axe_violations(page, "delete your account")
    page.get_by_label("Enter your password to delete your GOV.UK One Login").fill("wrong password 1")
    page.get_by_role("button", name="Delete your GOV.UK One Login").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Incorrect password")
    page.get_by_label("Enter your password to delete your GOV.UK One Login").fill(holder.password)
    page.get_by_role("button", name="Delete your GOV.UK One Login").click()
    expect(page.locator(".govuk-panel")).to_contain_text("You have deleted your GOV.UK One Login")
    assert_no_axe_violations(page, "account deleted")

    assert signed_out_of(page, fishing), "the fishing service was never told of the deletion"
    # No account any more: the email address leads to creating one.
    give_email_at(page, fishing, holder.email)
    expect(page.get_by_role("heading", name="No GOV.UK One Login found")).to_be_visible()


def test_change_the_email_address_with_a_code(stack: Stack, page: Page) -> None:
    fishing, _vehicles = stack.services
    holder = create_account_at(page, stack, fishing)
    new_email = f"moved-{uuid.uuid4().hex[:8]}@example.com"

    page.goto(stack.provider_url + "account")
    page.get_by_role("link", name="Change email address").click()
    assert_no_axe_violations(page, "change email")
    page.get_by_label("Enter your new email address").fill("not an email")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter an email address in the correct format")
    assert_no_axe_violations(page, "change email, with an error")
    page.get_by_label("Enter your new email address").fill(new_email)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_no_axe_violations(page, "check your email")

    code = new_code_sent_to(page.context, stack, new_email)
    wrong = "000000" if code != "000000" else "111111"
    page.get_by_label("Enter the 6 digit security code").fill(wrong)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The security code you entered is not correct")
    assert_no_axe_violations(page, "check your email, with an error")
    page.get_by_label("Enter the 6 digit security code").fill(code)
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(stack.provider_url + "account")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have changed your email address")
    expect(page.locator("main")).to_contain_text(new_email)
    expect(page.get_by_test_id("activity")).to_contain_text("Email address changed")

    # The new address signs in from now on.
    page.goto(stack.provider_url + "account/sign-out-everywhere")
    page.get_by_role("button", name="Sign out everywhere").click()
    page.context.clear_cookies()
    holder.email = new_email
    sign_in_at(page, fishing, holder)


def test_forgotten_password(stack: Stack, page: Page) -> None:
    fishing, vehicles = stack.services
    holder = create_account_at(page, stack, fishing)
    page.context.clear_cookies()

    give_email_at(page, vehicles, holder.email)
    page.get_by_role("link", name="I have forgotten my password").click()
    assert_no_axe_violations(page, "reset your password")
    seen = len(codes_sent_to(page.context, stack, holder.email))
    page.get_by_role("button", name="Send the code").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_no_axe_violations(page, "reset password: check your email")
    code = new_code_sent_to(page.context, stack, holder.email, already=seen)
    page.get_by_label("Enter the 6 digit security code").fill(code)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Create your new password")).to_be_visible()
    assert_no_axe_violations(page, "create your new password")
    page.get_by_label("Create your password").fill("short")
    page.get_by_label("Confirm your password").fill("short")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("at least 8 characters")
    assert_no_axe_violations(page, "create your new password, with an error")
    page.get_by_label("Create your password").fill("remembered again 2026")
    page.get_by_label("Confirm your password").fill("remembered again 2026")
    page.get_by_role("button", name="Continue").click()

    # The second factor still applies.
    page.get_by_label(re.compile("security code")).fill(holder.security_code())
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(vehicles.base_url + "/account")


def test_lost_second_factor(stack: Stack, page: Page) -> None:
    fishing, vehicles = stack.services
    holder = create_account_at(page, stack, fishing)
    page.context.clear_cookies()

    give_email_at(page, vehicles, holder.email)
    page.get_by_label("Password", exact=True).fill(holder.password)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="I cannot get security codes").click()
    assert_no_axe_violations(page, "if you cannot get security codes")
    seen = len(codes_sent_to(page.context, stack, holder.email))
    page.get_by_role("button", name="Send the code").click()
    code = new_code_sent_to(page.context, stack, holder.email, already=seen)
    page.get_by_label("Enter the 6 digit security code").fill(code)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="How do you want to get security codes?")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select how you want to get security codes")
    assert_no_axe_violations(page, "choose how to get security codes, with an error")
    page.get_by_label("Text message").check()
    page.get_by_role("button", name="Continue").click()
    assert_no_axe_violations(page, "enter your mobile phone number")
    page.get_by_label("Mobile phone number").fill("07911 123456")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your phone")).to_be_visible()
    assert_no_axe_violations(page, "check your phone")
    page.get_by_role("link", name="Send the code again or use a different number").click()
    page.get_by_role("link", name="Back").click()
    page.get_by_label("Authenticator app").check()
    page.get_by_role("button", name="Continue").click()
    assert_no_axe_violations(page, "set up a new authenticator app")
    secret = page.get_by_test_id("secret-key").inner_text().replace(" ", "")
    assert secret != holder.totp_secret
    holder.totp_secret = secret
    page.get_by_label(re.compile("security code")).fill(holder.security_code())
    page.get_by_role("button", name="Continue").click()

    # Signed in with two factors, back at the service, and told by email.
    expect(page).to_have_url(vehicles.base_url + "/account")
    page.goto(stack.provider_url + "dev/messages?to=" + quote(holder.email))
    expect(page.get_by_test_id("message-name").first).to_contain_text("security_code_method_changed")
    page.goto(stack.provider_url + "account")
    expect(page.get_by_test_id("activity")).to_contain_text("Security codes reset after losing access")


def test_the_account_in_welsh(stack: Stack, page: Page) -> None:
    fishing, _vehicles = stack.services
    create_account_at(page, stack, fishing)

    page.goto(stack.provider_url + "account?lang=cy")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Eich GOV.UK One Login")
    expect(page.get_by_test_id("services")).to_contain_text("Defnyddiwyd ddiwethaf:")
    expect(page.get_by_test_id("activity")).to_contain_text("Wedi mewngofnodi")
    assert_no_axe_violations(page, "the account (cy)")

    page.get_by_role("link", name="Newid cyfrinair").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Newid eich cyfrinair")
    page.get_by_role("button", name="Parhau").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Rhowch eich cyfrinair presennol")
    assert_no_axe_violations(page, "change password, with errors (cy)")

    page.goto(stack.provider_url + "account/delete")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dileu eich GOV.UK One Login")
    assert_no_axe_violations(page, "delete your account (cy)")
