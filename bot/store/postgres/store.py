"""The PostgreSQL `Store`: its collections, the one-transaction commit, and bulk loading.

Semantics are those of `MemoryStore`, which every caller was written against: a `put` or
`delete` is seen at once by every thread of this process and becomes durable, all together,
at the next `commit()`, which writes only the records changed since the last one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from bot.radar.models import (
    Delivery,
    DigestSchedule,
    Lab,
    ModelRecord,
    Mute,
    Record,
    Release,
    StateEntry,
    Subscription,
)
from bot.radar.ports import COLLECTIONS, StoreError
from bot.store.postgres.collection import PostgresCollection
from bot.store.postgres.pool import Pool, store_error
from bot.store.postgres.schema import ensure_schema


class PostgresStore:
    """`Store` on PostgreSQL. Open with `open_postgres(url)`; see the package docstring."""

    def __init__(self, url: str, *, pool_size: int = 8, upgrade: bool = True) -> None:
        self.url = url
        self.lock = threading.RLock()
        self._pool = Pool(url, pool_size)
        self.commits = 0
        self.writes = 0  # transactions that wrote something
        self._closed = False
        self.schema_version = ensure_schema(self._pool, upgrade=upgrade)
        self.labs: PostgresCollection[Lab] = PostgresCollection(self, "labs", Lab)
        self.models: PostgresCollection[ModelRecord] = PostgresCollection(
            self, "models", ModelRecord
        )
        self.releases: PostgresCollection[Release] = PostgresCollection(self, "releases", Release)
        self.subscriptions: PostgresCollection[Subscription] = PostgresCollection(
            self, "subscriptions", Subscription
        )
        self.mutes: PostgresCollection[Mute] = PostgresCollection(self, "mutes", Mute)
        self.digests: PostgresCollection[DigestSchedule] = PostgresCollection(
            self, "digests", DigestSchedule
        )
        self.deliveries: PostgresCollection[Delivery] = PostgresCollection(
            self, "deliveries", Delivery
        )
        self.state: PostgresCollection[StateEntry] = PostgresCollection(
            self, "state", StateEntry
        )
        # Collections added to COLLECTIONS beyond the eight above get one generically.
        for name, kind in COLLECTIONS.items():
            if not hasattr(self, name):
                setattr(self, name, PostgresCollection(self, name, kind))

    # -- plumbing ----------------------------------------------------------------------

    def collections(self) -> dict[str, PostgresCollection]:
        return {name: getattr(self, name) for name in COLLECTIONS}

    def forget_caches(self) -> None:
        """Drop every read cache (this replica just took over the writing jobs)."""
        for collection in self.collections().values():
            collection.forget_cache()

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """One statement on a borrowed connection; every row fetched."""
        conn = self._pool.take()
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        except StoreError:
            raise
        except Exception as exc:
            raise store_error(exc, "read") from None
        finally:
            self._pool.give(conn)

    @property
    def pending_changes(self) -> int:
        return sum(len(c.pending) for c in self.collections().values())

    def commit(self) -> None:
        """Write every change since the last commit in one transaction.

        On failure `StoreError` is raised, nothing of the transaction is kept and the
        changes stay pending, so the next successful commit writes them.
        """
        with self.lock:
            if self._closed:
                raise StoreError("the PostgreSQL store is closed; cannot commit")
            self.commits += 1
            batches = [(c, dict(c.pending)) for c in self.collections().values() if c.pending]
            if not batches:
                return
            conn = self._pool.take()
            revisions: dict[str, tuple[int, int]] = {}
            try:
                with conn.transaction(), conn.cursor() as cursor:
                    for collection, changes in batches:
                        removed = [key for key, item in changes.items() if item is None]
                        upserts = [
                            (key, item.model_dump_json())
                            for key, item in changes.items()
                            if item is not None
                        ]
                        if removed:
                            cursor.execute(
                                f"DELETE FROM {collection.table} WHERE key = ANY(%s)", (removed,)
                            )
                        if upserts:
                            cursor.executemany(collection.upsert_sql(), upserts)
                        revisions[collection.name] = _bump(cursor, collection.name)
            except Exception as exc:
                raise store_error(exc, "commit") from None
            finally:
                self._pool.give(conn)
            for collection, changes in batches:
                collection.committed(changes, revisions[collection.name])
                for key, item in changes.items():
                    if collection.pending.get(key, _MISSING) is item:
                        del collection.pending[key]
            self.writes += 1

    def close(self) -> None:
        """Commit what is pending, then close the connections. Safe to call twice."""
        with self.lock:
            if self._closed:
                return
            try:
                self.commit()
            finally:
                self._closed = True
                self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def is_empty(self) -> bool:
        """True when no collection holds a record (a safe target for `radar db migrate`)."""
        return all(
            not self.query(f"SELECT 1 FROM {c.table} LIMIT 1") for c in self.collections().values()
        )

    def bulk_load(self, name: str, items: Iterable[Record], batch: int = 2000) -> int:
        """Insert records straight into one table, in batches (used by `db migrate`)."""
        collection = self.collections()[name]
        count = 0
        conn = self._pool.take()
        try:
            chunk: list[tuple[str, str]] = []
            with conn.transaction(), conn.cursor() as cursor:
                for item in items:
                    chunk.append((item.key, item.model_dump_json()))
                    if len(chunk) >= batch:
                        cursor.executemany(collection.upsert_sql(), chunk)
                        count += len(chunk)
                        chunk = []
                if chunk:
                    cursor.executemany(collection.upsert_sql(), chunk)
                    count += len(chunk)
                _bump(cursor, name)
        except Exception as exc:
            raise store_error(exc, "load") from None
        finally:
            self._pool.give(conn)
        return count


_MISSING = object()


def _bump(cursor: Any, name: str) -> tuple[int, int]:
    """Move a collection's revision on, in the commit's transaction: (before, after).

    The row lock orders the commits of every replica on this collection, so `before` tells
    a cache whether anyone else committed since it last looked."""
    cursor.execute(
        "SELECT value FROM radar_meta WHERE name = %s FOR UPDATE", (f"rev:{name}",)
    )
    row = cursor.fetchone()
    before = int(row[0]) if row else 0
    cursor.execute(_BUMP_REVISION, (f"rev:{name}",))
    return before, int(cursor.fetchone()[0])


_BUMP_REVISION = (
    "INSERT INTO radar_meta (name, value) VALUES (%s, to_jsonb(nextval('radar_rev'))) "
    "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value RETURNING value"
)


def open_postgres(url: str, *, upgrade: bool = True) -> PostgresStore:
    """Connect, bring the schema up to date, and return the store."""
    return PostgresStore(url, upgrade=upgrade)
