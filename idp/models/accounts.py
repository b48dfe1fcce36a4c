from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, DateTime, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models._types import new_id, utcnow


class User(db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Pairwise subject identifiers hash this salt with the sector host and the user id (reference §3.3).
    subject_salt: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    mfa_method: Mapped[str | None] = mapped_column(String(16), default=None)
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    phone_number: Mapped[str | None] = mapped_column(String(20), default=None)
    phone_number_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
