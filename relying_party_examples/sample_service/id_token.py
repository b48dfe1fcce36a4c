"""Validating the ID token from the token endpoint: every rule of OIDC Core §3.1.3.7 that applies, plus One Login's
`vot` (reference §3.3). No Flask here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from .jwks import InvalidTokenError, JwksCache, verify_signature

#: One Login signs ID tokens with ES256, or RS256 for clients registered for it (reference §3.3).
ID_TOKEN_ALGS = ("ES256", "RS256")
#: One Login allows 30 seconds of clock skew (reference §2.2, §3.1).
CLOCK_SKEW_SECONDS = 30


def credential_level(vtr: list[str]) -> str:
    """The `vot` the ID token must carry for this `vtr`: the credential part of the lowest vector (reference §2.3)."""
    levels = {".".join(sorted(c for c in vector.split(".") if c.startswith("C"))) for vector in vtr} - {""}
    if not levels:
        return "Cl.Cm"  # One Login's default (reference §2.3)
    return "Cl" if "Cl" in levels else "Cl.Cm"


def at_hash(access_token: str) -> str:
    # OIDC Core §3.1.3.6: "the base64url encoding of the left-most half of the hash of the octets of the ASCII
    # representation of the access_token value", hashed with the alg's hash: SHA-256 for both ES256 and RS256.
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def _time(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTokenError(f"{name} missing or not a number")
    return float(value)


def check_issuer_audience_and_times(claims: dict[str, Any], *, issuer: str, client_id: str, now: float) -> None:
    """The checks an ID token and a logout token share (OIDC Back-Channel Logout §2.6 step 4)."""
    # OIDC Core §3.1.3.7 step 2: the issuer from discovery "MUST exactly match the value of the iss (issuer) Claim".
    if claims.get("iss") != issuer:
        raise InvalidTokenError("iss is not the provider's issuer")
    # Step 3: aud "MUST" contain our client_id, and the token "MUST be rejected if ... it contains additional
    # audiences not trusted by the Client". We trust no other audience.
    if claims.get("aud") not in (client_id, [client_id]):
        raise InvalidTokenError("aud is not this service's client_id")
    # Step 5: if azp is present, it is our client_id.
    if "azp" in claims and claims["azp"] != client_id:
        raise InvalidTokenError("azp is not this service's client_id")
    # Step 9: "The current time MUST be before the time represented by the exp Claim", allowing for clock skew.
    if now >= _time(claims, "exp") + CLOCK_SKEW_SECONDS:
        raise InvalidTokenError("token has expired")
    # Step 10 (and One Login, reference §3.3): iat is in the past.
    if _time(claims, "iat") > now + CLOCK_SKEW_SECONDS:
        raise InvalidTokenError("iat is in the future")


def validate_id_token(
    id_token: str,
    *,
    keys: JwksCache,
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str,
    expected_vot: str,
    now: float | None = None,
) -> dict[str, Any]:
    """Return the ID token's claims if every check passes; raise InvalidTokenError otherwise."""
    now = time.time() if now is None else now
    # Steps 6-7: the signature, by the provider's key named in kid, with an algorithm we allow and the key fits.
    _, claims = verify_signature(id_token, keys, ID_TOKEN_ALGS)
    check_issuer_audience_and_times(claims, issuer=issuer, client_id=client_id, now=now)
    # OIDC Core §2: sub is REQUIRED, "locally unique and never reassigned".
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidTokenError("sub missing")
    # Step 11: "a nonce Claim MUST be present and its value checked" against the one sent in the request.
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce.encode(), nonce.encode()):
        raise InvalidTokenError("nonce does not match the one sent")
    # One Login always sends at_hash (reference §3.3); it binds this ID token to the access token beside it.
    token_at_hash, expected_at_hash = claims.get("at_hash"), at_hash(access_token)
    if not isinstance(token_at_hash, str) or not hmac.compare_digest(token_at_hash.encode(), expected_at_hash.encode()):
        raise InvalidTokenError("at_hash does not match the access token")
    # One Login (reference §3.3): "vot equals the requested credential level" (Cl or Cl.Cm).
    if claims.get("vot") != expected_vot:
        raise InvalidTokenError(f"vot {claims.get('vot')!r} is not the level requested ({expected_vot})")
    return claims
