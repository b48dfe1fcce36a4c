"""Short-lived state with expiry: sessions, codes, replay caches, rate counters.

One small interface, two backends: `SqlStore` (the embedded default, in the app's database) and `RedisStore`
(production). Nothing outside this package knows which one is in use.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Protocol

#: What `get_linked` gives: the value, and the value each linked key holds.
LinkedValues = tuple[bytes | None, list[bytes | None]]


class Store(Protocol):
    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Store `value` under `key` for `ttl` seconds, replacing any previous value."""

    def set_many(self, items: list[tuple[str, bytes, int]]) -> None:
        """Several `set`s in one round trip: (key, value, ttl) each."""

    def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        """The values of several keys in one round trip, in order; None where absent or expired."""

    def get_linked(self, key: str, field: str, linked_prefixes: Sequence[str]) -> LinkedValues:
        """The value under `key` and, in the same round trip, the value under each of `linked_prefixes` + the string
        `field` of that value read as a JSON object. A linked value is None when the first value is absent or is
        not such an object, or when the key it names is absent or expired."""

    def delete(self, key: str) -> bool:
        """Remove the key; True when it was present and unexpired."""

    def add(self, key: str, value: bytes, ttl: int) -> bool:
        """Set only if absent or expired (set-if-absent); True when this call stored it."""

    def take(self, key: str) -> bytes | None:
        """Get and delete in one atomic step: single-use values are redeemed exactly once."""

    def add_and_take(self, add_key: str, value: bytes, ttl: int, take_key: str) -> tuple[bool, bytes | None]:
        """`add(add_key, value, ttl)` and `take(take_key)`, in one round trip on Redis (two statements on SQL); both
        happen whatever the other's result."""

    def incr(self, key: str, ttl: int) -> int:
        """Increment a counter; a new counter starts at 1 and expires `ttl` seconds after it was created."""

    def ttl(self, key: str) -> int | None:
        """Seconds until the key expires, or None when absent."""


def linked_field(value: bytes | None, field: str) -> str | None:
    """The string `field` of a JSON object value, for `get_linked`; None for anything else."""
    if value is None:
        return None
    try:
        record = json.loads(value)
    except ValueError:
        return None
    link = record.get(field) if isinstance(record, dict) else None
    return link if isinstance(link, str) else None


def create_store(database_url: str, redis_url: str) -> Store:
    """Redis when `REDIS_URL` is set; otherwise the SQL store beside the app's database."""
    if redis_url:
        from idp.store.redis import RedisStore

        return RedisStore.from_url(redis_url)
    from idp.store.sql import SqlStore, store_url_for

    return SqlStore(store_url_for(database_url))
