"""The Hub endpoints the radar calls: lab listings, trending, search, pages, one repo.

One `HubClient` is shared by every thread of the bot. Each public method is a fixed, small
number of requests so poll cycles have a predictable cost; each request goes through
`bot.hub.transport.HubTransport` (retries, caps, `Retry-After`), so every failure surfaces
as a `bot.hub.errors.HubError` rather than an httpx exception.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import httpx

from bot.hub.errors import RepoNotFound
from bot.hub.parse import repo_from_json, repos_from_list
from bot.hub.transport import MAX_BODY_BYTES, HubTransport
from bot.radar.models import HubRepo

LIST_EXPANDS: tuple[str, ...] = (
    "createdAt",
    "lastModified",
    "sha",
    "private",
    "gated",
    "disabled",
    "pipeline_tag",
    "library_name",
    "tags",
    "downloads",
    "downloadsAllTime",
    "likes",
    "trendingScore",
    "cardData",
    "safetensors",
)
"""Only what the radar reads; `baseModels`/`childrenModelCount` would make the list 400."""

DETAIL_EXPANDS: tuple[str, ...] = (*LIST_EXPANDS, "baseModels", "childrenModelCount")

LIGHT_EXPANDS: tuple[str, ...] = ("createdAt", "lastModified")
"""A light listing: `_id`, `id` and dates, for spotting ids the radar has not seen."""

SORT_KEYS = frozenset({"createdAt", "lastModified", "downloads", "likes", "trendingScore"})
MAX_PAGE_SIZE = 1000
MAX_SEARCH_CHARS = 200

_REPO_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def is_valid_repo_id(repo_id: str) -> bool:
    """`namespace/name` of Hub-legal characters: nothing that could escape the URL path."""
    parts = repo_id.split("/")
    return (
        len(parts) == 2
        and all(_REPO_PART.match(part) for part in parts)
        and ".." not in repo_id
        and not any(part.endswith(".") for part in parts)
    )


class HubClient:
    """Implements `bot.radar.ports.HubSource` against a Hub endpoint (real or stand-in)."""

    def __init__(
        self,
        endpoint: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 60.0,
        user_agent: str | None = None,
        rng: random.Random | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._token = token or None
        self._http = HubTransport(
            self.endpoint,
            self._token,
            timeout=timeout,
            max_retries=max_retries,
            transport=transport,
            sleep=sleep,
            max_wait=max_wait,
            user_agent=user_agent,
            rng=rng,
            max_body_bytes=max_body_bytes,
        )

    def __repr__(self) -> str:
        return f"HubClient({self.endpoint!r}, token={'set' if self._token else 'none'})"

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def requests_made(self) -> int:
        """HTTP attempts sent so far, retries included (benchmarks count cost with it)."""
        return self._http.requests_made

    @property
    def rate_limit_remaining(self) -> int | None:
        """The `r=` of the last `RateLimit` header seen: requests left in this window."""
        return self._http.rate_limit_remaining

    # -- the HubSource port -------------------------------------------------------------

    def list_lab_repos(self, author: str, *, limit: int, sort: str = "createdAt") -> list[HubRepo]:
        """One request: a namespace's newest (or top) repos with the fields the radar reads."""
        params = [("author", author), ("sort", _checked_sort(sort)), ("limit", _page(limit))]
        return repos_from_list(self._get_json("/api/models", [*params, *_expand(LIST_EXPANDS)]))

    def list_trending(self, *, limit: int) -> list[HubRepo]:
        """One request: the Hub's trending models, for spotting breakouts outside our labs."""
        params = [("sort", "trendingScore"), ("limit", _page(limit)), *_expand(LIST_EXPANDS)]
        return repos_from_list(self._get_json("/api/models", params))

    def search(self, text: str, *, limit: int, sort: str | None = None) -> list[HubRepo]:
        """One request: repos whose id contains `text`; blank text asks nothing of the Hub."""
        query = text.strip()[:MAX_SEARCH_CHARS]
        if not query:
            return []
        params = [("search", query), ("limit", _page(limit))]
        if sort is not None:
            params.append(("sort", _checked_sort(sort)))
        return repos_from_list(self._get_json("/api/models", [*params, *_expand(LIST_EXPANDS)]))

    def list_all(
        self,
        author: str,
        *,
        sort: str = "createdAt",
        max_pages: int = 10,
        page_size: int = 100,
        light: bool = False,
    ) -> list[HubRepo]:
        """Follow the server's `Link: rel="next"` pages, at most `max_pages` requests.

        `light` asks only for ids and dates: a fraction of the bytes and parsing of a full
        listing, enough to spot repos the radar has not seen (details come per repo).
        """
        params = [
            ("author", author),
            ("sort", _checked_sort(sort)),
            ("limit", _page(page_size)),
            *_expand(LIGHT_EXPANDS if light else LIST_EXPANDS),
        ]
        repos: list[HubRepo] = []
        next_url: str | None = None
        for _ in range(max(0, max_pages)):
            if next_url is None:
                raw, response = self._http.get("/api/models", params)
            else:
                raw, response = self._http.get(next_url, None)
            repos.extend(repos_from_list(raw))
            next_url = self._http.next_link(response)
            if next_url is None:
                break
        return repos

    def get_repo(self, repo_id: str) -> HubRepo:
        """Full details of one repo (lineage, derivative counts); bad ids never reach the wire."""
        if not is_valid_repo_id(repo_id):
            raise RepoNotFound(repo_id[:200], f"not a valid Hub repo id: {repo_id[:200]!r}")
        namespace, name = repo_id.split("/")
        path = f"/api/models/{quote(namespace, safe='')}/{quote(name, safe='')}"
        raw = self._get_json(path, list(_expand(DETAIL_EXPANDS)), repo_id=repo_id)
        return repo_from_json(raw, detailed=True)

    # -- plumbing -----------------------------------------------------------------------

    def _get_json(
        self, path: str, params: list[tuple[str, str]], *, repo_id: str | None = None
    ) -> Any:
        raw, _ = self._http.get(path, params, repo_id=repo_id)
        return raw


def _expand(fields: Iterable[str]) -> Iterable[tuple[str, str]]:
    return (("expand", field) for field in fields)


def _page(limit: int) -> str:
    return str(min(max(int(limit), 1), MAX_PAGE_SIZE))


def _checked_sort(sort: str) -> str:
    if sort not in SORT_KEYS:
        raise ValueError(f"unknown Hub sort {sort!r}; use one of {sorted(SORT_KEYS)}")
    return sort
