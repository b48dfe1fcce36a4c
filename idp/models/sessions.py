from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models._types import new_id, utcnow


class RelyingPartySignIn(db.Model):  # type: ignore[name-defined]
    """A service a browser session signed the user in to: who to tell by back-channel logout."""

    __tablename__ = "relying_party_sign_ins"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    client_id: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(128))
    session_ref: Mapped[str] = mapped_column(String(64), index=True)
    signed_in_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
