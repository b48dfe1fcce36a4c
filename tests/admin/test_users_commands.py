"""`idp users`: find, show, unlock, reset-mfa, suspend, unsuspend, delete."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import select

from idp.auth.limits import PASSWORD, SECURITY_CODE, email_subject
from idp.extensions import db
from idp.models import Client, OutboxMessage, Passkey, RelyingPartySignIn, User
from idp.notify.messages import SECOND_FACTOR_RESET, render
from idp.oidc.logout import BACKCHANNEL_LOGOUT
from idp.oidc.subject import pairwise_subject, sector_host
from idp.services import current_services
from tests.admin.conftest import ACTOR, RunCommand, audit_events, json_of
from tests.helpers import PASSWORD as CITIZEN_PASSWORD
from tests.helpers import Browser, RelyingPartyUnderTest, create_citizen, sign_in
from tests.integration._support import quick_citizen


def subject_for(app: Flask, user_id: str, client_id: str) -> str:
    with app.app_context():
        client = db.session.get(Client, client_id)
        user = db.session.get(User, user_id)
        assert client is not None and user is not None
        return pairwise_subject(
            sector_host(client.sector_identifier_uri, client.redirect_uris), user.id, user.subject_salt
        )


def user_row(app: Flask, user_id: str) -> User | None:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge_all()
        return user


def outbox(app: Flask, kind: str) -> list[dict[str, object]]:
    with app.app_context():
        return [m.payload for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))]


def lock_out(app: Flask, step: str, subject: str) -> None:
    with app.app_context():
        limits = current_services().limits
        while not limits.count_failure(step, subject):
            pass
        db.session.commit()


# -- find ---------------------------------------------------------------------------------------------------------


def test_find_by_email(app: Flask, idp: RunCommand) -> None:
    citizen = create_citizen(app, email="ada@example.com")
    [found] = json_of(idp("users", "find", "--email", "  Ada@Example.com ", "--json"))
    assert found["id"] == citizen.user_id and found["email"] == "ada@example.com"
    assert set(found) == {"id", "email", "second_factor", "suspended", "created"}
    assert citizen.user_id in idp("users", "find", "--email", "ada@example.com").output
    assert "No account matches." in idp("users", "find", "--email", "nobody@example.com").output
    assert json_of(idp("users", "find", "--email", "nobody@example.com", "--json")) == []


def test_find_by_a_services_subject(app: Flask, idp: RunCommand, rp: RelyingPartyUnderTest) -> None:
    create_citizen(app)  # someone else, whose subject must not match
    citizen = create_citizen(app)
    subject = subject_for(app, citizen.user_id, rp.client_id)
    [found] = json_of(idp("users", "find", "--sub", subject, "--client-id", rp.client_id, "--json"))
    assert found["id"] == citizen.user_id
    other = RelyingPartyUnderTest.register(app, sector_identifier_uri="https://other-sector.example.gov.uk")
    assert json_of(idp("users", "find", "--sub", subject, "--client-id", other.client_id, "--json")) == []


def test_find_by_subject_after_a_sign_in(
    app: Flask, idp: RunCommand, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen)
    with app.app_context():
        [record] = db.session.scalars(select(RelyingPartySignIn)).all()
        subject = record.subject
    [found] = json_of(idp("users", "find", "--sub", subject, "--client-id", rp.client_id, "--json"))
    assert found["id"] == citizen.user_id


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        ((), "give either --email, or --sub with --client-id", 2),
        (("--email", "a@example.com", "--sub", "x"), "give either --email", 2),
        (("--sub", "urn:fdc:gov.uk:2022:x"), "--sub needs --client-id", 2),
        (("--email", "a@example.com", "--client-id", "c"), "--client-id goes with --sub", 2),
        (("--sub", "urn:fdc:gov.uk:2022:x", "--client-id", "ghost"), "no service has client ID ghost", 1),
    ],
)
def test_find_refuses_unclear_questions(idp: RunCommand, args: tuple[str, ...], message: str, code: int) -> None:
    assert message in idp("users", "find", *args, code=code).output


# -- show ---------------------------------------------------------------------------------------------------------


def test_show_tells_what_the_account_holds_but_no_secret(app: Flask, idp: RunCommand) -> None:
    citizen = create_citizen(app)
    lock_out(app, PASSWORD, citizen.user_id)
    shown = json_of(idp("users", "show", citizen.email, "--json"))
    assert shown["id"] == citizen.user_id and shown["second_factor"] == "auth_app" and shown["authenticator_app"]
    assert shown["passkeys"] == 0
    assert 0 < shown["locked"]["password"] <= 900
    assert [e["event"] for e in shown["recent_events"]][0] == "lockout"
    text = idp("users", "show", citizen.user_id).output
    assert "password for" in text and "Recent events:" in text
    with app.app_context():
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        secrets = [user.password_hash, citizen.totp_secret, citizen.password]
    for output in (json.dumps(shown), text):
        assert not any(secret in output for secret in secrets)
    assert "no account has the id or email address 'ghost@example.com'" in (
        idp("users", "show", "ghost@example.com", code=1).output
    )


# -- unlock -------------------------------------------------------------------------------------------------------


def test_unlock_clears_lockouts_by_account_and_by_email(app: Flask, idp: RunCommand) -> None:
    citizen = create_citizen(app)
    lock_out(app, PASSWORD, citizen.user_id)
    lock_out(app, SECURITY_CODE, email_subject(citizen.email))
    result = json_of(idp("users", "unlock", citizen.email, "--json"))
    assert result == {"id": citizen.user_id, "was_locked": ["password", "security_code"]}
    with app.app_context():
        limits = current_services().limits
        assert limits.locked_until(PASSWORD, citizen.user_id) is None
        assert limits.locked_until(SECURITY_CODE, email_subject(citizen.email)) is None
    [event] = audit_events(app, "account_unlocked")
    assert event.actor == ACTOR and event.user_id == citizen.user_id
    assert "was not locked" in idp("users", "unlock", citizen.user_id).output
    assert "no account has" in idp("users", "unlock", "ghost@example.com", code=1).output
    assert len(audit_events(app, "account_unlocked")) == 2


def test_an_unlocked_citizen_can_sign_in_at_once(
    app: Flask, idp: RunCommand, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    lock_out(app, PASSWORD, citizen.user_id)
    browser.authorize(rp.authorize_params())
    browser.post_form("/sign-in", {"email": citizen.email})
    assert browser.get("/sign-in/password").status_code == 429
    idp("users", "unlock", citizen.email)
    assert sign_in(browser, rp, citizen)["code"]


# -- reset-mfa ----------------------------------------------------------------------------------------------------


def test_reset_mfa_makes_the_citizen_set_up_a_new_factor_and_emails_them(
    app: Flask, idp: RunCommand, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen)
    with app.app_context():
        db.session.add(
            Passkey(user_id=citizen.user_id, credential_id=b"cred-1", public_key=b"cose", name="Phone", aaguid="0" * 36)
        )
        db.session.commit()
    result = json_of(idp("users", "reset-mfa", citizen.email, "--json"))
    assert result == {"id": citizen.user_id, "previous_factor": "auth_app", "passkeys_removed": 1}
    user = user_row(app, citizen.user_id)
    assert user is not None and user.mfa_method is None and user.totp_secret_encrypted is None
    [email] = outbox(app, "email")
    assert email["message"] == "second_factor_reset" and email["to"] == citizen.email
    [event] = audit_events(app, "mfa_reset")
    assert event.actor == ACTOR and event.details == {"previous": "auth_app", "passkeys": 1}
    with app.app_context():
        assert db.session.scalars(select(Passkey).where(Passkey.user_id == citizen.user_id)).all() == []
    # The session that passed the old factor is over; the next sign-in asks for a new factor.
    response = browser.authorize(rp.authorize_params())
    assert response.request.path == "/sign-in"
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    response = browser.follow(browser.post_form("/sign-in/password", {"password": CITIZEN_PASSWORD}))
    assert response.request.path == "/choose-how-to-get-security-codes"


def test_reset_mfa_of_an_unknown_citizen(app: Flask, idp: RunCommand) -> None:
    assert "no account has" in idp("users", "reset-mfa", "ghost@example.com", code=1).output
    assert outbox(app, "email") == [] and audit_events(app, "mfa_reset") == []


# -- suspend and unsuspend ----------------------------------------------------------------------------------------


def test_a_suspended_citizen_is_signed_out_everywhere_and_cannot_sign_in(
    app: Flask, idp: RunCommand, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen)
    result = json_of(idp("users", "suspend", citizen.email, "--reason", "account-compromised", "--json"))
    assert result == {"id": citizen.user_id, "suspended": True, "services_notified": 1}
    user = user_row(app, citizen.user_id)
    assert user is not None and user.suspended
    [logout] = outbox(app, BACKCHANNEL_LOGOUT)
    assert logout["client_id"] == rp.client_id
    [event] = audit_events(app, "account_suspended")
    assert event.actor == ACTOR and event.details == {"reason": "account-compromised"}
    # The browser's session no longer signs in silently, and the password no longer works.
    response = browser.authorize(rp.authorize_params())
    assert response.request.path == "/sign-in"
    browser.follow(browser.post_form("/sign-in", {"email": citizen.email}))
    response = browser.post_form("/sign-in/password", {"password": CITIZEN_PASSWORD})
    assert response.status_code == 200 and "Incorrect password" in response.get_data(as_text=True)

    assert "is already suspended" in idp("users", "suspend", citizen.email, code=1).output
    assert "'lost my phone, call 07700 900000' is not one of" in (
        idp("users", "suspend", citizen.email, "--reason", "lost my phone, call 07700 900000", code=2).output
    )
    assert len(audit_events(app, "account_suspended")) == 1
    assert "can sign in again" in idp("users", "unsuspend", citizen.email).output
    assert "is not suspended" in idp("users", "unsuspend", citizen.email, code=1).output
    assert len(audit_events(app, "account_unsuspended")) == 1
    user = user_row(app, citizen.user_id)
    assert user is not None and not user.suspended


# -- delete -------------------------------------------------------------------------------------------------------


def test_delete_removes_the_account_as_the_citizens_own_deletion_does(
    app: Flask, idp: RunCommand, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    sign_in(browser, rp, citizen)
    aborted = idp("users", "delete", citizen.email, input="n\n", code=1)
    assert "This cannot be undone" in aborted.output and user_row(app, citizen.user_id) is not None
    assert json_of(idp("users", "delete", citizen.email, "--yes", "--json")) == {"id": citizen.user_id, "deleted": True}
    assert user_row(app, citizen.user_id) is None
    [logout] = outbox(app, BACKCHANNEL_LOGOUT)
    assert logout["client_id"] == rp.client_id
    [event] = audit_events(app, "account_deleted")
    assert event.actor == ACTOR and event.user_id == citizen.user_id
    assert "no account has" in idp("users", "delete", citizen.email, "--yes", code=1).output


def test_delete_after_confirmation(app: Flask, idp: RunCommand) -> None:
    citizen = create_citizen(app)
    assert "Deleted the account" in idp("users", "delete", citizen.user_id, input="y\n").output
    assert user_row(app, citizen.user_id) is None


def test_the_reset_email_in_english_and_welsh(app: Flask) -> None:
    with app.app_context():
        english = render(SECOND_FACTOR_RESET, "a@example.com", "en", {})
        welsh = render(SECOND_FACTOR_RESET, "a@example.com", "cy", {})
    assert english.subject == "We have reset how you get security codes"
    assert "set up a new way to get security codes" in english.body
    assert welsh.subject == "Rydym wedi ailosod sut rydych yn cael codau diogelwch"
    assert "ffordd newydd o gael codau diogelwch" in welsh.body
