"""Durable data. The schema changes only through Alembic migrations in `migrations/`."""

from idp.models.accounts import User
from idp.models.audit import AuditEvent
from idp.models.clients import Client
from idp.models.identity import IdentityCredential, ProvingRecord
from idp.models.keys import SigningKey
from idp.models.outbox import OutboxMessage
from idp.models.passkeys import Passkey
from idp.models.sessions import RelyingPartySignIn

__all__ = [
    "AuditEvent",
    "Client",
    "IdentityCredential",
    "OutboxMessage",
    "Passkey",
    "ProvingRecord",
    "RelyingPartySignIn",
    "SigningKey",
    "User",
]
