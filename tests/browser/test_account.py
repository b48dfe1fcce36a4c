"""The citizen's account in a real browser, with the two sample services running as real processes."""

from __future__ import annotations

import datetime
import re
import time
import uuid
from dataclasses import dataclass

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Service, Stack

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
    page.get_by_role("link", name="Create a GOV.UK One Login").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Create your password").fill(PASSWORD)
    page.get_by_label("Confirm your password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    secret = page.get_by_test_id("secret-key").inner_text().replace(" ", "")
    holder = AccountHolder(email, PASSWORD, secret, set())
    page.get_by_label(re.compile("security code")).fill(holder.security_code())
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(service.base_url + "/account")
    return holder


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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.goto(service.base_url + "/account")
        if not page.url.endswith("/account"):
            return True
        time.sleep(0.5)
    return False


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

    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Current password").fill("not my password 1")
    page.get_by_label("New password", exact=True).fill("a new password 99")
    page.get_by_label("Confirm your new password").fill("a new password 99")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Incorrect password")

    page.get_by_label("Current password").fill(holder.password)
    page.get_by_label("New password", exact=True).fill("a new password 99")
    page.get_by_label("Confirm your new password").fill("a new password 99")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(stack.provider_url + "account")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have changed your password")
    expect(page.get_by_test_id("activity")).to_contain_text("Password changed")

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
    page.get_by_label("Enter your password to delete your GOV.UK One Login").fill("wrong password 1")
    page.get_by_role("button", name="Delete your GOV.UK One Login").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Incorrect password")
    page.get_by_label("Enter your password to delete your GOV.UK One Login").fill(holder.password)
    page.get_by_role("button", name="Delete your GOV.UK One Login").click()
    expect(page.locator(".govuk-panel")).to_contain_text("You have deleted your GOV.UK One Login")

    assert signed_out_of(page, fishing), "the fishing service was never told of the deletion"
    # No account any more: the email address leads to creating one.
    page.goto(fishing.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Email address").fill(holder.email)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="No GOV.UK One Login found")).to_be_visible()
