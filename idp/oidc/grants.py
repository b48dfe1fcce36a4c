"""Authorization codes and the tokens they are exchanged for.

A code is single-use: redeeming it takes it from the store atomically. RFC 6749 §4.1.2: "If an authorization
code is used more than once, the authorization server MUST deny the request and SHOULD revoke (when possible)
all tokens previously issued based on that authorization code." We remember each redeemed code for as long
as its access token lives, so that a second redemption revokes that token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from idp.keys.keyring import Keyring
from idp.oidc.authorization_request import pkce_verifier_is_well_formed
from idp.oidc.claims import access_token_claims, id_token_claims
from idp.oidc.client_authentication import TokenError
from idp.store import Store

# Store keys by the SHA-256 of the code or token, never the value itself: `code_key`, `access_token_key`, and the
# redeemed code's link to the token it issued.
_CODE = "code:"
_ACCESS_TOKEN = "at:"
_REDEEMED_CODE = "code-redeemed:"


def code_key(code: str) -> str:
    return _CODE + _digest(code)


def access_token_key(access_token: str) -> str:
    return _ACCESS_TOKEN + _digest(access_token)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class Grant:
    """What an authorization code stands for."""

    client_id: str
    redirect_uri: str
    user_id: str
    subject: str
    journey_id: str
    session_ref: str
    scopes: list[str]
    credential_level: str
    auth_time: int
    nonce: str | None = None
    code_challenge: str | None = None
    vtr: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    identity_level: str | None = None
    identity: dict[str, Any] | None = None


@dataclass
class AccessTokenRecord:
    user_id: str
    subject: str
    client_id: str
    scopes: list[str]
    claims: list[str]
    journey_id: str
    identity_level: str | None
    identity: dict[str, Any] | None = None


class Grants:
    def __init__(
        self,
        store: Store,
        keyring: Keyring,
        issuer: str,
        code_ttl: int,
        access_token_ttl: int,
        id_token_ttl: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._keyring = keyring
        self._issuer = issuer
        self._code_ttl = code_ttl
        self._access_token_ttl = access_token_ttl
        self._id_token_ttl = id_token_ttl
        self._clock = clock

    def issue_code(self, grant: Grant) -> str:
        code = secrets.token_urlsafe(32)
        self._store.set(code_key(code), orjson.dumps(vars(grant)), self._code_ttl)
        return code

    def exchange_code(
        self,
        form: Mapping[str, str],
        client_id: str,
        id_token_alg: str,
        taken: tuple[bytes | None] | None = None,
    ) -> dict[str, Any]:
        """Redeem `code` for the client already authenticated; return the token response body.

        `taken` holds what the caller already took from the code's key (`code_key`), in the round trip of its own
        replay check; without it the code is taken here."""
        code_digest = _digest(form.get("code", ""))
        stored = taken[0] if taken is not None else self._store.take(_CODE + code_digest)
        if stored is None:
            self._revoke_if_reused(code_digest)
            raise TokenError("invalid_grant", "Invalid authorization code")
        grant = Grant(**orjson.loads(stored))
        if grant.client_id != client_id:
            raise TokenError("invalid_grant", "Invalid authorization code")
        if not hmac.compare_digest(grant.redirect_uri, form.get("redirect_uri", "")):
            raise TokenError("invalid_grant", "Invalid redirect_uri")
        self._check_pkce(grant.code_challenge, form.get("code_verifier"))

        now = int(self._clock())
        access_claims = access_token_claims(
            issuer=self._issuer,
            subject=grant.subject,
            client_id=client_id,
            now=now,
            ttl=self._access_token_ttl,
            scopes=grant.scopes,
            journey_id=grant.journey_id,
            identity_claims=grant.claims if grant.identity_level else None,
        )
        access_token = self._keyring.sign(access_claims, "oidc", id_token_alg)
        record = AccessTokenRecord(
            user_id=grant.user_id,
            subject=grant.subject,
            client_id=client_id,
            scopes=grant.scopes,
            claims=grant.claims,
            journey_id=grant.journey_id,
            identity_level=grant.identity_level,
            identity=grant.identity,
        )
        token_key = _digest(access_token)
        self._store.set_many(
            [
                (_ACCESS_TOKEN + token_key, orjson.dumps(vars(record)), self._access_token_ttl),
                (_REDEEMED_CODE + code_digest, token_key.encode(), self._access_token_ttl + self._code_ttl),
            ]
        )

        id_token = self._keyring.sign(
            id_token_claims(
                issuer=self._issuer,
                subject=grant.subject,
                client_id=client_id,
                now=now,
                ttl=self._id_token_ttl,
                nonce=grant.nonce,
                access_token=access_token,
                alg=id_token_alg,
                journey_id=grant.journey_id,
                credential_level=grant.credential_level,
                auth_time=grant.auth_time,
            ),
            "oidc",
            id_token_alg,
        )
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self._access_token_ttl,
            "id_token": id_token,
        }

    def _revoke_if_reused(self, code_digest: str) -> None:
        token_key = self._store.take(_REDEEMED_CODE + code_digest)
        if token_key is not None:
            self._store.delete(_ACCESS_TOKEN + token_key.decode())

    @staticmethod
    def _check_pkce(challenge: str | None, verifier: str | None) -> None:
        failed = TokenError("invalid_grant", "PKCE code verification failed")
        if challenge is None:
            if verifier:
                raise failed
            return
        if not verifier or not pkce_verifier_is_well_formed(verifier):
            raise failed
        if not hmac.compare_digest(create_s256_code_challenge(verifier), challenge):
            raise failed
