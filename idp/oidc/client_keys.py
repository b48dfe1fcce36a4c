"""Relying parties' public keys: a registered static key or the client's `jwks_uri` (reference §6.2).

Keys fetched from a `jwks_uri` are cached per (client, kid) for up to 24 hours, and an unknown `kid` causes a
re-fetch at most once a minute per client. A process-local cache is right here: these are the RP's public keys,
and each process may fetch them for itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

_KEY_CACHE_SECONDS = 24 * 3600
_REFETCH_INTERVAL_SECONDS = 60


class ClientKeyUnavailable(Exception):
    """The client's keys could not be fetched or parsed: a provider-side failure to report as server_error."""


class ClientKeyNotFound(Exception):
    """No key of the client matches the assertion's `kid`."""


@dataclass(frozen=True)
class ClientKeySource:
    client_id: str
    source: str  # "STATIC" or "JWKS"
    public_key_pem: str | None
    jwks_uri: str | None


def load_static_key(pem: str) -> PublicKey:
    """Reference §6.2: a PEM (SPKI) public key; the `BEGIN`/`END` lines may be left out."""
    text = pem.strip()
    if "BEGIN" not in text:
        body = "".join(text.split())
        text = "-----BEGIN PUBLIC KEY-----\n" + "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        text += "\n-----END PUBLIC KEY-----"
    key = load_pem_public_key(text.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise ValueError("only RSA and EC public keys are supported")
    return key


def fetch_jwks(url: str, timeout: float) -> dict[str, Any]:
    response = requests.get(url, timeout=timeout, headers={"User-Agent": "idp/jwks-fetch"}, allow_redirects=False)
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
        raise ValueError("not a JWK set")
    return body


class ClientKeyResolver:
    def __init__(
        self,
        timeout: float = 5.0,
        fetch: Callable[[str, float], dict[str, Any]] = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._timeout = timeout
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], tuple[float, PublicKey]] = {}
        self._last_fetch: dict[str, float] = {}
        self._static: dict[tuple[str, str], PublicKey] = {}

    def key_for(self, source: ClientKeySource, kid: str | None) -> PublicKey:
        if source.source == "STATIC":
            if not source.public_key_pem:
                raise ClientKeyUnavailable("no public key registered")
            cache_key = (source.client_id, source.public_key_pem)
            key = self._static.get(cache_key)
            if key is None:
                try:
                    key = load_static_key(source.public_key_pem)
                except ValueError as exc:
                    raise ClientKeyUnavailable("the registered public key cannot be parsed") from exc
                self._static[cache_key] = key
            return key
        if not source.jwks_uri:
            raise ClientKeyUnavailable("no jwks_uri registered")
        if not kid:
            raise ClientKeyNotFound("kid is required when keys come from a jwks_uri")
        now = self._clock()
        cached = self._keys.get((source.client_id, kid))
        if cached and now - cached[0] < _KEY_CACHE_SECONDS:
            return cached[1]
        last = self._last_fetch.get(source.client_id)
        if cached is None and last is not None and now - last < _REFETCH_INTERVAL_SECONDS:
            raise ClientKeyNotFound("unknown kid")
        self._refresh(source, now)
        cached = self._keys.get((source.client_id, kid))
        if cached is None:
            raise ClientKeyNotFound("unknown kid")
        return cached[1]

    def _refresh(self, source: ClientKeySource, now: float) -> None:
        with self._lock:
            self._last_fetch[source.client_id] = now
        try:
            jwks = self._fetch(source.jwks_uri or "", self._timeout)
            parsed = jwt.PyJWKSet.from_dict(jwks)
        except (requests.RequestException, ValueError, jwt.PyJWTError) as exc:
            raise ClientKeyUnavailable("the client's JWKS could not be fetched or parsed") from exc
        with self._lock:
            # The fetched set replaces what was cached: a key the client has withdrawn is no longer trusted.
            for cached_client, cached_kid in [k for k in self._keys if k[0] == source.client_id]:
                del self._keys[(cached_client, cached_kid)]
            for jwk in parsed.keys:
                if jwk.key_id and jwk.public_key_use in (None, "sig"):
                    key = jwk.key
                    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
                        key = key.public_key()
                    self._keys[(source.client_id, jwk.key_id)] = (now, key)
