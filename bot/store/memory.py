"""The in-memory `Store` backend (tests, the offline demo, and the base of the TinyDB one)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from bot.radar.models import (
    AdoptionSeries,
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
from bot.radar.ports import COLLECTIONS

T = TypeVar("T", bound=Record)


class MemoryCollection(Generic[T]):
    """A dict of records keyed by `record.key`, remembering what changed since commit."""

    def __init__(self, name: str, kind: type[T], lock: threading.RLock) -> None:
        self.name = name
        self.kind = kind
        self._lock = lock
        self._items: dict[str, T] = {}
        self.dirty: set[str] = set()
        self._revision = 0

    def load(self, items: list[T]) -> None:
        self._items = {item.key: item for item in items}
        self.dirty.clear()

    def get(self, key: str) -> T | None:
        with self._lock:
            return self._items.get(key)

    def put(self, item: T) -> None:
        with self._lock:
            self._items[item.key] = item
            self.dirty.add(item.key)
            self._revision += 1

    def delete(self, key: str) -> bool:
        with self._lock:
            existed = self._items.pop(key, None) is not None
            if existed:
                self.dirty.add(key)
                self._revision += 1
            return existed

    def values(self) -> list[T]:
        with self._lock:
            return list(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.values())

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._items)

    def find(self, **equals: object) -> list[T]:
        """Records whose fields equal these values (a scan here; an index on PostgreSQL)."""
        with self._lock:
            items = list(self._items.values())
        return [
            item
            for item in items
            if all(getattr(item, field, None) == value for field, value in equals.items())
        ]

    def get_many(self, keys: Iterable[str]) -> dict[str, T]:
        with self._lock:
            return {key: self._items[key] for key in keys if key in self._items}

    def revision(self) -> int:
        """Changes whenever a record is put or deleted (for caches built from the records)."""
        return self._revision

    def take(self, key: str) -> T | None:
        """Remove and return in one step (one process owns this store: the lock suffices)."""
        with self._lock:
            item = self._items.pop(key, None)
            if item is not None:
                self.dirty.add(key)
                self._revision += 1
            return item


class MemoryStore:
    """Everything in memory; `commit()` only clears the change sets. Used by tests and demo."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.labs: MemoryCollection[Lab] = MemoryCollection("labs", Lab, self.lock)
        self.models: MemoryCollection[ModelRecord] = MemoryCollection(
            "models", ModelRecord, self.lock
        )
        self.releases: MemoryCollection[Release] = MemoryCollection("releases", Release, self.lock)
        self.subscriptions: MemoryCollection[Subscription] = MemoryCollection(
            "subscriptions", Subscription, self.lock
        )
        self.mutes: MemoryCollection[Mute] = MemoryCollection("mutes", Mute, self.lock)
        self.digests: MemoryCollection[DigestSchedule] = MemoryCollection(
            "digests", DigestSchedule, self.lock
        )
        self.deliveries: MemoryCollection[Delivery] = MemoryCollection(
            "deliveries", Delivery, self.lock
        )
        self.state: MemoryCollection[StateEntry] = MemoryCollection("state", StateEntry, self.lock)
        self.adoption: MemoryCollection[AdoptionSeries] = MemoryCollection(
            "adoption", AdoptionSeries, self.lock
        )
        # Collections added to COLLECTIONS beyond the nine above get one generically.
        for name, kind in COLLECTIONS.items():
            if not hasattr(self, name):
                setattr(self, name, MemoryCollection(name, kind, self.lock))
        self.commits = 0

    def collections(self) -> dict[str, MemoryCollection]:
        return {name: getattr(self, name) for name in COLLECTIONS}

    def commit(self) -> None:
        with self.lock:
            for collection in self.collections().values():
                collection.dirty.clear()
            self.commits += 1

    def close(self) -> None:
        self.commit()

    def forget_caches(self) -> None:
        """Nothing to forget: this process alone writes what it holds."""
