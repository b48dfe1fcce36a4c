"""Welsh: chosen by `ui_locales` or the toggle on every page, remembered in a cookie; every page and error in Welsh."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from werkzeug.test import TestResponse

from tests.helpers import Browser, Citizen, RelyingPartyUnderTest, create_citizen, latest_code_to

CATALOGUE = Path(__file__).resolve().parents[2] / "idp" / "translations" / "cy" / "LC_MESSAGES" / "messages.po"
_TOGGLE = re.compile(r'<nav[^>]*data-testid="language-toggle".*?</nav>', re.S)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _title(response: TestResponse) -> str:
    match = _TITLE.search(_html(response))
    assert match, "every page has a title"
    return html.unescape(match.group(1)).strip()


def _html_lang(response: TestResponse) -> str:
    match = re.search(r'<html lang="([a-z]+)"', _html(response))
    assert match
    return match.group(1)


def _visible_text(response: TestResponse) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", _html(response), flags=re.S)
    page = re.sub(r"<[^>]+>", " ", _TOGGLE.sub(" ", page))
    return re.sub(r"\s+", " ", html.unescape(page))


def _toggle_links(response: TestResponse) -> dict[str, str]:
    toggle = _TOGGLE.search(_html(response))
    assert toggle, "every page has the language toggle"
    return {
        lang: html.unescape(href)
        for href, lang in re.findall(r'<a class="govuk-link" href="([^"]+)" lang="([a-z]+)" hreflang="\2"', toggle[0])
    }


def _cookie(response: TestResponse, name: str) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


# -- ui_locales ---------------------------------------------------------------------------------------------------


def test_ui_locales_cy_shows_the_sign_in_page_in_welsh_and_sets_the_cookie(
    browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    first = browser.get("/authorize?" + "&".join(f"{k}={v}" for k, v in rp.authorize_params(ui_locales="cy").items()))
    assert first.status_code == 302
    cookie = _cookie(first, "lang")
    assert cookie is not None and cookie.startswith("lang=cy;"), "ui_locales sets the language cookie"
    page = browser.follow(first)
    assert page.request.path == "/sign-in"
    assert _html_lang(page) == "cy"
    assert _title(page) == "Rhowch eich cyfeiriad e-bost i fewngofnodi i’ch GOV.UK One Login – GOV.UK One Login"
    text = _visible_text(page)
    assert "Cyfeiriad e-bost" in text and "Parhau" in text and "Creu GOV.UK One Login" in text
    assert "Email address" not in text


def test_an_unsupported_language_is_ignored(browser: Browser) -> None:
    page = browser.get("/sign-in?lang=fr")
    assert _html_lang(page) == "en"
    assert "Enter your email address to sign in" in _visible_text(page)
    assert _cookie(page, "lang") is None


# -- the toggle ---------------------------------------------------------------------------------------------------


def test_the_toggle_switches_language_on_the_same_page_and_a_cookie_remembers_it(app: Flask, browser: Browser) -> None:
    english = browser.get("/sign-in")
    assert _html_lang(english) == "en"
    assert '<span lang="en" aria-current="true">English</span>' in _html(english), "the current language is no link"
    links = _toggle_links(english)
    assert set(links) == {"cy"}
    assert links["cy"] == "?lang=cy"

    welsh = browser.get("/sign-in" + links["cy"])
    assert welsh.request.path == "/sign-in"
    assert _html_lang(welsh) == "cy"
    assert '<span lang="cy" aria-current="true">Cymraeg</span>' in _html(welsh)
    assert _toggle_links(welsh) == {"en": "?lang=en"}
    cookie = _cookie(welsh, "lang")
    assert cookie is not None
    assert cookie.startswith("lang=cy;")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Max-Age=31536000" in cookie

    # The next page, without the parameter, is still Welsh.
    assert _html_lang(browser.get("/create-account")) == "cy"

    # A new session with only the cookie (the session has ended) is still Welsh.
    fresh = app.test_client()
    fresh.set_cookie("lang", "cy")
    assert _html_lang(fresh.get("/accessibility-statement")) == "cy"

    # And toggling back to English sticks too.
    back = browser.get("/terms-and-conditions" + _toggle_links(browser.get("/terms-and-conditions"))["en"])
    assert back.request.path == "/terms-and-conditions"
    assert _html_lang(back) == "en"
    assert (_cookie(back, "lang") or "").startswith("lang=en;")
    assert _html_lang(browser.get("/sign-in")) == "en"


def test_the_toggle_overrides_the_language_ui_locales_chose(browser: Browser, rp: RelyingPartyUnderTest) -> None:
    page = browser.authorize(rp.authorize_params(ui_locales="cy"))
    assert _html_lang(page) == "cy"
    english = browser.get(page.request.path + _toggle_links(page)["en"])
    assert _html_lang(english) == "en"
    assert _html_lang(browser.get("/sign-in")) == "en"


def test_the_toggle_keeps_the_rest_of_the_address(browser: Browser) -> None:
    page = browser.get("/signed-out?error_code=invalid_request&error_description=Bad+thing")
    link = _toggle_links(page)["cy"]
    assert link.startswith("?")
    assert "error_code=invalid_request" in link and "error_description=Bad+thing" in link and "lang=cy" in link
    assert link.count("lang=") == 1
    again = _toggle_links(browser.get("/signed-out" + link))["en"]
    assert again.count("lang=") == 1 and "lang=en" in again


@pytest.mark.parametrize("path", ["//elsewhere.example/page", "/\\elsewhere.example/page"])
def test_the_toggle_never_links_to_another_site(browser: Browser, path: str) -> None:
    page = browser.get(path)
    assert page.status_code == 404
    assert all(link.startswith("?lang=") for link in _toggle_links(page).values())


def test_the_language_cookie_is_secure_under_https(app: Flask, browser: Browser) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        cookie = _cookie(browser.get("/sign-in?lang=cy"), "lang")
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    assert cookie is not None and "Secure" in cookie


# -- form errors --------------------------------------------------------------------------------------------------


def _welsh(browser: Browser) -> None:
    browser.client.set_cookie("lang", "cy")


def test_email_errors_are_in_welsh(browser: Browser) -> None:
    _welsh(browser)
    browser.get("/sign-in")
    page = browser.post_form("/sign-in", {"email": ""})
    assert page.status_code == 200
    assert _title(page).startswith("Gwall: Rhowch eich cyfeiriad e-bost")
    assert _title(page).endswith("– GOV.UK One Login")
    body = _html(page)
    assert "Mae problem wedi codi" in body, "the error summary's title"
    assert '<a href="#email">Rhowch eich cyfeiriad e-bost</a>' in body, "the summary links to the field"
    assert '<span class="govuk-visually-hidden">Gwall:</span> Rhowch eich cyfeiriad e-bost' in body
    assert "There is a problem" not in body and "Error:" not in body

    page = browser.post_form("/sign-in", {"email": "not an address"})
    assert "Rhowch gyfeiriad e-bost yn y fformat cywir, fel enw@enghraifft.com" in _html(page)
    page = browser.post_form("/sign-in", {"email": "a" * 250 + "@example.com"})
    assert "Mae’n rhaid i’ch cyfeiriad e-bost fod yn 256 nod neu lai" in _html(page)


def test_password_errors_are_in_welsh(app: Flask, browser: Browser) -> None:
    _welsh(browser)
    browser.get("/create-account")
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    browser.follow(browser.post_form("/create-account", {"email": email}))
    browser.follow(browser.post_form("/create-account/check-email", {"code": latest_code_to(app, email)}))
    page = browser.post_form("/create-account/password", {"password": "short1", "confirm_password": "short1"})
    assert "Mae’n rhaid i’ch cyfrinair fod o leiaf 8 nod o hyd" in _html(page)
    assert 'data-i18n.show-password="Dangos"' in _html(page), "the show/hide button speaks Welsh too"
    page = browser.post_form("/create-account/password", {"password": "lettersonly", "confirm_password": "x"})
    body = _html(page)
    assert "Mae’n rhaid i’ch cyfrinair gynnwys llythrennau a rhifau" in body
    assert "Rhowch yr un cyfrinair yn y ddau faes" in body


def test_sign_in_errors_and_the_lockout_page_are_in_welsh(app: Flask, browser: Browser) -> None:
    citizen = create_citizen(app)
    _welsh(browser)
    browser.get("/sign-in")
    page = browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    assert page.request.path == "/sign-in/password"
    assert f"Rydych yn mewngofnodi fel {citizen.email}." in _visible_text(page)
    page = browser.post_form("/sign-in/password", {"password": "wrong password 1"})
    assert "Cyfrinair anghywir" in _html(page)
    for _ in range(int(app.config["IDP_SIGN_IN_ATTEMPTS"]) - 1):
        page = browser.post_form("/sign-in/password", {"password": "wrong password 1"})
    assert page.status_code == 429
    assert _title(page) == "Ni allwch fewngofnodi ar hyn o bryd – GOV.UK One Login"
    assert "Gallwch roi cynnig arall arni mewn 15 munud." in _visible_text(page)


def test_security_code_errors_are_in_welsh(app: Flask, browser: Browser) -> None:
    citizen = create_citizen(app)
    _welsh(browser)
    browser.get("/sign-in")
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    page = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    assert page.request.path == "/sign-in/security-code"
    page = browser.post_form("/sign-in/security-code", {"code": "12ab"})
    assert "Mae’n rhaid i’r cod diogelwch gynnwys rhifau yn unig" in _html(page)
    page = browser.post_form("/sign-in/security-code", {"code": "12345"})
    assert "Rhowch y cod diogelwch gan ddefnyddio 6 digid yn unig" in _html(page)


def test_a_form_posted_without_its_csrf_token_gets_a_welsh_page(browser: Browser) -> None:
    _welsh(browser)
    browser.get("/sign-in")
    page = browser.client.post("/sign-in", data={"email": "someone@example.com"})
    assert page.status_code == 400
    assert _html_lang(page) == "cy"
    assert "Nid oeddem yn gallu gwirio mai chi anfonodd y ffurflen hon." in _visible_text(page)


# -- every page ---------------------------------------------------------------------------------------------------


def _pages(app: Flask, browser: Browser) -> Iterator[tuple[str, TestResponse]]:
    """Every page a citizen can reach today, in the language the browser has chosen."""
    for path in (
        "/sign-in",
        "/create-account",
        "/signed-in",
        "/signed-out",
        "/signed-out?error_code=invalid_request&error_description=x",
        "/session-expired",
        "/accessibility-statement",
        "/cookies",
        "/privacy-notice",
        "/terms-and-conditions",
        "/no-such-page",
    ):
        yield path, browser.get(path)
    citizen: Citizen = create_citizen(app)
    browser.get("/sign-in")
    yield "no account", browser.post_form("/sign-in", {"email": f"nobody-{uuid.uuid4().hex[:6]}@example.com"})
    browser.get("/create-account")
    yield "account exists", browser.post_form("/create-account", {"email": citizen.email})
    browser.get("/sign-in")
    yield "password", browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    yield "security code", browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    browser.get("/create-account")
    new_email = f"n-{uuid.uuid4().hex}@x.uk"
    yield "check your email", browser.follow(browser.post_form("/create-account", {"email": new_email}))
    code = latest_code_to(app, new_email)
    yield "new password", browser.follow(browser.post_form("/create-account/check-email", {"code": code}))
    yield (
        "choose how to get security codes",
        browser.follow(
            browser.post_form(
                "/create-account/password", {"password": "a good passw0rd", "confirm_password": "a good passw0rd"}
            )
        ),
    )
    yield "set up an app", browser.get("/set-up-authenticator-app")
    yield "set up text messages", browser.get("/set-up-text-message")
    mobile = {"phone_number": "07123 456789"}
    yield "check your phone", browser.follow(browser.post_form("/set-up-text-message", mobile))


def _english_sentences() -> list[str]:
    """The English of every catalogue entry of three words or more that Welsh words differently."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    sentences = []
    for message in catalogue:
        english = str(message.id[0] if isinstance(message.id, tuple | list) else message.id)
        if english and len(english.split()) >= 3 and "%(" not in english and message.string != english:
            sentences.append(english)
    return sentences


@pytest.mark.parametrize("locale", ["en", "cy"])
def test_every_page_is_in_the_chosen_language_with_a_govuk_title(app: Flask, browser: Browser, locale: str) -> None:
    browser.client.set_cookie("lang", locale)
    english = _english_sentences()
    seen = 0
    for name, page in _pages(app, browser):
        assert page.mimetype == "text/html", name
        assert _html_lang(page) == locale, name
        assert _title(page).endswith(" – GOV.UK One Login"), name
        assert 'class="govuk-skip-link"' in _html(page), name
        assert "/cookies" in _html(page) and "/accessibility-statement" in _html(page), name
        text = _visible_text(page)
        if locale == "cy":
            leftovers = [sentence for sentence in english if sentence in text]
            assert not leftovers, f"{name} still has English: {leftovers}"
            assert "Neidio i’r prif gynnwys" in text and "© Hawlfraint y Goron" in text, name
        seen += 1
    assert seen == 21


@pytest.mark.parametrize(
    ("locale", "heading"),
    [("en", "Sorry, there is a problem with the service"), ("cy", "Mae’n ddrwg gennym, mae problem gyda’r gwasanaeth")],
)
def test_the_server_error_page_is_in_the_chosen_language(app: Flask, locale: str, heading: str) -> None:
    handler: Any = app.error_handler_spec[None][500][next(iter(app.error_handler_spec[None][500]))]
    with app.test_request_context(f"/sign-in?lang={locale}"):
        response = app.make_response(handler(RuntimeError("boom")))
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert f'<html lang="{locale}"' in body
    assert heading in body
    assert "boom" not in body
