"""Signing out: ending sessions and telling every service by back-channel logout through the outbox."""

from __future__ import annotations

import time
from typing import Any

import requests
from flask import current_app, session
from sqlalchemy import delete, select

from idp import audit
from idp.extensions import db
from idp.keys.keyring import Keyring
from idp.models import Client, RelyingPartySignIn
from idp.notify.outbox import DeliveryFailed, Sender, enqueue
from idp.oidc.claims import logout_token_claims
from idp.web.citizen_session import end_every_session

BACKCHANNEL_LOGOUT = "backchannel_logout"


def remember_service(user_id: str, client_id: str, subject: str, session_ref: str) -> None:
    """Record that this browser session signed the user in to this service, once per session and service."""
    known: list[str] = session.get("services", [])
    if client_id in known:
        return
    db.session.add(RelyingPartySignIn(user_id=user_id, client_id=client_id, subject=subject, session_ref=session_ref))
    audit.record("service_sign_in", actor="citizen", user_id=user_id, client_id=client_id)
    db.session.commit()
    session["services"] = [*known, client_id]


def sign_out_everywhere(user_id: str, actor: str) -> int:
    """End every session of the user and queue a back-channel logout to each service they were signed in to.

    The queued messages are written in the same transaction as the removal of the sign-in records."""
    sign_ins = db.session.scalars(select(RelyingPartySignIn).where(RelyingPartySignIn.user_id == user_id)).all()
    notified: set[tuple[str, str]] = set()
    for sign_in in sign_ins:
        if (sign_in.client_id, sign_in.subject) in notified:
            continue
        notified.add((sign_in.client_id, sign_in.subject))
        enqueue(db.session, BACKCHANNEL_LOGOUT, {"client_id": sign_in.client_id, "sub": sign_in.subject})
    db.session.execute(delete(RelyingPartySignIn).where(RelyingPartySignIn.user_id == user_id))
    audit.record("sign_out", actor=actor, user_id=user_id, services=len(notified))
    db.session.commit()
    end_every_session(user_id)
    worker = current_app.extensions.get("outbox_worker")
    if worker is not None and notified:
        worker.wake()
    return len(notified)


def backchannel_logout_sender(keyring: Keyring, issuer: str, timeout: float = 5.0) -> Sender:
    """Builds the outbox sender. The logout token is signed at delivery, so a retry carries a fresh `exp`."""

    def send(payload: dict[str, Any]) -> None:
        client = db.session.get(Client, payload["client_id"])
        if client is None or not client.backchannel_logout_uri:
            return
        claims = logout_token_claims(
            issuer=issuer, subject=payload["sub"], client_id=client.client_id, now=int(time.time())
        )
        # Back-Channel Logout §2.4 and One Login: always ES256, with `typ: logout+jwt`.
        token = keyring.sign(claims, "oidc", "ES256", headers={"typ": "logout+jwt"})
        response = requests.post(
            client.backchannel_logout_uri,
            data={"logout_token": token},
            timeout=timeout,
            allow_redirects=False,
            headers={"User-Agent": "idp/backchannel-logout"},
        )
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code}")

    return send
