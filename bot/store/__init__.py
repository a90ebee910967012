"""Persistence: the backends of the domain's `Store` port (memory, TinyDB, PostgreSQL)."""

from pathlib import Path

from bot.radar.ports import Store, StoreError
from bot.store.memory import MemoryStore
from bot.store.migrations import SCHEMA_VERSION
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
