"""Encryption at rest (idp/keys/encryption.py)."""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from idp.keys.encryption import MasterKeyError, SecretBox, load_master_key, load_previous_master_keys


def encode(key: bytes, padded: bool = False) -> str:
    text = base64.urlsafe_b64encode(key).decode()
    return text if padded else text.rstrip("=")


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(secrets.token_bytes(32))


@pytest.mark.parametrize("plaintext", [b"", b"x", b"\x00\xff" * 100, secrets.token_bytes(4096)])
def test_seal_and_open_round_trip(box: SecretBox, plaintext: bytes) -> None:
    sealed = box.seal(plaintext, context="key-1")
    assert box.open(sealed, context="key-1") == plaintext
    if len(plaintext) >= 8:  # a byte or two can turn up in random ciphertext by chance
        assert plaintext not in sealed


def test_each_seal_uses_a_fresh_nonce(box: SecretBox) -> None:
    assert box.seal(b"secret", "c") != box.seal(b"secret", "c")


def test_wrong_context_fails(box: SecretBox) -> None:
    sealed = box.seal(b"secret", context="totp:user-1")
    with pytest.raises(InvalidTag):
        box.open(sealed, context="totp:user-2")


@pytest.mark.parametrize("position", [1, 12, 13, -1], ids=["nonce-start", "nonce-end", "ciphertext", "tag"])
def test_tampering_fails(box: SecretBox, position: int) -> None:
    sealed = bytearray(box.seal(b"a secret worth keeping", context="c"))
    sealed[position] ^= 0x01
    with pytest.raises(InvalidTag):
        box.open(bytes(sealed), context="c")


def test_truncated_value_fails(box: SecretBox) -> None:
    sealed = box.seal(b"a secret worth keeping", context="c")
    with pytest.raises(InvalidTag):
        box.open(sealed[:-1], context="c")


@pytest.mark.parametrize("sealed", [b"", b"\x02" + b"\x00" * 40])
def test_unknown_format_fails(box: SecretBox, sealed: bytes) -> None:
    with pytest.raises(ValueError, match="unknown sealed format"):
        box.open(sealed, context="c")


def test_another_master_key_fails(box: SecretBox) -> None:
    sealed = box.seal(b"secret", context="c")
    with pytest.raises(InvalidTag):
        SecretBox(secrets.token_bytes(32)).open(sealed, context="c")


@pytest.mark.parametrize("padded", [False, True])
def test_master_key_from_value(tmp_path: Path, padded: bool) -> None:
    key = secrets.token_bytes(32)
    file_path = tmp_path / "master.key"
    assert load_master_key(encode(key, padded), str(file_path), create_if_missing=True) == key
    assert not file_path.exists()


def test_value_takes_precedence_over_the_file(tmp_path: Path) -> None:
    file_key, value_key = secrets.token_bytes(32), secrets.token_bytes(32)
    file_path = tmp_path / "master.key"
    file_path.write_text(encode(file_key) + "\n")
    assert load_master_key(encode(value_key), str(file_path), create_if_missing=False) == value_key


def test_master_key_from_file(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    file_path = tmp_path / "master.key"
    file_path.write_text("  " + encode(key) + "\n\n")
    assert load_master_key("", str(file_path), create_if_missing=False) == key


def test_master_key_file_is_created_with_mode_0600(tmp_path: Path) -> None:
    file_path = tmp_path / "keys" / "nested" / "master.key"
    key = load_master_key("", str(file_path), create_if_missing=True)
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(file_path).st_mode) == 0o600
    assert base64.urlsafe_b64decode(file_path.read_text().strip() + "=") == key
    # The second run reads the same key back.
    assert load_master_key("", str(file_path), create_if_missing=True) == key
    assert load_master_key("", str(file_path), create_if_missing=False) == key


def test_missing_file_without_create_fails(tmp_path: Path) -> None:
    file_path = tmp_path / "master.key"
    with pytest.raises(MasterKeyError, match="no master key file exists"):
        load_master_key("", str(file_path), create_if_missing=False)
    assert not file_path.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (encode(secrets.token_bytes(16)), "must be 32 bytes"),
        (encode(secrets.token_bytes(33)), "must be 32 bytes"),
        (encode(secrets.token_bytes(64)), "must be 32 bytes"),
        ("a", "not base64url"),
        ("é" * 43, "not base64url"),
        ("!!!!", "must be 32 bytes"),
    ],
    ids=["16-bytes", "33-bytes", "64-bytes", "bad-padding", "non-ascii", "no-base64-characters"],
)
def test_bad_master_key_values(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(MasterKeyError, match=message):
        load_master_key(value, str(tmp_path / "master.key"), create_if_missing=True)


def test_bad_master_key_file(tmp_path: Path) -> None:
    file_path = tmp_path / "master.key"
    file_path.write_text(encode(secrets.token_bytes(24)))
    with pytest.raises(MasterKeyError, match="must be 32 bytes"):
        load_master_key("", str(file_path), create_if_missing=True)


def test_previous_master_keys_open_but_never_seal() -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    sealed_by_old = SecretBox(old).seal(b"secret", context="k")
    during = SecretBox(new, previous_keys=(old,))
    assert during.open(sealed_by_old, context="k") == b"secret"
    resealed = during.seal(b"secret", context="k")
    with pytest.raises(InvalidTag):
        SecretBox(old).open(resealed, context="k")
    with pytest.raises(InvalidTag):
        during.open(sealed_by_old, context="another record")
    with pytest.raises(InvalidTag):
        SecretBox(new).open(sealed_by_old, context="k")


def test_previous_master_keys_from_the_setting() -> None:
    keys = [secrets.token_bytes(32), secrets.token_bytes(32)]
    assert load_previous_master_keys(f" {encode(keys[0])} ,{encode(keys[1], padded=True)}") == tuple(keys)
    assert load_previous_master_keys("") == ()
    with pytest.raises(MasterKeyError, match="32 bytes"):
        load_previous_master_keys(encode(b"short"))
