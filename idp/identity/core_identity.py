"""The core identity JWT and the DID document that publishes its keys (reference §1.4, §4.1). Pure: no Flask.

The JWT carries only the name and date of birth, signed ES256 by the keyring's `identity` purpose, with `kid`
in the DID form `did:web:<identity host>#<key id>` so that a relying party finds the key in the DID document
served at the identity issuer's fixed URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from idp.keys.keyring import PublishedKey

IDENTITY_KEY_PURPOSE = "identity"
# Reference §4.1: "Emit IdentityCheckCredential" (what the live integration environment sends).
CORE_IDENTITY_TYPE = ["VerifiableCredential", "IdentityCheckCredential"]
# Reference §4.1: "the docs say the JWT is valid for 30 minutes".
CORE_IDENTITY_TTL = 30 * 60
DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"]


def did_for(identity_issuer: str) -> str:
    """`did:web:<host>`, a port's colon percent-encoded as the did:web method requires (`localhost%3A8080`)."""
    parts = urlsplit(identity_issuer)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}{quote(':')}{parts.port}"
    return f"did:web:{host}"


def kid_prefix(identity_issuer: str) -> str:
    return did_for(identity_issuer) + "#"


def did_document(identity_issuer: str, keys: Iterable[PublishedKey]) -> dict[str, Any]:
    """Every published identity key (pending, active, retired), so that rotation never strands a relying party."""
    controller = did_for(identity_issuer)
    methods: list[dict[str, Any]] = []
    for key in keys:
        if key.purpose != IDENTITY_KEY_PURPOSE:
            continue
        jwk: dict[str, Any] = {n: key.public_jwk[n] for n in ("kty", "crv", "x", "y") if n in key.public_jwk}
        methods.append(
            {
                "id": f"{controller}#{key.kid}",
                "type": "JsonWebKey",
                "controller": controller,
                "publicKeyJwk": {**jwk, "alg": "ES256"},
            }
        )
    return {"@context": DID_CONTEXT, "id": controller, "assertionMethod": methods}


def core_identity_claims(
    *,
    identity_issuer: str,
    trustmark: str,
    subject: str,
    client_id: str,
    vot: str,
    name: list[dict[str, Any]],
    birth_date: list[dict[str, Any]],
    now: int,
) -> dict[str, Any]:
    """Reference §4.1: `sub` is the client's pairwise sub, `aud` the client, `vot` the level achieved."""
    return {
        "sub": subject,
        "iss": identity_issuer,
        "aud": client_id,
        "nbf": now,
        "iat": now,
        "exp": now + CORE_IDENTITY_TTL,
        "vot": vot,
        "vtm": trustmark,
        "vc": {
            "type": list(CORE_IDENTITY_TYPE),
            "credentialSubject": {"name": name, "birthDate": birth_date},
        },
    }
