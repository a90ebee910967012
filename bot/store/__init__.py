"""Persistence: the `Store` interface (`base`) and its TinyDB file backend."""

from pathlib import Path

from bot.store.base import SCHEMA_VERSION, MemoryStore, Store, StoreError
from bot.store.tinydb_store import TinyDBStore, check_writable, open_store


def open_database(path: Path, url: str | None = None) -> Store:
    """PostgreSQL when `url` is set (DATABASE_URL), else the TinyDB file at `path`."""
    if url:
        from bot.store.postgres import open_postgres  # psycopg is imported only here

        return open_postgres(url)
    return open_store(path)

__all__ = [
    "SCHEMA_VERSION",
    "MemoryStore",
    "Store",
    "StoreError",
    "TinyDBStore",
    "check_writable",
    "open_database",
    "open_store",
]
