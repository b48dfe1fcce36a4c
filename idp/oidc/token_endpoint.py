"""/token (reference §3): an authorization code, with PKCE and client authentication, for an ID and an access token.

Served by idp.web.api, ahead of Flask: a service's server calls it, with no cookies and no form of ours.
"""

from __future__ import annotations

from flask import current_app

from idp import metrics
from idp.auth.passwords import verify_argon2_secret
from idp.lookups import ClientRecord, find_client
from idp.oidc.client_authentication import TokenError, authenticate_client
from idp.oidc.grants import code_key
from idp.services import current_services
from idp.web.api import ApiRequest, ApiResponse


def token_error(error: TokenError) -> ApiResponse:
    return ApiResponse(error.status, {"error": error.error, "error_description": error.description})


def token(request: ApiRequest) -> ApiResponse:
    form = request.form
    issuer = current_app.config["IDP_ISSUER"]
    try:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise TokenError("invalid_request", "Request is missing grant_type parameter")
        if grant_type != "authorization_code":
            raise TokenError("unsupported_grant_type", "Unsupported grant type")
        if not form.get("redirect_uri"):
            raise TokenError("invalid_request", "Request is missing redirect_uri parameter")
        if not form.get("code"):
            raise TokenError("invalid_request", "Request is missing code parameter")
        services = current_services()
        taken: list[bytes | None] = []

        def remember_jti_and_take_code(client_id: str, jti: str, ttl: int) -> bool:
            # The assertion's replay check and the redemption of the code in one round trip. A request that fails
            # the check has still used up its code, as a code presented with a replayed assertion should be.
            added, code = services.store.add_and_take(f"jti:{client_id}:{jti}", b"1", ttl, code_key(form["code"]))
            taken.append(code)
            return added

        client = authenticate_client(
            form,
            find_client=find_client,
            key_for=services.client_keys.key_for,
            remember_jti=remember_jti_and_take_code,
            check_secret=verify_argon2_secret,
            audiences=(issuer + "token", issuer),
        )
        assert isinstance(client, ClientRecord)
        body = services.grants.exchange_code(
            form, client.client_id, client.id_token_signing_alg, (taken[0],) if taken else None
        )
    except TokenError as error:
        return token_error(error)
    metrics.TOKENS_ISSUED.inc()
    return ApiResponse(200, body, [("Pragma", "no-cache")])
