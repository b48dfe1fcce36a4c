"""The citizen's account at /account: access, the overview, change password, sign out everywhere, delete."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from sqlalchemy import select

from idp.account.deletion import delete_account
from idp.extensions import db
from idp.models import AuditEvent, OutboxMessage, RelyingPartySignIn, User
from idp.services import current_services
from idp.web.access import safe_return_path
from tests.helpers import Browser, RelyingPartyUnderTest, sign_in
from tests.integration._support import QuickCitizen, complete_sign_in, quick_citizen

CSRF_FAILED = "We could not check that this form came from you"
NEW_PASSWORD = "a brand new password 7"


def _events(app: Flask, user_id: str, event: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.user_id == user_id).order_by(AuditEvent.id)
        if event:
            query = query.where(AuditEvent.event == event)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def _password_hash(app: Flask, user_id: str) -> str | None:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.password_hash if user else None


def _signed_in_at_account(app: Flask, browser: Browser, citizen: QuickCitizen) -> None:
    response = complete_sign_in(browser, browser.get("/account"), citizen)
    assert response.status_code == 200
    assert response.request.path == "/account"


def _csrf(browser: Browser) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', browser.last_html)
    assert match, "no CSRF token on the last page"
    return match.group(1)


def _password_works(app: Flask, user_id: str, password: str) -> bool:
    with app.app_context():
        return current_services().passwords.verify(_password_hash(app, user_id), password)


# -- access -----------------------------------------------------------------------------------------------------------


def test_the_account_is_behind_the_signed_in_rule(app: Flask) -> None:
    assert app.extensions["access_rules"]["account"] == "signed_in"


@pytest.mark.parametrize(
    "path",
    [
        "/account",
        "/account/change-password",
        "/account/sign-out-everywhere",
        "/account/delete",
        "/account/change-email",
    ],
)
def test_a_citizen_not_signed_in_is_sent_to_sign_in(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.location.endswith("/sign-in-or-create")


def test_signing_in_brings_the_citizen_back_to_the_page_they_asked_for(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    response = complete_sign_in(browser, browser.get("/account/change-password"), citizen)
    assert response.status_code == 200
    assert response.request.path == "/account/change-password"
    assert "Change your password" in response.get_data(as_text=True)


def test_a_session_signed_in_with_one_factor_steps_up_for_the_account(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen, vtr='["Cl"]')
    response = browser.follow(browser.get("/account"))
    assert response.request.path == "/sign-in/security-code"
    response = browser.follow(browser.post_form("/sign-in/security-code", {"code": citizen.totp_code()}))
    assert response.request.path == "/account"


def test_a_posted_form_without_a_session_changes_nothing(app: Flask) -> None:
    citizen = quick_citizen(app)
    client = app.test_client()
    response = client.post("/account/delete", data={"password": citizen.password})
    assert response.status_code in (302, 400)
    with app.app_context():
        assert db.session.get(User, citizen.user_id) is not None


def test_a_suspended_account_can_change_nothing(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    browser.get("/account/change-password")
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.suspended = True
        db.session.commit()
    before = _password_hash(app, citizen.user_id)
    response = browser.post_form(
        "/account/change-password",
        {"current_password": citizen.password, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response.location.endswith("/sign-in")
    assert _password_hash(app, citizen.user_id) == before
    assert browser.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/account", "/account"),
        ("/account?x=1", "/account?x=1"),
        ("//evil.example.com/", None),
        ("https://evil.example.com/", None),
        ("/\\evil.example.com", None),
        ("account", None),
        (None, None),
    ],
)
def test_only_local_paths_are_returned_to(path: str | None, expected: str | None) -> None:
    assert safe_return_path(path) == expected


# -- the overview -----------------------------------------------------------------------------------------------------


def test_the_overview_lists_services_used_and_sign_in_activity(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    fishing = RelyingPartyUnderTest.register(app, name="Apply for a fishing licence")
    vehicles = RelyingPartyUnderTest.register(app, name="Register a vehicle")
    sign_in(browser, fishing, citizen)
    sign_in(browser, vehicles, citizen)
    stranger = Browser(app.test_client())
    response = stranger.authorize(fishing.authorize_params())
    stranger.follow(stranger.post_form("/sign-in", {"email": citizen.email}))
    stranger.post_form("/sign-in/password", {"password": "not the password 1"})

    page = browser.get("/account").get_data(as_text=True)
    assert response.status_code == 200
    assert citizen.email in page
    services = page[page.index("Your services") : page.index("Sign-in activity")]
    assert "Apply for a fishing licence" in services
    assert "Register a vehicle" in services
    assert services.index("Register a vehicle") < services.index("Apply for a fishing licence")
    assert "Last used: " in services
    activity = page[page.index('data-testid="activity"') :]
    assert "Signed in" in activity
    assert "Wrong password entered" in activity
    assert "Used Register a vehicle" in activity and "Used Apply for a fishing licence" in activity
    assert time.strftime("%Y") in activity
    assert 'href="/account/passkeys"' in page


def test_the_overview_shows_lockouts(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    stranger = Browser(app.test_client())
    stranger.authorize(rp.authorize_params())
    stranger.follow(stranger.post_form("/sign-in", {"email": citizen.email}))
    for attempt in range(int(app.config["IDP_SIGN_IN_ATTEMPTS"])):
        stranger.post_form("/sign-in/password", {"password": f"wrong {attempt}"})
    with app.app_context():
        current_services().store.delete(f"lock:password:{citizen.user_id}")
    _signed_in_at_account(app, browser, citizen)
    assert "Locked after too many attempts" in browser.last_html


def test_the_overview_in_welsh(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    page = browser.get("/account?lang=cy").get_data(as_text=True)
    assert 'lang="cy"' in page
    assert "Eich GOV.UK One Login" in page


def test_another_citizens_activity_is_not_shown(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    other = quick_citizen(app)
    sign_in(Browser(app.test_client()), rp, other)
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    assert "Test service" not in browser.last_html
    assert other.email not in browser.last_html


# -- change password --------------------------------------------------------------------------------------------------


def _change_password(browser: Browser, current: str, new: str, confirm: str | None = None) -> str:
    browser.get("/account/change-password")
    response = browser.post_form(
        "/account/change-password",
        {"current_password": current, "password": new, "confirm_password": new if confirm is None else confirm},
    )
    if response.status_code == 302:
        return browser.follow(response).get_data(as_text=True)
    assert response.status_code in (200, 429)
    return response.get_data(as_text=True)


def test_change_password(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    elsewhere = Browser(app.test_client())
    _signed_in_at_account(app, elsewhere, citizen)
    _signed_in_at_account(app, browser, citizen)
    page = _change_password(browser, citizen.password, NEW_PASSWORD)
    assert "You have changed your password" in page
    assert _password_works(app, citizen.user_id, NEW_PASSWORD)
    assert not _password_works(app, citizen.user_id, citizen.password)
    assert len(_events(app, citizen.user_id, "password_changed")) == 1
    assert "Password changed" in browser.get("/account").get_data(as_text=True)
    # Every other session ends; this one goes on.
    assert elsewhere.get("/account").location.endswith("/sign-in-or-create")
    assert browser.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong password 1", NEW_PASSWORD, None, "Incorrect password"),
        ("", NEW_PASSWORD, None, "Enter your current password"),
        (None, None, None, "You are already using that password. Enter a different password"),
        (None, "short1", None, "Your password must be at least 8 characters long"),
        (None, "onlyletters", None, "Your password must include letters and numbers"),
        (None, NEW_PASSWORD, "something else 1", "Enter the same password in both fields"),
        (None, "", None, "Enter a new password"),
    ],
)
def test_a_bad_password_change_says_why_and_changes_nothing(
    app: Flask, browser: Browser, current: str | None, new: str | None, confirm: str | None, message: str
) -> None:
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    before = _password_hash(app, citizen.user_id)
    page = _change_password(browser, citizen.password if current is None else current, new or citizen.password, confirm)
    if new == "":
        browser.get("/account/change-password")
        page = browser.post_form(
            "/account/change-password", {"current_password": citizen.password, "password": "", "confirm_password": ""}
        ).get_data(as_text=True)
    assert message in page
    assert "govuk-error-summary" in page
    assert _password_hash(app, citizen.user_id) == before
    assert _events(app, citizen.user_id, "password_changed") == []


def test_the_email_address_cannot_be_the_new_password(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app, email="abc123@example.com")
    _signed_in_at_account(app, browser, citizen)
    page = _change_password(browser, citizen.password, "abc123@example.com")
    assert "Your password must not be the same as your email address" in page
    assert _password_works(app, citizen.user_id, citizen.password)


def test_wrong_current_passwords_lock_the_password(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    attempts = int(app.config["IDP_SIGN_IN_ATTEMPTS"])
    for attempt in range(attempts - 1):
        assert "Incorrect password" in _change_password(browser, f"wrong {attempt}", NEW_PASSWORD)
    page = _change_password(browser, "wrong again 9", NEW_PASSWORD)
    assert "You can try again in 15 minutes." in page
    assert "You entered the wrong password too many times." in page
    # Locked: even the right password changes nothing.
    assert browser.get("/account/change-password").status_code == 429
    assert [e.details.get("step") for e in _events(app, citizen.user_id, "lockout")] == ["password"]
    assert _password_works(app, citizen.user_id, citizen.password)


def test_a_password_change_without_the_csrf_token_is_refused(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    response = browser.client.post(
        "/account/change-password",
        data={"current_password": citizen.password, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert CSRF_FAILED in response.get_data(as_text=True)
    assert _password_works(app, citizen.user_id, citizen.password)


def test_a_password_change_posted_twice_changes_it_once(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    browser.get("/account/change-password")
    form = {
        "current_password": citizen.password,
        "password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        "csrf_token": _csrf(browser),
    }
    assert browser.post_form("/account/change-password", form).status_code == 302
    again = browser.post_form("/account/change-password", form)
    assert again.status_code == 200
    assert "Incorrect password" in again.get_data(as_text=True)
    assert len(_events(app, citizen.user_id, "password_changed")) == 1
    assert _password_works(app, citizen.user_id, NEW_PASSWORD)


# -- the password again before sensitive changes ---------------------------------------------------------------


def test_changing_the_email_after_a_while_asks_for_the_password(
    app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    monkeypatch.setitem(app.config, "IDP_ACCOUNT_CONFIRM_PASSWORD_SECONDS", -1)
    response = browser.get("/account/change-email")
    assert response.status_code == 302
    assert response.location.endswith("/account/confirm-password?change=change-email")
    page = browser.follow(response)
    assert "Enter your password" in page.get_data(as_text=True)
    wrong = browser.post_form("/account/confirm-password?change=change-email", {"password": "wrong one 1"})
    assert "Incorrect password" in wrong.get_data(as_text=True)
    assert len(_events(app, citizen.user_id, "password_failed")) == 1
    monkeypatch.setitem(app.config, "IDP_ACCOUNT_CONFIRM_PASSWORD_SECONDS", 300)
    right = browser.post_form("/account/confirm-password?change=change-email", {"password": citizen.password})
    assert right.status_code == 302
    assert right.location.endswith("/account/change-email")


def test_the_password_page_goes_only_to_known_changes(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    response = browser.get("/account/confirm-password?change=//evil.example.com")
    assert response.status_code == 302
    assert response.location.endswith("/account")


# -- sign out everywhere ----------------------------------------------------------------------------------------------


def test_sign_out_everywhere(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    fishing = RelyingPartyUnderTest.register(app)
    vehicles = RelyingPartyUnderTest.register(app)
    phone = Browser(app.test_client())
    sign_in(phone, fishing, citizen)
    sign_in(browser, vehicles, citizen)
    _signed_in_at_account(app, browser, citizen)

    assert "Sign out everywhere" in browser.get("/account/sign-out-everywhere").get_data(as_text=True)
    response = browser.post_form("/account/sign-out-everywhere", {})
    assert response.status_code == 302
    assert response.location.endswith("/signed-out")

    for who in (browser, phone):
        assert who.get("/account").location.endswith("/sign-in-or-create")
    with app.app_context():
        queued = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "backchannel_logout"))
        told = {m.payload["client_id"] for m in queued}
        assert told == {fishing.client_id, vehicles.client_id}
        assert db.session.scalars(select(RelyingPartySignIn)).all() == []
    assert len(_events(app, citizen.user_id, "sign_out")) == 1
    # The services used stay listed after signing out.
    _signed_in_at_account(app, browser, citizen)
    assert "Test service " + fishing.client_id in browser.last_html


def test_sign_out_everywhere_needs_the_csrf_token(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    response = browser.client.post("/account/sign-out-everywhere", data={})
    assert response.status_code == 400
    assert browser.get("/account").status_code == 200
    assert _events(app, citizen.user_id, "sign_out") == []


# -- delete the account -----------------------------------------------------------------------------------------------


def test_delete_the_account(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    phone = Browser(app.test_client())
    sign_in(phone, rp, citizen)
    _signed_in_at_account(app, browser, citizen)
    assert "You cannot undo this" in browser.get("/account/delete").get_data(as_text=True)

    wrong = browser.post_form("/account/delete", {"password": "not my password 1"})
    assert wrong.status_code == 200
    assert "Incorrect password" in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, citizen.user_id) is not None

    deleted = browser.post_form("/account/delete", {"password": citizen.password})
    assert deleted.status_code == 200
    assert "You have deleted your GOV.UK One Login" in deleted.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, citizen.user_id) is None
        assert db.session.scalars(select(RelyingPartySignIn)).all() == []
        queued = db.session.scalars(select(OutboxMessage)).all()
        assert [m.payload["client_id"] for m in queued if m.kind == "backchannel_logout"] == [rp.client_id]
        assert [m.payload["message"] for m in queued if m.kind == "email"] == ["account_deleted"]
        remaining = db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == citizen.user_id)).all()
        assert [e for e in remaining if e.event == "account_deleted"]
        assert all(citizen.email not in str(e.details) for e in remaining)
    for who in (browser, phone):
        assert who.get("/account").location.endswith("/sign-in-or-create")
    # The email address is free again, and no one can sign in with the old account.
    fresh = Browser(app.test_client())
    fresh.authorize(rp.authorize_params())
    page = fresh.post_form("/sign-in", {"email": citizen.email}).get_data(as_text=True)
    assert "No GOV.UK One Login found" in page or "create" in page.lower()


def test_a_deletion_posted_twice_deletes_once(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    _signed_in_at_account(app, browser, citizen)
    browser.get("/account/delete")
    form = {"password": citizen.password, "csrf_token": _csrf(browser)}
    assert browser.post_form("/account/delete", form).status_code == 200
    again = browser.post_form("/account/delete", form)
    assert again.status_code in (302, 400)
    assert len(_events(app, citizen.user_id, "account_deleted")) == 1


def test_delete_account_without_a_request(app: Flask) -> None:
    """The operators' command calls the same function, in an app context and no request."""
    citizen = quick_citizen(app)
    with app.app_context():
        assert delete_account(citizen.user_id, actor="operator:test") is True
        assert delete_account(citizen.user_id, actor="operator:test") is False
        assert db.session.get(User, citizen.user_id) is None
    events = _events(app, citizen.user_id, "account_deleted")
    assert [e.actor for e in events] == ["operator:test"]
