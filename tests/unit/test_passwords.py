"""Argon2id hashing of passwords and client secrets (idp/auth/passwords.py)."""

from __future__ import annotations

import argon2
import pytest

from idp.auth.passwords import PasswordHasher, verify_argon2_secret


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(memory_kib=1024, time_cost=1)


@pytest.mark.parametrize("password", ["correct horse 42", "", "ünïcødé pässwörd", "x" * 1000])
def test_hash_and_verify(hasher: PasswordHasher, password: str) -> None:
    encoded = hasher.hash(password)
    assert encoded.startswith("$argon2id$")
    assert "m=1024,t=1,p=1" in encoded
    assert password not in encoded or password == ""
    assert hasher.verify(encoded, password) is True


def test_hashes_are_salted(hasher: PasswordHasher) -> None:
    assert hasher.hash("same password") != hasher.hash("same password")


@pytest.mark.parametrize("attempt", ["correct horse 43", "Correct horse 42", "correct horse 42 ", ""])
def test_wrong_password(hasher: PasswordHasher, attempt: str) -> None:
    assert hasher.verify(hasher.hash("correct horse 42"), attempt) is False


@pytest.mark.parametrize("encoded", [None, ""])
def test_missing_hash_never_matches(hasher: PasswordHasher, encoded: str | None) -> None:
    assert hasher.verify(encoded, "decoy password that never matches") is False
    assert hasher.verify(encoded, "anything") is False


@pytest.mark.parametrize(
    "encoded",
    ["not a hash", "$argon2id$v=19$m=1024,t=1,p=1$broken", "$2b$12$abcdefghijklmnopqrstuv", "$argon2id$"],
)
def test_malformed_hash_never_matches(hasher: PasswordHasher, encoded: str) -> None:
    assert hasher.verify(encoded, "anything") is False


def test_hash_with_other_parameters_still_verifies_and_needs_rehash(hasher: PasswordHasher) -> None:
    older = PasswordHasher(memory_kib=512, time_cost=2).hash("correct horse 42")
    assert hasher.verify(older, "correct horse 42") is True
    assert hasher.needs_rehash(older) is True
    assert hasher.needs_rehash(hasher.hash("correct horse 42")) is False


# Client secrets come hashed by the RP with One Login's parameters (reference §3.1).
RP_HASHER = argon2.PasswordHasher(time_cost=2, memory_cost=15360, parallelism=1, hash_len=16, type=argon2.Type.ID)


def test_client_secret() -> None:
    encoded = RP_HASHER.hash("c2VjcmV0")
    assert verify_argon2_secret(encoded, "c2VjcmV0") is True
    assert verify_argon2_secret(encoded, "c2VjcmV1") is False
    assert verify_argon2_secret(encoded, "") is False


@pytest.mark.parametrize("encoded", ["", "plain-text-secret", "$argon2id$v=19$m=15360,t=2,p=1$bad"])
def test_client_secret_with_malformed_hash(encoded: str) -> None:
    assert verify_argon2_secret(encoded, "plain-text-secret") is False
