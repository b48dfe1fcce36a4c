"""The production store: Redis, where expiry is native.

Commands go straight to a redis-py `Connection` kept per thread, not through `redis.Redis`: the client's retry,
observability and pool layers cost about 35 µs of CPU per command, several times the command itself, and /token
makes five. Commands are packed by hiredis directly (redis-py's packing is a third of a command's CPU); redis-py
does the rest of the protocol, the parsing (hiredis), authentication and TLS.
A command whose connection fails is retried once on a new connection only when repeating it is harmless.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any

import redis
from hiredis import pack_command
from redis.connection import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from idp.store import LinkedValues

_NETWORK_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

# get_linked: the second key is named by the first value, so it cannot be declared in KEYS; that is fine on a
# single Redis (or Sentinel), which is what the provider runs on, not on Redis Cluster.
_GET_LINKED = """
local value = redis.call('GET', KEYS[1])
if not value then return {false} end
local decoded, record = pcall(cjson.decode, value)
if not decoded or type(record) ~= 'table' or type(record[ARGV[1]]) ~= 'string' then return {value} end
local found = {value}
for i = 2, #ARGV do found[i] = redis.call('GET', ARGV[i] .. record[ARGV[1]]) end
return found
"""
_GET_LINKED_SHA = hashlib.sha1(_GET_LINKED.encode(), usedforsecurity=False).hexdigest()


class RedisStore:
    def __init__(self, pool: ConnectionPool, prefix: str = "idp:") -> None:
        self._pool = pool
        self._prefix = prefix
        self._local = threading.local()

    @classmethod
    def from_url(cls, url: str, prefix: str = "idp:") -> RedisStore:
        # A connection idle for 10 s is PINGed (and replaced if dead) before its next command, so a Redis restart
        # does not fail the first non-repeatable command on each thread's old connection.
        pool = ConnectionPool.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=10)
        return cls(pool, prefix)

    def _k(self, key: str) -> str:
        return self._prefix + key

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._pool.make_connection()
            self._local.connection = connection
        return connection

    def _call(self, *args: Any, idempotent: bool = True) -> Any:
        return self._pipeline([args], idempotent)[0]

    def _pipeline(self, commands: list[tuple[Any, ...]], idempotent: bool = True) -> list[Any]:
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.send_packed_command([b"".join([pack_command(command) for command in commands])])
                replies = [connection.read_response() for _ in commands]
            except _NETWORK_ERRORS:
                connection.disconnect()
                if attempt == 2 or not idempotent:
                    raise
                continue
            for reply in replies:
                if isinstance(reply, redis.exceptions.ResponseError):
                    raise reply
            return replies
        raise AssertionError("unreachable")

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self._call("SET", self._k(key), value, "EX", max(ttl, 1))

    def set_many(self, items: list[tuple[str, bytes, int]]) -> None:
        self._pipeline([("SET", self._k(key), value, "EX", max(ttl, 1)) for key, value, ttl in items])

    def get(self, key: str) -> bytes | None:
        return _as_bytes(self._call("GET", self._k(key)))

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        if not keys:
            return []
        values = self._call("MGET", *[self._k(key) for key in keys])
        return [_as_bytes(value) for value in values]

    def get_linked(self, key: str, field: str, linked_prefixes: Sequence[str]) -> LinkedValues:
        arguments = (1, self._k(key), field, *[self._k(prefix) for prefix in linked_prefixes])
        try:
            reply = self._call("EVALSHA", _GET_LINKED_SHA, *arguments)
        except redis.exceptions.NoScriptError:  # a restarted Redis has forgotten the script: EVAL loads it again
            reply = self._call("EVAL", _GET_LINKED, *arguments)
        linked = [_as_bytes(value) for value in reply[1:]]
        return _as_bytes(reply[0]), linked + [None] * (len(linked_prefixes) - len(linked))

    def delete(self, key: str) -> bool:
        return bool(self._call("DEL", self._k(key)))

    def add(self, key: str, value: bytes, ttl: int) -> bool:
        return self._call("SET", self._k(key), value, "EX", max(ttl, 1), "NX", idempotent=False) is not None

    def take(self, key: str) -> bytes | None:
        return _as_bytes(self._call("GETDEL", self._k(key), idempotent=False))

    def add_and_take(self, add_key: str, value: bytes, ttl: int, take_key: str) -> tuple[bool, bytes | None]:
        added, taken = self._pipeline(
            [("SET", self._k(add_key), value, "EX", max(ttl, 1), "NX"), ("GETDEL", self._k(take_key))],
            idempotent=False,
        )
        return added is not None, _as_bytes(taken)

    def incr(self, key: str, ttl: int) -> int:
        # EXPIRE … NX sets the window only when the counter is new, so it does not slide with each increment.
        count, _ = self._pipeline(
            [("INCR", self._k(key)), ("EXPIRE", self._k(key), max(ttl, 1), "NX")], idempotent=False
        )
        return int(count)

    def ttl(self, key: str) -> int | None:
        remaining = int(self._call("TTL", self._k(key)))
        return remaining if remaining >= 0 else None

    def close(self) -> None:
        self._pool.disconnect()

    def flush_prefix(self) -> None:
        """For tests: remove every key under this store's prefix."""
        client = redis.Redis(connection_pool=self._pool)
        for key in client.scan_iter(match=self._prefix + "*", count=1000):
            client.delete(key)


def _as_bytes(value: Any) -> bytes | None:
    return value.encode() if isinstance(value, str) else value
