"""The claims of the tokens the provider issues (reference §3.3, §5.2)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120


def at_hash(access_token: str, alg: str) -> str:
    """OIDC Core §3.1.3.6: the base64url of the left-most half of the hash of the access token's ASCII octets,
    with the hash of the ID token's `alg` (SHA-256 for ES256 and RS256)."""
    if alg not in ("ES256", "RS256", "PS256"):
        raise ValueError(f"no at_hash rule for {alg}")
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode().rstrip("=")


def id_token_claims(
    *,
    issuer: str,
    subject: str,
    client_id: str,
    now: int,
    ttl: int,
    nonce: str | None,
    access_token: str,
    alg: str,
    journey_id: str,
    credential_level: str,
    auth_time: int,
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": client_id,
        "exp": now + ttl,
        "iat": now,
        "at_hash": at_hash(access_token, alg),
        "sid": journey_id,
        # Reference §3.3: `vot` is only the credential part, never a level of confidence.
        "vot": credential_level,
        "vtm": issuer + "trustmark",
        "auth_time": auth_time,
    }
    if nonce:
        claims["nonce"] = nonce
    return claims


def access_token_claims(
    *,
    issuer: str,
    subject: str,
    client_id: str,
    now: int,
    ttl: int,
    scopes: list[str],
    journey_id: str,
    identity_claims: list[str] | None,
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "client_id": client_id,
        "scope": scopes,
        "sid": journey_id,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + ttl,
    }
    if identity_claims:
        claims["claims"] = identity_claims
    return claims


def logout_token_claims(*, issuer: str, subject: str, client_id: str, now: int) -> dict[str, Any]:
    """Back-Channel Logout §2.4, as One Login sends it: no `sid`, and a logout token MUST NOT contain `nonce`."""
    return {
        "iss": issuer,
        "sub": subject,
        "aud": client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_TTL,
        "jti": str(uuid.uuid4()),
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
