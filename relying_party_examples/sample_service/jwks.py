"""The provider's signing keys, and checking a token's signature with them. No Flask here.

One Login publishes its keys at `jwks_uri` with `Cache-Control: max-age=86400`, publishes a new key before it signs
with it, and removes old keys afterwards (reference §1.2, §6.1). So: cache per `max-age`, fetch again once when a
token names a `kid` we do not know, and never trust a `kid` that is not in the provider's current set.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import requests

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]
#: Fetches a JWKS document: url -> (parsed JSON, seconds it may be cached). Tests pass their own.
JwksFetcher = Callable[[str], tuple[JsonObject, float]]

USER_AGENT = "relying-party-examples/1.0"
DEFAULT_MAX_AGE = 300.0
MAX_CACHE_SECONDS = 86400.0


class InvalidTokenError(Exception):
    """The token must not be trusted. The message is safe to log: it never contains the token or personal data."""


def cache_max_age(cache_control: str | None) -> float:
    directives = [d.strip().lower() for d in (cache_control or "").split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    for directive in directives:
        name, _, value = directive.partition("=")
        if name.strip() == "max-age" and value.strip().strip('"').isdigit():
            return float(value.strip().strip('"'))
    return DEFAULT_MAX_AGE


def fetch_jwks(url: str) -> tuple[JsonObject, float]:
    # One Login's firewall refuses back-channel calls without a User-Agent (reference §0).
    response = requests.get(url, timeout=5, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    response.raise_for_status()
    return response.json(), cache_max_age(response.headers.get("Cache-Control"))


class JwksCache:
    def __init__(
        self,
        jwks_uri: str,
        fetch: JwksFetcher = fetch_jwks,
        clock: Callable[[], float] = time.time,
        min_refetch_interval: float = 60.0,
    ) -> None:
        self._jwks_uri = jwks_uri
        self._fetch = fetch
        self._clock = clock
        # Bounds how often forged tokens with made-up kids can make us call the provider.
        self._min_refetch_interval = min_refetch_interval
        self._keys: dict[str, jwt.PyJWK] = {}
        self._expires_at = -math.inf
        self._fetched_at = -math.inf
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            now = self._clock()
            if now >= self._expires_at:
                self._refresh(now)
            elif kid not in self._keys and now - self._fetched_at >= self._min_refetch_interval:
                # OIDC Core §10.1.1: a new kid is how a rotated key shows up, so fetch the set again (once).
                self._refresh(now)
            key = self._keys.get(kid)
        if key is None:
            # One Login (reference §3.3, §6.1): a kid not in the current set means the token must not be trusted.
            raise InvalidTokenError("signing key (kid) not in the provider's JWKS")
        return key

    def _refresh(self, now: float) -> None:
        self._fetched_at = now
        try:
            document, max_age = self._fetch(self._jwks_uri)
            keys = {}
            for jwk in document["keys"]:
                if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or jwk.get("use", "sig") != "sig":
                    continue
                try:
                    keys[jwk["kid"]] = jwt.PyJWK(jwk)
                except jwt.PyJWTError:
                    log.warning("Ignoring a JWKS key of an unsupported type")
        except (requests.RequestException, ValueError, TypeError, KeyError):
            # Keep the keys we have: the provider publishes keys long before and after it uses them.
            log.warning("Could not fetch the provider's JWKS; keeping %d cached keys", len(self._keys))
            self._expires_at = now + self._min_refetch_interval
            return
        self._keys = keys
        # Whatever the header says: no more than one fetch a minute, and at least one a day.
        self._expires_at = now + min(max(max_age, self._min_refetch_interval), MAX_CACHE_SECONDS)


def verify_signature(token: str, keys: JwksCache, allowed_algs: tuple[str, ...]) -> tuple[JsonObject, JsonObject]:
    """Check the JWS signature with the provider's key named by `kid`. Returns (header, claims); checks no claim."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidTokenError("not a signed JWT") from error
    alg = header.get("alg")
    # OIDC Core §3.1.3.7 step 6-7: verify with "the algorithm specified in the JWT alg Header Parameter", and only the
    # algorithms we expect: this also refuses "none" and HMAC.
    if not isinstance(alg, str) or alg not in allowed_algs:
        raise InvalidTokenError(f"alg {alg!r} not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise InvalidTokenError("no kid in the header")
    key = keys.key(kid)
    # The key's type (or its own "alg") fixes the algorithm: an RSA key never checks an ES256 token.
    if key.algorithm_name != alg:
        raise InvalidTokenError(f"alg {alg!r} does not match the key's algorithm {key.algorithm_name!r}")
    try:
        payload = jwt.PyJWS().decode(token, key=key, algorithms=[alg])
        claims = json.loads(payload)
    except (jwt.PyJWTError, ValueError) as error:
        raise InvalidTokenError("signature or payload invalid") from error
    if not isinstance(claims, dict):
        raise InvalidTokenError("payload is not a JSON object")
    return header, claims
