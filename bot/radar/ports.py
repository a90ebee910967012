"""What the domain needs from the outside world, as protocols.

The Hub client implements `HubSource`; tests and the offline demo provide their own.
Errors raised through these ports derive from `SourceError`, so the domain can handle
them without importing the HTTP layer.
"""

from __future__ import annotations

from typing import Protocol

from bot.radar.models import HubRepo


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
