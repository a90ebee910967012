"""One GET to the Hub, made safe: bounded retries with jitter, capped bodies, typed errors.

`HubTransport` owns the httpx client and everything about a single request that is not
about which endpoint it is: retrying timeouts, dropped connections and 5xx with full-jitter
backoff, honouring `Retry-After` on a 429 (or giving up at once when it asks for more than
`max_wait`), refusing bodies over `max_body_bytes`, refusing pagination links that point
away from the Hub, and turning every failure into a `bot.hub.errors.HubError`. The
endpoints themselves are `bot.hub.client.HubClient`.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from typing import Any

import httpx

from bot.hub.errors import (
    BadResponse,
    HubError,
    HubUnavailable,
    RateLimited,
    RepoNotFound,
    ServerError,
)

log = logging.getLogger("bot.hub.client")  # retry warnings keep the name log filters use

MAX_BODY_BYTES = 32 * 1024 * 1024
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0

_RATELIMIT_RESET = re.compile(r"(?:^|;)\s*t\s*=\s*(\d+(?:\.\d+)?)")
_RATELIMIT_REMAINING = re.compile(r"(?:^|;)\s*r\s*=\s*(\d+)")
_NOT_FOUND_CODES = frozenset({"RepoNotFound", "GatedRepo"})


def _bot_version() -> str:
    try:
        return metadata.version("open-model-radar")
    except metadata.PackageNotFoundError:  # running from a checkout
        import bot

        return str(getattr(bot, "__version__", "0.1.0"))


class _Retry(Exception):
    """Internal signal: this attempt failed in a way worth trying again."""

    def __init__(
        self, reason: str, *, status: int | None = None, wait: float | None = None
    ) -> None:
        self.reason = reason
        self.status = status  # the HTTP status that failed; None when no answer came
        self.wait = wait
        super().__init__(reason)


class HubTransport:
    """GETs against one Hub endpoint, shared by every thread (httpx's pool is thread-safe)."""

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

    def next_link(self, response: httpx.Response) -> str | None:
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

    def get(
        self,
        path_or_url: str,
        params: list[tuple[str, str]] | None,
        *,
        repo_id: str | None = None,
    ) -> tuple[Any, httpx.Response]:
        """GET with retries; returns the decoded JSON and the final response.

        `repo_id` names the repo a detail call asks for, so a 404 (or a gated repo's
        401/403) becomes `RepoNotFound` rather than a generic error.
        """
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
                # Debug: a Hub outage would print this for every request of every
                # namespace; the poll words the outcome once (`bot.radar.listings`).
                log.debug(
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
