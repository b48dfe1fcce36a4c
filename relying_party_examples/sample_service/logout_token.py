"""Validating a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6). No Flask here.

One Login's logout tokens: header `{"alg":"ES256","kid":…,"typ":"logout+jwt"}`; claims `iss sub aud iat exp jti
events`, no `sid`, no `nonce`; `exp` is `iat` + 2 minutes (reference §5.2).
"""

from __future__ import annotations

import time
from typing import Any

from .id_token import CLOCK_SKEW_SECONDS, check_issuer_audience_and_times
from .jwks import InvalidTokenError, JwksCache, verify_signature
from .stores import ReplayCache

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: One Login always signs logout tokens with ES256, whatever the client's ID token algorithm (reference §5.2).
LOGOUT_TOKEN_ALGS = ("ES256",)
#: One Login: "reject a jti already seen in the last 3 minutes" (reference §5.2).
REPLAY_WINDOW_SECONDS = 180


def validate_logout_token(
    logout_token: str,
    *,
    keys: JwksCache,
    issuer: str,
    client_id: str,
    seen_jtis: ReplayCache,
    now: float | None = None,
) -> dict[str, Any]:
    """Return the logout token's claims if every check passes; raise InvalidTokenError otherwise."""
    now = time.time() if now is None else now
    # §2.6 steps 2-3: the signature and alg are validated as for an ID token, and alg "none" MUST NOT be used.
    header, claims = verify_signature(logout_token, keys, LOGOUT_TOKEN_ALGS)
    # §2.4: explicit typing with "logout+jwt" keeps a logout token from being confused with another JWT.
    if header.get("typ") != "logout+jwt":
        raise InvalidTokenError("typ is not logout+jwt")
    # §2.6 step 4: "Validate the iss, aud, iat, and exp Claims in the same way they are validated in ID Tokens."
    check_issuer_audience_and_times(claims, issuer=issuer, client_id=client_id, now=now)
    # §2.6 step 5: a sub, a sid, or both. One Login sends no sid, so sub is what we act on.
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidTokenError("sub missing")
    # §2.6 step 6 and §2.4: events holds the back-channel logout member, whose value "MUST be a JSON object and
    # SHOULD be the empty JSON object"; One Login sends exactly {BACKCHANNEL_LOGOUT_EVENT: {}}.
    if claims.get("events") != {BACKCHANNEL_LOGOUT_EVENT: {}}:
        raise InvalidTokenError("events is not the back-channel logout event")
    # §2.6 step 7: "Verify that the Logout Token does not contain a nonce Claim" (so an ID token cannot pass as one).
    if "nonce" in claims:
        raise InvalidTokenError("nonce present")
    # §2.4: jti is REQUIRED. §2.6 step 8: refuse a jti received recently. Checked last, so that an invalid token
    # never uses up a jti. Kept for at least the token's own lifetime so it cannot be replayed before it expires.
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise InvalidTokenError("jti missing")
    ttl = max(REPLAY_WINDOW_SECONDS, float(claims["exp"]) + CLOCK_SKEW_SECONDS - now)
    if not seen_jtis.first_use(f"{claims['iss']}|{jti}", ttl):
        raise InvalidTokenError("jti already used (replay)")
    return claims
