"""The production store: Redis, where expiry is native."""

from __future__ import annotations

import redis

# GETDEL needs Redis 6.2; INCR and EXPIRE NX in one round trip keep a counter's window from sliding.
_INCR_WITH_WINDOW = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class RedisStore:
    def __init__(self, client: redis.Redis, prefix: str = "idp:") -> None:
        self._redis = client
        self._prefix = prefix
        self._incr = client.register_script(_INCR_WITH_WINDOW)

    @classmethod
    def from_url(cls, url: str, prefix: str = "idp:") -> RedisStore:
        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), prefix)

    def _k(self, key: str) -> str:
        return self._prefix + key

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self._redis.set(self._k(key), value, ex=max(ttl, 1))

    def get(self, key: str) -> bytes | None:
        value = self._redis.get(self._k(key))
        return value.encode() if isinstance(value, str) else value

    def delete(self, key: str) -> bool:
        return bool(self._redis.delete(self._k(key)))

    def add(self, key: str, value: bytes, ttl: int) -> bool:
        return bool(self._redis.set(self._k(key), value, ex=max(ttl, 1), nx=True))

    def take(self, key: str) -> bytes | None:
        value = self._redis.getdel(self._k(key))
        return value.encode() if isinstance(value, str) else value

    def incr(self, key: str, ttl: int) -> int:
        return int(self._incr(keys=[self._k(key)], args=[max(ttl, 1)]))

    def ttl(self, key: str) -> int | None:
        remaining = int(self._redis.ttl(self._k(key)))
        return remaining if remaining >= 0 else None

    def flush_prefix(self) -> None:
        """For tests: remove every key under this store's prefix."""
        for key in self._redis.scan_iter(match=self._prefix + "*", count=1000):
            self._redis.delete(key)
