"""The Hugging Face Hub over plain httpx: few requests, bounded retries, typed errors.

One `HubClient` is shared by every thread of the bot (httpx's pool is thread-safe). Each
public method is a fixed, small number of requests so poll cycles have a predictable cost,
and every failure surfaces as a `bot.hub.errors.HubError` rather than an httpx exception.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import metadata
from typing import Any
from urllib.parse import quote

import httpx

from bot.hub.errors import (
    BadResponse,
    HubError,
    HubUnavailable,
    RateLimited,
    RepoNotFound,
    ServerError,
)
from bot.hub.parse import repo_from_json, repos_from_list
from bot.radar.models import HubRepo

log = logging.getLogger(__name__)

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
MAX_BODY_BYTES = 32 * 1024 * 1024
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0

_REPO_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_RATELIMIT_RESET = re.compile(r"(?:^|;)\s*t\s*=\s*(\d+(?:\.\d+)?)")
_RATELIMIT_REMAINING = re.compile(r"(?:^|;)\s*r\s*=\s*(\d+)")
_NOT_FOUND_CODES = frozenset({"RepoNotFound", "GatedRepo"})


def _bot_version() -> str:
    try:
        return metadata.version("open-model-radar")
    except metadata.PackageNotFoundError:  # running from a checkout
        import bot

        return str(getattr(bot, "__version__", "0.1.0"))


def is_valid_repo_id(repo_id: str) -> bool:
    """`namespace/name` of Hub-legal characters: nothing that could escape the URL path."""
    parts = repo_id.split("/")
    return (
        len(parts) == 2
        and all(_REPO_PART.match(part) for part in parts)
        and ".." not in repo_id
        and not any(part.endswith(".") for part in parts)
    )


class _Retry(Exception):
    """Internal signal: this attempt failed in a way worth trying again."""

    def __init__(
        self, reason: str, *, status: int | None = None, wait: float | None = None
    ) -> None:
        self.reason = reason
        self.status = status  # the HTTP status that failed; None when no answer came
        self.wait = wait
        super().__init__(reason)


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
        self.max_body_bytes = max_body_bytes
        self._origin = httpx.URL(self.endpoint)
        self.max_retries = max(0, max_retries)
        self.max_wait = max_wait
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._token = token or None
        self._count_lock = threading.Lock()
        self._requests_made = 0
        self._rate_limit_remaining: int | None = None
        headers = {
            "User-Agent": user_agent or f"open-model-radar/{_bot_version()}",
            "Accept": "application/json",
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=True,
            max_redirects=3,
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
        with self._count_lock:
            return self._requests_made

    @property
    def rate_limit_remaining(self) -> int | None:
        """The `r=` of the last `RateLimit` header seen: requests left in this window."""
        return self._rate_limit_remaining

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
                raw, response = self._request("/api/models", params)
            else:
                raw, response = self._request(next_url, None)
            repos.extend(repos_from_list(raw))
            next_url = self._next_link(response)
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
        raw, _ = self._request(path, params, repo_id=repo_id)
        return raw

    def _next_link(self, response: httpx.Response) -> str | None:
        """The next page URL, refusing any that would send our token to another host."""
        url = response.links.get("next", {}).get("url")
        if not url:
            return None
        target = self._origin.join(url)
        if (target.scheme, target.host, target.port) != (
            self._origin.scheme,
            self._origin.host,
            self._origin.port,
        ):
            raise BadResponse(f"pagination link points away from the Hub endpoint: {target.host}")
        return str(target)

    def _request(
        self,
        path_or_url: str,
        params: list[tuple[str, str]] | None,
        *,
        repo_id: str | None = None,
    ) -> tuple[Any, httpx.Response]:
        """GET with retries; returns the decoded JSON and the final response."""
        url = path_or_url if "://" in path_or_url else self.endpoint + path_or_url
        log_path = httpx.URL(url).path
        attempt = 0
        while True:
            try:
                return self._attempt(url, params, log_path, repo_id)
            except _Retry as retry:
                if attempt >= self.max_retries:
                    raise self._exhausted(retry, log_path) from None
                attempt += 1
                wait = retry.wait if retry.wait is not None else self._backoff(attempt)
                log.warning(
                    "Hub GET %s failed (%s); retry %d/%d in %.2fs",
                    log_path,
                    retry.reason,
                    attempt,
                    self.max_retries,
                    wait,
                )
                self._sleep(wait)

    def _exhausted(self, retry: _Retry, log_path: str) -> HubError:
        message = f"Hub GET {log_path} failed after {self.max_retries + 1} attempts: {retry.reason}"
        if retry.status == 429:
            return RateLimited(message, retry_after=retry.wait)
        if retry.status is not None:
            return ServerError(message, status=retry.status)
        return HubUnavailable(message)

    def _attempt(
        self,
        url: str,
        params: list[tuple[str, str]] | None,
        log_path: str,
        repo_id: str | None,
    ) -> tuple[Any, httpx.Response]:
        with self._count_lock:
            self._requests_made += 1
        try:
            with self._http.stream("GET", _request_url(url, params)) as response:
                body = self._read_capped(response, log_path)
        except httpx.TimeoutException as exc:
            raise _Retry(f"timeout ({type(exc).__name__})") from None
        except httpx.TooManyRedirects:
            raise BadResponse(f"Hub GET {log_path}: too many redirects") from None
        except httpx.TransportError as exc:
            raise _Retry(f"connection error ({type(exc).__name__})") from None
        self._note_rate_limit(response)
        status = response.status_code
        if status == 429:
            raise self._rate_limited(response, log_path)
        if status >= 500:
            raise _Retry(f"HTTP {status}", status=status)
        if status >= 400:
            raise self._client_error(response, body, log_path, repo_id)
        return self._decode(body, log_path), response

    def _read_capped(self, response: httpx.Response, log_path: str) -> bytes:
        """Read the body, refusing anything large enough to hurt the bot's memory."""
        declared = response.headers.get("Content-Length", "")
        compressed = response.headers.get("Content-Encoding", "identity") != "identity"
        if declared.isdigit() and int(declared) <= self.max_body_bytes and not compressed:
            return response.read()  # one read instead of a loop over network chunks
        cap = self.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise BadResponse(f"Hub GET {log_path}: response larger than {cap} B")
            chunks.append(chunk)
        return b"".join(chunks)

    def _decode(self, body: bytes, log_path: str) -> Any:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise BadResponse(
                f"Hub GET {log_path}: response is not valid JSON ({len(body)} bytes)"
            ) from None

    def _rate_limited(self, response: httpx.Response, log_path: str) -> Exception:
        wait = _retry_after(response.headers)
        if wait is not None and wait > self.max_wait:
            return RateLimited(
                f"Hub GET {log_path} rate limited for {wait:.0f}s (more than {self.max_wait:.0f}s)",
                retry_after=wait,
            )
        return _Retry("HTTP 429", status=429, wait=wait)

    def _client_error(
        self, response: httpx.Response, body: bytes, log_path: str, repo_id: str | None
    ) -> HubError:
        status = response.status_code
        code = response.headers.get("X-Error-Code", "")
        detail = _server_message(body)
        if repo_id is not None and (
            status == 404 or (status in (401, 403) and code in _NOT_FOUND_CODES)
        ):
            return RepoNotFound(repo_id)
        if status == 400 or status == 404:
            message = f"Hub GET {log_path}: HTTP {status} {detail}".rstrip()
            return BadResponse(message, status=status)
        return HubError(
            f"Hub GET {log_path}: HTTP {status} {code} {detail}".rstrip(), status=status
        )

    def _note_rate_limit(self, response: httpx.Response) -> None:
        match = _RATELIMIT_REMAINING.search(response.headers.get("RateLimit", ""))
        if match:
            self._rate_limit_remaining = int(match.group(1))

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform over [0, min(cap, base * 2^attempt)]."""
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        with self._rng_lock:
            return self._rng.uniform(0, ceiling)


@lru_cache(maxsize=1024)
def _cached_url(url: str, params: tuple[tuple[str, str], ...]) -> httpx.URL:
    return httpx.URL(url).copy_merge_params(params)


def _request_url(url: str, params: list[tuple[str, str]] | None) -> httpx.URL | str:
    """The request URL with its query, built once per distinct request.

    A poll cycle sends the same 150 listing URLs every time; httpx parsing and encoding
    each one again (18 query parameters) was a tenth of a listing's CPU. `httpx.URL` is
    immutable, so sharing one between threads is safe. A URL without params (a next
    page link) already carries its query and is used as it is.
    """
    return url if params is None else _cached_url(url, tuple(params))


def _expand(fields: Iterable[str]) -> Iterable[tuple[str, str]]:
    return (("expand", field) for field in fields)


def _page(limit: int) -> str:
    return str(min(max(int(limit), 1), MAX_PAGE_SIZE))


def _checked_sort(sort: str) -> str:
    if sort not in SORT_KEYS:
        raise ValueError(f"unknown Hub sort {sort!r}; use one of {sorted(SORT_KEYS)}")
    return sort


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait: `Retry-After` (seconds or HTTP date), else the `RateLimit` `t=`."""
    value = headers.get("Retry-After", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None:
                return max(0.0, when.timestamp() - time.time())
    match = _RATELIMIT_RESET.search(headers.get("RateLimit", ""))
    if match:
        return float(match.group(1))
    return None


def _server_message(body: bytes) -> str:
    """The Hub's `{"error": ...}` text, bounded and printable, for our own messages."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    message = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(message, str):
        return ""
    return "".join(ch for ch in message[:200] if ch.isprintable())
