"""Password and client-secret hashing with Argon2id."""

from __future__ import annotations

import threading

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher:
    """Argon2id, with at most `concurrency` hashes at once per process.

    Each hash holds `memory_kib` of memory while it runs; bounding how many run at once bounds a worker's memory
    (4 threads hashing at 19 MiB each would add 76 MiB). On a core per worker it costs no throughput: the hashes
    are CPU-bound either way.
    """

    def __init__(self, memory_kib: int, time_cost: int, parallelism: int = 1, concurrency: int = 1) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=argon2.Type.ID
        )
        self._slots = threading.BoundedSemaphore(concurrency)
        # Checking a password for an email with no account costs the same as for one with an account.
        self._decoy = self._hasher.hash("decoy password that never matches")

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, encoded: str | None, password: str) -> bool:
        """Constant-time by construction; False for a wrong password, a missing or a malformed hash."""
        try:
            with self._slots:
                return self._hasher.verify(encoded or self._decoy, password) and bool(encoded)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, encoded: str) -> bool:
        return self._hasher.check_needs_rehash(encoded)


def verify_argon2_secret(encoded: str, secret: str) -> bool:
    """Client secrets come hashed from the RP with their own Argon2id parameters (reference §3.1)."""
    try:
        return argon2.PasswordHasher().verify(encoded, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
