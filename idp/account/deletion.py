"""Deleting a citizen's account: callable from the account page and from the operators' `idp users delete`.

Works in an app context without a request, so a command can call it.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from idp import audit, notify
from idp.extensions import db
from idp.models import AuditEvent, OutboxMessage, User
from idp.notify import OUTBOX_KINDS
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
    _forget_messages_to([address for address in (user.email, user.phone_number) if address])
    notice = notify.send(ACCOUNT_DELETED, to=user.email)
    notice.payload = {**notice.payload, "forget_recipient": True}
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


def _forget_messages_to(addresses: list[str]) -> None:
    """Earlier emails and text messages to the citizen keep no address; any not yet sent are not sent."""
    recipient = OutboxMessage.payload["to"].as_string()
    earlier = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind.in_(OUTBOX_KINDS), recipient.in_(addresses))
    )
    for message in earlier:
        if message.status == "pending":
            message.status = "failed"
            message.last_error = "the account was deleted before it was sent"
        message.payload = {"message": message.payload.get("message"), "to": "", "personalisation": {}}
