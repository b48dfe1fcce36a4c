"""Registrations and profiles are read through the store; a committed change is seen at once."""

from __future__ import annotations

from flask import Flask

from idp.extensions import db
from idp.lookups import find_client, find_user_profile
from idp.models import Client, User
from tests.helpers import Browser, RelyingPartyUnderTest, create_citizen, redirect_params


def test_a_deactivated_client_is_refused_at_once(app: Flask, browser: Browser, rp: RelyingPartyUnderTest) -> None:
    with app.test_request_context():
        assert find_client(rp.client_id) is not None  # now cached
        db.session.get(Client, rp.client_id).is_active = False  # type: ignore[union-attr]
        db.session.commit()
        cached = find_client(rp.client_id)
        assert cached is not None and cached.is_active is False
    response = browser.get("/authorize", query_string=rp.authorize_params())
    assert redirect_params(response.location)["error"] == "unauthorized_client"


def test_a_changed_email_is_seen_at_once(app: Flask) -> None:
    citizen = create_citizen(app)
    with app.test_request_context():
        profile = find_user_profile(citizen.user_id)
        assert profile is not None and profile.email == citizen.email
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.email = "new-address@example.com"
        db.session.commit()
        profile = find_user_profile(citizen.user_id)
        assert profile is not None and profile.email == "new-address@example.com"


def test_a_rolled_back_change_leaves_the_cache_alone(app: Flask) -> None:
    citizen = create_citizen(app)
    with app.test_request_context():
        assert find_user_profile(citizen.user_id) is not None
        user = db.session.get(User, citizen.user_id)
        assert user is not None
        user.email = "never-committed@example.com"
        db.session.flush()
        db.session.rollback()
        profile = find_user_profile(citizen.user_id)
        assert profile is not None and profile.email == citizen.email
