"""Registrations and profiles are read through the store; a committed change is seen at once in the process that
made it, and a registration changed by another process within a few seconds."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import update

from idp import lookups
from idp.extensions import db
from idp.lookups import client_key, find_client, find_user_profile
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


def test_a_registration_changed_elsewhere_is_seen_once_the_recent_copy_is_too_old(
    app: Flask, rp: RelyingPartyUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.test_request_context():
        assert find_client(rp.client_id) is not None  # this process keeps a copy
    with app.app_context():
        # Another process's change: its own commit hook forgets the shared copy, not this process's.
        db.session.execute(update(Client).where(Client.client_id == rp.client_id).values(is_active=False))
        db.session.commit()
        app.extensions["idp"].store.delete(client_key(rp.client_id))
        kept = find_client(rp.client_id)
        assert kept is not None and kept.is_active is True
        monkeypatch.setattr(lookups, "_RECENT_CLIENT_SECONDS", 0.0)
        fresh = find_client(rp.client_id)
        assert fresh is not None and fresh.is_active is False


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
