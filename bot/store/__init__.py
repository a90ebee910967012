"""Persistence: the `Store` interface (`base`) and its TinyDB file backend."""

from bot.store.base import SCHEMA_VERSION, MemoryStore, Store, StoreError
from bot.store.tinydb_store import TinyDBStore, open_store

__all__ = ["SCHEMA_VERSION", "MemoryStore", "Store", "StoreError", "TinyDBStore", "open_store"]
