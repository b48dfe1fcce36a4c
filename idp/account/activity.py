"""What the account page shows from the audit trail: the services a citizen used and their sign-in activity.

Both are read from the audit trail rather than from the live sign-in records, which signing out removes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, Client

# The events a citizen sees under "Sign-in activity"; every other audit event stays for the operators.
ACTIVITY_EVENTS = (
    "account_created",
    "sign_in",
    "service_sign_in",
    "password_failed",
    "security_code_failed",
    "email_code_failed",
    "lockout",
    "mfa_set_up",
    "mfa_changed",
    "mfa_reset",
    "password_changed",
    "password_reset",
    "email_changed",
    "sign_out",
    "passkey_registered",
    "passkey_removed",
    "passkey_renamed",
)


@dataclass(frozen=True)
class ServiceUse:
    client_id: str
    name: str
    first_used: datetime
    last_used: datetime


@dataclass(frozen=True)
class ActivityEntry:
    event: str
    at: datetime
    details: dict[str, object]
    client_id: str | None = None


def services_used(user_id: str) -> list[ServiceUse]:
    """Every service the citizen signed in to, most recently used first."""
    last_used = func.max(AuditEvent.at)
    rows = db.session.execute(
        select(Client.client_id, func.min(AuditEvent.at), last_used, Client.name)
        .join(Client, Client.client_id == AuditEvent.client_id)
        .where(AuditEvent.user_id == user_id, AuditEvent.event == "service_sign_in")
        .group_by(Client.client_id, Client.name)
        .order_by(last_used.desc())
    ).all()
    return [ServiceUse(client_id, name, first, last) for client_id, first, last, name in rows]


def sign_in_activity(user_id: str, limit: int = 20) -> list[ActivityEntry]:
    """The citizen's most recent security events, newest first."""
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.user_id == user_id, AuditEvent.event.in_(ACTIVITY_EVENTS))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [ActivityEntry(row.event, row.at, dict(row.details or {}), row.client_id) for row in rows]
