from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models._types import utcnow


class Client(db.Model):  # type: ignore[name-defined]
    """A relying party's registration, with the fields of One Login's onboarding (reference §6.2)."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(2048), default=None)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["openid"])
    claims: Mapped[list[str]] = mapped_column(JSON, default=list)
    client_locs: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["P0"])
    identity_verification_supported: Mapped[bool] = mapped_column(Boolean, default=False)
    id_token_signing_alg: Mapped[str] = mapped_column(String(8), default="ES256")
    token_auth_method: Mapped[str] = mapped_column(String(32), default="private_key_jwt")
    public_key_source: Mapped[str] = mapped_column(String(8), default="STATIC")
    public_key: Mapped[str | None] = mapped_column(Text, default=None)
    jwks_uri: Mapped[str | None] = mapped_column(String(2048), default=None)
    client_secret_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    sector_identifier_uri: Mapped[str | None] = mapped_column(String(2048), default=None)
    pkce_enforced: Mapped[bool] = mapped_column(Boolean, default=False)
    jar_required: Mapped[bool] = mapped_column(Boolean, default=False)
    max_age_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    permit_missing_nonce: Mapped[bool] = mapped_column(Boolean, default=False)
    return_codes_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    landing_page_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    def registration(self) -> dict[str, Any]:
        """The registration in One Login's onboarding field names, without the secret hash."""
        return {
            "ClientID": self.client_id,
            "ClientName": self.name,
            "RedirectUrls": list(self.redirect_uris),
            "PostLogoutRedirectUrls": list(self.post_logout_redirect_uris),
            "BackChannelLogoutUri": self.backchannel_logout_uri,
            "Scopes": list(self.scopes),
            "Claims": list(self.claims),
            "ClientLoCs": list(self.client_locs),
            "IdentityVerificationSupported": self.identity_verification_supported,
            "IdTokenSigningAlgorithm": self.id_token_signing_alg,
            "TokenAuthMethod": self.token_auth_method,
            "PublicKeySource": self.public_key_source,
            "PublicKey": self.public_key,
            "JwksUrl": self.jwks_uri,
            "SectorIdentifierUri": self.sector_identifier_uri,
            "SubjectType": "pairwise",
            "JarValidationRequired": self.jar_required,
            "PKCEEnforced": self.pkce_enforced,
            "MaxAgeEnabled": self.max_age_enabled,
            "PermitMissingNonce": self.permit_missing_nonce,
            "LandingPageUrl": self.landing_page_url,
            "IsActive": self.is_active,
        }
