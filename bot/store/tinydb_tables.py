"""TinyDB, adapted to commit-sized writes: one file write per commit, one update per table.

TinyDB writes the whole file after every table operation, and rewrites a whole table for
each document changed. `CommitBuffer` keeps the document in memory until the store's
`commit()` flushes it (once, atomically, through `atomic.AtomicJSONStorage`), and
`BatchTable` takes a whole commit's changes to one table in a single update.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tinydb import TinyDB
from tinydb.middlewares import Middleware
from tinydb.table import Table

from bot.store.atomic import AtomicJSONStorage

Document = dict[str, Any]


class CommitBuffer(Middleware):
    """Keeps the whole document in memory; only `flush()` (called by commit) writes it.

    TinyDB calls `write()` after every table operation; here that only replaces the
    in-memory document, so a commit that updates eight tables still costs one file write.
    """

    def __init__(self, storage_cls: type[AtomicJSONStorage]) -> None:
        super().__init__(storage_cls)
        self.document: Document | None = None
        self.pending = False

    def read(self) -> Document | None:
        if self.document is None:
            self.document = self.storage.read()
        return self.document

    def write(self, data: Document) -> None:
        self.document = data
        self.pending = True

    def replace(self, document: Document, *, pending: bool) -> None:
        self.document = document
        self.pending = self.pending or pending

    def flush(self) -> None:
        if self.pending and self.document is not None:
            self.storage.write(self.document)
            self.pending = False

    def close(self) -> None:
        """Never writes: what reaches the disk is decided by `commit()` alone."""
        self.storage.close()


class BatchTable(Table):
    """A TinyDB table that takes a whole commit's worth of changes in one update."""

    def raw_documents(self) -> Mapping[str, Any]:
        return self._read_table()

    def new_doc_id(self) -> int:
        return self._get_next_id()

    def apply(self, upserts: Mapping[int, Document], removals: list[int]) -> None:
        def change(table: dict[int, Any]) -> None:
            for doc_id in removals:
                table.pop(doc_id, None)
            table.update(upserts)

        self._update_table(change)


class RadarTinyDB(TinyDB):
    table_class = BatchTable
