"""The two pieces of server-side state the service keeps, behind small interfaces.

The in-memory versions here are right for one process only (`flask run`, or gunicorn with one worker). With several
workers or servers, swap in a shared store with the same methods. In Redis:

- `ReplayCache.first_use`: `SET logout-jti:<jti> 1 NX EX <ttl>`, first use if it returns OK;
- `SignOutRegister`: `SET signed-out:<sub> <time> EX <retention>` and `GET signed-out:<sub>`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class ReplayCache(Protocol):
    def first_use(self, key: str, ttl_seconds: float) -> bool:
        """Record `key`; True if it was not already recorded within its time to live. Must be atomic."""
        ...


class SignOutRegister(Protocol):
    def record(self, sub: str, at: float) -> None:
        """The provider signed this `sub` out at time `at` (epoch seconds)."""
        ...

    def signed_out_at(self, sub: str) -> float | None: ...


class InMemoryReplayCache:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def first_use(self, key: str, ttl_seconds: float) -> bool:
        now = self._clock()
        with self._lock:
            self._expiry = {k: exp for k, exp in self._expiry.items() if exp > now}
            if key in self._expiry:
                return False
            self._expiry[key] = now + ttl_seconds
            return True


class InMemorySignOutRegister:
    """`retention_seconds` is the longest a sign-in lasts here: an older record can no longer end any session."""

    def __init__(self, retention_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self._at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._retention = retention_seconds
        self._clock = clock

    def record(self, sub: str, at: float) -> None:
        horizon = self._clock() - self._retention
        with self._lock:
            self._at = {s: t for s, t in self._at.items() if t > horizon}
            self._at[sub] = max(at, self._at.get(sub, at))

    def signed_out_at(self, sub: str) -> float | None:
        with self._lock:
            return self._at.get(sub)
