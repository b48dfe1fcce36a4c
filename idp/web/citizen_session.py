"""What the browser session says about the citizen: who they are, when and how strongly they signed in."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, session

from idp.lookups import forget_read, read
from idp.services import current_services
from idp.web.sessions import StoreSession


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    signed_in_at: float
    auth_time: int
    credential_level: str  # "Cl" or "Cl.Cm"
    session_ref: str


def signed_out_key(user_id: str) -> str:
    return f"signed-out-at:{user_id}"


def sign_in_from(session_data: Mapping[str, Any], signed_out_at: bytes | None) -> SignedIn | None:
    """The sign-in a session's data records, unless the citizen has since signed out everywhere: `signed_out_at` is
    the value under `signed_out_key` of the session's user."""
    user_id = session_data.get("user_id")
    if not user_id:
        return None
    signed_in_at = float(session_data.get("signed_in_at", 0))
    if signed_out_at is not None and float(signed_out_at) >= signed_in_at:
        return None
    return SignedIn(
        user_id=user_id,
        signed_in_at=signed_in_at,
        auth_time=int(session_data["auth_time"]),
        credential_level=str(session_data["credential_level"]),
        session_ref=str(session_data["session_ref"]),
    )


def current_sign_in() -> SignedIn | None:
    user_id = session.get("user_id")
    if not user_id:
        return None
    sign_in = sign_in_from(session, read(signed_out_key(user_id)))
    if sign_in is None:
        clear_sign_in()
    return sign_in


def record_sign_in(user_id: str, credential_level: str, session_ref: str | None = None) -> None:
    """Mark the session signed in, under a new session id (no session fixation)."""
    assert isinstance(session, StoreSession)
    now = time.time()
    if session.get("user_id") != user_id:
        journey = session.get("journey_id")
        locale = session.get("locale")
        return_to = session.get("return_to")
        session.clear()
        if journey:
            session["journey_id"] = journey
        if return_to:
            session["return_to"] = return_to
        if locale:
            session["locale"] = locale
        session["signed_in_at"] = now
        session["session_ref"] = session_ref or _new_ref()
    session.rotate()
    session["user_id"] = user_id
    session["auth_time"] = int(now)
    session["credential_level"] = credential_level
    session.setdefault("session_ref", _new_ref())
    session.setdefault("signed_in_at", now)


def clear_sign_in() -> None:
    assert isinstance(session, StoreSession)
    session.clear()
    session.rotate()


def end_every_session(user_id: str) -> None:
    """Every session of this user signed in before now stops working at its next request."""
    ttl = int(current_app.config["IDP_SESSION_IDLE_TTL"]) + 60
    current_services().store.set(signed_out_key(user_id), str(time.time()).encode(), ttl)
    forget_read(signed_out_key(user_id))


def _new_ref() -> str:
    return secrets.token_hex(16)
