"""Checking the core identity JWT exactly as One Login tells departments to (reference §4.1). No Flask here.

1. Split `kid` at `#`: the controller must be the DID we expect (`did:web:identity.account.gov.uk` for One Login).
2. Fetch the DID document ONLY from the configured URL (never a generic did:web resolver); cache it per
   `Cache-Control`; keep the cached copy if a refresh fails.
3. Find the `assertionMethod` whose `id` is the full `kid`; none means the JWT must not be trusted.
4. Verify the signature with its `publicKeyJwk`; `alg` must be ES256.
5. `iss` is the identity issuer, `aud` this service's client ID, `sub` the ID token's `sub`, `exp` in the future.
6. `vot` meets the level this service asked for.

The service then keeps only the name and date of birth it needs: the JWT itself is never stored.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import jwt
import requests

from .jwks import USER_AGENT, InvalidTokenError, JsonObject, cache_max_age

log = logging.getLogger(__name__)

VOCAB = "https://vocab.account.gov.uk/v1/"
CORE_IDENTITY_JWT = VOCAB + "coreIdentityJWT"
RETURN_CODE = VOCAB + "returnCode"
#: Fetches the DID document: url -> (parsed JSON, seconds it may be cached). Tests pass their own.
DidFetcher = Callable[[str], tuple[JsonObject, float]]
_LEVELS = ("P0", "P1", "P2", "P3", "P4")


def fetch_did_document(url: str) -> tuple[JsonObject, float]:
    response = requests.get(url, timeout=5, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    response.raise_for_status()
    return response.json(), cache_max_age(response.headers.get("Cache-Control"))


class DidDocumentCache:
    """The identity issuer's DID document, from one fixed URL, cached per `Cache-Control`."""

    def __init__(
        self, url: str, fetch: DidFetcher = fetch_did_document, clock: Callable[[], float] = time.time
    ) -> None:
        self._url = url
        self._fetch = fetch
        self._clock = clock
        self._document: JsonObject | None = None
        self._expires_at = -math.inf
        self._lock = threading.Lock()
        self.fetches = 0

    def document(self) -> JsonObject:
        with self._lock:
            now = self._clock()
            if now >= self._expires_at:
                try:
                    document, max_age = self._fetch(self._url)
                    self.fetches += 1
                    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
                        raise ValueError("not a DID document")
                    self._document = document
                    self._expires_at = now + max_age
                except (requests.RequestException, ValueError, TypeError) as error:
                    if self._document is None:
                        raise InvalidTokenError("the DID document could not be fetched") from error
                    # Reference §4.1: "keep the cached copy if a refresh fails"; try again in a minute.
                    log.warning("Could not refresh the DID document; keeping the cached copy")
                    self._expires_at = now + 60
            assert self._document is not None
            return self._document


@dataclass(frozen=True)
class ProvenIdentity:
    """What the service keeps: the name and date of birth, and the level. Not the JWT."""

    given_names: str
    family_name: str
    birth_date: str
    vot: str


def validate_core_identity_jwt(
    token: str,
    *,
    did_documents: DidDocumentCache,
    expected_did: str,
    identity_issuer: str,
    client_id: str,
    subject: str,
    required_vot: str,
    now: float | None = None,
) -> JsonObject:
    """Returns the verified claims, or raises `InvalidTokenError` (whose message is safe to log)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidTokenError("the core identity JWT is not a signed JWT") from error
    kid = header.get("kid")
    if not isinstance(kid, str) or "#" not in kid:
        raise InvalidTokenError("the core identity JWT's kid is not a DID URL")
    controller, _, _key_id = kid.partition("#")
    document = did_documents.document()
    if controller != expected_did or document.get("id") != expected_did:
        raise InvalidTokenError("the core identity JWT's kid names another controller")
    methods = document.get("assertionMethod") or []
    method = next((m for m in methods if isinstance(m, dict) and m.get("id") == kid), None)
    if method is None:
        raise InvalidTokenError("the core identity JWT's key is not in the DID document")
    if header.get("alg") != "ES256":
        raise InvalidTokenError("the core identity JWT is not ES256")
    try:
        key = jwt.PyJWK({**method["publicKeyJwk"], "alg": "ES256"})
        claims: JsonObject = jwt.decode(
            token,
            key=key,
            algorithms=["ES256"],
            audience=client_id,
            issuer=identity_issuer,
            options={"require": ["iss", "aud", "sub", "exp", "vot", "vc"], "verify_exp": now is None},
        )
    except (jwt.PyJWTError, KeyError, TypeError) as error:
        raise InvalidTokenError(f"the core identity JWT does not verify ({type(error).__name__})") from error
    if now is not None and not (isinstance(claims["exp"], int | float) and claims["exp"] > now):
        raise InvalidTokenError("the core identity JWT has expired")
    if claims["sub"] != subject:
        raise InvalidTokenError("the core identity JWT is about someone else")
    vot = claims["vot"]
    if vot not in _LEVELS or _LEVELS.index(vot) < _LEVELS.index(required_vot):
        raise InvalidTokenError("the core identity JWT's vot is below the level asked for")
    return claims


def proven_identity(claims: JsonObject) -> ProvenIdentity:
    """The current name (no `validUntil`) and the most trusted date of birth (the first)."""
    subject: dict[str, Any] = claims["vc"]["credentialSubject"]
    names = subject.get("name") or []
    current = next((n for n in names if not n.get("validUntil")), names[0] if names else {"nameParts": []})
    given = " ".join(p["value"] for p in current["nameParts"] if p.get("type") == "GivenName")
    family = " ".join(p["value"] for p in current["nameParts"] if p.get("type") == "FamilyName")
    birth_dates = subject.get("birthDate") or [{"value": ""}]
    return ProvenIdentity(given, family, str(birth_dates[0]["value"]), str(claims["vot"]))


def requested_identity_level(vtr: list[str]) -> str | None:
    """The lowest P level in the service's `vtr`, which is what it must at least receive."""
    levels = sorted(part for vector in vtr for part in vector.split(".") if part in _LEVELS and part != "P0")
    return levels[0] if levels else None


def claims_request(names: list[str]) -> str:
    return json.dumps({"userinfo": dict.fromkeys(names)})


def did_for_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"did:web:{host}{quote(':')}{parts.port}" if parts.port is not None else f"did:web:{host}"


@dataclass
class IdentityRequest:
    """What a service that needs a proven identity asks for, and how it checks what it gets."""

    claims: list[str]
    vtr: list[str]
    identity_issuer: str
    expected_did: str
    did_documents: DidDocumentCache

    @property
    def required_vot(self) -> str:
        return requested_identity_level(self.vtr) or "P1"

    def identity_from(self, userinfo: dict[str, Any], client_id: str, subject: str) -> ProvenIdentity | None:
        """None when the provider did not prove the identity (then only `returnCode` may be present)."""
        token = userinfo.get(CORE_IDENTITY_JWT)
        if token is None:
            return None
        if not isinstance(token, str):
            raise InvalidTokenError("the core identity JWT is not a string")
        claims = validate_core_identity_jwt(
            token,
            did_documents=self.did_documents,
            expected_did=self.expected_did,
            identity_issuer=self.identity_issuer,
            client_id=client_id,
            subject=subject,
            required_vot=self.required_vot,
        )
        return proven_identity(claims)


def return_codes(userinfo: dict[str, Any]) -> list[str]:
    codes = userinfo.get(RETURN_CODE) or []
    return [str(item["code"]) for item in codes if isinstance(item, dict) and "code" in item]
