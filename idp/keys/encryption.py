"""Encryption at rest under the key-encryption key (KEK): AES-256-GCM, bound to what the secret belongs to."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"


class MasterKeyError(RuntimeError):
    pass


def load_master_key(value: str, file_path: str, create_if_missing: bool) -> bytes:
    """The KEK from `IDP_MASTER_KEY` (base64url, 32 bytes), else from the development file, made on first run."""
    if value:
        return decode_master_key(value)
    path = Path(file_path)
    if path.exists():
        return decode_master_key(path.read_text().strip())
    if not create_if_missing:
        raise MasterKeyError("IDP_MASTER_KEY is not set and no master key file exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(encoded + "\n")
    return decode_master_key(encoded)


def load_previous_master_keys(value: str) -> tuple[bytes, ...]:
    """`IDP_MASTER_KEY_PREVIOUS`: comma-separated keys that still open (never seal) while `idp keys rewrap` runs."""
    return tuple(decode_master_key(part.strip()) for part in value.split(",") if part.strip())


def decode_master_key(value: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:
        raise MasterKeyError("the master key is not base64url") from exc
    if len(key) != 32:
        raise MasterKeyError("the master key must be 32 bytes")
    return key


class SecretBox:
    """Seals and opens secrets. `context` (what the secret belongs to) is authenticated, so a sealed value
    copied onto another record fails to open. Previous master keys, if given, still open what they sealed, so
    that the master key can change before every secret has been re-encrypted under it."""

    def __init__(self, master_key: bytes, previous_keys: tuple[bytes, ...] = ()) -> None:
        self._aead = AESGCM(master_key)
        self._previous = [AESGCM(key) for key in previous_keys if key != master_key]

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        if sealed[:1] != _VERSION:
            raise ValueError("unknown sealed format")
        try:
            return self._aead.decrypt(sealed[1:13], sealed[13:], context.encode())
        except InvalidTag:
            for previous in self._previous:
                try:
                    return previous.decrypt(sealed[1:13], sealed[13:], context.encode())
                except InvalidTag:
                    continue
            raise
