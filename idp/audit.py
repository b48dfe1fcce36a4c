"""The audit trail: append-only, in the same transaction as the change it records, without secrets."""

from __future__ import annotations

from typing import Any

from idp.extensions import db
from idp.logs import request_id
from idp.models.audit import AuditEvent


def record(
    event: str,
    *,
    actor: str,
    user_id: str | None = None,
    client_id: str | None = None,
    **details: Any,
) -> None:
    db.session.add(
        AuditEvent(
            event=event,
            actor=actor,
            user_id=user_id,
            client_id=client_id,
            request_id=request_id.get(),
            details=details,
        )
    )
