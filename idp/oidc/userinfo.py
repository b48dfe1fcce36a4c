"""/userinfo (reference §4): bearer token in the header, or for POST in the body.

Served by idp.web.api, ahead of Flask: a service's server calls it, with no cookies and no form of ours.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from flask import current_app, g

from idp.identity.core_identity import IDENTITY_KEY_PURPOSE, core_identity_claims, kid_prefix
from idp.identity.outcome import IdentityOutcome, userinfo_identity_claims
from idp.lookups import UserProfile, find_client, find_user_profile, user_key
from idp.oidc.grants import AccessTokenRecord, access_token_key
from idp.services import current_services
from idp.web.api import ApiRequest, ApiResponse

INVALID_TOKEN = 'Bearer error="invalid_token", error_description="Invalid access token"'


def _unauthorized(challenge: str) -> ApiResponse:
    return ApiResponse(401, None, [("WWW-Authenticate", challenge)])


def bearer_token_required(request: ApiRequest) -> ApiResponse | None:
    """The access rule of /userinfo: a live access token issued by this provider."""
    authorization = request.header("Authorization")
    token = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return _unauthorized(INVALID_TOKEN)
        token = value.strip()
    elif request.method == "POST":
        token = request.form.get("access_token")
    if not token:
        # RFC 6750 §3.1: a request without authentication gets the bare challenge, with no error code.
        return _unauthorized("Bearer")
    # The token's record and the profile of the user it names, in one round trip: userinfo is called once per
    # sign-in or more, and each round trip to the store costs about as much CPU as the rest of the request.
    stored_token, (stored_profile,) = current_services().store.get_linked(
        access_token_key(token), "user_id", [user_key("")]
    )
    if stored_token is None:  # the store, not the signature, is the authority: revoked or expired is absent
        return _unauthorized(INVALID_TOKEN)
    g.access_token = AccessTokenRecord(**orjson.loads(stored_token))
    g.user_profile = UserProfile(**orjson.loads(stored_profile)) if stored_profile is not None else None
    return None


def userinfo(_request: ApiRequest) -> ApiResponse:
    record: AccessTokenRecord = g.access_token
    user = g.user_profile or find_user_profile(record.user_id)  # the store forgot it: read through to the database
    if user is None or user.suspended:
        return _unauthorized(INVALID_TOKEN)
    claims: dict[str, Any] = {"sub": record.subject}
    if "email" in record.scopes:
        claims["email"] = user.email
        claims["email_verified"] = bool(user.email_verified)
    if "phone" in record.scopes:
        # Reference §4: the phone number only for text-message users; authenticator-app users get `false`.
        if user.mfa_method == "sms" and user.phone_number:
            claims["phone_number"] = user.phone_number
            claims["phone_number_verified"] = bool(user.phone_number_verified)
        else:
            claims["phone_number_verified"] = False
    if record.identity is not None:
        client = find_client(record.client_id)
        claims.update(
            userinfo_identity_claims(
                IdentityOutcome.from_dict(record.identity),
                record.claims,
                bool(client and client.return_codes_enabled),
                lambda outcome: sign_core_identity_jwt(outcome, record.subject, record.client_id),
            )
        )
    return ApiResponse(200, claims)


def sign_core_identity_jwt(outcome: IdentityOutcome, subject: str, client_id: str) -> str:
    identity_issuer = current_app.config["IDP_IDENTITY_ISSUER"]
    claims = core_identity_claims(
        identity_issuer=identity_issuer,
        trustmark=current_app.config["IDP_ISSUER"] + "trustmark",
        subject=subject,
        client_id=client_id,
        vot=outcome.vot,
        name=outcome.name,
        birth_date=outcome.birth_date,
        now=int(time.time()),
    )
    return current_services().keyring.sign(
        claims, IDENTITY_KEY_PURPOSE, "ES256", kid_prefix=kid_prefix(identity_issuer)
    )
