"""The provider as the service sees it: its discovery document, its keys, and how we authenticate to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign

from .core_identity import IdentityRequest
from .jwks import JwksCache, JwksFetcher, fetch_jwks
from .stores import ReplayCache, SignOutRegister

REQUIRED_ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "end_session_endpoint",
)


class ProviderError(Exception):
    """The provider could not be reached, or its discovery document is not what we expect."""


class ClientAssertion(PrivateKeyJWT):
    """`private_key_jwt` (RFC 7523): a JWT signed with our RSA key, `iss` = `sub` = client ID, `aud` = the token
    endpoint, a fresh `jti`, and `exp` 5 minutes ahead as One Login recommends (Authlib's default is 1 hour)."""

    def sign(self, auth: Any, token_endpoint: str) -> str:
        # kid: ignored while the provider holds a STATIC key, needed once the service publishes a JWKS (reference §6.2).
        header = {"kid": auth.client_secret.thumbprint()}
        result: str = private_key_jwt_sign(
            auth.client_secret, auth.client_id, token_endpoint, alg="RS256", header=header, expires_in=300
        )
        return result


@dataclass
class Service:
    """What the views need, kept on `app.extensions["sample_service"]`."""

    client: Any  # Authlib's Flask OAuth client for the provider
    issuer: str
    client_id: str
    base_url: str
    vtr: list[str]
    replay_cache: ReplayCache
    sign_outs: SignOutRegister
    jwks_fetcher: JwksFetcher = fetch_jwks
    identity: IdentityRequest | None = None
    _jwks: JwksCache | None = field(default=None, repr=False)

    def metadata(self) -> dict[str, Any]:
        try:
            metadata: dict[str, Any] = self.client.load_server_metadata()
        except (requests.RequestException, ValueError, TypeError) as error:
            raise ProviderError("could not fetch the discovery document") from error
        # OIDC Discovery §4.3: the issuer in the document "MUST be identical to the Issuer URL" we asked for.
        if metadata.get("issuer") != self.issuer:
            raise ProviderError("the discovery document names a different issuer")
        if not all(isinstance(metadata.get(name), str) for name in REQUIRED_ENDPOINTS):
            raise ProviderError("the discovery document lacks an endpoint")
        return metadata

    def jwks(self) -> JwksCache:
        if self._jwks is None:
            self._jwks = JwksCache(self.metadata()["jwks_uri"], fetch=self.jwks_fetcher)
        return self._jwks
