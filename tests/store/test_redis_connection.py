"""RedisStore's own connection (idp/store/redis_connection.py) against the real Redis of tests/backends.py.

What the store contract cannot show: the URL forms, signing in and choosing the database, TLS and unix sockets,
timeouts, and what happens when a connection dies, goes idle, errs mid-pipeline or crosses a fork. Each test works
under its own key prefix and touches only its own connections, so it can share a server with anything else.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import selectors
import socket
import ssl
import struct
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from idp.store.redis import _GET_LINKED_SHA, RedisStore
from idp.store.redis_connection import RedisAddress, RedisErrorReply, RedisTimedOut, RedisUnavailable
from tests.backends import require_redis
from tests.helpers import wait_for

PASSWORD = "p@ss:w/rd%#?&="

# -- reading the URL ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://cache", RedisAddress(host="cache")),
        ("redis://cache:6380", RedisAddress(host="cache", port=6380)),
        ("redis://cache:6380/", RedisAddress(host="cache", port=6380)),
        ("redis://cache:6380/7", RedisAddress(host="cache", port=6380, db=7)),
        ("redis://cache?db=7", RedisAddress(host="cache", db=7)),
        ("redis://cache/?db=7", RedisAddress(host="cache", db=7)),
        ("redis://10.0.0.5:6379/0", RedisAddress(host="10.0.0.5")),
        ("redis://[::1]:6379/2", RedisAddress(host="::1", db=2)),
        ("redis://:secret@cache/1", RedisAddress(host="cache", password="secret", db=1)),
        ("redis://idp:secret@cache/1", RedisAddress(host="cache", username="idp", password="secret", db=1)),
        (
            f"redis://id%40p:{quote(PASSWORD, safe='')}@cache",
            RedisAddress(host="cache", username="id@p", password=PASSWORD),
        ),
        ("redis://:@cache", RedisAddress(host="cache")),
        ("rediss://cache:6380/3", RedisAddress(host="cache", port=6380, tls=True, db=3)),
        ("rediss://idp:secret@cache", RedisAddress(host="cache", tls=True, username="idp", password="secret")),
        ("unix:///run/redis/redis.sock", RedisAddress(unix_path="/run/redis/redis.sock")),
        ("unix:///run/redis/redis.sock?db=4", RedisAddress(unix_path="/run/redis/redis.sock", db=4)),
        ("unix:///run/redis%20server.sock", RedisAddress(unix_path="/run/redis server.sock")),
        ("unix://:secret@/run/redis.sock", RedisAddress(unix_path="/run/redis.sock", password="secret")),
        (
            "unix://idp:secret@/run/redis.sock",
            RedisAddress(unix_path="/run/redis.sock", username="idp", password="secret"),
        ),
    ],
)
def test_url_forms(url: str, expected: RedisAddress) -> None:
    assert RedisAddress.from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://cache:6379/0", "the scheme must be"),
        ("cache:6379", "the scheme must be"),
        ("redis://cache/0?ssl_cert_reqs=none", "db is the only query parameter"),
        ("redis://cache/0?socket_timeout=5", "db is the only query parameter"),
        (f"redis://cache/0?password={quote(PASSWORD, safe='')}", "db is the only query parameter"),
        ("redis://cache?db=1&db=2", "db is given twice"),
        ("redis://cache?db=", "db must be a number"),
        ("redis://cache?db=-1", "db must be a number"),
        ("redis://cache/1?db=1", "both in the path and in the query"),
        ("redis://cache/one", "the path must be the database number"),
        ("redis://cache/1/2", "the path must be the database number"),
        ("redis://cache/-1", "the path must be the database number"),
        ("redis://cache/0#primary", "a fragment"),
        ("redis:///0", "no host"),
        ("redis://:6379/0", "no host"),
        ("redis://cache:port/0", "the host or port cannot be read"),
        ("redis://cache:99999/0", "the host or port cannot be read"),
        ("redis://[::1/0", "the host or port cannot be read"),
        ("redis://idp@cache/0", "a user name needs a password"),
        ("unix://cache/run/redis.sock", "a unix URL has no host or port"),
        ("unix://", "needs the socket's path"),
        ("unix:///run/redis.sock?timeout=1", "db is the only query parameter"),
    ],
)
def test_what_the_url_may_not_hold_is_refused(url: str, refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal):
        RedisAddress.from_url(url)


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{PASSWORD}@cache/0",  # unencoded, the password's "/" starts the path and its "#" a fragment
        "redis://:hunter2/x@cache/0",  # unencoded, what follows "hunter2" reads as a port
        "redis://idp:hunter2?x@cache/0",  # unencoded, "x@cache/0" reads as a query
        "redis://idp:hunter2@cache/0?db=zero",
    ],
)
def test_no_refusal_quotes_the_password(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        RedisAddress.from_url(url)
    message = str(refused.value)
    assert "hunter2" not in message and "rd%" not in message and "p@ss" not in message
    assert refused.value.__cause__ is None
    assert refused.value.__context__ is None or refused.value.__suppress_context__


def test_the_password_is_not_in_the_address_repr() -> None:
    assert "secret" not in repr(RedisAddress.from_url("redis://idp:secret@cache/0"))


def test_an_unsupported_url_is_refused_when_the_store_is_made() -> None:
    with pytest.raises(ValueError, match="db is the only query parameter"):
        RedisStore.from_url("redis://127.0.0.1:1/0?ssl_cert_reqs=none")


# -- against the real Redis --------------------------------------------------------------------------------------


@pytest.fixture
def server() -> RedisAddress:
    return RedisAddress.from_url(require_redis())


@pytest.fixture
def admin(server: RedisAddress) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(require_redis())
    yield client
    client.close()


@pytest.fixture
def make_store() -> Iterator[Callable[..., RedisStore]]:
    stores: list[RedisStore] = []

    def make(url: str | None = None, **options: float) -> RedisStore:
        store = RedisStore.from_url(url or require_redis(), prefix=f"idp-test-{uuid.uuid4().hex}:", **options)
        stores.append(store)
        return store

    yield make
    for store in stores:
        try:
            store.flush_prefix()
        except (RedisUnavailable, RedisErrorReply):
            pass  # a store pointed at something other than the test Redis
        store.close()


def _tcp_url(server: RedisAddress, credentials: str = "", db: str | None = None) -> str:
    return f"redis://{credentials}{server.where}" + (f"/{server.db}" if db is None else db)


def _connection_id(store: RedisStore) -> int:
    connection_id: int = store._call("CLIENT", "ID")
    return connection_id


def _kill_connection(admin: redis.Redis, store: RedisStore) -> None:
    connection_id = _connection_id(store)
    assert admin.client_kill_filter(_id=str(connection_id)) == 1
    assert wait_for(lambda: _open_connections(admin, [connection_id]) == 0)


def _open_connections(admin: redis.Redis, connection_ids: list[Any]) -> int:
    return len(admin.client_list(client_id=connection_ids))


def test_the_database_in_the_path_or_the_query_is_where_the_keys_land(
    server: RedisAddress, make_store: Callable[..., RedisStore]
) -> None:
    for url in (_tcp_url(server, db=f"/{server.db}"), _tcp_url(server, db=f"?db={server.db}")):
        store = make_store(url)
        store.set("where", b"here", 60)
        on_the_database = redis.Redis.from_url(require_redis())
        on_database_zero = redis.Redis(
            host=server.host, port=server.port, username=server.username, password=server.password, db=0
        )
        try:
            assert on_the_database.get(store._k("where")) == b"here"
            if server.db != 0:
                assert on_database_zero.get(store._k("where")) is None
        finally:
            on_the_database.close()
            on_database_zero.close()


def test_signs_in_as_the_user_in_the_url(
    server: RedisAddress, admin: redis.Redis, make_store: Callable[..., RedisStore]
) -> None:
    username = f"idp-test-{uuid.uuid4().hex[:12]}"
    admin.execute_command("ACL", "SETUSER", username, "on", f">{PASSWORD}", "~*", "&*", "+@all")
    try:
        store = make_store(_tcp_url(server, f"{username}:{quote(PASSWORD, safe='')}@"))
        store.set("k", b"v", 60)
        assert store.get("k") == b"v"
        assert store._call("ACL", "WHOAMI") == username.encode()

        refused = make_store(_tcp_url(server, f"{username}:not-{quote(PASSWORD, safe='')}@"))
        with pytest.raises(RedisErrorReply, match="WRONGPASS") as wrong_password:
            refused.get("k")
        assert "p@ss" not in str(wrong_password.value)
    finally:
        admin.execute_command("ACL", "DELUSER", username)


def test_a_password_alone_is_sent_for_the_default_user(
    server: RedisAddress, make_store: Callable[..., RedisStore]
) -> None:
    store = make_store(_tcp_url(server, ":not-the-default-password@"))
    # Without a password set for the default user Redis refuses AUTH itself; with one, it refuses this password.
    with pytest.raises(RedisErrorReply) as refused:
        store.get("k")
    assert str(refused.value).startswith(("ERR AUTH", "WRONGPASS"))
    assert "not-the-default-password" not in str(refused.value)


@contextmanager
def _relay(listener: socket.socket, target: RedisAddress, tls: ssl.SSLContext | None = None) -> Iterator[None]:
    """Forward each connection accepted on `listener` to Redis, optionally ending TLS first."""
    stopping = threading.Event()
    listener.settimeout(0.05)

    def pump(client: socket.socket) -> None:
        try:
            if tls is not None:
                client.settimeout(5)
                client = tls.wrap_socket(client, server_side=True)
                client.settimeout(None)
            upstream = socket.create_connection((target.host, target.port))
        except OSError:
            client.close()
            return
        with client, upstream, selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            try:
                while not stopping.is_set():
                    for ready, _ in selector.select(timeout=0.05):
                        source: socket.socket = ready.fileobj  # type: ignore[assignment]
                        data = source.recv(65536)
                        if not data:
                            return
                        ready.data.sendall(data)
                        while isinstance(source, ssl.SSLSocket) and source.pending():
                            ready.data.sendall(source.recv(65536))
            except OSError:
                return

    def accept() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            client.settimeout(None)
            threading.Thread(target=pump, args=(client,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield
    finally:
        stopping.set()
        acceptor.join(timeout=5)
        listener.close()


def test_a_unix_socket(
    server: RedisAddress, admin: redis.Redis, make_store: Callable[..., RedisStore], tmp_path: Path
) -> None:
    path = tmp_path / "redis.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    with _relay(listener, server):
        store = make_store(f"unix://{quote(str(path))}?db={server.db}")
        store.set("k", b"through the socket", 60)
        assert store.get("k") == b"through the socket"
        assert admin.get(store._k("k")) == b"through the socket"
        store.flush_prefix()
        store.close()


def _certificate_authority(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate it signed for 127.0.0.1: the CA's file, the certificate's and its key's."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, certificate_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_file, certificate_file, key_file


def test_tls_with_the_certificate_verified(
    server: RedisAddress, admin: redis.Redis, make_store: Callable[..., RedisStore], tmp_path: Path
) -> None:
    ca_file, certificate_file, key_file = _certificate_authority(tmp_path)
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(certificate_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"rediss://127.0.0.1:{listener.getsockname()[1]}/{server.db}"
    with _relay(listener, server, tls=server_side):
        untrusting = make_store(url)  # the default context: our test CA is not among the system's
        with pytest.raises(RedisUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            untrusting.get("k")

        store = RedisStore(
            RedisAddress.from_url(url),
            prefix=f"idp-test-{uuid.uuid4().hex}:",
            tls_context=ssl.create_default_context(cafile=ca_file),
        )
        try:
            store.set("k", b"over TLS", 60)
            assert store.get("k") == b"over TLS"
            assert admin.get(store._k("k")) == b"over TLS"
            assert store.incr("n", 60) == 1
        finally:
            store.flush_prefix()
            store.close()


def test_a_killed_connection_is_replaced_only_for_a_command_that_can_be_repeated(
    admin: redis.Redis, make_store: Callable[..., RedisStore]
) -> None:
    store = make_store()
    store.set("k", b"v", 60)
    _kill_connection(admin, store)
    assert store.get("k") == b"v"  # repeated once on a new connection

    _kill_connection(admin, store)
    with pytest.raises(RedisUnavailable, match="closed the connection"):
        store.add("added", b"1", 60)
    assert store.get("added") is None, "the command was not repeated"
    assert store.add("added", b"1", 60) is True


def test_a_connection_idle_past_the_health_check_is_pinged_and_replaced_when_dead(
    admin: redis.Redis, make_store: Callable[..., RedisStore]
) -> None:
    store = make_store(health_check_interval=0.2)
    store.set("k", b"v", 60)
    _kill_connection(admin, store)
    time.sleep(0.3)
    assert store.add("added", b"1", 60) is True  # would fail on the dead connection, as in the test above
    assert store.take("added") == b"1"


def test_a_server_that_does_not_answer_times_out(make_store: Callable[..., RedisStore]) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts connections (the kernel does) and never answers
    with listener:
        store = make_store(f"redis://127.0.0.1:{listener.getsockname()[1]}/0", timeout=0.2)
        started = time.monotonic()
        with pytest.raises(RedisTimedOut, match="did not answer within 0.2 s") as timed_out:
            store.get("k")
        assert 0.35 < time.monotonic() - started < 1.5  # two attempts of 0.2 s: a GET is repeated
        assert isinstance(timed_out.value, TimeoutError)

        started = time.monotonic()
        with pytest.raises(RedisTimedOut):
            store.add("k", b"v", 60)
        assert 0.15 < time.monotonic() - started < 0.35  # one attempt


def test_a_tcp_connection_times_out_in_the_kernel(make_store: Callable[..., RedisStore]) -> None:
    # Python's own timeout would poll the socket before every send and receive; the kernel's costs nothing.
    store = make_store(timeout=0.25)
    store.get("k")
    connection = store._this_thread.connection
    assert connection is not None
    plain_socket = connection._socket
    assert plain_socket.gettimeout() is None
    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        seconds, microseconds = struct.unpack("ll", plain_socket.getsockopt(socket.SOL_SOCKET, option, 16))
        assert 0.24 < seconds + microseconds / 1_000_000 < 0.27  # the kernel keeps it in ticks
    assert plain_socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_a_connection_that_cannot_be_made_in_time_times_out(make_store: Callable[..., RedisStore]) -> None:
    # A listener with a full queue of connections not yet accepted: Linux drops the next ones' SYNs.
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    address = listener.getsockname()
    waiting = [socket.socket() for _ in range(3)]
    try:
        for connection in waiting:
            connection.setblocking(False)
            connection.connect_ex(address)
        store = make_store(f"redis://127.0.0.1:{address[1]}/0", timeout=0.2)
        started = time.monotonic()
        with pytest.raises(RedisTimedOut, match="could not connect"):
            store.add("k", b"v", 60)
        assert time.monotonic() - started < 1
    finally:
        for connection in waiting:
            connection.close()
        listener.close()


def test_nothing_listening_is_unavailable(make_store: Callable[..., RedisStore]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
    store = make_store(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(RedisUnavailable, match=f"could not connect to Redis at 127.0.0.1:{port}"):
        store.get("k")


def test_an_error_reply_mid_pipeline_leaves_the_connection_in_step(make_store: Callable[..., RedisStore]) -> None:
    store = make_store()
    store.set("not-a-number", b"abc", 60)
    connection_id = _connection_id(store)
    # incr sends INCR and EXPIRE together: INCR fails, EXPIRE's reply still has to be read.
    with pytest.raises(RedisErrorReply, match="not an integer"):
        store.incr("not-a-number", 60)
    assert store.get("not-a-number") == b"abc"
    assert store.ttl("not-a-number") is not None
    assert _connection_id(store) == connection_id, "the same connection, still in step"


def test_a_forgotten_script_is_loaded_again(admin: redis.Redis, make_store: Callable[..., RedisStore]) -> None:
    store = make_store()
    store.set("token", b'{"user_id": "u-1"}', 60)
    store.set("user:u-1", b"profile", 60)
    assert store.get_linked("token", "user_id", ["user:"]) == (b'{"user_id": "u-1"}', [b"profile"])
    admin.script_flush()  # as a restart does; any other store falls back in the same way
    assert admin.script_exists(_GET_LINKED_SHA) == [False]
    assert store.get_linked("token", "user_id", ["user:"]) == (b'{"user_id": "u-1"}', [b"profile"])
    assert admin.script_exists(_GET_LINKED_SHA) == [True]


def test_each_thread_has_its_own_connection_and_close_closes_them_all(
    admin: redis.Redis, make_store: Callable[..., RedisStore]
) -> None:
    store = make_store()
    connection_ids: list[int] = []
    thread = threading.Thread(target=lambda: connection_ids.append(_connection_id(store)))
    thread.start()
    thread.join()
    connection_ids.append(_connection_id(store))
    assert len(set(connection_ids)) == 2
    # The thread has ended; its connection goes with it.
    assert wait_for(lambda: _open_connections(admin, connection_ids[:1]) == 0)

    parked = threading.Event()
    release = threading.Event()

    def use_and_wait() -> None:
        connection_ids.append(_connection_id(store))
        parked.set()
        release.wait(30)

    waiting = threading.Thread(target=use_and_wait)
    waiting.start()
    try:
        assert parked.wait(5)
        assert _open_connections(admin, connection_ids[1:]) == 2
        store.close()
        assert wait_for(lambda: _open_connections(admin, connection_ids[1:]) == 0)
    finally:
        release.set()
        waiting.join()
    assert store.get("after-close") is None  # a new connection


def test_a_forked_child_makes_its_own_connection(make_store: Callable[..., RedisStore]) -> None:
    store = make_store()
    store.set("k", b"v", 60)
    parent_connection = _connection_id(store)
    reading, writing = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with other threads about, on newer Pythons
        child = os.fork()
    if child == 0:
        exit_code = 1
        try:
            os.close(reading)
            answer = f"{_connection_id(store)} {store.take('k')!r}"
            os.write(writing, answer.encode())
            store.close()
            exit_code = 0
        finally:
            os._exit(exit_code)
    os.close(writing)
    with os.fdopen(reading) as from_child:
        child_connection, taken = from_child.read().split()
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert taken == "b'v'"
    assert int(child_connection) != parent_connection
    # The child closed its copy of the parent's socket: the parent's connection is still the same, still in step.
    assert store.add("k", b"again", 60) is True
    assert _connection_id(store) == parent_connection
