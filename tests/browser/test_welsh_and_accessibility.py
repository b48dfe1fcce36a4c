"""Every page of the provider, in English and in Welsh, in a real browser: no axe-core violations, the right
`<html lang>`, and a language toggle that keeps the citizen on the same page and is remembered in a cookie."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

import pyotp
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import Stack
from tests.browser.journeys import new_code_sent_to

pytestmark = pytest.mark.browser

PASSWORD = "cymru am byth 2026"


@dataclass(frozen=True)
class Words:
    """What the pages say in one language: the test finds things the way a citizen reads them."""

    locale: str
    language_name: str
    other_language: str
    create_link: str
    email: str
    new_password: str
    confirm_password: str
    password: str
    code: str
    sent_code: str
    authenticator_app: str
    continue_button: str
    problem: str
    enter_email: str
    wrong_password: str
    wrong_code: str
    locked: str
    page_not_found: str
    signed_out: str
    not_now: str


ENGLISH = Words(
    locale="en",
    language_name="English",
    other_language="Cymraeg",
    create_link="Create a GOV.UK One Login",
    email="Email address",
    new_password="Create your password",
    confirm_password="Confirm your password",
    password="Password",
    code="Enter the 6 digit security code shown in your authenticator app",
    sent_code="Enter the 6 digit security code",
    authenticator_app="Authenticator app for smartphone, tablet or computer",
    continue_button="Continue",
    problem="There is a problem",
    enter_email="Enter your email address",
    wrong_password="Incorrect password",
    wrong_code="The security code you entered is not correct, or may have expired, try again.",
    locked="You cannot sign in at the moment",
    page_not_found="Page not found",
    signed_out="You have signed out",
    not_now="Not now",
)
WELSH = Words(
    locale="cy",
    language_name="Cymraeg",
    other_language="English",
    create_link="Creu GOV.UK One Login",
    email="Cyfeiriad e-bost",
    new_password="Creu eich cyfrinair",
    confirm_password="Cadarnhewch eich cyfrinair",
    password="Cyfrinair",
    code="Rhowch y cod diogelwch 6 digid sy’n cael ei ddangos yn eich ap dilysu",
    sent_code="Rhowch y cod diogelwch 6 digid",
    authenticator_app="Ap dilysu ar gyfer ffôn clyfar, llechen neu gyfrifiadur",
    continue_button="Parhau",
    problem="Mae problem wedi codi",
    enter_email="Rhowch eich cyfeiriad e-bost",
    wrong_password="Cyfrinair anghywir",
    wrong_code="Nid yw’r cod diogelwch a roesoch yn gywir, neu efallai ei fod wedi dod i ben, "
    "rhowch gynnig arall arni.",
    locked="Ni allwch fewngofnodi ar hyn o bryd",
    page_not_found="Heb ddod o hyd i’r dudalen",
    signed_out="Rydych wedi allgofnodi",
    not_now="Dim nawr",
)


def _check(page: Page, words: Words, context: str) -> None:
    """The page is in the chosen language, its title is GOV.UK's, and axe-core finds nothing."""
    expect(page.locator("html")).to_have_attribute("lang", words.locale)
    expect(page).to_have_title(re.compile(r" – GOV\.UK One Login$"))
    toggle = page.get_by_test_id("language-toggle")
    expect(toggle.locator('[aria-current="true"]')).to_have_text(words.language_name)
    expect(toggle.get_by_role("link")).to_have_attribute("hreflang", "cy" if words.locale == "en" else "en")
    assert_no_axe_violations(page, f"{context} ({words.locale})")


def _language_cookie(context: BrowserContext) -> dict[str, object]:
    cookies = [cookie for cookie in context.cookies() if cookie["name"] == "lang"]
    assert len(cookies) == 1
    return dict(cookies[0])


def _choose(page: Page, words: Words) -> None:
    """Use the toggle, if the page is not already in the language, and check it kept the citizen on the page."""
    if page.locator("html").get_attribute("lang") == words.locale:
        return
    before = page.url.split("?")[0]
    page.get_by_test_id("language-toggle").get_by_role("link", name=words.language_name).click()
    expect(page.locator("html")).to_have_attribute("lang", words.locale)
    assert page.url.split("?")[0] == before, "the toggle keeps the citizen on the same page"
    cookie = _language_cookie(page.context)
    assert cookie["value"] == words.locale and cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"


def _submit(page: Page, words: Words) -> None:
    page.get_by_role("button", name=words.continue_button, exact=True).click()


def _error_summary(page: Page, words: Words, message: str) -> None:
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(words.problem)
    expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(page).to_have_title(re.compile("^" + ("Error" if words.locale == "en" else "Gwall") + ": "))


@pytest.mark.parametrize("words", [ENGLISH, WELSH], ids=["en", "cy"])
def test_every_page_in_both_languages_passes_axe(stack: Stack, page: Page, words: Words) -> None:
    fishing, _ = stack.services
    email = f"citizen-{uuid.uuid4().hex[:8]}@example.com"

    # Start at a service; choose the language on the provider's first page with the toggle.
    page.goto(fishing.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(stack.provider_url) + "sign-in"))
    _choose(page, words)
    _check(page, words, "sign in: email")
    _submit(page, words)
    _error_summary(page, words, words.enter_email)
    _check(page, words, "sign in: email, with an error")

    # Create an account: an unknown email first, then the create-account steps, each with its errors.
    page.get_by_label(words.email, exact=True).fill(email)
    _submit(page, words)
    _check(page, words, "no account found")
    page.get_by_role("button", name=words.create_link).click()
    _check(page, words, "create an account: email")
    _submit(page, words)
    _check(page, words, "create an account: check your email")
    page.get_by_label(words.sent_code, exact=True).fill("12ab56")
    _submit(page, words)
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page, words, "create an account: check your email, with an error")
    page.get_by_label(words.sent_code, exact=True).fill(new_code_sent_to(page.context, stack, email))
    _submit(page, words)
    _check(page, words, "create an account: password")
    page.get_by_label(words.new_password, exact=True).fill("short")
    page.get_by_label(words.confirm_password, exact=True).fill("other")
    _submit(page, words)
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page, words, "create an account: password, with errors")
    page.get_by_label(words.new_password, exact=True).fill(PASSWORD)
    page.get_by_label(words.confirm_password, exact=True).fill(PASSWORD)
    _submit(page, words)
    _check(page, words, "choose how to get security codes")
    page.get_by_label(words.authenticator_app, exact=True).check()
    _submit(page, words)
    _check(page, words, "set up an authenticator app")
    secret = page.get_by_test_id("secret-key").inner_text().replace(" ", "")
    page.get_by_label(words.code).fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    _submit(page, words)
    _error_summary(page, words, words.wrong_code)
    _check(page, words, "set up an authenticator app, with an error")
    page.get_by_label(words.code).fill(pyotp.TOTP(secret).now())
    _submit(page, words)
    _check(page, words, "offer a passkey")
    page.get_by_role("button", name=words.not_now, exact=True).click()
    expect(page).to_have_url(fishing.base_url + "/account")

    # Sign out at the service; the provider's pages stay in the chosen language (the cookie remembers it).
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(re.escape(fishing.base_url) + "/signed-out"))
    if words.locale == "cy":
        assert _language_cookie(page.context)["value"] == "cy"

    # Sign in again: password and security code, each wrong once.
    page.goto(fishing.base_url + "/")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(stack.provider_url) + "sign-in"))
    expect(page.locator("html")).to_have_attribute("lang", words.locale)
    page.get_by_label(words.email, exact=True).fill(email)
    _submit(page, words)
    _check(page, words, "sign in: password")
    page.get_by_label(words.password, exact=True).fill("not my password 1")
    _submit(page, words)
    _error_summary(page, words, words.wrong_password)
    _check(page, words, "sign in: password, with an error")
    page.get_by_label(words.password, exact=True).fill(PASSWORD)
    _submit(page, words)
    _check(page, words, "sign in: security code")
    page.get_by_label(words.code).fill("12ab56")
    _submit(page, words)
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    _check(page, words, "sign in: security code, with an error")
    # The code of the next time step: the one used at set-up cannot be used twice.
    page.get_by_label(words.code).fill(pyotp.TOTP(secret).at(time.time() + 30))
    _submit(page, words)
    expect(page).to_have_url(fishing.base_url + "/account")

    # The provider's own pages.
    for path, context in (
        ("signed-in", "signed in"),
        ("signed-out", "signed out"),
        ("signed-out?error_code=invalid_request&error_description=Missing+parameter", "signed out, with an error"),
        ("session-expired", "session expired"),
        ("accessibility-statement", "accessibility statement"),
        ("cookies", "cookies"),
        ("privacy-notice", "privacy notice"),
        ("terms-and-conditions", "terms and conditions"),
        ("no-such-page", "page not found"),
    ):
        page.goto(stack.provider_url + path)
        _check(page, words, context)
    expect(page.get_by_role("heading", level=1)).to_have_text(words.page_not_found)

    # A form whose CSRF token is missing gets an error page, not a stack trace.
    page.goto(stack.provider_url + "sign-in")
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    page.get_by_label(words.email, exact=True).fill(email)
    _submit(page, words)
    _check(page, words, "form not accepted (CSRF)")

    # Too many wrong passwords lock the step, with a page that says when to try again.
    page.goto(stack.provider_url + "sign-in")
    page.get_by_label(words.email, exact=True).fill(email)
    _submit(page, words)
    for _ in range(6):
        if page.get_by_role("heading", level=1).inner_text() == words.locked:
            break
        page.get_by_label(words.password, exact=True).fill("not my password 1")
        _submit(page, words)
    expect(page.get_by_role("heading", level=1)).to_have_text(words.locked)
    _check(page, words, "locked")


def test_the_toggle_works_on_every_static_page_and_is_remembered(stack: Stack, page: Page) -> None:
    page.goto(stack.provider_url + "privacy-notice")
    _check(page, ENGLISH, "privacy notice")
    _choose(page, WELSH)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hysbysiad preifatrwydd")
    page.get_by_role("link", name="Telerau ac amodau").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    # A new tab in the same browser, with a session the provider has never seen, still speaks Welsh.
    page.context.clear_cookies(name="idp_session")
    page.goto(stack.provider_url + "cookies")
    _check(page, WELSH, "cookies")
    _choose(page, ENGLISH)
    expect(page.get_by_role("heading", level=1)).to_have_text("Cookies")
    page.goto(stack.provider_url + "accessibility-statement")
    expect(page.locator("html")).to_have_attribute("lang", "en")
