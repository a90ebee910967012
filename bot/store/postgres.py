"""The PostgreSQL backend: the same `Store` surface, one table per collection, real transactions.

Why it exists: the TinyDB file is loaded whole (605 MB at 100,000 models) and rewritten whole
on every commit, and only one process may own it. Here nothing is loaded up front: a read is
a query by primary key (or by an indexed field), and `commit()` writes only the records
changed since the last commit, in one transaction, so several `radar serve` replicas can
share the database (see `bot.store.leadership` for which one runs the jobs).

Semantics are those of `MemoryStore`, which every caller was written against: a `put` or
`delete` is seen at once by every thread of this process (it waits in a per-collection change
set, read before the database) and becomes durable, all together, at the next `commit()`.

Layout, generic on purpose so that a new `Record` kind added to `COLLECTIONS` needs no SQL:
every collection is a table `radar_<name>(key text primary key, doc jsonb, rev bigint)`,
created at open when missing. `doc` is the record's JSON as pydantic writes it, `rev` a
database-wide sequence number bumped by each write (a cheap "did anything change" probe).
Fields that hot paths filter on have expression indexes (`INDEXED`), used by `find()`.

Exactly-once, enforced by the database and not only by the process: a delivery row is keyed
by (channel, release), and an upsert can never take the Slack `ts` away from a row that has
one (`GUARDS`): a stale or confused writer cannot turn an announced alert back into one that
would be posted again. Schema changes are numbered steps in `PG_MIGRATIONS`, applied at open
(and by `radar db upgrade`) under an advisory lock, so replicas starting together apply
each step once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

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
from bot.store.migrations import SCHEMA_VERSION

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Record)

TABLE_PREFIX = "radar_"
# Fields that queries filter on, per collection: expression indexes on `doc->>field`.
INDEXED: dict[str, tuple[str, ...]] = {
    "releases": ("lab",),
    "subscriptions": ("channel_id",),
    "mutes": ("channel_id",),
    "deliveries": ("status", "release_id"),
    "models": ("release_id",),
}
# Conditions an update must meet (`existing` is the stored row, `EXCLUDED` the new one).
GUARDS: dict[str, str] = {
    # A row that records a posted Slack message never loses it: it would be posted again.
    "deliveries": "(existing.doc->>'ts') IS NULL OR (EXCLUDED.doc->>'ts') IS NOT NULL",
}
# Read caches: collection -> most records kept. Only for collections one replica writes (the
# leader's poll writes models): a cache is dropped when the collection's revision shows a
# commit by someone else, looked at no more than every `CACHE_CHECK_SECONDS`.
CACHED: dict[str, int] = {"models": 20_000}
# Small collections the leader alone writes and readers scan whole (digests, `latest`, the
# grouping of new repos into releases): kept whole, under the same revision check.
CACHED_WHOLE = frozenset({"releases"})
CACHE_CHECK_SECONDS = 1.0
MIGRATION_LOCK = 0x7261646172  # "radar": serialises schema steps between replicas


def _meta_sql() -> list[str]:
    return [
        "CREATE SEQUENCE IF NOT EXISTS radar_rev",
        "CREATE TABLE IF NOT EXISTS radar_meta (name text PRIMARY KEY, value jsonb NOT NULL)",
    ]


def collection_sql(name: str) -> list[str]:
    """DDL for one collection's table and its indexes (idempotent)."""
    table = TABLE_PREFIX + name
    statements = [
        f"CREATE TABLE IF NOT EXISTS {table} (key text PRIMARY KEY, doc jsonb NOT NULL, "
        f"rev bigint NOT NULL DEFAULT nextval('radar_rev'))",
        f"CREATE INDEX IF NOT EXISTS {table}_rev ON {table} (rev)",
    ]
    for field in INDEXED.get(name, ()):
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {table}_{field} ON {table} ((doc->>'{field}'))"
        )
    return statements


# Numbered schema steps. Step N brings the database from version N-1 to N. Never edit a
# step that has shipped: add the next one. A collection added to `COLLECTIONS` later needs
# no step (its table is created at open), only fields it wants indexed do.
PG_MIGRATIONS: dict[int, list[str]] = {
    1: [
        *_meta_sql(),
        *(statement for name in COLLECTIONS for statement in collection_sql(name)),
    ],
    2: [
        # One Slack message is one delivery row: two rows can never claim the same post.
        "CREATE UNIQUE INDEX IF NOT EXISTS radar_deliveries_message ON radar_deliveries "
        "((doc->>'channel_id'), (doc->>'ts')) WHERE doc->>'ts' IS NOT NULL",
    ],
}
PG_SCHEMA_VERSION = max(PG_MIGRATIONS)


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise StoreError(
            "DATABASE_URL names PostgreSQL but the psycopg driver is not installed "
            "(pip install 'psycopg[binary]')"
        ) from exc
    return psycopg


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, credentials = head.partition("//")
    user = credentials.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"


class _Pool:
    """A few autocommit connections handed to one thread at a time.

    Reads come from many threads (answer pools, delivery workers, the scheduler); each
    borrows a connection for one statement. psycopg_pool would do the same with more
    machinery (background growers, health checks) than a bot with a handful of threads needs.
    """

    def __init__(self, url: str, size: int = 8) -> None:
        self.url = url
        self.size = size
        self._idle: list[Any] = []
        self._open = 0
        self._cond = threading.Condition()
        self._psycopg = _import_psycopg()
        self.closed = False

    def connect(self, *, autocommit: bool = True) -> Any:
        try:
            return self._psycopg.connect(self.url, autocommit=autocommit, connect_timeout=10)
        except self._psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to the PostgreSQL database {redact(self.url)}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc}; check "
                "DATABASE_URL and that the server is running"
            ) from None

    def take(self) -> Any:
        with self._cond:
            while True:
                if self.closed:
                    raise StoreError("the PostgreSQL store is closed")
                while self._idle:
                    conn = self._idle.pop()
                    if not conn.closed:
                        return conn
                    self._open -= 1
                if self._open < self.size:
                    self._open += 1
                    break
                self._cond.wait()
        try:
            return self.connect()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def give(self, conn: Any) -> None:
        with self._cond:
            if self.closed or conn.closed or conn.info.transaction_status != 0:
                self._open -= 1
                conn.close()
            else:
                self._idle.append(conn)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            for conn in self._idle:
                conn.close()
            self._idle.clear()
            self._cond.notify_all()


class PostgresCollection(Generic[T]):
    """One collection: pending changes in memory, everything else in its table."""

    def __init__(self, store: PostgresStore, name: str, kind: type[T]) -> None:
        self.store = store
        self.name = name
        self.kind = kind
        self.table = TABLE_PREFIX + name
        self._lock = store.lock
        # key -> record to write, or None to delete, at the next commit
        self.pending: dict[str, T | None] = {}
        self._cap = CACHED.get(name, 0)
        self._cache: OrderedDict[str, T] = OrderedDict()
        self._cache_revision: int | None = None
        self._checked_at = 0.0
        self._keep_whole = name in CACHED_WHOLE
        self._whole: dict[str, T] | None = None
        self._counted: tuple[int, int] | None = None  # (revision, rows) of the last count

    # -- the Collection protocol -----------------------------------------------------

    def get(self, key: str) -> T | None:
        with self._lock:
            if key in self.pending:
                return self.pending[key]
            if self._cap:
                self._check_cache()
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return self._cache[key]
        if self._keep_whole:
            return self._whole_copy().get(key)
        rows = self.store.query(f"SELECT doc::text FROM {self.table} WHERE key = %s", (key,))
        item = self.kind.model_validate_json(rows[0][0]) if rows else None
        if self._cap and item is not None:  # an absent key is asked again: it may appear
            with self._lock:
                self._remember(key, item)
        return item

    # -- the read cache (see CACHED) ---------------------------------------------------

    def _check_cache(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < CACHE_CHECK_SECONDS:
            return
        self._checked_at = now
        revision = self._committed_revision()
        if revision != self._cache_revision:
            self._cache.clear()  # another replica committed: what we cached may be stale
            self._whole = None
            self._cache_revision = revision

    def _whole_copy(self) -> dict[str, T]:
        """The committed collection (kept whole, see CACHED_WHOLE), as a new dict."""
        with self._lock:
            self._check_cache()
            if self._whole is not None:
                return dict(self._whole)
            revision = self._cache_revision
        sql = f"SELECT key, doc::text FROM {self.table}"
        loaded = {key: self.kind.model_validate_json(text) for key, text in self.store.query(sql)}
        with self._lock:
            if self._cache_revision == revision:  # no commit landed meanwhile
                self._whole = loaded
        return dict(loaded)

    def _remember(self, key: str, item: T) -> None:
        self._cache[key] = item
        self._cache.move_to_end(key)
        while len(self._cache) > self._cap:
            self._cache.popitem(last=False)

    def committed(self, changes: dict[str, T | None], revisions: tuple[int, int]) -> None:
        """This process's commit wrote `changes`, moving the revision from `before` to
        `after`; a cache that had not seen `before` missed another replica's commit."""
        if not (self._cap or self._keep_whole):
            return
        before, after = revisions
        if before != self._cache_revision:
            self._cache.clear()
            self._whole = None
            self._cache_revision = None
            return
        for key, item in changes.items():
            if self._whole is not None:
                if item is None:
                    self._whole.pop(key, None)
                else:
                    self._whole[key] = item
            if self._cap:
                if item is None:
                    self._cache.pop(key, None)
                else:
                    self._remember(key, item)
        self._cache_revision = after

    def forget_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._whole = None
            self._cache_revision = None

    def _committed_revision(self) -> int:
        rows = self.store.query(
            "SELECT value FROM radar_meta WHERE name = %s", (f"rev:{self.name}",)
        )
        return int(rows[0][0]) if rows else 0

    def put(self, item: T) -> None:
        with self._lock:
            self.pending[item.key] = item

    def delete(self, key: str) -> bool:
        with self._lock:
            if key in self.pending:  # the pending change is what this process sees
                existed = self.pending[key] is not None
                self.pending[key] = None
                return existed
            existed = self._stored(key)
            if existed:
                self.pending[key] = None
            return existed

    def values(self) -> list[T]:
        if self._keep_whole:
            whole = self._whole_copy()
            with self._lock:
                for key, item in self.pending.items():
                    if item is None:
                        whole.pop(key, None)
                    else:
                        whole[key] = item
            return list(whole.values())
        return list(self.iter_where())

    def __len__(self) -> int:
        with self._lock:
            pending = dict(self.pending)
        if not pending:
            # The search index asks before every lookup; count(*) only after a commit.
            revision = self._committed_revision()
            if self._counted is None or self._counted[0] != revision:
                count = int(self.store.query(f"SELECT count(*) FROM {self.table}")[0][0])
                self._counted = (revision, count)
            return self._counted[1]
        rows = self.store.query(
            f"SELECT count(*), count(*) FILTER (WHERE key = ANY(%s)) FROM {self.table}",
            (list(pending),),
        )
        total, stored_pending = rows[0]
        added = sum(1 for item in pending.values() if item is not None)
        return int(total) - int(stored_pending) + added

    def __iter__(self) -> Iterator[T]:
        return iter(self.values())

    # -- queries beyond the protocol --------------------------------------------------

    def keys(self) -> list[str]:
        """Every key, without building a record (the search index needs only ids)."""
        with self._lock:
            pending = dict(self.pending)
        stored = [row[0] for row in self.store.query(f"SELECT key FROM {self.table}")]
        keys = [key for key in stored if key not in pending]
        keys.extend(key for key, item in pending.items() if item is not None)
        return keys

    def find(self, **equals: object) -> list[T]:
        """Records whose top-level fields equal these values (indexed fields are fast)."""
        conditions, params = [], []
        for field, value in equals.items():
            if value is None:
                conditions.append(f"doc->>'{field}' IS NULL")
            else:
                conditions.append(f"doc->>'{field}' = %s")
                params.append(value if isinstance(value, str) else json.dumps(value))
        return list(self.iter_where(" AND ".join(conditions), tuple(params), equals))

    def get_many(self, keys: Iterable[str]) -> dict[str, T]:
        """The records of these keys that exist, in one query."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, T] = {}
        with self._lock:
            rest = []
            if self._cap:
                self._check_cache()
            for key in wanted:
                if key in self.pending:
                    item = self.pending[key]
                    if item is not None:
                        found[key] = item
                elif self._cap and key in self._cache:
                    found[key] = self._cache[key]
                else:
                    rest.append(key)
        if rest:
            sql = f"SELECT key, doc::text FROM {self.table} WHERE key = ANY(%s)"
            for key, text in self.store.query(sql, (rest,)):
                found[key] = self.kind.model_validate_json(text)
        return found

    def revision(self) -> tuple[int, int]:
        """Changes whenever a commit (of any replica) or a pending change touched this
        collection: one primary-key read, for caches such as the search index."""
        committed = self._committed_revision()
        with self._lock:
            pending = len(self.pending)
        return (committed, pending)

    def iter_where(
        self,
        conditions: str = "",
        params: tuple = (),
        equals: dict[str, object] | None = None,
    ) -> Iterator[T]:
        """Stored rows (matching `conditions`) overlaid with this process's pending changes."""
        with self._lock:
            pending = dict(self.pending)
        where = f" WHERE {conditions}" if conditions else ""
        kind = self.kind
        sql = f"SELECT key, doc::text FROM {self.table}{where}"
        for key, text in self.store.query(sql, params):
            if key in pending:
                continue
            yield kind.model_validate_json(text)
        for item in pending.values():
            if item is None:
                continue
            if equals and any(getattr(item, f, None) != v for f, v in equals.items()):
                continue
            yield item

    def _stored(self, key: str) -> bool:
        return bool(self.store.query(f"SELECT 1 FROM {self.table} WHERE key = %s", (key,)))

    def upsert_sql(self) -> str:
        guard = GUARDS.get(self.name)
        where = f" WHERE {guard}" if guard else ""
        return (
            f"INSERT INTO {self.table} AS existing (key, doc) VALUES (%s, %s::jsonb) "
            f"ON CONFLICT (key) DO UPDATE SET doc = EXCLUDED.doc, rev = nextval('radar_rev')"
            f"{where}"
        )


class PostgresStore:
    """`Store` on PostgreSQL. Open with `open_postgres(url)`; see the module docstring."""

    def __init__(self, url: str, *, pool_size: int = 8, upgrade: bool = True) -> None:
        self.url = url
        self.lock = threading.RLock()
        self._pool = _Pool(url, pool_size)
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
            raise _store_error(exc, "read") from None
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
                raise _store_error(exc, "commit") from None
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
            raise _store_error(exc, "load") from None
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


def _store_error(exc: Exception, doing: str) -> StoreError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if doing == "commit":
        return StoreError(
            f"could not save to PostgreSQL ({text}); nothing of this change was kept and it "
            "is retried with the next save"
        )
    return StoreError(f"PostgreSQL {doing} failed: {text}")


def ensure_schema(pool: _Pool, *, upgrade: bool = True) -> int:
    """Apply the schema steps this database lacks (under an advisory lock); its version.

    With `upgrade=False` a database behind the code is refused instead of changed. A
    database ahead of the code (written by a newer bot) is always refused.
    """
    conn = pool.connect(autocommit=True)
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            version = _schema_version(conn)
            if version > PG_SCHEMA_VERSION:
                raise StoreError(
                    f"the PostgreSQL database {redact(pool.url)} has schema version {version}: "
                    f"it was written by a newer Open Model Radar (this one understands up to "
                    f"{PG_SCHEMA_VERSION}). Upgrade the bot; nothing was changed."
                )
            documents = _documents_version(conn)
            if documents is not None and documents > SCHEMA_VERSION:
                raise StoreError(
                    f"the PostgreSQL database {redact(pool.url)} holds records of schema "
                    f"version {documents}, newer than this bot's {SCHEMA_VERSION}. Upgrade the "
                    "bot; nothing was changed."
                )
            if version < PG_SCHEMA_VERSION and not upgrade:
                raise StoreError(
                    f"the PostgreSQL database {redact(pool.url)} has schema version {version}, "
                    f"older than this bot's {PG_SCHEMA_VERSION}: run `radar db upgrade`"
                )
            for step in range(version + 1, PG_SCHEMA_VERSION + 1):
                with conn.transaction():
                    for statement in PG_MIGRATIONS[step]:
                        conn.execute(statement)
                    _set_meta(conn, "schema_version", step)
                    if documents is None:
                        _set_meta(conn, "document_version", SCHEMA_VERSION)
                        documents = SCHEMA_VERSION
                log.info("PostgreSQL schema upgraded to version %d", step)
            # New collections (a Record kind added since) get their table, generically.
            with conn.transaction():
                for name in COLLECTIONS:
                    for statement in collection_sql(name):
                        conn.execute(statement)
            return PG_SCHEMA_VERSION
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    except StoreError:
        raise
    except Exception as exc:
        raise _store_error(exc, "schema upgrade") from None
    finally:
        conn.close()


def _schema_version(conn: Any) -> int:
    exists = conn.execute("SELECT to_regclass('radar_meta') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    row = conn.execute("SELECT value FROM radar_meta WHERE name = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _documents_version(conn: Any) -> int | None:
    exists = conn.execute("SELECT to_regclass('radar_meta') IS NOT NULL").fetchone()[0]
    if not exists:
        return None
    row = conn.execute("SELECT value FROM radar_meta WHERE name = 'document_version'").fetchone()
    return int(row[0]) if row else None


def _set_meta(conn: Any, name: str, value: object) -> None:
    conn.execute(
        "INSERT INTO radar_meta (name, value) VALUES (%s, %s::jsonb) "
        "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        (name, json.dumps(value)),
    )


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0] in {"postgresql", "postgres"}


def open_postgres(url: str, *, upgrade: bool = True) -> PostgresStore:
    """Connect, bring the schema up to date, and return the store."""
    return PostgresStore(url, upgrade=upgrade)
