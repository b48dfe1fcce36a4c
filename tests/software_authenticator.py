"""A software WebAuthn authenticator: real P-256 keys, real CBOR, real signatures, nothing mocked.

It answers the options the provider sends the way a platform authenticator answers navigator.credentials (ctap2,
resident key, user verification), and can be told to misbehave: another origin, another rp id, no user
verification, a counter that stands still.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

USER_PRESENT = 0x01
USER_VERIFIED = 0x04
ATTESTED_CREDENTIAL_DATA = 0x40
AAGUID = bytes.fromhex("00000000000000000000000000000000")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftwareAuthenticator:
    origin: str
    rp_id: str = "localhost"
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    sign_count: int = 0
    user_handle: bytes = b""
    aaguid: bytes = AAGUID

    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def create(
        self, options_json: str, *, origin: str | None = None, rp_id: str | None = None, user_verified: bool = True
    ) -> dict[str, Any]:
        """navigator.credentials.create(): a registration response with "none" attestation."""
        options = json.loads(options_json)
        self.user_handle = from_b64url(options["user"]["id"])
        flags = USER_PRESENT | ATTESTED_CREDENTIAL_DATA | (USER_VERIFIED if user_verified else 0)
        rp_id_hash = hashlib.sha256((rp_id or options["rp"]["id"]).encode()).digest()
        attested = self.aaguid + struct.pack(">H", len(self.credential_id)) + self.credential_id
        auth_data = rp_id_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + attested
        auth_data += self.cose_public_key()
        attestation_object = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options_json: str,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        user_verified: bool = True,
        counter_step: int = 1,
    ) -> dict[str, Any]:
        """navigator.credentials.get(): an assertion signed with the credential's private key."""
        options = json.loads(options_json)
        self.sign_count += counter_step
        flags = USER_PRESENT | (USER_VERIFIED if user_verified else 0)
        rp_id_hash = hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
        auth_data = rp_id_hash + bytes([flags]) + struct.pack(">I", self.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.private_key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
