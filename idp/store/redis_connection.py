"""One connection to Redis: a blocking socket, hiredis to parse the replies, and as little Python as we can manage.

A round trip is one `sendall` of the packed commands, then `recv_into` a reused buffer fed to a `hiredis.Reader`
until every reply is parsed. Timeouts are the kernel's (SO_RCVTIMEO and SO_SNDTIMEO on a blocking socket): a
Python-level timeout polls the socket before every send and receive, about a tenth more CPU a round trip.

Any failure in a round trip closes the connection, so a connection never answers one command with another's reply.
"""

from __future__ import annotations

import re
import socket
import ssl
import struct
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import hiredis

_BUFFER_SIZE = 65536
_DATABASE_NUMBER = re.compile(r"[0-9]+")


class RedisUnavailable(ConnectionError):
    """The connection to Redis could not be made, or failed: refused, reset, closed by Redis, or unreadable."""


class RedisTimedOut(RedisUnavailable, TimeoutError):
    """Redis did not accept the connection, or did not answer, within the timeout."""


class RedisErrorReply(Exception):
    """Redis answered a command with an error."""


class ScriptNotLoaded(RedisErrorReply):
    """EVALSHA named a script Redis does not have (NOSCRIPT), as after a restart."""


@dataclass(frozen=True)
class RedisAddress:
    """Where Redis listens and how to sign in to it."""

    host: str = "localhost"
    port: int = 6379
    unix_path: str | None = None
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    db: int = 0

    @classmethod
    def from_url(cls, url: str) -> RedisAddress:
        """`redis://[[user]:password@]host[:port][/db]`, the same with `rediss://` for TLS, or
        `unix://[[user]:password@]/path/to/socket`; the database also as `?db=N`. Anything else in the URL is
        refused rather than ignored. No message quotes the URL: it may hold a password."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError("Redis URL: the host or port cannot be read") from None
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError("Redis URL: the scheme must be redis://, rediss:// or unix://")
        if parts.fragment:
            raise ValueError("Redis URL: a fragment (#...) is not supported")
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        if username is not None and password is None:
            raise ValueError("Redis URL: a user name needs a password")
        db = _query_database(parts.query)
        if parts.scheme == "unix":
            if parts.hostname or port is not None:
                raise ValueError("Redis URL: a unix URL has no host or port: unix:///path/to/socket")
            if not parts.path:
                raise ValueError("Redis URL: a unix URL needs the socket's path: unix:///path/to/socket")
            return cls(unix_path=unquote(parts.path), username=username, password=password, db=db or 0)
        if not parts.hostname:
            raise ValueError("Redis URL: no host")
        path = unquote(parts.path).removeprefix("/")
        if path:
            if not _DATABASE_NUMBER.fullmatch(path):
                raise ValueError("Redis URL: the path must be the database number, as in /0")
            if db is not None:
                raise ValueError("Redis URL: the database is given both in the path and in the query")
            db = int(path)
        return cls(
            host=unquote(parts.hostname),
            port=6379 if port is None else port,
            tls=parts.scheme == "rediss",
            username=username,
            password=password,
            db=db or 0,
        )

    @property
    def where(self) -> str:
        """For messages: the socket's path or host:port, never the credentials."""
        if self.unix_path is not None:
            return self.unix_path
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _query_database(query: str) -> int | None:
    db: int | None = None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name != "db":
            raise ValueError("Redis URL: db is the only query parameter supported")
        if db is not None:
            raise ValueError("Redis URL: db is given twice")
        if not _DATABASE_NUMBER.fullmatch(value):
            raise ValueError("Redis URL: db must be a number, as in ?db=0")
        db = int(value)
    return db


def _error_reply(message: str) -> RedisErrorReply:
    return ScriptNotLoaded(message) if message.startswith("NOSCRIPT") else RedisErrorReply(message)


class RedisConnection:
    """A connection to Redis, signed in and on its database, for one thread at a time.

    `trusted_until` is for the owner: the monotonic time after which the connection should be checked with a PING
    before it is used again. Closing sets it to 0.
    """

    def __init__(self, address: RedisAddress, timeout: float, tls_context: ssl.SSLContext | None = None) -> None:
        self._where = address.where
        self._timeout = timeout
        self._socket = _open_socket(address, timeout, tls_context)
        self._reader = hiredis.Reader(protocolError=RedisUnavailable, replyError=_error_reply)
        self._buffer = bytearray(_BUFFER_SIZE)
        self.closed = False
        self.trusted_until = 0.0
        sign_in: list[tuple[Any, ...]] = []
        if address.password is not None:
            credentials = (address.username, address.password) if address.username else (address.password,)
            sign_in.append(("AUTH", *credentials))
        if address.db:
            sign_in.append(("SELECT", address.db))
        try:
            if sign_in:
                self.round_trip(b"".join([hiredis.pack_command(command) for command in sign_in]), len(sign_in))
        except BaseException:
            self.close()
            raise

    def round_trip(self, packed: bytes, count: int) -> list[Any]:
        """Send packed commands and read their `count` replies. An error reply is raised once every reply has
        been read, so the connection stays in step; any other failure closes the connection."""
        try:
            self._socket.sendall(packed)
            replies = self._read_replies(count)
        except RedisUnavailable:
            self.close()
            raise
        except (BlockingIOError, TimeoutError) as error:  # a kernel timeout is EAGAIN; Python's is TimeoutError
            self.close()
            raise RedisTimedOut(f"Redis at {self._where} did not answer within {self._timeout} s") from error
        except OSError as error:
            self.close()
            raise RedisUnavailable(f"the connection to Redis at {self._where} failed ({error})") from error
        except BaseException:
            self.close()
            raise
        for reply in replies:
            if isinstance(reply, RedisErrorReply):
                raise reply
        return replies

    def _read_replies(self, count: int) -> list[Any]:
        reader, buffer, receive = self._reader, self._buffer, self._socket.recv_into
        replies: list[Any] = []
        while len(replies) < count:
            reply = reader.gets()
            if reply is False:
                received = receive(buffer)
                if not received:
                    raise RedisUnavailable(f"Redis at {self._where} closed the connection")
                reader.feed(buffer, 0, received)  # type: ignore[arg-type]  # the stub says bytes; any buffer does
            else:
                replies.append(reply)
        return replies

    def close(self) -> None:
        """Close this process's copy of the socket; after a fork the parent's connection is left as it was."""
        self.closed = True
        self.trusted_until = 0.0
        self._socket.close()

    def __del__(self) -> None:
        # A connection dropped with its thread is closed here rather than left to the socket's ResourceWarning.
        socket_ = getattr(self, "_socket", None)
        if socket_ is not None:
            socket_.close()


def _open_socket(address: RedisAddress, timeout: float, tls_context: ssl.SSLContext | None) -> socket.socket:
    try:
        return _connected_socket(address, timeout, tls_context)
    except TimeoutError as error:
        raise RedisTimedOut(f"could not connect to Redis at {address.where} within {timeout} s") from error
    except OSError as error:
        raise RedisUnavailable(f"could not connect to Redis at {address.where} ({error})") from error


def _connected_socket(address: RedisAddress, timeout: float, tls_context: ssl.SSLContext | None) -> socket.socket:
    if address.unix_path is not None:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        connection = socket.create_connection((address.host, address.port), timeout)
    try:
        if address.unix_path is not None:
            connection.settimeout(timeout)
            connection.connect(address.unix_path)
        else:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls_context is not None:
                # TLS keeps Python's timeout: under a kernel timeout OpenSSL reports EAGAIN as SSLWantReadError or
                # SSLWantWriteError, not as a timeout, and a write cut short that way cannot simply be repeated.
                return tls_context.wrap_socket(connection, server_hostname=address.host)
        connection.settimeout(None)
        timeval = _timeval(timeout)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
    except BaseException:
        connection.close()
        raise
    return connection


def _timeval(seconds: float) -> bytes:
    whole = int(seconds)
    return struct.pack("ll", whole, int((seconds - whole) * 1_000_000))
