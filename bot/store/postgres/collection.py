"""One PostgreSQL collection: pending changes in memory, everything else in its table.

A `put` or `delete` waits in the collection's change set (read before the database, seen at
once by every thread of this process) until the store's next `commit()`. Collections that
one replica alone writes keep a read cache, dropped whenever the collection's revision shows
a commit by someone else.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Generic, TypeVar

from bot.radar.models import Record
from bot.store.postgres.schema import GUARDS, TABLE_PREFIX

if TYPE_CHECKING:
    from bot.store.postgres.store import PostgresStore

T = TypeVar("T", bound=Record)

# Read caches: collection -> most records kept. Only for collections one replica writes (the
# leader's poll writes models): a cache is dropped when the collection's revision shows a
# commit by someone else, looked at no more than every `CACHE_CHECK_SECONDS`.
CACHED: dict[str, int] = {"models": 20_000}
# Small collections the leader alone writes and readers scan whole (digests, `latest`, the
# grouping of new repos into releases): kept whole, under the same revision check.
CACHED_WHOLE = frozenset({"releases"})
CACHE_CHECK_SECONDS = 1.0
_MISSING = object()


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

    def take(self, key: str) -> T | None:
        """Remove and return at once, outside any commit: `DELETE … RETURNING` lets exactly
        one of several replicas taking the same key have the row."""
        with self._lock:
            pending = self.pending.pop(key, _MISSING)  # this process's newer version wins
        sql = f"DELETE FROM {self.table} WHERE key = %s RETURNING doc::text"
        rows = self.store.query(sql, (key,))
        if pending is not _MISSING:
            return pending  # type: ignore[return-value]
        return self.kind.model_validate_json(rows[0][0]) if rows else None

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

