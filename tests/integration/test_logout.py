"""Logout (reference §5.1, §5.2, the simulator's logout list in §7.4, spec "Logout")."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from idp.extensions import db
from idp.models import OutboxMessage, RelyingPartySignIn
from idp.services import current_services, outbox_delivery_round
from tests.helpers import ISSUER, Browser, RelyingPartyUnderTest, sign_in
from tests.integration._support import (
    BACKCHANNEL_LOGOUT_EVENT,
    QuickCitizen,
    exchange,
    local_server,
    quick_citizen,
    recorded_sql,
    redirected_to,
    transactions,
    verify_provider_jwt,
)

SUB = "urn:fdc:gov.uk:2022:" + "a" * 43


def provider_signed(app: Flask, claims: dict[str, Any], alg: str = "ES256") -> str:
    """A token signed by the provider's own active key, as an ID token is."""
    with app.app_context():
        return current_services().keyring.sign(claims, "oidc", alg)


def hint_claims(rp: RelyingPartyUnderTest, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": SUB,
        "aud": rp.client_id,
        "iat": now,
        "exp": now + 120,
        "sid": "journey",
        "vot": "Cl.Cm",
        "vtm": ISSUER + "trustmark",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def logout(client: FlaskClient, **params: str) -> TestResponse:
    return client.get("/logout" + ("?" + urlencode(params) if params else ""))


def signed_out_page(response: TestResponse) -> dict[str, str]:
    """The parameters of a redirect to the provider's own signed-out page."""
    assert response.status_code == 302, response.status_code
    parts = urlsplit(response.location)
    assert parts.netloc in ("", "localhost:8080"), response.location
    assert parts.path == "/signed-out", response.location
    return {k: v[-1] for k, v in parse_qs(parts.query).items()}


def post_logout_uri(rp: RelyingPartyUnderTest) -> str:
    return rp.redirect_uri.replace("/callback", "/signed-out")


# -- RP-initiated logout, reference §5.1 -------------------------------------------------------------------------


def test_empty_request(app: Flask) -> None:
    client = app.test_client()
    response = logout(client)
    assert signed_out_page(response) == {}
    page = client.get(response.location)
    assert page.status_code == 200
    assert "You have signed out" in page.get_data(as_text=True)
    assert "govuk-error-summary" not in page.get_data(as_text=True)


def test_state_only(app: Flask) -> None:
    assert signed_out_page(logout(app.test_client(), state="some-state")) == {"state": "some-state"}


def test_hint_with_a_bad_signature(app: Flask, rp: RelyingPartyUnderTest) -> None:
    client = app.test_client()
    with app.app_context():
        kid = current_services().keyring.active_kid("oidc", "ES256")
    forged = jwt.encode(
        hint_claims(rp), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid}
    )
    response = logout(client, id_token_hint=forged, post_logout_redirect_uri=post_logout_uri(rp), state="s1")
    assert signed_out_page(response) == {
        "error_code": "invalid_request",
        "error_description": "unable to validate id_token_hint",
        "state": "s1",
    }
    page = client.get(response.location).get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert "invalid_request: unable to validate id_token_hint" in page


def test_hint_signed_by_an_unknown_key(app: Flask, rp: RelyingPartyUnderTest) -> None:
    forged = jwt.encode(hint_claims(rp), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    response = logout(app.test_client(), id_token_hint=forged, post_logout_redirect_uri=post_logout_uri(rp))
    assert signed_out_page(response) == {
        "error_code": "invalid_request",
        "error_description": "unable to validate id_token_hint",
    }


def test_hint_with_a_symmetric_alg(app: Flask, rp: RelyingPartyUnderTest) -> None:
    with app.app_context():
        kid = current_services().keyring.active_kid("oidc", "ES256")
    forged = jwt.encode(
        hint_claims(rp), "a-shared-secret-of-thirty-two-bytes!", algorithm="HS256", headers={"kid": kid}
    )
    response = logout(app.test_client(), id_token_hint=forged, post_logout_redirect_uri=post_logout_uri(rp))
    assert signed_out_page(response)["error_description"] == "unable to validate id_token_hint"


@pytest.mark.parametrize("hint", ["not-a-jwt", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.not-base64!.sig"])
def test_hint_that_cannot_be_parsed(app: Flask, hint: str) -> None:
    assert signed_out_page(logout(app.test_client(), id_token_hint=hint, state="s2")) == {
        "error_code": "invalid_request",
        "error_description": "invalid id_token_hint",
        "state": "s2",
    }


def test_unknown_client(app: Flask, rp: RelyingPartyUnderTest) -> None:
    hint = provider_signed(app, hint_claims(rp, aud="no-such-client"))
    response = logout(app.test_client(), id_token_hint=hint, post_logout_redirect_uri=post_logout_uri(rp))
    assert signed_out_page(response) == {"error_code": "unauthorized_client", "error_description": "client not found"}


@pytest.mark.parametrize("missing", ["aud", "sub"])
def test_hint_without_aud_or_sub(app: Flask, rp: RelyingPartyUnderTest, missing: str) -> None:
    hint = provider_signed(app, hint_claims(rp, **{missing: None}))
    response = logout(app.test_client(), id_token_hint=hint, post_logout_redirect_uri=post_logout_uri(rp), state="s3")
    assert signed_out_page(response) == {"state": "s3"}


def test_no_post_logout_redirect_uri(app: Flask, rp: RelyingPartyUnderTest) -> None:
    hint = provider_signed(app, hint_claims(rp))
    assert signed_out_page(logout(app.test_client(), id_token_hint=hint, state="s4")) == {"state": "s4"}


def test_post_logout_redirect_uri_without_a_hint(app: Flask, rp: RelyingPartyUnderTest) -> None:
    response = logout(app.test_client(), post_logout_redirect_uri=post_logout_uri(rp), state="s5")
    assert signed_out_page(response) == {"state": "s5"}


@pytest.mark.parametrize(
    "uri",
    ["https://evil.example.com/signed-out", "{registered}/", "{registered}?x=1", "{upper}", "/signed-out"],
)
def test_unregistered_post_logout_redirect_uri(app: Flask, rp: RelyingPartyUnderTest, uri: str) -> None:
    registered = post_logout_uri(rp)
    hint = provider_signed(app, hint_claims(rp))
    target = uri.format(registered=registered, upper=registered.upper())
    response = logout(app.test_client(), id_token_hint=hint, post_logout_redirect_uri=target)
    assert signed_out_page(response) == {
        "error_code": "invalid_request",
        "error_description": "client registry does not contain post_logout_redirect_uri",
    }


@pytest.mark.parametrize("uri", ["javascript:alert(1)", ".not-a-uri", "https://rp.example/out?state=fixed"])
def test_registered_but_malformed_post_logout_redirect_uri(app: Flask, uri: str) -> None:
    rp = RelyingPartyUnderTest.register(app, post_logout_redirect_uris=[uri])
    hint = provider_signed(app, hint_claims(rp))
    response = logout(app.test_client(), id_token_hint=hint, post_logout_redirect_uri=uri)
    assert signed_out_page(response) == {
        "error_code": "invalid_request",
        "error_description": "invalid post logout redirect URI",
    }


def test_valid_request_goes_back_to_the_rp_with_state(app: Flask, rp: RelyingPartyUnderTest) -> None:
    hint = provider_signed(app, hint_claims(rp))
    client = app.test_client()
    response = logout(client, id_token_hint=hint, post_logout_redirect_uri=post_logout_uri(rp), state="s6")
    assert response.status_code == 302
    assert response.location == post_logout_uri(rp) + "?state=s6"
    without_state = logout(client, id_token_hint=hint, post_logout_redirect_uri=post_logout_uri(rp))
    assert without_state.location == post_logout_uri(rp)


def test_hint_with_an_audience_list(app: Flask, rp: RelyingPartyUnderTest) -> None:
    hint = provider_signed(app, hint_claims(rp, aud=[rp.client_id]))
    response = logout(app.test_client(), id_token_hint=hint, post_logout_redirect_uri=post_logout_uri(rp))
    assert response.location == post_logout_uri(rp)


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_expired_hint_is_accepted(app: Flask, rp: RelyingPartyUnderTest, alg: str) -> None:
    now = int(time.time())
    hint = provider_signed(app, hint_claims(rp, iat=now - 86400, exp=now - 86400 + 120), alg=alg)
    response = logout(app.test_client(), id_token_hint=hint, post_logout_redirect_uri=post_logout_uri(rp), state="s7")
    assert response.location == post_logout_uri(rp) + "?state=s7"


def test_logout_with_a_real_id_token_ends_the_browser_session(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    citizen = quick_citizen(app)
    code = sign_in(browser, rp, citizen)["code"]
    id_token = exchange(browser.client, rp, code).get_json()["id_token"]
    response = browser.get(
        "/logout?" + urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": post_logout_uri(rp)})
    )
    assert response.location == post_logout_uri(rp)
    assert any(c.startswith("idp_session=;") for c in response.headers.getlist("Set-Cookie"))
    again = browser.get("/authorize?" + urlencode(rp.authorize_params(prompt="none")))
    assert redirected_to(again, rp.redirect_uri) == {
        "error": "login_required",
        "error_description": "Login required",
        "state": rp.last_state,
    }


def test_logout_without_a_hint_also_ends_the_session(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    sign_in(browser, rp, quick_citizen(app))
    assert signed_out_page(browser.get("/logout")) == {}
    again = browser.get("/authorize?" + urlencode(rp.authorize_params(prompt="none")))
    assert redirected_to(again, rp.redirect_uri)["error"] == "login_required"


def test_logout_ends_every_session_of_the_user(app: Flask, rp: RelyingPartyUnderTest) -> None:
    citizen = quick_citizen(app)
    first, second = Browser(app.test_client()), Browser(app.test_client())
    sign_in(first, rp, citizen, vtr='["Cl"]')
    sign_in(second, rp, citizen, vtr='["Cl"]')
    silent = second.get("/authorize?" + urlencode(rp.authorize_params(prompt="none", vtr='["Cl"]')))
    assert "code" in redirected_to(silent, rp.redirect_uri)

    first.get("/logout")
    after = second.get("/authorize?" + urlencode(rp.authorize_params(prompt="none", vtr='["Cl"]')))
    assert redirected_to(after, rp.redirect_uri)["error"] == "login_required"


def test_logout_of_another_citizen_leaves_this_session(app: Flask, rp: RelyingPartyUnderTest) -> None:
    mine, theirs = Browser(app.test_client()), Browser(app.test_client())
    sign_in(mine, rp, quick_citizen(app), vtr='["Cl"]')
    sign_in(theirs, rp, quick_citizen(app), vtr='["Cl"]')
    theirs.get("/logout")
    silent = mine.get("/authorize?" + urlencode(rp.authorize_params(prompt="none", vtr='["Cl"]')))
    assert "code" in redirected_to(silent, rp.redirect_uri)


# -- back-channel logout, reference §5.2 --------------------------------------------------------------------------


def _messages(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        messages = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all())
        db.session.expunge_all()
        return messages


def _sign_in_to(
    browser: Browser, rps: list[RelyingPartyUnderTest], citizen: QuickCitizen
) -> dict[str, tuple[str, str]]:
    """Sign in to each RP (the first with the pages, the rest by single sign-on); their (sub, id_token)."""
    result: dict[str, tuple[str, str]] = {}
    for rp in rps:
        code = sign_in(browser, rp, citizen)["code"]
        body = exchange(browser.client, rp, code).get_json()
        _, claims = verify_provider_jwt(browser.client, body["id_token"], audience=rp.client_id)
        result[rp.client_id] = (claims["sub"], body["id_token"])
    return result


def test_backchannel_logout_to_every_service(app: Flask, browser: Browser) -> None:
    citizen = quick_citizen(app)
    with local_server() as server:
        rps = [
            RelyingPartyUnderTest.register(app, backchannel_logout_uri=server.url(f"/bcl/{name}"))
            for name in ("one", "two")
        ]
        paths = {rps[0].client_id: "/bcl/one", rps[1].client_id: "/bcl/two"}
        signed_in = _sign_in_to(browser, rps, citizen)
        subs = {client_id: sub for client_id, (sub, _) in signed_in.items()}
        assert len(set(subs.values())) == 2
        # The same citizen also signed in to the first service from another browser: still one message per service.
        sign_in(Browser(app.test_client()), rps[0], citizen, vtr='["Cl"]')

        with recorded_sql(app) as statements:
            response = browser.get(
                "/logout?"
                + urlencode(
                    {
                        "id_token_hint": signed_in[rps[0].client_id][1],
                        "post_logout_redirect_uri": post_logout_uri(rps[0]),
                        "state": "bye",
                    }
                )
            )
        assert response.location == post_logout_uri(rps[0]) + "?state=bye"
        # Nothing is sent while the citizen waits for the page.
        assert server.received == []

        messages = _messages(app)
        assert sorted((m.kind, m.payload["client_id"], m.payload["sub"]) for m in messages) == sorted(
            ("backchannel_logout", client_id, sub) for client_id, sub in subs.items()
        )
        assert all(m.status == "pending" and m.attempts == 0 for m in messages)
        with app.app_context():
            remaining = db.session.scalars(
                select(RelyingPartySignIn).where(RelyingPartySignIn.user_id == citizen.user_id)
            ).all()
            assert remaining == []
        # The queued messages are committed with the removal of the sign-in records, in one transaction.
        with_outbox = [t for t in transactions(statements) if any("INTO outbox_messages" in s for s in t)]
        assert len(with_outbox) == 1
        assert any(s.startswith("DELETE FROM relying_party_sign_ins") for s in with_outbox[0])

        started = int(time.time())
        assert outbox_delivery_round(app) == 2
        posts = [r for r in server.received if r.method == "POST"]
        assert sorted(r.path for r in posts) == ["/bcl/one", "/bcl/two"]
        for client_id, path in paths.items():
            (request,) = server.posts_to(path)
            assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
            assert request.headers.get("User-Agent")
            form = parse_qs(request.body.decode())
            assert list(form) == ["logout_token"]
            token = form["logout_token"][0]
            header, claims = verify_provider_jwt(browser.client, token, audience=client_id)
            assert header["alg"] == "ES256"
            assert header["typ"] == "logout+jwt"
            assert set(header) == {"alg", "typ", "kid"}
            assert set(claims) == {"iss", "aud", "sub", "iat", "exp", "jti", "events"}
            assert claims["iss"] == ISSUER
            assert claims["aud"] == client_id
            assert claims["sub"] == subs[client_id]
            assert started - 2 <= claims["iat"] <= int(time.time()) + 2
            assert claims["exp"] == claims["iat"] + 120
            assert str(uuid.UUID(claims["jti"])) == claims["jti"]
            assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}
        assert all(m.status == "delivered" and m.delivered_at for m in _messages(app))
        assert outbox_delivery_round(app) == 0
        assert len(server.received) == 2


def test_backchannel_logout_token_is_es256_for_an_rs256_client(app: Flask, browser: Browser) -> None:
    with local_server() as server:
        rp = RelyingPartyUnderTest.register(app, id_token_signing_alg="RS256", backchannel_logout_uri=server.url("/b"))
        sign_in(browser, rp, quick_citizen(app))
        browser.get("/logout")
        assert outbox_delivery_round(app) == 1
        (request,) = server.posts_to("/b")
        token = parse_qs(request.body.decode())["logout_token"][0]
        header, claims = verify_provider_jwt(browser.client, token, audience=rp.client_id)
        assert header["alg"] == "ES256"
        assert "nonce" not in claims and "sid" not in claims


def _due_now(app: Flask) -> None:
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(next_attempt_at=datetime(2000, 1, 1)))
        db.session.commit()


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def test_failed_backchannel_delivery_is_retried_with_back_off(app: Flask, browser: Browser) -> None:
    with local_server() as server:
        rp = RelyingPartyUnderTest.register(app, backchannel_logout_uri=server.url("/flaky"))
        server.statuses["/flaky"] = [500, 500]
        sign_in(browser, rp, quick_citizen(app))
        browser.get("/logout")

        assert outbox_delivery_round(app) == 0
        (message,) = _messages(app)
        assert message.status == "pending"
        assert message.attempts == 1
        assert message.last_error is not None and "500" in message.last_error
        first_wait = (message.next_attempt_at - _utcnow()).total_seconds()
        assert 3 <= first_wait <= 6, first_wait

        # Not due yet: nothing is sent.
        assert outbox_delivery_round(app) == 0
        assert len(server.posts_to("/flaky")) == 1
        assert _messages(app)[0].attempts == 1

        _due_now(app)
        assert outbox_delivery_round(app) == 0
        (message,) = _messages(app)
        assert message.attempts == 2
        second_wait = (message.next_attempt_at - _utcnow()).total_seconds()
        assert second_wait > first_wait
        assert 8 <= second_wait <= 11, second_wait

        _due_now(app)
        assert outbox_delivery_round(app) == 1
        (message,) = _messages(app)
        assert message.status == "delivered"
        assert message.attempts == 3
        assert message.delivered_at is not None
        assert message.last_error is None

        posts = server.posts_to("/flaky")
        assert len(posts) == 3
        jtis = {
            jwt.decode(parse_qs(p.body.decode())["logout_token"][0], options={"verify_signature": False})["jti"]
            for p in posts
        }
        assert len(jtis) == 3
