"""What the domain needs from the outside world, as protocols.

The Hub client implements `HubSource`; tests and the offline demo provide their own.
Errors raised through these ports derive from `SourceError`, so the domain can handle
them without importing the HTTP layer.

`Store` is the storage port: a handful of typed collections plus `commit()`. Reads and
writes happen in memory; `commit()` makes every change since the last commit durable in
one step. The backends live in `bot/store/` (memory, TinyDB file, PostgreSQL); the domain
only sees this protocol, so `bot/radar/` never imports `bot/store/`.

Thread safety: every collection call is atomic on its own; a read-modify-write across
several calls takes `store.lock` (an `RLock`), and the domain service that does it owns
the `commit()`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

from bot.radar.installs import OAuthState, SlackInstall
from bot.radar.models import (
    AdoptionSeries,
    Delivery,
    DigestSchedule,
    HubRepo,
    Lab,
    ModelRecord,
    Mute,
    Record,
    Release,
    StateEntry,
    Subscription,
)

T = TypeVar("T", bound=Record)


class SourceError(Exception):
    """The model source failed for this request; the cycle should carry on without it."""


class SourceNotFound(SourceError):
    """The repo does not exist or is not public."""


class HubSource(Protocol):
    def list_lab_repos(self, author: str, *, limit: int, sort: str = "createdAt") -> list[HubRepo]:
        """The newest (or most downloaded) repos of one namespace, one request."""
        ...

    def list_all(
        self,
        author: str,
        *,
        sort: str = "createdAt",
        max_pages: int = 10,
        page_size: int = 100,
        light: bool = False,
    ) -> list[HubRepo]:
        """Every public repo of one namespace, page by page (at most `max_pages` requests);
        `light`: ids, `_id` and dates only."""
        ...

    def list_trending(self, *, limit: int) -> list[HubRepo]:
        """The Hub's trending models, one request, for breakout detection."""
        ...

    def search(self, text: str, *, limit: int) -> list[HubRepo]:
        """Free-text search of repo ids, one request."""
        ...

    def get_repo(self, repo_id: str) -> HubRepo:
        """Full details (card data, lineage, derivative counts) of one repo."""
        ...


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


class Collection(Protocol[T]):
    def get(self, key: str) -> T | None: ...
    def put(self, item: T) -> None: ...
    def delete(self, key: str) -> bool: ...
    def values(self) -> list[T]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[T]: ...
    # Queries a backend that does not hold everything in memory answers with an index.
    def keys(self) -> list[str]: ...
    def find(self, **equals: object) -> list[T]: ...
    def get_many(self, keys: Iterable[str]) -> dict[str, T]: ...
    def revision(self) -> object: ...
    # Remove and return in one step that no other thread, or replica sharing the database,
    # can interleave with: of two callers taking one key, exactly one gets the record
    # (an OAuth state is accepted once). Durable at once where the database is shared.
    def take(self, key: str) -> T | None: ...


class Store(Protocol):
    lock: threading.RLock
    labs: Collection[Lab]
    models: Collection[ModelRecord]
    releases: Collection[Release]
    subscriptions: Collection[Subscription]
    mutes: Collection[Mute]
    digests: Collection[DigestSchedule]
    deliveries: Collection[Delivery]
    state: Collection[StateEntry]
    adoption: Collection[AdoptionSeries]
    slack_installs: Collection[SlackInstall]
    oauth_states: Collection[OAuthState]

    def commit(self) -> None: ...
    def close(self) -> None: ...
    # Drop what this process cached of committed data: another replica may have written
    # it while this one did not lead. A no-op for a backend only this process writes.
    def forget_caches(self) -> None: ...


COLLECTIONS: dict[str, type[Record]] = {
    "labs": Lab,
    "models": ModelRecord,
    "releases": Release,
    "subscriptions": Subscription,
    "mutes": Mute,
    "digests": DigestSchedule,
    "deliveries": Delivery,
    "state": StateEntry,
    "adoption": AdoptionSeries,
    "slack_installs": SlackInstall,
    "oauth_states": OAuthState,
}
