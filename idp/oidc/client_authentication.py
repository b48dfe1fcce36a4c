"""Client authentication at the token endpoint: `private_key_jwt` (RFC 7523) and `client_secret_post`.

Error codes and descriptions follow One Login (reference §3.1). Beyond One Login, a client assertion's `jti`
is never accepted twice, and ES256 client keys are accepted alongside RSA.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from idp.keys import jws
from idp.oidc.client_keys import ClientKeyNotFound, ClientKeySource, ClientKeyUnavailable, PublicKey

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256")
CLOCK_SKEW = 30


@dataclass
class TokenError(Exception):
    error: str
    description: str
    status: int = 400


class AuthenticatingClient(Protocol):
    client_id: str
    token_auth_method: str
    public_key_source: str
    public_key: str | None
    jwks_uri: str | None
    client_secret_hash: str | None
    is_active: bool


def authenticate_client(
    form: Mapping[str, str],
    *,
    find_client: Callable[[str], AuthenticatingClient | None],
    key_for: Callable[[ClientKeySource, str | None], PublicKey],
    remember_jti: Callable[[str, str, int], bool],
    check_secret: Callable[[str, str], bool],
    audiences: tuple[str, ...],
    now: Callable[[], float] = time.time,
) -> AuthenticatingClient:
    """`remember_jti(client_id, jti, ttl)` returns False when the `jti` was seen before."""
    if "client_assertion" in form or "client_assertion_type" in form:
        return _private_key_jwt(form, find_client, key_for, remember_jti, audiences, now)
    if "client_secret" in form:
        return _client_secret_post(form, find_client, check_secret)
    raise TokenError("invalid_request", "Invalid token authentication method used")


def _private_key_jwt(
    form: Mapping[str, str],
    find_client: Callable[[str], AuthenticatingClient | None],
    key_for: Callable[[ClientKeySource, str | None], PublicKey],
    remember_jti: Callable[[str, str, int], bool],
    audiences: tuple[str, ...],
    now: Callable[[], float],
) -> AuthenticatingClient:
    invalid = TokenError("invalid_request", "Invalid private_key_jwt")
    if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
        raise invalid
    assertion = form["client_assertion"]
    try:
        parsed = jws.parse(assertion)
    except jws.MalformedJWS as exc:
        raise invalid from exc
    header, claims = parsed.header, parsed.claims
    alg = header.get("alg")
    issuer, subject = claims.get("iss"), claims.get("sub")
    if alg not in ASSERTION_ALGORITHMS or not isinstance(issuer, str) or not isinstance(subject, str):
        raise invalid
    if "exp" not in claims or not isinstance(claims.get("exp"), int | float):
        raise invalid
    if "client_id" in form and form["client_id"] != subject:
        raise invalid

    client = find_client(subject)
    if client is None or not client.is_active:
        raise TokenError("invalid_client", "Client authentication failed")
    if client.token_auth_method != "private_key_jwt":
        raise TokenError("invalid_client", "Client is not registered to use private_key_jwt")
    # RFC 7523 §3: iss and sub MUST both be the client_id.
    if issuer != subject:
        raise TokenError("invalid_client", "Client authentication failed")

    source = ClientKeySource(client.client_id, client.public_key_source, client.public_key, client.jwks_uri)
    try:
        public_key = key_for(source, header.get("kid"))
    except ClientKeyUnavailable as exc:
        raise TokenError(
            "server_error", "Failed to fetch or parse JWKS to verify signature of private_key_jwt"
        ) from exc
    except ClientKeyNotFound as exc:
        raise TokenError("invalid_client", "Invalid signature in private_key_jwt") from exc

    _verify_signature_and_audience(parsed, public_key, alg, audiences)
    verified = claims
    current = now()
    if verified["exp"] + CLOCK_SKEW < current:
        raise TokenError("invalid_grant", "private_key_jwt has expired")
    if "nbf" in verified and verified["nbf"] - CLOCK_SKEW > current:
        raise TokenError("invalid_client", "private_key_jwt is not yet valid")

    # RFC 7523 §3: "The authorization server MAY ensure that JWTs are not replayed by maintaining the set of used
    # jti values for the length of time for which the JWT would be considered valid". We do.
    jti = verified.get("jti")
    if not isinstance(jti, str) or not jti:
        raise TokenError("invalid_client", "private_key_jwt is missing jti")
    lifetime = int(verified["exp"] - current) + CLOCK_SKEW + 1
    if not remember_jti(client.client_id, jti, max(lifetime, 1)):
        raise TokenError("invalid_client", "private_key_jwt has already been used")
    return client


def _verify_signature_and_audience(
    parsed: jws.ParsedJWS, public_key: PublicKey, alg: str, audiences: tuple[str, ...]
) -> None:
    invalid = TokenError("invalid_request", "Invalid private_key_jwt")
    claims = parsed.claims
    expected_key_type = ec.EllipticCurvePublicKey if alg.startswith("ES") else rsa.RSAPublicKey
    if not isinstance(public_key, expected_key_type):
        raise TokenError("invalid_client", "Invalid signature in private_key_jwt")
    if "nbf" in claims and not isinstance(claims["nbf"], int | float):
        raise invalid
    audience = claims.get("aud")
    audiences_claimed = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences_claimed, list) or not audiences_claimed:
        raise invalid
    if not all(isinstance(value, str) for value in audiences_claimed):
        raise invalid
    try:
        jws.verify(parsed, public_key, (alg,))
    except jws.BadSignature as exc:
        raise TokenError("invalid_client", "Invalid signature in private_key_jwt") from exc
    # RFC 7523 §3: "The JWT MUST contain an aud (audience) claim containing a value that identifies the
    # authorization server as an intended audience." One Login accepts the token endpoint or the issuer.
    if not set(audiences_claimed) & set(audiences):
        raise TokenError("invalid_client", "Invalid signature in private_key_jwt")


def _client_secret_post(
    form: Mapping[str, str],
    find_client: Callable[[str], AuthenticatingClient | None],
    check_secret: Callable[[str, str], bool],
) -> AuthenticatingClient:
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if not client_id or not secret:
        raise TokenError("invalid_request", "Invalid client secret")
    client = find_client(client_id)
    if client is None or not client.is_active:
        raise TokenError("invalid_client", "Client authentication failed")
    if client.token_auth_method != "client_secret_post":
        raise TokenError("invalid_client", "Client is not registered to use client_secret_post")
    if not client.client_secret_hash:
        raise TokenError("invalid_client", "No client secret registered")
    if not check_secret(client.client_secret_hash, secret):
        raise TokenError("invalid_client", "Invalid client secret")
    return client
