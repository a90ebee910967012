"""The storage port and `MemoryStore`, re-exported for older imports (to be removed).

The `Store`/`Collection` protocols, `COLLECTIONS` and `StoreError` are the domain's
(`bot/radar/ports.py`); `MemoryStore` is in `bot/store/memory.py`. New code imports them
from there; this module keeps `from bot.store.base import Store` working meanwhile.
"""

from bot.radar.ports import COLLECTIONS, Collection, Store, StoreError
from bot.store.memory import MemoryCollection, MemoryStore
from bot.store.migrations import SCHEMA_VERSION

__all__ = [
    "COLLECTIONS",
    "SCHEMA_VERSION",
    "Collection",
    "MemoryCollection",
    "MemoryStore",
    "Store",
    "StoreError",
]
