"""Persistence: the `Store` interface (`base`) and its TinyDB file backend."""

from bot.store.base import SCHEMA_VERSION, MemoryStore, Store, StoreError
from bot.store.tinydb_store import TinyDBStore, check_writable, open_store

__all__ = [
    "SCHEMA_VERSION",
    "MemoryStore",
    "Store",
    "StoreError",
    "TinyDBStore",
    "check_writable",
    "open_store",
]
