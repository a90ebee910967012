"""A stand-in for the Hugging Face Hub's model API: a real HTTP server on 127.0.0.1.

It answers the two endpoints the radar uses (`GET /api/models` and
`GET /api/models/{ns}/{name}`) with the Hub's shapes and quirks: `expand` projections that
reject detail-only fields on the list, private repos answering 401 `RepoNotFound`, cursor
pagination through an absolute `Link` header, and `RateLimit` headers on every response.
Faults are injected deterministically so retry and error paths can be tested without luck.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

from tests.doubles.hub_webhooks import HubWebhooks

EXPANDABLE = frozenset(
    {
        "author",
        "baseModels",
        "cardData",
        "childrenModelCount",
        "config",
        "createdAt",
        "disabled",
        "downloads",
        "downloadsAllTime",
        "evalResults",
        "gated",
        "gguf",
        "inference",
        "inferenceProviderMapping",
        "lastModified",
        "library_name",
        "likes",
        "mask_token",
        "model-index",
        "pipeline_tag",
        "private",
        "resourceGroup",
        "safetensors",
        "sha",
        "siblings",
        "spaces",
        "tags",
        "transformersInfo",
        "trendingScore",
        "usedStorage",
        "widgetData",
    }
)
DETAIL_ONLY_EXPANDS = frozenset({"baseModels", "childrenModelCount", "usedStorage"})
DEFAULT_LIST_FIELDS = (
    "_id",
    "id",
    "modelId",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
)
EXPAND_ONLY_DETAIL_FIELDS = frozenset(
    {"baseModels", "childrenModelCount", "downloadsAllTime", "trendingScore"}
)
SORTABLE = frozenset({"createdAt", "lastModified", "downloads", "likes", "trendingScore"})
RELATIONS = ("quantized", "finetune", "adapter", "merge")
FAULT_KINDS = frozenset(
    {
        "500",
        "503",
        "429",
        "429-ratelimit-header",
        "timeout",
        "reset",
        "truncated",
        "malformed",
        "wrong-type",
    }
)
MAX_LIMIT = 1000
HANG_LIMIT = 120.0  # seconds a hung request is held at most, so no test can hang forever


class RecordedRequest(NamedTuple):
    method: str
    path: str
    query: dict[str, list[str]]


@dataclass
class _Fault:
    kind: str
    remaining: int
    path_contains: str | None
    retry_after: int


@dataclass
class _Reply:
    status: int
    payload: Any
    headers: dict[str, str]


class HubStandIn:
    """The Hub's model API, in-process. Use as a context manager or `start()`/`stop()`."""

    def __init__(
        self,
        *,
        timeout_sleep: float = 1.0,
        latency: float = 0.0,
        rate_limit_quota: int = 500,
        rate_limit_window: int = 300,
        enforce_rate_limit: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.models: dict[str, dict[str, Any]] = {}
        self.timeout_sleep = timeout_sleep
        self.latency = latency
        self.rate_limit_quota = rate_limit_quota
        self.rate_limit_window = rate_limit_window
        self.enforce_rate_limit = enforce_rate_limit
        self._clock = clock
        self._lock = threading.RLock()
        self._faults: deque[_Fault] = deque()
        self._failure_rate = 0.0
        self._failure_kinds: tuple[str, ...] = ()
        self._failure_rng = random.Random(0)
        self._window_start = clock()
        self._window_used = 0
        self.requests: list[RecordedRequest] = []
        self.request_headers: list[dict[str, str]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Webhooks: the management API and deliveries on repo changes (hub_webhooks.py).
        self.webhooks = HubWebhooks(latency=latency)
        self._hang_paths: str | None = None  # requests containing this wait for `release()`
        self._released = threading.Event()
        self._released.set()
        # Repos created privately and flipped public at a set time (lower id -> when), read
        # against `visibility_clock` (a test's hand-driven clock); and moved repos' old ids.
        self._public_at: dict[str, datetime] = {}
        self.visibility_clock: Callable[[], datetime] | None = None
        self.moved: dict[str, str] = {}

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> HubStandIn:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.standin = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()  # held requests end with the stand-in
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HubStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("HubStandIn is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- data ---------------------------------------------------------------------------

    def add(self, model_json: dict[str, Any]) -> dict[str, Any]:
        """Store a Hub-shaped record (a deep copy), filling the fields the Hub always has."""
        record = copy.deepcopy(model_json)
        repo_id = record["id"]
        digest = hashlib.sha1(repo_id.encode()).hexdigest()
        record.setdefault("_id", digest[:24])
        record.setdefault("modelId", repo_id)
        record.setdefault("author", repo_id.split("/", 1)[0])
        record.setdefault("sha", digest)
        record.setdefault("private", False)
        record.setdefault("disabled", False)
        record.setdefault("gated", False)
        record.setdefault("downloads", 0)
        record.setdefault("likes", 0)
        record.setdefault("trendingScore", 0)
        record.setdefault("tags", [])
        if "createdAt" in record:
            record.setdefault("lastModified", record["createdAt"])
        with self._lock:
            new = self.get(repo_id) is None
            self.models[repo_id] = record
        if new:
            self.webhooks.repo_event(record, "repo", "create")
        return record

    def add_many(self, models: Iterable[dict[str, Any]]) -> None:
        for model in models:
            self.add(model)

    def get(self, repo_id: str) -> dict[str, Any] | None:
        """The stored record, looked up case-insensitively like the Hub's URLs."""
        with self._lock:
            if repo_id in self.models:
                return self.models[repo_id]
            lowered = repo_id.lower()
            return next((m for k, m in self.models.items() if k.lower() == lowered), None)

    def update(self, repo_id: str, **fields: Any) -> None:
        with self._lock:
            record = self._existing(repo_id)
            record.update(fields)

    def remove(self, repo_id: str) -> None:
        with self._lock:
            record = self._existing(repo_id)
            del self.models[record["id"]]
        self.webhooks.repo_event(record, "repo", "delete")

    def set_private(self, repo_id: str, private: bool) -> None:
        was_private = bool(self._existing(repo_id).get("private"))
        self.update(repo_id, private=private)
        if was_private != private:
            record = self._existing(repo_id)
            self.webhooks.repo_event(
                record, "repo.config", "update", updatedConfig={"private": private}
            )

    def push(self, repo_id: str, **fields: Any) -> None:
        """A commit: new files (weights, a card) change these fields; webhooks hear of it."""
        with self._lock:
            record = self._existing(repo_id)
            old_sha = record.get("sha")
            new_sha = hashlib.sha1(f"{old_sha}{sorted(fields.items())}".encode()).hexdigest()
            record.update(fields, sha=new_sha)
        self.webhooks.repo_event(
            record,
            "repo.content",
            "update",
            updatedRefs=[{"ref": "refs/heads/main", "oldSha": old_sha, "newSha": new_sha}],
        )

    def add_private_until(self, model_json: dict[str, Any], public_at: datetime) -> dict[str, Any]:
        """A repo created privately (its `createdAt` kept) that turns public at `public_at`
        by `visibility_clock`: how labs stage a launch days or weeks ahead."""
        record = self.add(model_json)
        with self._lock:
            self._public_at[record["id"].lower()] = public_at
        return record

    def move(self, old_id: str, new_id: str) -> dict[str, Any]:
        """A rename or transfer (an organisation rename moves every repo): a new id, the
        same `_id`, `createdAt`, commits and counts; the old id's detail URL redirects to
        the new one, and webhooks hear of it."""
        with self._lock:
            record = self._existing(old_id)
            del self.models[record["id"]]
            moved = copy.deepcopy(record)
            moved["id"] = new_id
            moved["modelId"] = new_id
            moved["author"] = new_id.split("/", 1)[0]
            self.models[new_id] = moved
            self.moved[record["id"].lower()] = new_id
            public_at = self._public_at.pop(record["id"].lower(), None)
            if public_at is not None:
                self._public_at[new_id.lower()] = public_at
        owner = hashlib.sha1(new_id.split("/")[0].encode()).hexdigest()[:24]
        self.webhooks.repo_event(
            record, "repo", "move", movedTo={"name": new_id, "owner": {"id": owner}}
        )
        return moved

    def _is_public(self, model: dict[str, Any]) -> bool:
        if model.get("private"):
            return False
        public_at = self._public_at.get(str(model.get("id", "")).lower())
        if public_at is None:
            return True
        clock = self.visibility_clock
        return clock is not None and clock() >= public_at

    def _existing(self, repo_id: str) -> dict[str, Any]:
        record = self.get(repo_id)
        if record is None:
            raise KeyError(repo_id)
        return record

    # -- faults -------------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        times: int = 1,
        path_contains: str | None = None,
        *,
        retry_after: int = 1,
    ) -> None:
        """Make the next `times` matching requests fail with `kind`, in queue order."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {sorted(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(_Fault(kind, times, path_contains, retry_after))

    def set_failure_rate(
        self, rate: float, kinds: Sequence[str] = ("500", "503"), seed: int = 0
    ) -> None:
        """Fail a seeded-random fraction of requests (those no queued fault claimed)."""
        unknown = set(kinds) - FAULT_KINDS
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        with self._lock:
            self._failure_rate = rate
            self._failure_kinds = tuple(kinds)
            self._failure_rng = random.Random(seed)

    def hang(self, path_contains: str = "") -> None:
        """Hold every matching request (all by default) unanswered until `release()`: a Hub
        that accepts connections and then says nothing. Held requests are answered
        normally once released, or after `HANG_LIMIT` seconds."""
        with self._lock:
            self._hang_paths = path_contains
            self._released.clear()

    def release(self) -> None:
        with self._lock:
            self._hang_paths = None
            self._released.set()

    def _hold_if_hanging(self, raw_path: str) -> None:
        with self._lock:
            hanging = self._hang_paths is not None and self._hang_paths in raw_path
        if hanging:
            self._released.wait(HANG_LIMIT)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._failure_rate = 0.0

    def _take_fault(self, raw_path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path_contains is None or fault.path_contains in raw_path:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
            if self._failure_rate and self._failure_rng.random() < self._failure_rate:
                return _Fault(self._failure_rng.choice(self._failure_kinds), 1, None, 1)
        return None

    # -- request log --------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.request_headers.clear()

    def _record(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query))
            self.request_headers.append(headers)

    # -- rate limit ---------------------------------------------------------------------

    def _rate_limit_headers(self) -> tuple[dict[str, str], bool]:
        """Count this request in the fixed window; say whether it is over the quota."""
        with self._lock:
            elapsed = self._clock() - self._window_start
            if elapsed >= self.rate_limit_window:
                self._window_start = self._clock()
                self._window_used = 0
                elapsed = 0.0
            self._window_used += 1
            remaining = max(0, self.rate_limit_quota - self._window_used)
            reset = max(1, math.ceil(self.rate_limit_window - elapsed))
            over = self._window_used > self.rate_limit_quota
        headers = {
            "RateLimit": f'"api";r={remaining};t={reset}',
            "RateLimit-Policy": (
                f'"fixed window";"api";q={self.rate_limit_quota};w={self.rate_limit_window}'
            ),
        }
        return headers, over and self.enforce_rate_limit

    # -- routing ------------------------------------------------------------------------

    def _route(self, path: str, pairs: list[tuple[str, str]]) -> _Reply:
        if path.rstrip("/") == "/api/models":
            return self._list(pairs)
        prefix = "/api/models/"
        if path.startswith(prefix):
            parts = [unquote(part) for part in path[len(prefix) :].split("/")]
            if len(parts) == 2 and all(parts):
                return self._detail("/".join(parts), pairs)
        return _Reply(404, {"error": "Sorry, we can't find the page you are looking for."}, {})

    def _list(self, pairs: list[tuple[str, str]]) -> _Reply:
        query: dict[str, list[str]] = {}
        for key, value in pairs:
            query.setdefault(key, []).append(value)
        expands = query.get("expand", []) + query.get("expand[]", [])
        problem = _expand_problem(expands, allowed=EXPANDABLE - DETAIL_ONLY_EXPANDS)
        if problem:
            return _Reply(400, {"error": problem}, {})
        sort = query.get("sort", [None])[-1]
        if sort is not None and sort not in SORTABLE:
            return _Reply(400, {"error": f'"sort" must be one of {sorted(SORTABLE)}'}, {})
        try:
            limit = int(query.get("limit", [str(MAX_LIMIT)])[-1])
            offset = _decode_cursor(query["cursor"][-1]) if "cursor" in query else 0
        except ValueError as exc:
            return _Reply(400, {"error": str(exc)}, {})
        if limit < 1:
            return _Reply(400, {"error": '"limit" must be a positive integer'}, {})
        limit = min(limit, MAX_LIMIT)

        with self._lock:  # copy only the page: tests poll dozens of labs a cycle
            matching = [
                m for m in self.models.values() if self._is_public(m) and _matches(m, query)
            ]
            if sort is not None:
                matching.sort(key=lambda m: m.get("id", ""))
                matching.sort(key=lambda m: _sort_value(m.get(sort)), reverse=True)
            page = [copy.deepcopy(m) for m in matching[offset : offset + limit]]
            lookup = {m["id"]: m for m in self.models.values()}
        headers: dict[str, str] = {}
        if offset + limit < len(matching):
            kept = [(k, v) for k, v in pairs if k != "cursor"]
            kept.append(("cursor", _encode_cursor(offset + limit)))
            headers["Link"] = f'<{self.url}/api/models?{urlencode(kept)}>; rel="next"'
        items = [_project(m, expands, DEFAULT_LIST_FIELDS, lookup) for m in page]
        return _Reply(200, items, headers)

    def _detail(self, repo_id: str, pairs: list[tuple[str, str]]) -> _Reply:
        expands = [v for k, v in pairs if k in ("expand", "expand[]")]
        problem = _expand_problem(expands, allowed=EXPANDABLE)
        if problem:
            return _Reply(400, {"error": problem}, {})
        with self._lock:
            record = self.get(repo_id)
            record = copy.deepcopy(record) if record is not None else None
            lookup = {m["id"]: m for m in self.models.values()}
            moved_to = self.moved.get(repo_id.lower()) if record is None else None
        if moved_to is not None:
            query = f"?{urlencode(pairs)}" if pairs else ""
            return _Reply(307, {"error": "moved"}, {"Location": f"/api/models/{moved_to}{query}"})
        if record is None or not self._is_public(record):
            return _Reply(401, {"error": "Repository Not Found"}, {"X-Error-Code": "RepoNotFound"})
        if expands:
            return _Reply(200, _project(record, expands, (), lookup), {})
        return _Reply(
            200, {k: v for k, v in record.items() if k not in EXPAND_ONLY_DETAIL_FIELDS}, {}
        )


def _expand_problem(expands: list[str], *, allowed: frozenset[str]) -> str | None:
    for value in expands:
        if value not in allowed:
            return f'"expand" must be one of {json.dumps(sorted(allowed))}, got "{value}"'
    return None


def _matches(model: dict[str, Any], query: dict[str, list[str]]) -> bool:
    repo_id = str(model.get("id", ""))
    author = query.get("author", [None])[-1]
    if author is not None and repo_id.split("/", 1)[0].lower() != author.lower():
        return False
    search = query.get("search", [None])[-1]
    if search is not None and search.lower() not in repo_id.lower():
        return False
    tags = model.get("tags") if isinstance(model.get("tags"), list) else []
    if any(tag not in tags for tag in query.get("filter", [])):
        return False
    pipeline = query.get("pipeline_tag", [None])[-1]
    return pipeline is None or model.get("pipeline_tag") == pipeline


def _sort_value(value: Any) -> tuple[int, Any]:
    """Missing values sort last when descending; numbers and ISO strings compare within kind."""
    if isinstance(value, bool) or value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))


def _encode_cursor(offset: int) -> str:
    raw = json.dumps({"$skip": offset, "v": 1}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))["$skip"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("Invalid cursor") from exc
    if not isinstance(offset, int) or offset < 0:
        raise ValueError("Invalid cursor")
    return offset


def _lineage(record: dict[str, Any]) -> dict[str, Any] | None:
    """`baseModels` as the Hub computes it from `base_model:<relation>:<id>` tags."""
    if "baseModels" in record:
        return record["baseModels"]
    relation = None
    bases: list[str] = []
    for tag in record.get("tags") or []:
        parts = tag.split(":", 2) if isinstance(tag, str) else []
        if len(parts) == 3 and parts[0] == "base_model" and parts[1] in RELATIONS:
            relation = relation or parts[1]
            if parts[2] not in bases:
                bases.append(parts[2])
    if not bases:
        return None
    return {"relation": relation, "models": [{"_id": _fake_oid(b), "id": b} for b in bases]}


def _children_counts(record: dict[str, Any], lookup: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Derivative counts from the public repos whose tags name this one as their base."""
    if "childrenModelCount" in record:
        return record["childrenModelCount"]
    counts: dict[str, int] = {}
    wanted = {f"base_model:{relation}:{record['id']}": relation for relation in RELATIONS}
    for other in lookup.values():
        if other.get("private"):
            continue
        for tag in other.get("tags") or []:
            relation = wanted.get(tag) if isinstance(tag, str) else None
            if relation:
                counts[relation] = counts.get(relation, 0) + 1
    return counts


def _project(
    record: dict[str, Any],
    expands: list[str],
    default_fields: Sequence[str],
    lookup: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    if not expands:
        return {key: record[key] for key in default_fields if key in record}
    item: dict[str, Any] = {"_id": record.get("_id"), "id": record.get("id")}
    for field in expands:
        if field == "baseModels":
            lineage = _lineage(record)
            if lineage is not None:
                item[field] = lineage
        elif field == "childrenModelCount":
            item[field] = _children_counts(record, lookup)
        elif field == "downloadsAllTime":
            item[field] = record.get("downloadsAllTime", record.get("downloads", 0))
        elif field in record:
            item[field] = record[field]
    return item


def _fake_oid(repo_id: str) -> str:
    return hashlib.sha1(repo_id.encode()).hexdigest()[:24]


def _corrupt(payload: Any) -> Any:
    """Hub-shaped data with the wrong types in it, as a buggy proxy or a schema change might."""

    def spoil(item: Any) -> Any:
        if isinstance(item, dict):
            item.update(
                downloads="lots",
                likes="many",
                tags=5,
                createdAt=12345,
                cardData="n/a",
                safetensors=[1, 2],
                gated="sometimes",
                trendingScore="hot",
            )
        return item

    if isinstance(payload, list):
        if payload:
            spoil(payload[0])
        return [*payload, "not-an-object", {"likes": 3}, {"id": 42}]
    return spoil(payload)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 15  # idle keep-alive connections give their thread back eventually
    server_version = "HubStandIn/1.0"
    disable_nagle_algorithm = True  # headers and body are separate writes; no 40 ms stalls

    @property
    def standin(self) -> HubStandIn:
        return self.server.standin  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `standin.requests` instead of stderr."""

    def _webhook_api(self, method: str) -> None:
        """The management API (`/api/settings/webhooks…`), served by `HubWebhooks`."""
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        self.standin._record(method, split.path, parse_qs(split.query), headers)
        if split.path.startswith("/api/settings/webhooks"):
            status, payload = self.standin.webhooks.handle(method, split.path, headers, body)
        else:
            status, payload = 404, {"error": "Sorry, we can't find the page you are looking for."}
        self._send(status, payload, {})

    def do_POST(self) -> None:
        self._webhook_api("POST")

    def do_PUT(self) -> None:
        self._webhook_api("PUT")

    def do_DELETE(self) -> None:
        self._webhook_api("DELETE")

    def handle(self) -> None:
        # A client that drops a kept-alive connection (a killed bot) is not a stand-in error.
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            self.close_connection = True

    def do_GET(self) -> None:
        if self.path.startswith("/api/settings/webhooks"):
            self._webhook_api("GET")
            return
        standin = self.standin
        split = urlsplit(self.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        standin._record(
            "GET",
            split.path,
            parse_qs(split.query, keep_blank_values=True),
            {k: v for k, v in self.headers.items()},
        )
        standin._hold_if_hanging(self.path)
        if standin.latency:
            time.sleep(standin.latency)
        rate_headers, over_quota = standin._rate_limit_headers()
        fault = standin._take_fault(self.path)
        if fault is not None and self._apply_connection_fault(fault):
            return
        if fault is not None and fault.kind in ("500", "503", "429", "429-ratelimit-header"):
            self._send_status_fault(fault, rate_headers)
            return
        if over_quota:
            reset = rate_headers["RateLimit"].rsplit("t=", 1)[1]
            rate_headers["RateLimit"] = f'"api";r=0;t={reset}'
            self._send(429, {"error": "Too Many Requests"}, {**rate_headers, "Retry-After": reset})
            return
        try:
            reply = standin._route(split.path, pairs)
        except Exception as exc:  # a stand-in bug should show up as a 500, not a hang
            reply = _Reply(500, {"error": f"stand-in error: {type(exc).__name__}: {exc}"}, {})
        headers = {**rate_headers, **reply.headers}
        if fault is not None and reply.status == 200:
            if fault.kind == "malformed":
                self._send_raw(200, b"<html><body>502 Bad Gateway</body></html>", headers)
                return
            if fault.kind == "truncated":
                body = json.dumps(reply.payload).encode()
                self._send_raw(200, body[: max(1, len(body) // 2)], headers)
                return
            if fault.kind == "wrong-type":
                reply.payload = _corrupt(reply.payload)
        self._send(reply.status, reply.payload, headers)

    def _apply_connection_fault(self, fault: _Fault) -> bool:
        if fault.kind == "timeout":
            time.sleep(self.standin.timeout_sleep)
            self.close_connection = True
            return True
        if fault.kind == "reset":
            # SO_LINGER 0 makes close() send a TCP RST instead of a polite FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return True
        return False

    def _send_status_fault(self, fault: _Fault, rate_headers: dict[str, str]) -> None:
        if fault.kind in ("500", "503"):
            message = "Internal Error" if fault.kind == "500" else "Service Unavailable"
            self._send(int(fault.kind), {"error": message}, rate_headers)
            return
        headers = {**rate_headers, "RateLimit": f'"api";r=0;t={fault.retry_after}'}
        if fault.kind == "429":
            headers["Retry-After"] = str(fault.retry_after)
        self._send(429, {"error": "Too Many Requests"}, headers)

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        self._send_raw(status, json.dumps(payload).encode(), headers)

    def _send_raw(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


# For subclasses outside this module (the benchmarks' cached Hub): a reply and the
# listing's sort order, as the stand-in itself uses them.
Reply = _Reply
sort_value = _sort_value
