"""Security properties of the web pages: headers, cookies, sessions, CSRF, lockouts, open redirects, access rules."""

from __future__ import annotations

import math
import re
from urllib.parse import urlencode, urlsplit

import pyotp
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, User
from tests.helpers import Browser, RelyingPartyUnderTest, latest_code_to, sign_in
from tests.integration._support import (
    SECURITY_CODE_ERROR,
    QuickCitizen,
    authorize_query,
    quick_citizen,
    redirected_to,
)

CSRF_FAILED = "We could not check that this form came from you"
# /authorize is called by RPs, not by forms of this provider (/token and /userinfo are not Flask routes at all).
CSRF_EXEMPT_ENDPOINTS = {"oidc.authorize"}


def _counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User)) or 0
        events = db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return users, events


def _audit(app: Flask, event: str, user_id: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.event == event, AuditEvent.user_id == user_id))
        )
        db.session.expunge_all()
        return rows


def _to_password_page(browser: Browser, rp: RelyingPartyUnderTest, citizen: QuickCitizen) -> None:
    response = browser.authorize(rp.authorize_params())
    assert response.request.path == "/sign-in"
    response = browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    assert response.request.path == "/sign-in/password"


# -- headers and cookies ----------------------------------------------------------------------------------------


def test_security_headers_on_an_html_page(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    response = browser.authorize(rp.authorize_params())
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    directives = {d.strip().split()[0]: d.strip().split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'self'" in directives["default-src"]
    assert "'unsafe-inline'" not in directives.get("script-src", [])
    assert "*" not in csp.split()
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in (
        "no-referrer",
        "strict-origin",
        "same-origin",
        "strict-origin-when-cross-origin",
    )
    assert "Strict-Transport-Security" not in headers


def test_security_headers_on_other_pages(app: Flask) -> None:
    client = app.test_client()
    for path in ("/signed-out", "/sign-in", "/no-such-page"):
        response = client.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert "Strict-Transport-Security" not in response.headers, path


def test_session_cookie_is_http_only_and_same_site_lax(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    response = browser.client.get(authorize_query(rp.authorize_params()))
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("idp_session=")]
    assert len(cookies) == 1
    attributes = {part.strip().split("=")[0].lower(): part for part in cookies[0].split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].strip().lower() == "samesite=lax"
    # Over plain http (the test issuer), the cookie cannot be Secure or the browser would drop it.
    assert "secure" not in attributes


def _session_id(browser: Browser) -> str | None:
    cookie = browser.client.get_cookie("idp_session")
    return cookie.value if cookie else None


def test_session_id_changes_at_sign_in(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _to_password_page(browser, rp, citizen)
    before = _session_id(browser)
    assert before
    response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    response = browser.follow(browser.post_form("/sign-in/security-code", {"code": citizen.totp_code()}))
    assert "code" in redirected_to(response, rp.redirect_uri)
    after = _session_id(browser)
    assert after and after != before

    # An attacker who planted (or read) the old id gains nothing from it.
    attacker = Browser(app.test_client())
    attacker.client.set_cookie("idp_session", before)
    response = attacker.get(authorize_query(rp.authorize_params(prompt="none")))
    assert redirected_to(response, rp.redirect_uri)["error"] == "login_required"


def test_planted_session_id_is_not_adopted(app: Flask, rp: RelyingPartyUnderTest) -> None:
    browser = Browser(app.test_client())
    browser.client.set_cookie("idp_session", "attacker-chosen-session-id")
    sign_in(browser, rp, quick_citizen(app))
    assert _session_id(browser) != "attacker-chosen-session-id"


# -- CSRF -------------------------------------------------------------------------------------------------------


def _post_form_rules(app: Flask) -> list[str]:
    paths = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.endpoint in CSRF_EXEMPT_ENDPOINTS:
            continue
        paths.append(adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, "1")))
    return sorted(set(paths))


def test_every_post_form_without_a_csrf_token_is_refused(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    paths = _post_form_rules(app)
    assert {"/sign-in", "/sign-in/password", "/sign-in/security-code", "/create-account"} <= set(paths)

    # Put the session where every form would act: a citizen at the password step, a new email waiting.
    _to_password_page(browser, rp, citizen)
    browser.get("/create-account")
    browser.post_form("/create-account", {"email": "csrf-new@example.com"})
    users, events = _counts(app)

    data = {
        "email": "someone@example.com",
        "password": "wrong password 1",
        "confirm_password": "wrong password 1",
        "code": "123456",
    }
    for path in paths:
        for token in (None, "forged-token"):
            form = dict(data) if token is None else {**data, "csrf_token": token}
            response = browser.client.post(path, data=form)
            assert response.status_code == 400, (path, response.status_code)
            assert CSRF_FAILED in response.get_data(as_text=True), path
    assert _counts(app) == (users, events)
    # The session was not disturbed: the real form still works.
    browser.get("/sign-in/password")
    response = browser.post_form("/sign-in/password", {"password": citizen.password})
    assert response.status_code == 302


def test_csrf_token_of_another_session_is_refused(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    other = Browser(app.test_client())
    other.get("/sign-in")
    _to_password_page(browser, rp, citizen)
    response = browser.client.post("/sign-in/password", data={"password": "wrong", "csrf_token": _csrf(other)})
    assert response.status_code == 400
    assert _audit(app, "password_failed", citizen.user_id) == []


# -- lockouts ---------------------------------------------------------------------------------------------------


def test_six_wrong_passwords_lock_the_password_step(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    attempts = int(app.config["IDP_SIGN_IN_ATTEMPTS"])
    minutes = math.ceil(int(app.config["IDP_SIGN_IN_LOCKOUT_SECONDS"]) / 60)
    assert attempts == 6
    _to_password_page(browser, rp, citizen)
    for attempt in range(1, attempts):
        response = browser.post_form("/sign-in/password", {"password": f"wrong password {attempt}"})
        assert response.status_code == 200, attempt
        assert "Incorrect password" in response.get_data(as_text=True)
    locked = browser.post_form("/sign-in/password", {"password": "wrong password 6"})
    assert locked.status_code == 429
    page = locked.get_data(as_text=True)
    assert "You cannot sign in at the moment" in page
    assert f"You can try again in {minutes} minutes." in page

    lockouts = _audit(app, "lockout", citizen.user_id)
    assert len(lockouts) == 1
    assert lockouts[0].details.get("step") == "password"
    assert len(_audit(app, "password_failed", citizen.user_id)) == attempts

    # The right password is refused while locked, in this browser and in another one.
    assert browser.get("/sign-in/password").status_code == 429
    browser.get("/sign-in")  # a page with a CSRF token of this session
    refused = browser.client.post(
        "/sign-in/password", data={"password": citizen.password, "csrf_token": _csrf(browser)}
    )
    assert refused.status_code == 429
    other = Browser(app.test_client())
    assert other.authorize(rp.authorize_params()).request.path == "/sign-in"
    response = other.follow(other.post_form("/sign-in", {"email": citizen.email}))
    assert response.status_code == 429
    assert _audit(app, "sign_in", citizen.user_id) == []


def test_right_password_after_lockout_is_refused(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _to_password_page(browser, rp, citizen)
    for attempt in range(6):
        browser.post_form("/sign-in/password", {"password": f"wrong password {attempt}"})
    other = Browser(app.test_client())
    page = other.authorize(rp.authorize_params())
    assert page.request.path == "/sign-in"
    other.follow(other.post_form("/sign-in", {"email": citizen.email}))
    # Even with a CSRF token from a fresh page the password is not checked.
    other.get("/sign-in")
    response = other.post_form("/sign-in/password", {"password": citizen.password})
    assert response.status_code == 429
    assert "You can try again in" in response.get_data(as_text=True)
    assert _audit(app, "sign_in", citizen.user_id) == []


def test_six_wrong_security_codes_lock_the_code_step(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _to_password_page(browser, rp, citizen)
    response = browser.follow(browser.post_form("/sign-in/password", {"password": citizen.password}))
    assert response.request.path == "/sign-in/security-code"
    for attempt in range(1, 6):
        response = browser.post_form("/sign-in/security-code", {"code": citizen.wrong_code()})
        assert response.status_code == 200, attempt
        assert SECURITY_CODE_ERROR in response.get_data(as_text=True)
    locked = browser.post_form("/sign-in/security-code", {"code": citizen.wrong_code()})
    assert locked.status_code == 429
    assert "You can try again in 15 minutes." in locked.get_data(as_text=True)
    lockouts = _audit(app, "lockout", citizen.user_id)
    assert [e.details.get("step") for e in lockouts] == ["security_code"]

    browser.get("/sign-in")  # a page with a CSRF token
    response = browser.client.post(
        "/sign-in/security-code", data={"code": pyotp.TOTP(citizen.totp_secret).now(), "csrf_token": _csrf(browser)}
    )
    assert response.status_code == 429
    assert _audit(app, "sign_in", citizen.user_id) == []


def _csrf(browser: Browser) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', browser.last_html)
    assert match, "no CSRF token on the last page"
    return match.group(1)


def test_security_code_cannot_be_used_twice(app: Flask, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    code = pyotp.TOTP(citizen.totp_secret).now()
    first = Browser(app.test_client())
    _to_password_page(first, rp, citizen)
    first.follow(first.post_form("/sign-in/password", {"password": citizen.password}))
    assert "code" in redirected_to(
        first.follow(first.post_form("/sign-in/security-code", {"code": code})), rp.redirect_uri
    )

    second = Browser(app.test_client())
    _to_password_page(second, rp, citizen)
    second.follow(second.post_form("/sign-in/password", {"password": citizen.password}))
    replay = second.post_form("/sign-in/security-code", {"code": code})
    assert replay.status_code == 200
    assert SECURITY_CODE_ERROR in replay.get_data(as_text=True)
    assert len(_audit(app, "sign_in", citizen.user_id)) == 1


# -- what the forms show back -------------------------------------------------------------------------------------


def test_mistyped_email_shows_an_error_summary_and_keeps_the_value(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    browser.authorize(rp.authorize_params())
    response = browser.post_form("/sign-in", {"email": "name.example.com"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="govuk-error-summary"' in page
    assert "Enter an email address in the correct format, like name@example.com" in page
    assert 'value="name.example.com"' in page
    assert "<title>Error:" in page


def test_empty_email_shows_an_error_summary(app: Flask, browser: Browser) -> None:
    browser.get("/sign-in")
    response = browser.post_form("/sign-in", {"email": ""})
    assert response.status_code == 200
    assert 'class="govuk-error-summary"' in response.get_data(as_text=True)
    assert "Enter your email address" in response.get_data(as_text=True)


def test_failed_password_is_never_echoed(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    _to_password_page(browser, rp, citizen)
    typed = "Sup3r-Secret-Typo-xyz"
    response = browser.post_form("/sign-in/password", {"password": typed})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="govuk-error-summary"' in page
    assert "Incorrect password" in page
    assert typed not in page
    with app.app_context():
        details = [str(e.details) for e in db.session.scalars(select(AuditEvent))]
    assert not any(typed in d for d in details)


def test_new_password_is_never_echoed(app: Flask, browser: Browser) -> None:
    browser.get("/create-account")
    browser.follow(browser.post_form("/create-account", {"email": "echo-check@example.com"}))
    code = latest_code_to(app, "echo-check@example.com")
    browser.follow(browser.post_form("/create-account/check-email", {"code": code}))
    typed = "Mismatch-Secret-1"
    response = browser.post_form(
        "/create-account/password", {"password": typed, "confirm_password": "Something-else-2"}
    )
    assert response.status_code == 200
    assert 'class="govuk-error-summary"' in response.get_data(as_text=True)
    assert typed not in response.get_data(as_text=True)


# -- open redirects -----------------------------------------------------------------------------------------------


EVIL = "https://evil.example.com/steal"


def test_no_redirect_to_an_unregistered_uri_anywhere(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    sign_in(browser, rp, quick_citizen(app))
    fresh = Browser(app.test_client())
    attempts = [
        authorize_query(rp.authorize_params(redirect_uri=EVIL)),
        authorize_query(rp.authorize_params(redirect_uri=EVIL, prompt="none")),
        authorize_query(rp.authorize_params(redirect_uri=EVIL, state="__omit__")),
        authorize_query({"client_id": "unknown", "redirect_uri": EVIL, "response_type": "code", "scope": "openid"}),
        "/logout?" + urlencode({"post_logout_redirect_uri": EVIL}),
        "/logout?" + urlencode({"post_logout_redirect_uri": EVIL, "id_token_hint": "x.y.z"}),
        "/sign-in?" + urlencode({"next": EVIL, "redirect_uri": EVIL, "return_to": EVIL}),
        "/signed-out?" + urlencode({"redirect_uri": EVIL}),
        "/authorize/continue?" + urlencode({"redirect_uri": EVIL}),
        "/sign-in-or-create?" + urlencode({"redirect_uri": EVIL}),
        "//evil.example.com/steal",
        "/%2F%2Fevil.example.com",
    ]
    for who in (browser, fresh):
        for url in attempts:
            response = who.client.get(url)
            location = response.headers.get("Location", "")
            assert "evil.example.com" not in urlsplit(location).netloc, (url, location)
            assert not location.startswith("//"), (url, location)
    post = browser.client.post("/authorize", data=rp.authorize_params(redirect_uri=EVIL))
    assert "Location" not in post.headers


# -- every route has an access rule -------------------------------------------------------------------------------


def test_every_route_belongs_to_a_blueprint_with_an_access_rule(app: Flask) -> None:
    rules = app.extensions["access_rules"]
    assert rules, "no access rules registered"
    unguarded = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else None
        if blueprint is None or blueprint not in rules:
            unguarded.append(f"{rule.rule} ({rule.endpoint})")
    assert unguarded == []
    assert rules.get("userinfo") == "bearer_token_required"


# -- what is reflected is escaped ---------------------------------------------------------------------------------


def test_reflected_values_are_escaped(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    payload = '"><script>alert(1)</script>'
    page = app.test_client().get("/signed-out?" + urlencode({"error_code": payload, "error_description": payload}))
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.get_data(as_text=True)
    assert "&lt;script&gt;" in page.get_data(as_text=True)

    hinted = browser.authorize(rp.authorize_params(login_hint="a@b.com" + payload))
    assert hinted.request.path == "/sign-in"
    assert "<script>alert(1)</script>" not in hinted.get_data(as_text=True)

    typed = browser.post_form("/sign-in", {"email": payload})
    assert typed.status_code == 200
    assert "<script>alert(1)</script>" not in typed.get_data(as_text=True)
