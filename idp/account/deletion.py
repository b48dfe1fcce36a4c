"""Deleting a citizen's account: callable from the account page and from the operators' `idp users delete`.

Works in an app context without a request, so a command can call it.
"""

from __future__ import annotations

from sqlalchemy import delete

from idp import audit, notify
from idp.extensions import db
from idp.models import AuditEvent, OutboxMessage, User
from idp.notify.messages import ACCOUNT_DELETED
from idp.oidc.logout import sign_out_everywhere

# The audit trail is append-only and holds ids, not personal data; the outbox holds what is still to be sent,
# including the back-channel logouts this deletion queues.
_KEPT_TABLES = {AuditEvent.__tablename__, OutboxMessage.__tablename__}


def delete_account(user_id: str, actor: str) -> bool:
    """Remove the account and every row about the citizen, tell each service they used by back-channel logout and
    the citizen by email, and keep an audit record without personal data. False when there is no such account."""
    user = db.session.get(User, user_id)
    if user is None:
        return False
    notify.send(ACCOUNT_DELETED, to=user.email)
    services = sign_out_everywhere(user_id, actor=actor)
    # Every table keyed by the citizen goes (passkeys, identity records, whatever later issues add), children
    # before parents, so that no personal data outlives the account.
    for table in reversed(db.metadata.sorted_tables):
        if table.name in _KEPT_TABLES or table.name == User.__tablename__ or "user_id" not in table.c:
            continue
        db.session.execute(delete(table).where(table.c.user_id == user_id))
    db.session.delete(user)  # through the session, so that the cached profile is forgotten on commit
    audit.record("account_deleted", actor=actor, user_id=user_id, services_told=services)
    db.session.commit()
    return True
