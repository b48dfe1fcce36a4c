"""One contract for the store interface (idp/store/__init__.py), run against every backend.

SqlStore on SQLite (a file of its own), SqlStore on PostgreSQL and RedisStore on Redis. PostgreSQL and Redis are
skipped on a laptop without them and required in CI (tests/backends.py). Every test works under its own key
prefix and removes what it wrote, so it can share a server with anything else.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from idp.store import Store, create_store
from idp.store.redis import RedisStore
from idp.store.sql import SqlStore, store_url_for
from tests.backends import require_postgres, require_redis

EXPIRY_SLEEP = 1.2


class StoreUnderTest:
    def __init__(self, store: Store, backend: str) -> None:
        self.store = store
        self.backend = backend
        self._prefix = f"contract-{uuid.uuid4().hex[:12]}:"
        self._keys: set[str] = set()

    def key(self, name: str) -> str:
        key = self._prefix + name
        self._keys.add(key)
        return key

    def clean_up(self) -> None:
        for key in self._keys:
            self.store.delete(key)


def _sqlite(tmp_path: Path) -> tuple[Store, Callable[[], None]]:
    store = SqlStore(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    return store, store.dispose


def _postgres(tmp_path: Path) -> tuple[Store, Callable[[], None]]:
    store = SqlStore(require_postgres())
    return store, store.dispose


def _redis(tmp_path: Path) -> tuple[Store, Callable[[], None]]:
    store = RedisStore.from_url(require_redis(), prefix=f"idp-test-{uuid.uuid4().hex}:")

    def close() -> None:
        store.flush_prefix()
        store.close()

    return store, close


BACKENDS = {"sqlite": _sqlite, "postgres": _postgres, "redis": _redis}


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreUnderTest]:
    store, close = BACKENDS[request.param](tmp_path)
    under_test = StoreUnderTest(store, request.param)
    try:
        yield under_test
    finally:
        under_test.clean_up()
        close()


def test_set_and_get(backend: StoreUnderTest) -> None:
    store, key = backend.store, backend.key("a")
    store.set(key, b"value", 60)
    assert store.get(key) == b"value"


def test_set_many_sets_each_with_its_own_expiry(backend: StoreUnderTest) -> None:
    store, first, second = backend.store, backend.key("m1"), backend.key("m2")
    store.set_many([(first, b"one", 60), (second, b"two", 600)])
    assert store.get(first) == b"one"
    assert store.get(second) == b"two"
    first_ttl, second_ttl = store.ttl(first), store.ttl(second)
    assert first_ttl is not None and 0 < first_ttl <= 60
    assert second_ttl is not None and 60 < second_ttl <= 600


def test_overwrite_replaces_value_and_expiry(backend: StoreUnderTest) -> None:
    store, key = backend.store, backend.key("a")
    store.set(key, b"first", 600)
    store.set(key, b"second", 60)
    assert store.get(key) == b"second"
    remaining = store.ttl(key)
    assert remaining is not None and 55 <= remaining <= 60


def test_get_missing(backend: StoreUnderTest) -> None:
    assert backend.store.get(backend.key("never-set")) is None


def test_keys_are_independent(backend: StoreUnderTest) -> None:
    store = backend.store
    store.set(backend.key("a"), b"1", 60)
    store.set(backend.key("b"), b"2", 60)
    store.delete(backend.key("a"))
    assert store.get(backend.key("b")) == b"2"


def test_delete(backend: StoreUnderTest) -> None:
    store, key = backend.store, backend.key("a")
    store.set(key, b"value", 60)
    assert store.delete(key) is True
    assert store.get(key) is None
    assert store.delete(key) is False
    assert store.delete(backend.key("never-set")) is False


def test_add_when_absent_and_present(backend: StoreUnderTest) -> None:
    store, key = backend.store, backend.key("jti")
    assert store.add(key, b"first", 60) is True
    assert store.get(key) == b"first"
    assert store.add(key, b"second", 60) is False
    assert store.get(key) == b"first"
    store.delete(key)
    assert store.add(key, b"third", 60) is True
    assert store.get(key) == b"third"


def test_add_does_not_extend_the_expiry(backend: StoreUnderTest) -> None:
    store, key = backend.store, backend.key("jti")
    store.add(key, b"first", 60)
    store.add(key, b"second", 6000)
    remaining = store.ttl(key)
    assert remaining is not None and remaining <= 60


def test_take_is_single_use(backend: StoreUnderTest) -> None:
    store, key = backend.store, backend.key("code")
    store.set(key, b"grant", 60)
    assert store.take(key) == b"grant"
    assert store.take(key) is None
    assert store.get(key) is None
    assert store.take(backend.key("never-set")) is None


def race_to_take(store: Store, key: str, threads: int) -> list[bytes | None]:
    """`threads` threads released at once, each taking `key`; returns what each got."""
    barrier = threading.Barrier(threads)
    results: list[bytes | None] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def redeem() -> None:
        try:
            barrier.wait(timeout=10)
            value = store.take(key)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(value)

    workers = [threading.Thread(target=redeem) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert errors == []
    return results


def test_concurrent_take_has_exactly_one_winner(backend: StoreUnderTest) -> None:
    for round_number in range(5):
        key = backend.key(f"code-{round_number}")
        backend.store.set(key, b"grant", 60)
        results = race_to_take(backend.store, key, threads=8)
        assert len(results) == 8
        assert [r for r in results if r is not None] == [b"grant"]


def test_incr_starts_at_one_and_counts(backend: StoreUnderTest) -> None:
    store, key = backend.store, backend.key("attempts")
    assert [store.incr(key, 60) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert store.incr(backend.key("other"), 60) == 1
    remaining = store.ttl(key)
    assert remaining is not None and 55 <= remaining <= 60


def test_incr_window_does_not_slide(backend: StoreUnderTest) -> None:
    store, key = backend.store, backend.key("attempts")
    store.incr(key, 30)
    store.incr(key, 3000)
    store.incr(key, 3000)
    remaining = store.ttl(key)
    assert remaining is not None and remaining <= 30


def test_ttl(backend: StoreUnderTest) -> None:
    store, key = backend.store, backend.key("a")
    store.set(key, b"v", 120)
    remaining = store.ttl(key)
    assert remaining is not None and 115 <= remaining <= 120
    assert store.ttl(backend.key("never-set")) is None
    store.delete(key)
    assert store.ttl(key) is None


@pytest.mark.parametrize(
    "value",
    [bytes(range(256)), b"\x00", b"\x00\x00trailing-nul\x00", b"\xff\xfe not utf-8 \x80", b"", "é✓".encode()],
    ids=["all-bytes", "nul", "nuls", "not-utf8", "empty", "utf8"],
)
def test_binary_values(backend: StoreUnderTest, value: bytes) -> None:
    store = backend.store
    store.set(backend.key("set"), value, 60)
    assert store.get(backend.key("set")) == value
    assert store.add(backend.key("add"), value, 60) is True
    assert store.get(backend.key("add")) == value
    assert store.take(backend.key("set")) == value


def test_unusual_keys(backend: StoreUnderTest) -> None:
    store = backend.store
    for name in ("with space", "with:colons:and/slashes", "unicode-é✓", "x" * 200, "*", "%_"):
        key = backend.key(name)
        store.set(key, name.encode(), 60)
        assert store.get(key) == name.encode()
    # Pattern characters are not patterns: "*" and "%_" did not match the other keys.
    assert store.get(backend.key("with space")) == b"with space"


def test_expiry_of_every_kind_of_entry(backend: StoreUnderTest) -> None:
    """Grouped so that each backend sleeps once."""
    store = backend.store
    store.set(backend.key("set"), b"v", 1)
    store.set(backend.key("overwritten"), b"v", 600)
    store.set(backend.key("overwritten"), b"v", 1)
    store.add(backend.key("added"), b"v", 1)
    store.add(backend.key("re-added"), b"old", 1)
    store.set(backend.key("taken"), b"v", 1)
    store.set(backend.key("deleted"), b"v", 1)
    store.incr(backend.key("counter"), 1)
    store.incr(backend.key("counter"), 1)
    store.set(backend.key("long-lived"), b"still here", 60)
    store.incr(backend.key("long-counter"), 60)

    time.sleep(EXPIRY_SLEEP)

    assert store.get(backend.key("set")) is None
    assert store.ttl(backend.key("set")) is None
    assert store.get(backend.key("overwritten")) is None
    assert store.get(backend.key("added")) is None
    assert store.add(backend.key("re-added"), b"new", 60) is True
    assert store.get(backend.key("re-added")) == b"new"
    assert store.take(backend.key("taken")) is None
    assert store.delete(backend.key("deleted")) is False
    assert store.incr(backend.key("counter"), 60) == 1
    counter_ttl = store.ttl(backend.key("counter"))
    assert counter_ttl is not None and 55 <= counter_ttl <= 60
    assert store.get(backend.key("long-lived")) == b"still here"
    assert store.incr(backend.key("long-counter"), 60) == 2


# -- choosing and placing the backend ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("sqlite:////srv/idp/instance/idp.sqlite3", "sqlite:////srv/idp/instance/idp-store.sqlite3"),
        ("sqlite:///instance/idp.db", "sqlite:///instance/idp-store.sqlite3"),
        ("sqlite:///instance/idp", "sqlite:///instance/idp-store.sqlite3"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite://", "sqlite://"),
        ("postgresql+psycopg://idp@db:5432/idp", "postgresql+psycopg://idp@db:5432/idp"),
    ],
)
def test_sqlite_store_keeps_its_own_file(database_url: str, expected: str) -> None:
    assert store_url_for(database_url) == expected


def test_create_store_without_redis_is_sql(tmp_path: Path) -> None:
    store = create_store(f"sqlite:///{tmp_path / 'idp.sqlite3'}", "")
    assert isinstance(store, SqlStore)
    store.dispose()
    assert (tmp_path / "idp-store.sqlite3").exists()
    assert not (tmp_path / "idp.sqlite3").exists()


def test_create_store_with_redis_url() -> None:
    store = create_store("sqlite:///unused.sqlite3", "redis://127.0.0.1:1/0")
    assert isinstance(store, RedisStore)


def test_get_many_returns_values_in_order_with_none_for_missing(backend: StoreUnderTest) -> None:
    store = backend.store
    first, missing, second = backend.key("g1"), backend.key("g-missing"), backend.key("g2")
    store.set(first, b"one", 60)
    store.set(second, b"two", 60)
    assert store.get_many([second, missing, first]) == [b"two", None, b"one"]
    assert store.get_many([]) == []


def test_get_linked_reads_a_record_and_the_record_it_names(backend: StoreUnderTest) -> None:
    store = backend.store
    token, user = backend.key("at:1"), backend.key("user:u-1")
    linked_prefix = user[: -len("u-1")]
    store.set(token, b'{"user_id": "u-1", "scopes": ["openid"]}', 60)
    store.set(user, b'{"email": "a@example.com"}', 60)
    signed_out = backend.key("signed-out:u-1")
    store.set(signed_out, b"1700000000", 60)
    assert store.get_linked(token, "user_id", [linked_prefix, backend.key("absent:"), signed_out[: -len("u-1")]]) == (
        b'{"user_id": "u-1", "scopes": ["openid"]}',
        [b'{"email": "a@example.com"}', None, b"1700000000"],
    )
    assert store.get_linked(token, "user_id", []) == (b'{"user_id": "u-1", "scopes": ["openid"]}', [])


def test_get_linked_gives_none_for_what_is_missing_or_not_a_link(backend: StoreUnderTest) -> None:
    store = backend.store
    linked_prefix = backend.key("user:")
    assert store.get_linked(backend.key("absent"), "user_id", [linked_prefix, linked_prefix]) == (None, [None, None])
    dangling = backend.key("dangling")
    store.set(dangling, b'{"user_id": "nobody"}', 60)
    assert store.get_linked(dangling, "user_id", [linked_prefix]) == (b'{"user_id": "nobody"}', [None])
    for name, value in (("not-json", b"\xff not json"), ("not-a-string", b'{"user_id": 7}'), ("a-list", b"[1]")):
        key = backend.key(name)
        store.set(key, value, 60)
        assert store.get_linked(key, "user_id", [linked_prefix, linked_prefix]) == (value, [None, None])


def test_get_linked_ignores_an_expired_link(backend: StoreUnderTest) -> None:
    store = backend.store
    token, user = backend.key("at:2"), backend.key("user:u-2")
    store.set(token, b'{"user_id": "u-2"}', 60)
    store.set(user, b"{}", 1)
    time.sleep(EXPIRY_SLEEP)
    assert store.get_linked(token, "user_id", [user[: -len("u-2")]]) == (b'{"user_id": "u-2"}', [None])


def test_add_and_take_does_both_whatever_the_other_finds(backend: StoreUnderTest) -> None:
    store = backend.store
    jti, code = backend.key("jti:1"), backend.key("code:1")
    store.set(code, b"grant", 60)
    assert store.add_and_take(jti, b"1", 60, code) == (True, b"grant")
    assert store.get(code) is None
    store.set(code, b"second grant", 60)
    assert store.add_and_take(jti, b"1", 60, code) == (False, b"second grant")
    assert store.get(code) is None
    assert store.add_and_take(backend.key("jti:2"), b"1", 60, code) == (True, None)
