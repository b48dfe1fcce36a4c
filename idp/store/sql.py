"""The embedded store: one table in a SQL database, with expiry checked on read and swept on write.

With SQLite the store keeps its own database file, so that a request's open write transaction on the main
database never blocks a store write (SQLite locks the whole file). With PostgreSQL it is a table in the
main database. The table is this backend's own working space, not a durable model, so it creates it itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    case,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from idp.store import LinkedValues, linked_field

metadata = MetaData()
store_entries = Table(
    "store_entries",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("counter", Integer, nullable=False, default=0),
    Column("expires_at", Float, nullable=False, index=True),
)

_SWEEP_PROBABILITY = 0.002


def store_url_for(database_url: str) -> str:
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        if path in ("", ":memory:"):
            return database_url
        stem = path.removesuffix(".sqlite3").removesuffix(".db")
        return f"sqlite:///{stem}-store.sqlite3"
    return database_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class SqlStore:
    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self._engine: Engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
        self._sqlite = self._engine.dialect.name == "sqlite"
        if self._sqlite:
            event.listen(self._engine, "connect", _sqlite_pragmas)
        self._insert = sqlite_insert if self._sqlite else pg_insert
        self._clock = clock
        metadata.create_all(self._engine, checkfirst=True)

    def _upsert(self, key: str, value: bytes, ttl: int, only_if_expired: bool) -> bool:
        now = self._clock()
        stmt = self._insert(store_entries).values(key=key, value=value, counter=0, expires_at=now + ttl)
        stmt = stmt.on_conflict_do_update(
            index_elements=[store_entries.c.key],
            set_={"value": stmt.excluded.value, "counter": 0, "expires_at": stmt.excluded.expires_at},
            where=(store_entries.c.expires_at <= now) if only_if_expired else None,
        )
        with self._engine.begin() as conn:
            # psycopg reports no row count for INSERT … ON CONFLICT unless SQLAlchemy is asked to keep it.
            stored = conn.execute(stmt.execution_options(preserve_rowcount=True)).rowcount == 1
            if random.random() < _SWEEP_PROBABILITY:
                conn.execute(delete(store_entries).where(store_entries.c.expires_at <= now))
        return stored

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self._upsert(key, value, ttl, only_if_expired=False)

    def set_many(self, items: list[tuple[str, bytes, int]]) -> None:
        for key, value, ttl in items:
            self._upsert(key, value, ttl, only_if_expired=False)

    def add(self, key: str, value: bytes, ttl: int) -> bool:
        return self._upsert(key, value, ttl, only_if_expired=True)

    def get(self, key: str) -> bytes | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(store_entries.c.value).where(
                    store_entries.c.key == key, store_entries.c.expires_at > self._clock()
                )
            ).first()
        return bytes(row[0]) if row else None

    def get_many(self, keys: list[str]) -> list[bytes | None]:
        if not keys:
            return []
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(store_entries.c.key, store_entries.c.value).where(
                    store_entries.c.key.in_(keys), store_entries.c.expires_at > self._clock()
                )
            ).all()
        found = {row[0]: bytes(row[1]) for row in rows}
        return [found.get(key) for key in keys]

    def add_and_take(self, add_key: str, value: bytes, ttl: int, take_key: str) -> tuple[bool, bytes | None]:
        return self.add(add_key, value, ttl), self.take(take_key)

    def get_linked(self, key: str, field: str, linked_prefixes: Sequence[str]) -> LinkedValues:
        value = self.get(key)
        link = linked_field(value, field)
        if link is None:
            return value, [None] * len(linked_prefixes)
        return value, self.get_many([prefix + link for prefix in linked_prefixes])

    def delete(self, key: str) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                delete(store_entries).where(store_entries.c.key == key).returning(store_entries.c.expires_at)
            ).first()
        return result is not None and result[0] > self._clock()

    def take(self, key: str) -> bytes | None:
        # DELETE ... RETURNING is atomic on both SQLite (3.35+) and PostgreSQL: two concurrent redemptions of
        # the same code cannot both see it.
        with self._engine.begin() as conn:
            row = conn.execute(
                delete(store_entries)
                .where(store_entries.c.key == key)
                .returning(store_entries.c.value, store_entries.c.expires_at)
            ).first()
        if row is None or row[1] <= self._clock():
            return None
        return bytes(row[0])

    def incr(self, key: str, ttl: int) -> int:
        now = self._clock()
        stmt = self._insert(store_entries).values(key=key, value=b"", counter=1, expires_at=now + ttl)
        expired = store_entries.c.expires_at <= now
        upsert = stmt.on_conflict_do_update(
            index_elements=[store_entries.c.key],
            set_={
                "counter": case((expired, 1), else_=store_entries.c.counter + 1),
                "expires_at": case((expired, now + ttl), else_=store_entries.c.expires_at),
            },
        ).returning(store_entries.c.counter)
        with self._engine.begin() as conn:
            return int(conn.execute(upsert).scalar_one())

    def ttl(self, key: str) -> int | None:
        with self._engine.connect() as conn:
            expires_at = conn.execute(
                select(store_entries.c.expires_at).where(store_entries.c.key == key)
            ).scalar_one_or_none()
        if expires_at is None:
            return None
        remaining = expires_at - self._clock()
        return int(remaining + 0.999) if remaining > 0 else None

    def flush_prefix(self) -> None:
        """For tests: remove every entry."""
        with self._engine.begin() as conn:
            conn.execute(delete(store_entries))

    def dispose(self) -> None:
        self._engine.dispose()
