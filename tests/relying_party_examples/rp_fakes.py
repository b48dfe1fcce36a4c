"""A fake provider for the sample service's tests: its keys, its JWKS (served by an injected fetcher, no network),
and helpers that mint ID and logout tokens the way One Login does (reference §3.3, §5.2)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from relying_party_examples.sample_service.id_token import at_hash
from relying_party_examples.sample_service.jwks import JwksCache
from relying_party_examples.sample_service.logout_token import BACKCHANNEL_LOGOUT_EVENT

ISSUER = "http://op.test/"
CLIENT_ID = "fishing-licence"
NONCE = "n-0S6_WzA2Mj"
ACCESS_TOKEN = "SlAV32hkKG.access-token"
EC_KID = "a" * 64
RSA_KID = "b" * 64


def _jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.get_algorithm_by_name(alg)
    public = algorithm.to_jwk(key.public_key(), as_dict=True)
    return {**public, "kid": kid, "use": "sig", "alg": alg}


@dataclass
class FakeProvider:
    ec_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    rsa_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    max_age: float = 86400
    fetches: int = 0
    extra_keys: list[dict[str, Any]] = field(default_factory=list)
    removed_kids: set[str] = field(default_factory=set)

    def jwks(self) -> dict[str, Any]:
        keys = [_jwk(self.ec_key, EC_KID, "ES256"), _jwk(self.rsa_key, RSA_KID, "RS256"), *self.extra_keys]
        return {"keys": [key for key in keys if key.get("kid") not in self.removed_kids]}

    def fetch(self, url: str) -> tuple[dict[str, Any], float]:
        assert url == f"{ISSUER}.well-known/jwks.json"
        self.fetches += 1
        return self.jwks(), self.max_age

    def keys(self) -> JwksCache:
        return JwksCache(f"{ISSUER}.well-known/jwks.json", fetch=self.fetch)

    def sign(self, claims: dict[str, Any], alg: str = "ES256", headers: dict[str, Any] | None = None) -> str:
        key = self.ec_key if alg.startswith("ES") else self.rsa_key
        kid = EC_KID if alg.startswith("ES") else RSA_KID
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, **(headers or {})})

    def id_token_claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "urn:fdc:gov.uk:2022:JG0RJI1pYbnanbvPs-j4j5-a-PFcmhry9Qu9NCEp5d4",
            "aud": CLIENT_ID,
            "exp": now + 120,
            "iat": now,
            "nonce": NONCE,
            "at_hash": at_hash(ACCESS_TOKEN),
            "sid": "dX5xv0XgHh6yfD1xy-ss_1EDK0I",
            "vot": "Cl.Cm",
            "vtm": f"{ISSUER}trustmark",
            "auth_time": now,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def logout_token_claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "urn:fdc:gov.uk:2022:JG0RJI1pYbnanbvPs-j4j5-a-PFcmhry9Qu9NCEp5d4",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": str(uuid.uuid4()),
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def logout_token(self, **overrides: Any) -> str:
        return self.sign(self.logout_token_claims(**overrides), headers={"typ": "logout+jwt"})

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}authorize",
            "token_endpoint": f"{ISSUER}token",
            "userinfo_endpoint": f"{ISSUER}userinfo",
            "jwks_uri": f"{ISSUER}.well-known/jwks.json",
            "end_session_endpoint": f"{ISSUER}logout",
        }
