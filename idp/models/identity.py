"""A citizen's proven identity: the verified credentials the checks issued, and the record of each proving.

The credentials are kept as the signed JWTs the checks issued, so that every later use (reuse by another
service, freshness rules) reads them through the same verification as the first time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models._types import new_id, utcnow


class IdentityCredential(db.Model):  # type: ignore[name-defined]
    """One verified credential (reference §3.2), as issued by one check."""

    __tablename__ = "identity_credentials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    credential_type: Mapped[str] = mapped_column(String(64))
    signed_jwt: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ProvingRecord(db.Model):  # type: ignore[name-defined]
    """The outcome of one proving (or reuse) for one service: the level reached and the return codes given."""

    __tablename__ = "proving_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # "new", "reuse", "fraud-refresh", "address-change"
    level: Mapped[str] = mapped_column(String(4))  # "P0" to "P3"
    profile: Mapped[str | None] = mapped_column(String(8), default=None)
    return_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
