"""The production store: Redis, where expiry is native.

Commands go through a connection of our own (idp/store/redis_connection.py), kept per thread, not through
redis-py: redis.Redis's retry, observability and pool layers cost several times the command itself, and even
redis-py's bare Connection spends about a fifth more CPU a round trip than a blocking socket read straight into
hiredis. The hot endpoints make one or two round trips each; commands that belong together share one.
A command whose connection fails is repeated once on a new connection only when repeating it is harmless. A
connection idle for 10 s is PINGed (and replaced if dead) before it is used, so that a Redis restart does not fail
the first unrepeatable command on each thread's old connection.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

from hiredis import pack_command

from idp.store import LinkedValues
from idp.store.redis_connection import RedisAddress, RedisConnection, RedisUnavailable, ScriptNotLoaded

_PING = pack_command(("PING",))

# get_linked: the second key is named by the first value, so it cannot be declared in KEYS; that is fine on a
# single Redis, which is what the provider runs on, not on Redis Cluster.
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


class _ThisThread(threading.local):
    connection: RedisConnection | None = None


class RedisStore:
    def __init__(
        self,
        address: RedisAddress,
        prefix: str = "idp:",
        *,
        timeout: float = 2.0,
        health_check_interval: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._address = address
        self._prefix = prefix
        self._timeout = timeout
        self._health_check_interval = health_check_interval
        self._tls_context = (tls_context or ssl.create_default_context()) if address.tls else None
        self._this_thread = _ThisThread()
        self._connections: weakref.WeakSet[RedisConnection] = weakref.WeakSet()
        self._connections_lock = threading.Lock()
        _stores.add(self)

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "idp:", *, timeout: float = 2.0, health_check_interval: float = 10.0
    ) -> RedisStore:
        return cls(RedisAddress.from_url(url), prefix, timeout=timeout, health_check_interval=health_check_interval)

    def _k(self, key: str) -> str:
        return self._prefix + key

    def _connection(self) -> RedisConnection:
        connection = self._this_thread.connection
        now = time.monotonic()
        if connection is None or now > connection.trusted_until:
            connection = self._checked_connection(connection)
        connection.trusted_until = now + self._health_check_interval
        return connection

    def _checked_connection(self, connection: RedisConnection | None) -> RedisConnection:
        """This thread's connection if it still answers a PING; otherwise a new one."""
        if connection is not None and not connection.closed:
            try:
                connection.round_trip(_PING, 1)
            except RedisUnavailable:
                pass  # it has closed itself
            else:
                return connection
        connection = RedisConnection(self._address, self._timeout, self._tls_context)
        with self._connections_lock:
            self._connections.add(connection)
        self._this_thread.connection = connection
        return connection

    def _call(self, *args: Any, idempotent: bool = True) -> Any:
        return self._round_trip(pack_command(args), 1, idempotent)[0]

    def _pipeline(self, commands: list[tuple[Any, ...]], idempotent: bool = True) -> list[Any]:
        return self._round_trip(b"".join([pack_command(command) for command in commands]), len(commands), idempotent)

    def _round_trip(self, packed: bytes, count: int, idempotent: bool) -> list[Any]:
        try:
            return self._connection().round_trip(packed, count)
        except RedisUnavailable:
            if not idempotent:
                raise
        return self._connection().round_trip(packed, count)  # once more, on a new connection

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self._call("SET", self._k(key), value, "EX", max(ttl, 1))

    def set_many(self, items: list[tuple[str, bytes, int]]) -> None:
        self._pipeline([("SET", self._k(key), value, "EX", max(ttl, 1)) for key, value, ttl in items])

    def get(self, key: str) -> bytes | None:
        value: bytes | None = self._call("GET", self._k(key))
        return value

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        if not keys:
            return []
        values: list[bytes | None] = self._call("MGET", *[self._k(key) for key in keys])
        return values

    def get_linked(self, key: str, field: str, linked_prefixes: Sequence[str]) -> LinkedValues:
        arguments = (1, self._k(key), field, *[self._k(prefix) for prefix in linked_prefixes])
        try:
            reply = self._call("EVALSHA", _GET_LINKED_SHA, *arguments)
        except ScriptNotLoaded:  # a restarted Redis has forgotten the script: EVAL loads it again
            reply = self._call("EVAL", _GET_LINKED, *arguments)
        linked: list[bytes | None] = reply[1:]
        return reply[0], linked + [None] * (len(linked_prefixes) - len(linked))

    def delete(self, key: str) -> bool:
        return bool(self._call("DEL", self._k(key)))

    def add(self, key: str, value: bytes, ttl: int) -> bool:
        return self._call("SET", self._k(key), value, "EX", max(ttl, 1), "NX", idempotent=False) is not None

    def take(self, key: str) -> bytes | None:
        value: bytes | None = self._call("GETDEL", self._k(key), idempotent=False)
        return value

    def add_and_take(self, add_key: str, value: bytes, ttl: int, take_key: str) -> tuple[bool, bytes | None]:
        added, taken = self._pipeline(
            [("SET", self._k(add_key), value, "EX", max(ttl, 1), "NX"), ("GETDEL", self._k(take_key))],
            idempotent=False,
        )
        return added is not None, taken

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
        """Close every thread's connection; each thread makes a new one when it next needs it."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close()

    def _forget_connections_after_fork(self) -> None:
        # The child shares the parent's sockets: closing its copies leaves the parent's connections working. The
        # lock may have been held by a thread that does not exist in the child.
        self._connections_lock = threading.Lock()
        self.close()

    def flush_prefix(self) -> None:
        """For tests: remove every key under this store's prefix."""
        cursor = b"0"
        while True:
            cursor, keys = self._call("SCAN", cursor, "MATCH", self._prefix + "*", "COUNT", 1000)
            if keys:
                self._call("DEL", *keys)
            if cursor == b"0":
                return


_stores: weakref.WeakSet[RedisStore] = weakref.WeakSet()


def _forget_connections_after_fork() -> None:
    for store in list(_stores):
        store._forget_connections_after_fork()


# gunicorn forks its workers after the app (and so its store) may have been made: a worker must not use, or close
# the parent's end of, the parent's connections.
os.register_at_fork(after_in_child=_forget_connections_after_fork)
