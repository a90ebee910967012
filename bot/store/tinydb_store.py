"""The embedded default backend: the in-memory store, persisted to one TinyDB JSON file.

Reads never touch the disk: on open the file is read once, migrated to the current schema
if it is older, validated into the domain records and loaded into `MemoryStore`'s dicts.
`commit()` copies only the records changed since the last commit into the TinyDB tables
(one batched table update per collection, instead of TinyDB's whole-table rewrite per
document) and then writes the file exactly once, atomically (see `tinydb_tables.py` and
`atomic.py`).

A document that no longer validates is moved to the `_quarantine` table with the reason,
so one bad record neither stops the bot nor disappears without a trace.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import ValidationError

from bot.radar.models import Record
from bot.radar.ports import COLLECTIONS, StoreError
from bot.store.atomic import AtomicJSONStorage, PreEncoded, backup_path, keep_copy
from bot.store.memory import MemoryCollection, MemoryStore
from bot.store.migrations import (
    META_TABLE,
    QUARANTINE_TABLE,
    SCHEMA_VERSION,
    migrate,
    schema_version_of,
    set_schema_version,
)
from bot.store.tinydb_tables import BatchTable, CommitBuffer, Document, RadarTinyDB

log = logging.getLogger(__name__)


def _share_full_fields_set(item: Record, every_field: set[str]) -> None:
    """Point a fully populated record at one shared fields-set instead of its own copy.

    A record read from the file has every field set, and pydantic keeps a private set of
    those names per instance: about 2 KB each, two thirds of a `ModelRecord`'s memory.
    Sharing one set is safe: pydantic only ever adds field names to it (already present)
    or copies it first (`model_copy`).
    """
    if item.__pydantic_fields_set__ == every_field:
        object.__setattr__(item, "__pydantic_fields_set__", every_field)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading creates every record at once, and none of it is garbage; the cyclic
    collector would still walk the growing heap again and again (its share of the load
    time grows faster than the database: 40% at 30,000 models)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": str(exc)}
    where = ".".join(str(part) for part in first.get("loc", ())) or "document"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


class TinyDBStore(MemoryStore):
    """`MemoryStore` whose `commit()` makes the changes durable in one atomic file write.

    `storage_class` is the file layer; tests pass a subclass that fails on demand.
    """

    def __init__(
        self, path: Path, *, storage_class: type[AtomicJSONStorage] = AtomicJSONStorage
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self._buffer = CommitBuffer(storage_class)
        self._db = RadarTinyDB(self.path, storage=self._buffer)
        self.file_storage: AtomicJSONStorage = self._buffer.storage
        self._doc_ids: dict[str, dict[str, int]] = {name: {} for name in COLLECTIONS}
        self._migrated_from: int | None = None
        self._closed = False
        with self.lock, _collector_paused():
            self._load()

    # -- public surface beyond MemoryStore ---------------------------------------------

    @property
    def writes(self) -> int:
        """How many times the database file has been written by this process."""
        return self.file_storage.writes

    @property
    def migrated_from(self) -> int | None:
        """The schema version the file had on open, when it was older than the code."""
        return self._migrated_from

    def quarantine(self) -> list[Document]:
        """Documents that failed validation: `{collection, doc_id, error, document, at}`."""
        with self.lock:
            table: BatchTable = self._db.table(QUARANTINE_TABLE)  # type: ignore[assignment]
            rows = table.raw_documents().values()
            return [dict(row) for row in rows if isinstance(row, Mapping)]

    def commit(self) -> None:
        """Write every change since the last commit in one atomic file write.

        On failure `StoreError` is raised, the file keeps its previous content and the
        changes stay pending, so the next successful commit writes them.
        """
        with self.lock:
            if self._closed:
                raise StoreError(f"the database at {self.path} is closed; cannot commit")
            for name, collection in self.collections().items():
                if collection.dirty:
                    self._stage(name, collection)
            self.commits += 1
            if not self._buffer.pending:
                return
            self._keep_pre_migration_copy()
            self._buffer.flush()
            for collection in self.collections().values():
                collection.dirty.clear()
            if self._migrated_from is not None:
                log.info(
                    "upgraded %s from schema version %s to %s",
                    self.path,
                    self._migrated_from,
                    SCHEMA_VERSION,
                )
                self._migrated_from = None

    def close(self) -> None:
        """Commit what is pending, then release the file. Safe to call twice."""
        with self.lock:
            if self._closed:
                return
            self.commit()
            self._db.close()
            self._closed = True

    def __enter__(self) -> TinyDBStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- opening -----------------------------------------------------------------------

    def _load(self) -> None:
        document = self._buffer.read()
        if document is None:
            document = {}
            set_schema_version(document, SCHEMA_VERSION)
            self._install(document, {name: {} for name in COLLECTIONS}, pending=False)
            return
        version = schema_version_of(document, self.path)
        if version > SCHEMA_VERSION:
            migrate(document, version, self.path)  # raises: newer than this code
        self._check_shape(document)
        migrated = version < SCHEMA_VERSION
        if migrated:
            log.warning(
                "%s has schema version %s; upgrading to %s in memory (the original is "
                "kept as %s on the first save)",
                self.path,
                version,
                SCHEMA_VERSION,
                backup_path(self.path, f"v{version}"),
            )
            document = migrate(document, version, self.path)
            self._migrated_from = version
        records: dict[str, dict[str, Record]] = {}
        rejected: dict[str, list[tuple[str, Any, str]]] = {}
        for name, kind in COLLECTIONS.items():
            records[name], rejected[name] = self._validate_table(kind, document.get(name) or {})
        self._install(document, records, pending=migrated)
        for name, bad in rejected.items():
            if bad:
                self._move_to_quarantine(name, bad)

    def _check_shape(self, document: Document) -> None:
        """Tables must be `{numeric id: document}`; anything else is not ours to rewrite."""
        for name in (*COLLECTIONS, META_TABLE, QUARANTINE_TABLE):
            rows = document.get(name)
            if rows is None:
                continue
            bad_ids = (
                [doc_id for doc_id in rows if not doc_id.isdigit()]
                if isinstance(rows, dict)
                else None
            )
            if bad_ids is None or bad_ids:
                detail = f"ids {bad_ids[:3]!r}" if bad_ids else f"a JSON {type(rows).__name__}"
                raise StoreError(
                    f"the database file {self.path} has a malformed {name!r} table "
                    f"({detail}); it was left untouched. Restore a backup or move it aside."
                )

    @staticmethod
    def _validate_table(
        kind: type[Record], rows: Mapping[str, Any]
    ) -> tuple[dict[str, Record], list[tuple[str, Any, str]]]:
        """Valid records by doc id, and `(doc id, document, reason)` for the rest."""
        valid: dict[str, Record] = {}
        doc_id_of_key: dict[str, str] = {}
        rejected: list[tuple[str, Any, str]] = []
        every_field = set(kind.model_fields)
        for doc_id, document in rows.items():
            try:
                item = kind.model_validate(document)
            except ValidationError as exc:
                rejected.append((doc_id, document, _first_error(exc)))
                continue
            _share_full_fields_set(item, every_field)
            earlier = doc_id_of_key.get(item.key)
            if earlier is not None:
                reason = f"duplicate key {item.key!r}: document {doc_id} kept instead"
                rejected.append((earlier, rows[earlier], reason))
                del valid[earlier]
            valid[doc_id] = item
            doc_id_of_key[item.key] = doc_id
        return valid, rejected

    def _install(
        self, document: Document, records: dict[str, dict[str, Record]], *, pending: bool
    ) -> None:
        """Hand the records to the in-memory collections and their JSON to TinyDB's tables."""
        for name, rows in records.items():
            table: dict[str, PreEncoded] = {}
            doc_ids: dict[str, int] = {}
            for doc_id, item in rows.items():
                table[doc_id] = PreEncoded(item.model_dump_json().encode("utf-8"))
                doc_ids[item.key] = int(doc_id)
            document[name] = table
            collection: MemoryCollection = getattr(self, name)
            collection.load(list(rows.values()))
            self._doc_ids[name] = doc_ids
        self._buffer.replace(document, pending=pending)

    def _move_to_quarantine(self, name: str, rejected: list[tuple[str, Any, str]]) -> None:
        quarantine: BatchTable = self._db.table(QUARANTINE_TABLE)  # type: ignore[assignment]
        moved_at = datetime.now(UTC).isoformat()
        entries = {
            quarantine.new_doc_id(): {
                "collection": name,
                "doc_id": doc_id,
                "error": error,
                "document": document,
                "at": moved_at,
            }
            for doc_id, document, error in rejected
        }
        quarantine.apply(entries, [])
        first_id, _, first_error = rejected[0]
        log.warning(
            "%s: %d %s document(s) failed validation and were moved to the %s table "
            "(first: id %s, %s); the rest loaded normally",
            self.path,
            len(rejected),
            name,
            QUARANTINE_TABLE,
            first_id,
            first_error,
        )

    # -- committing --------------------------------------------------------------------

    def _stage(self, name: str, collection: MemoryCollection) -> None:
        """Copy the dirty records of one collection into its TinyDB table, in one update."""
        table: BatchTable = self._db.table(name)  # type: ignore[assignment]
        doc_ids = self._doc_ids[name]
        upserts: dict[int, Document] = {}
        removals: list[int] = []
        for key in collection.dirty:
            item = collection.get(key)
            if item is None:
                doc_id = doc_ids.pop(key, None)
                if doc_id is not None:
                    removals.append(doc_id)
                continue
            doc_id = doc_ids.get(key)
            if doc_id is None:
                doc_id = table.new_doc_id()
                doc_ids[key] = doc_id
            upserts[doc_id] = PreEncoded(item.model_dump_json().encode("utf-8"))
        if upserts or removals:
            table.apply(upserts, removals)

    def _keep_pre_migration_copy(self) -> None:
        """Before an upgraded file is first replaced, keep the original as PATH.v<N>.bak."""
        if self._migrated_from is None or not self.path.exists():
            return
        target = backup_path(self.path, f"v{self._migrated_from}")
        try:
            keep_copy(self.path, target)
        except OSError as exc:
            raise StoreError(
                f"cannot keep a copy of the schema-version-{self._migrated_from} database "
                f"{self.path} as {target} before upgrading it: {exc.strerror or exc}; "
                f"nothing was changed."
            ) from exc


def check_writable(path: Path) -> None:
    """Fail now, in words, if the database's directory cannot take a write.

    A long-running bot that cannot save would send alerts it cannot remember sending;
    better to refuse to start than to repeat them after the next restart.
    """
    directory = Path(path).parent
    probe = directory / f".{Path(path).name}.write-check"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as handle:
            handle.write(b"ok")
            handle.flush()
            os.fsync(handle.fileno())
        probe.unlink()
    except OSError as exc:
        raise StoreError(
            f"cannot write the database directory {directory}: {exc.strerror or exc}. "
            "The bot must save what it posts; make the directory writable or point "
            "RADAR_DB_PATH elsewhere (the existing file was not touched)."
        ) from exc


def open_store(path: Path) -> TinyDBStore:
    """Open (or start) the database at `path`, creating its directory when missing."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the data directory {path.parent} for the database: "
            f"{exc.strerror or exc}. Create it or point RADAR_DB_PATH elsewhere."
        ) from exc
    if path.is_dir():
        raise StoreError(
            f"the database path {path} is a directory; point RADAR_DB_PATH at a file inside it"
        )
    return TinyDBStore(path)
