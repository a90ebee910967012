"""A Slack Web API stand-in: a real HTTP server on 127.0.0.1 that the real `WebClient` talks to.

It keeps channels, messages, uploads and `response_url` posts in memory, rejects what Slack
would reject (bad blocks, bad token, unusable channels), and can be told to fail on purpose
(HTTP 429/5xx, Slack error codes, dropped connections). Everything the bot does is recorded
so tests assert on what users would see in Slack.

    with SlackStandIn() as slack:
        client = WebClient(token=slack.token, base_url=slack.url)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.messages("C1")[0]["text"] == "hi"
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tests.doubles.slack_workspaces import SlackWorkspaces, WorkspaceError

# ---------------------------------------------------------------------------------------------
# Block Kit validation (shared with the renderer tests)
# ---------------------------------------------------------------------------------------------

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_TEXT_OBJECT = 3000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ID = 255
MAX_MARKDOWN_BLOCK = 12_000
MAX_ALT_TEXT = 2000
# Table block (docs.slack.dev/reference/block-kit/blocks/table-block): at most 100 rows of
# at most 20 cells, 20 column settings; one table per message, sent in `attachments`; all
# cells together at most 10,000 characters; a cell's text may not be empty.
MAX_TABLE_ROWS = 100
MAX_TABLE_CELLS = 20
MAX_TABLE_CHARACTERS = 10_000

_BROADCAST_MENTION = re.compile(r"<!(channel|here|everyone|subteam\^[^>|]*)(\|[^>]*)?>")


def _parse_json_field(value: Any) -> Any:
    """Form-encoded calls carry blocks/metadata/views as JSON strings; JSON calls as objects."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _check_text_object(
    obj: Any, where: str, *, limit: int, plain_only: bool = False
) -> list[tuple[str, str]]:
    if not isinstance(obj, dict):
        return [("invalid_blocks", f"{where}: must be a text object")]
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        return [("invalid_blocks", f"{where}.type: must be one of {allowed}, got {kind!r}")]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [("invalid_blocks", f"{where}.text: must be a non-empty string")]
    if len(text) > limit:
        return [
            ("invalid_blocks", f"{where}.text: must be <= {limit} characters (got {len(text)})")
        ]
    return []


def _check_id(value: Any, where: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, str) or not value:
        return [("invalid_blocks", f"{where}: must be a non-empty string")]
    if len(value) > MAX_ID:
        return [("invalid_blocks", f"{where}: must be <= {MAX_ID} characters (got {len(value)})")]
    return []


def _check_element(element: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(element, dict) or "type" not in element:
        return [("invalid_blocks", f"{where}: must be an element object")]
    problems = _check_id(element.get("action_id"), f"{where}.action_id")
    if element["type"] == "button":
        problems += _check_text_object(
            element.get("text"), f"{where}.text", limit=MAX_BUTTON_TEXT, plain_only=True
        )
        value = element.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE):
            problems.append(("invalid_blocks", f"{where}.value: must be <= {MAX_BUTTON_VALUE}"))
        url = element.get("url")
        if url is not None and (not isinstance(url, str) or not url or len(url) > MAX_URL):
            problems.append(("invalid_blocks", f"{where}.url: must be 1..{MAX_URL} characters"))
        if element.get("style") not in (None, "primary", "danger"):
            problems.append(("invalid_blocks", f"{where}.style: must be primary or danger"))
    elif element["type"] == "image":
        if not element.get("image_url") and not element.get("slack_file"):
            problems.append(("invalid_blocks", f"{where}.image_url: required"))
        alt = element.get("alt_text")
        if not isinstance(alt, str) or not alt or len(alt) > MAX_ALT_TEXT:
            problems.append(("invalid_blocks", f"{where}.alt_text: must be 1..{MAX_ALT_TEXT}"))
    return problems


def _check_block(block: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(block, dict):
        return [("invalid_blocks", f"{where}: must be an object")]
    kind = block.get("type")
    problems = _check_id(block.get("block_id"), f"{where}.block_id")
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            problems.append(("invalid_blocks", f"{where}: needs text or fields"))
        if text is not None:
            problems += _check_text_object(text, f"{where}.text", limit=MAX_SECTION_TEXT)
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
                count = len(fields) if isinstance(fields, list) else "?"
                problems.append(
                    ("invalid_blocks", f"{where}.fields: at most {MAX_FIELDS} (got {count})")
                )
            else:
                for index, item in enumerate(fields):
                    problems += _check_text_object(
                        item, f"{where}.fields[{index}]", limit=MAX_FIELD_TEXT
                    )
        if block.get("accessory") is not None:
            problems += _check_element(block["accessory"], f"{where}.accessory")
    elif kind == "header":
        problems += _check_text_object(
            block.get("text"), f"{where}.text", limit=MAX_HEADER_TEXT, plain_only=True
        )
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
            count = len(elements) if isinstance(elements, list) else "?"
            problems.append(
                ("invalid_blocks", f"{where}.elements: 1..{MAX_CONTEXT_ELEMENTS} (got {count})")
            )
        else:
            for index, element in enumerate(elements):
                item_where = f"{where}.elements[{index}]"
                if isinstance(element, dict) and element.get("type") == "image":
                    problems += _check_element(element, item_where)
                else:
                    problems += _check_text_object(element, item_where, limit=MAX_TEXT_OBJECT)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_ACTIONS_ELEMENTS:
            count = len(elements) if isinstance(elements, list) else "?"
            problems.append(
                ("invalid_blocks", f"{where}.elements: 1..{MAX_ACTIONS_ELEMENTS} (got {count})")
            )
        else:
            seen: set[str] = set()
            for index, element in enumerate(elements):
                problems += _check_element(element, f"{where}.elements[{index}]")
                action_id = element.get("action_id") if isinstance(element, dict) else None
                if action_id is not None:
                    if action_id in seen:
                        problems.append(
                            ("invalid_blocks", f"{where}: duplicate action_id {action_id!r}")
                        )
                    seen.add(action_id)
    elif kind == "image":
        problems += _check_element(block, where)
    elif kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not text or len(text) > MAX_MARKDOWN_BLOCK:
            problems.append(("invalid_blocks", f"{where}.text: must be 1..{MAX_MARKDOWN_BLOCK}"))
    elif kind == "table":
        problems += _check_table(block, where)
    elif kind in ("divider", "rich_text", "input", "file", "video"):
        pass
    else:
        problems.append(("invalid_blocks", f"{where}.type: unsupported block type {kind!r}"))
    return problems


def _check_table(block: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    rows = block.get("rows")
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_TABLE_ROWS:
        return [("invalid_blocks", f"{where}.rows: 1..{MAX_TABLE_ROWS} rows")]
    problems: list[tuple[str, str]] = []
    characters = 0
    for r, row in enumerate(rows):
        if not isinstance(row, list) or not 1 <= len(row) <= MAX_TABLE_CELLS:
            problems.append(("invalid_blocks", f"{where}.rows[{r}]: 1..{MAX_TABLE_CELLS} cells"))
            continue
        for c, cell in enumerate(row):
            kind = cell.get("type") if isinstance(cell, dict) else None
            if kind == "raw_text":
                text = cell.get("text")
                if not isinstance(text, str) or not text:
                    problems.append(
                        ("invalid_blocks", f"{where}.rows[{r}][{c}].text: must not be empty")
                    )
                    continue
                characters += len(text)
            elif kind != "rich_text":
                problems.append(
                    ("invalid_blocks", f"{where}.rows[{r}][{c}]: raw_text or rich_text cell")
                )
    if characters > MAX_TABLE_CHARACTERS:
        problems.append(
            ("invalid_blocks", f"{where}: {characters} > {MAX_TABLE_CHARACTERS} characters")
        )
    settings = block.get("column_settings")
    if settings is not None:
        if not isinstance(settings, list) or len(settings) > MAX_TABLE_CELLS:
            problems.append(("invalid_blocks", f"{where}.column_settings: at most 20"))
        else:
            for index, setting in enumerate(settings):
                align = setting.get("align") if isinstance(setting, dict) else "?"
                if align not in (None, "left", "center", "right"):
                    problems.append(
                        ("invalid_blocks", f"{where}.column_settings[{index}].align: {align!r}")
                    )
    return problems


def _count_tables(blocks: Any) -> int:
    if not isinstance(blocks, list):
        return 0
    return sum(1 for block in blocks if isinstance(block, dict) and block.get("type") == "table")


def _check_blocks(blocks: Any, *, max_blocks: int) -> list[tuple[str, str]]:
    if not isinstance(blocks, list):
        return [("invalid_blocks", "blocks: must be an array")]
    problems: list[tuple[str, str]] = []
    if len(blocks) > max_blocks:
        problems.append(("invalid_blocks", f"blocks: at most {max_blocks} (got {len(blocks)})"))
    seen_ids: set[str] = set()
    for index, block in enumerate(blocks):
        problems += _check_block(block, f"blocks[{index}]")
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            if block_id in seen_ids:
                problems.append(("invalid_blocks", f"blocks[{index}]: duplicate block_id"))
            seen_ids.add(block_id)
    return problems


def _message_problems(payload: Mapping[str, Any], *, max_blocks: int) -> list[tuple[str, str]]:
    blocks = _parse_json_field(payload.get("blocks"))
    text = payload.get("text")
    has_blocks = blocks not in (None, "", [])
    problems: list[tuple[str, str]] = []
    if not isinstance(text, str) or not text.strip():
        detail = "blocks sent without a text fallback" if has_blocks else "no text or blocks"
        problems.append(("no_text", detail))
    elif len(text) > MAX_MESSAGE_TEXT:
        problems.append(("msg_too_long", f"text: {len(text)} > {MAX_MESSAGE_TEXT} characters"))
    if has_blocks:
        problems += _check_blocks(blocks, max_blocks=max_blocks)
    attachments = _parse_json_field(payload.get("attachments"))
    tables = _count_tables(blocks)
    if attachments not in (None, "", []):
        if not isinstance(attachments, list):
            problems.append(("invalid_attachments", "attachments: must be an array"))
        else:
            for index, attachment in enumerate(attachments):
                inner = attachment.get("blocks") if isinstance(attachment, dict) else None
                if inner is not None:
                    problems += [
                        ("invalid_attachments", f"attachments[{index}].{detail}")
                        for _, detail in _check_blocks(inner, max_blocks=max_blocks)
                    ]
                    tables += _count_tables(inner)
    if tables > 1:
        problems.append(("invalid_attachments", f"only one table per message (got {tables})"))
    return problems


def validate_message(
    payload: Mapping[str, Any], *, max_blocks: int = MAX_MESSAGE_BLOCKS
) -> list[str]:
    """Every way `payload` ({"text", "blocks"}) breaks Slack's message rules; [] when valid."""
    return [
        f"{code}: {detail}" for code, detail in _message_problems(payload, max_blocks=max_blocks)
    ]


def validate_view(view: Mapping[str, Any]) -> list[str]:
    """Every way a Home or modal view breaks Slack's rules; [] when valid."""
    problems: list[str] = []
    if view.get("type") not in ("home", "modal"):
        problems.append(f"type: must be home or modal, got {view.get('type')!r}")
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        problems.append("blocks: at least one block is required")
    else:
        problems += [detail for _, detail in _check_blocks(blocks, max_blocks=MAX_VIEW_BLOCKS)]
    return problems


def _shown_texts(value: Any) -> Iterable[str]:
    """Strings a reader sees (every `text`), not button values or ids that are never shown."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from _shown_texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _shown_texts(item)


def find_broadcast_mentions(payload: Any) -> list[str]:
    """`<!channel>`, `<!here>`, `<!everyone>` or group mentions in any text of a payload."""
    found: list[str] = []
    for text in _shown_texts(payload):
        found += [match.group(0) for match in _BROADCAST_MENTION.finditer(text)]
    return found


# ---------------------------------------------------------------------------------------------
# The stand-in server
# ---------------------------------------------------------------------------------------------


LOST_REPLY = "lost-reply"


@dataclass(frozen=True)
class Violation:
    """A request Slack would have refused (or a broadcast ping it would have delivered)."""

    method: str
    error: str
    details: tuple[str, ...] = ()


@dataclass
class _Fault:
    kind: str
    method: str | None
    remaining: int


@dataclass
class _FailureRate:
    rate: float
    kinds: tuple[str, ...]
    method: str | None
    rng: random.Random


@dataclass
class _Reply:
    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False


class _SlackError(Exception):
    def __init__(self, error: str, details: Iterable[str] = ()) -> None:
        super().__init__(error)
        self.error = error
        self.details = tuple(details)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            params[str(name)] = payload
        else:
            params[str(name)] = payload.decode("utf-8", "replace")
    return params


class SlackStandIn:
    """In-memory Slack Web API on a local port; see the module docstring for the shape."""

    def __init__(
        self,
        *,
        token: str = "xoxb-radar-test",
        app_token: str = "xapp-1-A1-radar-test",
        retry_after: int = 1,
        latency: float = 0.0,
        missing_channels: Iterable[str] = (),
        not_member: Iterable[str] = (),
        private_channels: Iterable[str] = (),
        archived_channels: Iterable[str] = (),
        user_timezones: Mapping[str, str] | None = None,
        default_timezone: str = "UTC",
        response_url_max_uses: int = 5,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.socket_url: str | None = None  # what apps.connections.open hands out
        self.retry_after = retry_after
        # Slack's limits are per method and workspace: with this on, a call to a method
        # that got a 429 before its Retry-After passed is a violation (any channel). A call
        # arriving within `in_flight_grace` of the 429 was already on its way and is allowed.
        self.enforce_retry_after = False
        self.in_flight_grace = 0.1
        self._limited_until: dict[str, tuple[float, float]] = {}
        self.latency = latency
        self.missing_channels: set[str] = set(missing_channels)
        self.not_member: set[str] = set(not_member)
        self.private_channels: set[str] = set(private_channels)
        self.archived_channels: set[str] = set(archived_channels)
        self.missing_users: set[str] = set()
        self.user_timezones: dict[str, str] = dict(user_timezones or {})
        self.default_timezone = default_timezone
        self.response_url_max_uses = response_url_max_uses
        self.team_id = "T1"
        self.bot_user_id = "UBOTRADAR"
        self.bot_id = "BRADAR"
        # Several workspaces and OAuth (tests/doubles/slack_workspaces.py); `_team` is the
        # workspace of the call being handled (None: the single `token`).
        self.workspaces = SlackWorkspaces()
        self._team: str | None = None
        self._clock = clock
        self._wall_clock = wall_clock
        self._condition = threading.Condition(threading.RLock())
        self._faults: list[_Fault] = []
        self._failure_rate: _FailureRate | None = None
        self._file_ids = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._reset_records()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SlackStandIn:
        if self._server is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"stand_in": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        if self._server is None:
            raise RuntimeError("SlackStandIn is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """Base URL for `WebClient(base_url=...)`, with the trailing slash it expects."""
        return f"{self.root}/api/"

    def response_url_for(self, name: str) -> str:
        """A `response_url` that records whatever JSON is posted to it under `name`."""
        return f"{self.root}/response/{name}"

    # -- fault injection ---------------------------------------------------------------------

    def inject(self, kind: str, method: str | None = None, times: int = 1) -> None:
        """Fail the next `times` calls (of `method`, or any method) with `kind`.

        Kinds: "429", "500", "503", "ratelimited", "disconnect", "lost-reply" (the call is
        carried out, then the connection drops before the reply: the caller cannot know
        whether it worked), or any Slack error code.
        """
        with self._condition:
            self._faults.append(_Fault(kind=kind, method=method, remaining=times))

    def clear_faults(self) -> None:
        """Forget every injected fault not used up yet (Slack is healthy again)."""
        with self._condition:
            self._faults.clear()

    def set_failure_rate(
        self,
        rate: float,
        kinds: Iterable[str] = ("429",),
        seed: int = 0,
        method: str | None = "chat.postMessage",
    ) -> None:
        """Fail a seeded random share of calls; `rate=0` turns it off."""
        with self._condition:
            if rate <= 0:
                self._failure_rate = None
            else:
                self._failure_rate = _FailureRate(
                    rate=rate, kinds=tuple(kinds), method=method, rng=random.Random(seed)
                )

    def _take_fault(self, method: str) -> str | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.method in (None, method):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault.kind
        chance = self._failure_rate
        applies = chance is not None and chance.method in (None, method)
        if applies and chance.rng.random() < chance.rate:
            return chance.rng.choice(chance.kinds)
        return None

    def _fault_reply(self, kind: str) -> _Reply:
        if kind == "429":
            return _Reply(
                status=429,
                body={"ok": False, "error": "ratelimited"},
                headers={"Retry-After": str(self.retry_after)},
            )
        if kind == "500":
            return _Reply(status=500, body={"ok": False, "error": "fatal_error"})
        if kind == "503":
            return _Reply(status=503, body={"ok": False, "error": "service_unavailable"})
        if kind == "disconnect":
            return _Reply(drop_connection=True)
        return _Reply(body={"ok": False, "error": kind})

    # -- recorded state ------------------------------------------------------------------------

    def _reset_records(self) -> None:
        with self._condition:
            self.calls: list[tuple[str, dict[str, Any]]] = []
            self.outcomes: list[tuple[str, str | None]] = []
            self.violations: list[Violation] = []
            self._messages: list[dict[str, Any]] = []
            self._ephemerals: list[dict[str, Any]] = []
            self._responses: list[tuple[str, dict[str, Any]]] = []
            self._response_uses: dict[str, int] = {}
            self._pending_files: dict[str, dict[str, Any]] = {}
            self._uploads: list[dict[str, Any]] = []
            self._views: list[tuple[str, dict[str, Any]]] = []
            self._unfurls: list[dict[str, Any]] = []
            self._post_times: dict[str, list[float]] = {}
            self._last_ts: dict[str, int] = {}

    def reset(self) -> None:
        """Forget everything recorded (messages, calls, violations); faults are kept."""
        self._reset_records()

    def messages(self, channel: str | None = None, team: str | None = None) -> list[dict[str, Any]]:
        """Messages posted with chat.postMessage (as updated since), oldest first; `team`:
        only those posted with that workspace's token."""
        with self._condition:
            return [
                copy.deepcopy(message)
                for message in self._messages
                if (channel is None or message["channel"] == channel)
                and (team is None or message.get("team") == team)
            ]

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        with self._condition:
            return [
                copy.deepcopy(message)
                for message in self._ephemerals
                if channel is None or message["channel"] == channel
            ]

    def responses(self, name: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies posted to `response_url_for(name)` (or to any of them), in order."""
        with self._condition:
            return [
                copy.deepcopy(payload)
                for response_name, payload in self._responses
                if name is None or response_name == name
            ]

    @property
    def uploads(self) -> list[dict[str, Any]]:
        """Completed file uploads: file_id, filename, title, channel, data, initial_comment."""
        with self._condition:
            return copy.deepcopy(self._uploads)

    @property
    def unfurls(self) -> list[dict[str, Any]]:
        """Accepted chat.unfurl calls: `{"channel", "ts", "unfurl_id", "source", "unfurls"}`."""
        with self._condition:
            return copy.deepcopy(self._unfurls)

    def home_views(self, user_id: str | None = None) -> list[dict[str, Any]]:
        with self._condition:
            return [
                copy.deepcopy(view)
                for view_user, view in self._views
                if user_id is None or view_user == user_id
            ]

    def post_times(self, channel: str) -> list[float]:
        """Clock readings of each accepted chat.postMessage to `channel` (for pacing checks)."""
        with self._condition:
            return list(self._post_times.get(channel, []))

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._condition:
            return [copy.deepcopy(params) for name, params in self.calls if name == method]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy, re-checking after each request; falsy on timeout."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return result
                self._condition.wait(remaining)

    def _notify(self) -> None:
        with self._condition:
            self._condition.notify_all()

    # -- request handling ----------------------------------------------------------------------

    def _handle_api(self, method: str, params: dict[str, Any], auth_header: str | None) -> _Reply:
        if self.latency > 0:
            time.sleep(self.latency)
        with self._condition:
            self.calls.append((method, copy.deepcopy(params)))
            self._check_retry_after(method)
            fault = self._take_fault(method)
            if fault is not None and fault != LOST_REPLY:
                self.outcomes.append((method, f"injected:{fault}"))
                if fault == "429":
                    now = self._clock()
                    grace, limit = now + self.in_flight_grace, now + self.retry_after
                    self._limited_until[method] = (grace, limit)
                return self._fault_reply(fault)
            try:
                if method == "oauth.v2.access":  # client id and secret, no token
                    body = self._oauth(lambda: self.workspaces.oauth_v2_access(params, auth_header))
                else:
                    expected = self.app_token if method in _APP_TOKEN_METHODS else self.token
                    self._team = self._workspace_of(params, auth_header, method)
                    if self._team is None:  # not a workspace's token: the single one
                        self._check_token(params, auth_header, expected)
                    handler = _METHODS.get(method)
                    if handler is None:
                        raise _SlackError("unknown_method", [method])
                    body = handler(self, params)
            except _SlackError as error:
                self.violations.append(Violation(method, error.error, error.details))
                self.outcomes.append((method, error.error))
                reply_body: dict[str, Any] = {"ok": False, "error": error.error}
                if error.details:
                    reply_body["response_metadata"] = {"messages": list(error.details)}
                return _Reply(body=reply_body)
            if fault == LOST_REPLY:
                self.outcomes.append((method, f"injected:{fault}"))
                return _Reply(drop_connection=True)
            self.outcomes.append((method, None))
            return _Reply(body={"ok": True, **body})

    def _check_retry_after(self, method: str) -> None:
        """Record a call that came while its method was rate limited (see `enforce_retry_after`)."""
        window = self._limited_until.get(method)
        if not self.enforce_retry_after or window is None:
            return
        now = self._clock()
        grace_ends, limited_until = window
        if grace_ends < now < limited_until:
            self.violations.append(
                Violation(
                    method,
                    "ratelimited",
                    (f"called {limited_until - now:.2f} s before Retry-After had passed",),
                )
            )

    def _handle_response_url(self, name: str, payload: Any) -> _Reply:
        with self._condition:
            uses = self._response_uses.get(name, 0) + 1
            self._response_uses[name] = uses
            if uses > self.response_url_max_uses:
                self.violations.append(Violation(f"response_url:{name}", "used_url"))
                return _Reply(status=404, body="used_url")
            if not isinstance(payload, dict):
                self.violations.append(Violation(f"response_url:{name}", "invalid_payload"))
                return _Reply(status=400, body="invalid_payload")
            if not payload.get("delete_original"):
                problems = _message_problems(payload, max_blocks=MAX_MESSAGE_BLOCKS)
                if problems:
                    details = tuple(detail for _, detail in problems)
                    self.violations.append(
                        Violation(f"response_url:{name}", problems[0][0], details)
                    )
                    return _Reply(status=400, body=problems[0][0])
            self._record_broadcasts(f"response_url:{name}", payload)
            self._responses.append((name, copy.deepcopy(payload)))
            return _Reply(body="ok")

    def _handle_upload(self, file_id: str, data: bytes) -> _Reply:
        with self._condition:
            pending = self._pending_files.get(file_id)
            if pending is None:
                self.violations.append(Violation("upload", "file_not_found", (file_id,)))
                return _Reply(status=404, body="file_not_found")
            pending["data"] = data
            return _Reply(body=f"OK - {len(data)}")

    # -- helpers used by the method implementations -------------------------------------------

    def _check_token(
        self, params: Mapping[str, Any], auth_header: str | None, expected: str
    ) -> None:
        token = None
        if auth_header and auth_header.lower().startswith("bearer "):
            token = auth_header[7:].strip()
        token = token or params.get("token")
        if not token:
            raise _SlackError("not_authed")
        if token != expected:
            raise _SlackError("invalid_auth")

    def _workspace_of(
        self, params: Mapping[str, Any], auth_header: str | None, method: str
    ) -> str | None:
        """The team whose token (`self.workspaces`) the call carries; None for another."""
        token = None
        if auth_header and auth_header.lower().startswith("bearer "):
            token = auth_header[7:].strip()
        token = token or params.get("token")
        if not token:
            return None
        workspace = self._oauth(lambda: self.workspaces.resolve(token, method))
        return workspace.team_id if workspace is not None else None

    @staticmethod
    def _oauth(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except WorkspaceError as error:
            raise _SlackError(error.error) from None

    def _handle_authorize(self, query: str) -> _Reply:
        """Slack's authorize page (`SlackWorkspaces.authorize`): a redirect back to the app."""
        with self._condition:
            status, headers = self.workspaces.authorize(query)
            return _Reply(status=status, body="", headers=headers)

    def _channel(self, params: Mapping[str, Any], key: str = "channel") -> str:
        channel = params.get(key)
        if not channel or not isinstance(channel, str):
            raise _SlackError("channel_not_found", [f"{key} is required"])
        if channel in self.missing_channels:
            raise _SlackError("channel_not_found", [channel])
        return channel

    def _writable_channel(self, params: Mapping[str, Any], key: str = "channel") -> str:
        channel = self._channel(params, key)
        if channel in self.archived_channels:
            raise _SlackError("is_archived", [channel])
        if channel in self.not_member:
            raise _SlackError("not_in_channel", [channel])
        return channel

    def _validated_message(self, params: Mapping[str, Any]) -> dict[str, Any]:
        problems = _message_problems(params, max_blocks=MAX_MESSAGE_BLOCKS)
        if problems:
            raise _SlackError(problems[0][0], [detail for _, detail in problems])
        blocks = _parse_json_field(params.get("blocks"))
        metadata = _parse_json_field(params.get("metadata"))
        if metadata not in (None, ""):
            if (
                not isinstance(metadata, dict)
                or not isinstance(metadata.get("event_type"), str)
                or not isinstance(metadata.get("event_payload"), dict)
            ):
                raise _SlackError("invalid_metadata_format")
        else:
            metadata = None
        return {"text": params.get("text"), "blocks": blocks or None, "metadata": metadata}

    def _next_ts(self, channel: str) -> str:
        micros = int(self._wall_clock() * 1_000_000)
        micros = max(micros, self._last_ts.get(channel, 0) + 1)
        self._last_ts[channel] = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _find_message(self, channel: str, ts: Any) -> dict[str, Any]:
        for message in self._messages:
            if message["channel"] == channel and message["ts"] == ts:
                return message
        raise _SlackError("message_not_found", [f"{channel} {ts}"])

    def _record_broadcasts(self, method: str, payload: Any) -> None:
        mentions = find_broadcast_mentions(payload)
        if mentions:
            self.violations.append(Violation(method, "broadcast_mention", tuple(mentions)))

    def _public_message(self, message: Mapping[str, Any], *, with_metadata: bool) -> dict:
        shown = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "ts": message["ts"],
            "text": message["text"] or "",
        }
        if message["blocks"]:
            shown["blocks"] = copy.deepcopy(message["blocks"])
        if message["thread_ts"]:
            shown["thread_ts"] = message["thread_ts"]
        replies = [m for m in self._messages if m["thread_ts"] == message["ts"]]
        if replies and not message["thread_ts"]:
            shown["thread_ts"] = message["ts"]
            shown["reply_count"] = len(replies)
        if message["edited"]:
            shown["edited"] = {"user": self.bot_user_id, "ts": message["edited"]}
        if with_metadata and message["metadata"]:
            shown["metadata"] = copy.deepcopy(message["metadata"])
        return shown

    def _channel_info(self, channel: str) -> dict[str, Any]:
        return {
            "id": channel,
            "name": channel.lower(),
            "is_channel": channel not in self.private_channels,
            "is_group": channel in self.private_channels,
            "is_private": channel in self.private_channels,
            "is_archived": channel in self.archived_channels,
            "is_member": channel not in self.not_member,
        }

    # -- Web API methods -------------------------------------------------------------------------

    def _auth_test(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if self._team is not None:
            return self.workspaces.workspaces[self._team].auth_test()
        return {
            "url": "https://radar-test.slack.com/",
            "team": "Radar Test",
            "user": "radar",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Socket Mode's first step: a WebSocket URL, only for the app-level (xapp-) token."""
        if self.socket_url is None:
            raise _SlackError("internal_error", ["SlackStandIn.socket_url is not set"])
        return {"url": self.socket_url}

    def _bots_info(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"bot": {"id": self.bot_id, "user_id": self.bot_user_id, "name": "radar"}}

    def _chat_post_message(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._writable_channel(params)
        content = self._validated_message(params)
        thread_ts = params.get("thread_ts") or None
        if thread_ts is not None and not any(
            m["channel"] == channel and m["ts"] == thread_ts for m in self._messages
        ):
            raise _SlackError("thread_not_found", [f"{channel} {thread_ts}"])
        ts = self._next_ts(channel)
        message = {
            "channel": channel,
            "ts": ts,
            **content,
            "thread_ts": thread_ts,
            "reply_broadcast": _truthy(params.get("reply_broadcast", False)),
            "unfurl_links": params.get("unfurl_links"),
            "unfurl_media": params.get("unfurl_media"),
            "edited": None,
            "team": self._team or self.team_id,
        }
        self._messages.append(message)
        self._post_times.setdefault(channel, []).append(self._clock())
        self._record_broadcasts("chat.postMessage", content)
        return {
            "channel": channel,
            "ts": ts,
            "message": self._public_message(message, with_metadata=True),
        }

    def _chat_update(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._writable_channel(params)
        message = self._find_message(channel, params.get("ts"))
        content = self._validated_message(params)
        message["text"] = content["text"]
        if content["blocks"] is not None or "blocks" in params:
            message["blocks"] = content["blocks"]
        if content["metadata"] is not None:
            message["metadata"] = content["metadata"]
        message["edited"] = self._next_ts(f"{channel}:edits")
        self._record_broadcasts("chat.update", content)
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": self._public_message(message, with_metadata=True),
        }

    def _chat_delete(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        message = self._find_message(channel, params.get("ts"))
        self._messages.remove(message)
        return {"channel": channel, "ts": message["ts"]}

    def _chat_post_ephemeral(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._writable_channel(params)
        user = params.get("user")
        if not user:
            raise _SlackError("user_not_found", ["user is required"])
        content = self._validated_message(params)
        ts = self._next_ts(f"{channel}:ephemeral")
        self._ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "ts": ts,
                **content,
                "thread_ts": params.get("thread_ts"),
            }
        )
        self._record_broadcasts("chat.postEphemeral", content)
        return {"message_ts": ts}

    def _chat_unfurl(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Either channel + ts or unfurl_id + source; `unfurls` maps each URL to blocks."""
        by_message = bool(params.get("channel")) and bool(params.get("ts"))
        by_id = bool(params.get("unfurl_id")) and bool(params.get("source"))
        if not (by_message or by_id):
            raise _SlackError("invalid_arguments", ["channel and ts, or unfurl_id and source"])
        if by_id and params.get("source") not in ("composer", "conversations_history"):
            raise _SlackError("invalid_source", [str(params.get("source"))])
        unfurls = _parse_json_field(params.get("unfurls"))
        if not isinstance(unfurls, dict) or not unfurls:
            raise _SlackError("invalid_unfurls", ["unfurls must be a non-empty object"])
        for url, unfurl in unfurls.items():
            blocks = unfurl.get("blocks") if isinstance(unfurl, dict) else None
            if not isinstance(blocks, list) or not blocks:
                raise _SlackError("invalid_unfurls", [f"{url}: blocks are required"])
            problems = _check_blocks(blocks, max_blocks=MAX_MESSAGE_BLOCKS)
            if problems:
                raise _SlackError("invalid_blocks", [detail for _, detail in problems])
            self._record_broadcasts("chat.unfurl", unfurl)
        self._unfurls.append(
            {
                "channel": params.get("channel"),
                "ts": params.get("ts"),
                "unfurl_id": params.get("unfurl_id"),
                "source": params.get("source"),
                "unfurls": copy.deepcopy(unfurls),
            }
        )
        return {}

    def _conversations_join(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        if channel in self.private_channels:
            raise _SlackError("method_not_supported_for_channel_type", [channel])
        if channel in self.archived_channels:
            raise _SlackError("is_archived", [channel])
        self.not_member.discard(channel)
        return {"channel": self._channel_info(channel)}

    def _conversations_info(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"channel": self._channel_info(self._channel(params))}

    def _conversations_history(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        if channel in self.not_member and channel in self.private_channels:
            raise _SlackError("not_in_channel", [channel])
        with_metadata = _truthy(params.get("include_all_metadata", False))
        inclusive = _truthy(params.get("inclusive", False))
        oldest = float(params.get("oldest") or 0)
        latest = float(params["latest"]) if params.get("latest") else None
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        offset = int(str(params.get("cursor") or "0").removeprefix("offset:") or 0)

        def in_range(ts: str) -> bool:
            value = float(ts)
            above = value >= oldest if inclusive else value > oldest
            below = latest is None or (value <= latest if inclusive else value < latest)
            return above and below

        top_level = [
            m
            for m in self._messages
            if m["channel"] == channel
            and (m["thread_ts"] is None or m["reply_broadcast"])
            and in_range(m["ts"])
        ]
        newest_first = list(reversed(top_level))
        page = newest_first[offset : offset + limit]
        has_more = offset + limit < len(newest_first)
        return {
            "messages": [self._public_message(m, with_metadata=with_metadata) for m in page],
            "has_more": has_more,
            "response_metadata": {"next_cursor": f"offset:{offset + limit}" if has_more else ""},
        }

    def _conversations_replies(self, params: Mapping[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        parent = self._find_message(channel, params.get("ts"))
        with_metadata = _truthy(params.get("include_all_metadata", False))
        thread = [parent] + [
            m for m in self._messages if m["channel"] == channel and m["thread_ts"] == parent["ts"]
        ]
        return {
            "messages": [self._public_message(m, with_metadata=with_metadata) for m in thread],
            "has_more": False,
        }

    def _views_publish(self, params: Mapping[str, Any]) -> dict[str, Any]:
        user_id = params.get("user_id")
        if not user_id:
            raise _SlackError("invalid_arguments", ["user_id is required"])
        view = _parse_json_field(params.get("view"))
        if not isinstance(view, dict):
            raise _SlackError("invalid_arguments", ["view must be a JSON object"])
        problems = validate_view(view)
        if view.get("type") != "home":
            problems.insert(0, "views.publish only accepts home views")
        if problems:
            raise _SlackError("invalid_arguments", problems)
        self._record_broadcasts("views.publish", view)
        self._views.append((str(user_id), copy.deepcopy(view)))
        return {"view": {"id": f"V{next(self._view_ids):08d}", **copy.deepcopy(view)}}

    def _users_info(self, params: Mapping[str, Any]) -> dict[str, Any]:
        user_id = params.get("user")
        if not user_id or user_id in self.missing_users:
            raise _SlackError("user_not_found", [str(user_id)])
        tz_name = self.user_timezones.get(str(user_id), self.default_timezone)
        try:
            zone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        now = datetime.fromtimestamp(self._wall_clock(), zone)
        offset = now.utcoffset()
        return {
            "user": {
                "id": user_id,
                "team_id": self.team_id,
                "name": str(user_id).lower(),
                "real_name": f"User {user_id}",
                "is_bot": False,
                "deleted": False,
                "tz": tz_name,
                "tz_label": now.tzname() or tz_name,
                "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            }
        }

    def _files_get_upload_url(self, params: Mapping[str, Any]) -> dict[str, Any]:
        filename = params.get("filename")
        length = params.get("length")
        if not filename or length in (None, ""):
            raise _SlackError("invalid_arguments", ["filename and length are required"])
        file_id = f"F{next(self._file_ids):08d}"
        self._pending_files[file_id] = {
            "file_id": file_id,
            "filename": filename,
            "length": int(length),
            "alt_txt": params.get("alt_txt"),
            "data": None,
        }
        return {"upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: Mapping[str, Any]) -> dict[str, Any]:
        files = _parse_json_field(params.get("files"))
        if not isinstance(files, list) or not files:
            raise _SlackError("invalid_arguments", ["files must be a non-empty JSON array"])
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        if params.get("channel_id"):
            channels.insert(0, str(params["channel_id"]))
        for channel in channels:
            self._writable_channel({"channel": channel})
        completed = []
        for item in files:
            file_id = item.get("id") if isinstance(item, dict) else None
            pending = self._pending_files.get(str(file_id))
            if pending is None or pending["data"] is None:
                raise _SlackError("file_not_found", [str(file_id)])
            completed.append((item, pending))
        shown = []
        for item, pending in completed:
            del self._pending_files[pending["file_id"]]
            title = item.get("title") or pending["filename"]
            self._uploads.append(
                {
                    "file_id": pending["file_id"],
                    "filename": pending["filename"],
                    "title": title,
                    "channel": channels[0] if channels else None,
                    "channels": list(channels),
                    "data": pending["data"],
                    "initial_comment": params.get("initial_comment"),
                    "thread_ts": params.get("thread_ts"),
                }
            )
            shown.append({"id": pending["file_id"], "name": pending["filename"], "title": title})
        return {"files": shown}


_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

_METHODS: dict[str, Callable[[SlackStandIn, Mapping[str, Any]], dict[str, Any]]] = {
    "apps.connections.open": SlackStandIn._apps_connections_open,
    "auth.test": SlackStandIn._auth_test,
    "bots.info": SlackStandIn._bots_info,
    "chat.postMessage": SlackStandIn._chat_post_message,
    "chat.update": SlackStandIn._chat_update,
    "chat.delete": SlackStandIn._chat_delete,
    "chat.postEphemeral": SlackStandIn._chat_post_ephemeral,
    "chat.unfurl": SlackStandIn._chat_unfurl,
    "conversations.join": SlackStandIn._conversations_join,
    "conversations.info": SlackStandIn._conversations_info,
    "conversations.history": SlackStandIn._conversations_history,
    "conversations.replies": SlackStandIn._conversations_replies,
    "views.publish": SlackStandIn._views_publish,
    "users.info": SlackStandIn._users_info,
    "files.getUploadURLExternal": SlackStandIn._files_get_upload_url,
    "files.completeUploadExternal": SlackStandIn._files_complete_upload,
}


class _Handler(BaseHTTPRequestHandler):
    """Routes /api/<method>, /upload/<file id> and /response/<name> to the stand-in."""

    stand_in: SlackStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _params(self, body: bytes) -> dict[str, Any]:
        query = urlsplit(self.path).query
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        content_type = self.headers.get("Content-Type") or ""
        if not body:
            return params
        if content_type.startswith("application/json"):
            parsed = json.loads(body.decode("utf-8"))
            if isinstance(parsed, dict):
                params.update(parsed)
        elif content_type.startswith("multipart/form-data"):
            params.update(_parse_multipart(content_type, body))
        else:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return params

    def _send(self, reply: _Reply) -> None:
        if reply.drop_connection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return
        if isinstance(reply.body, str):
            payload, content_type = reply.body.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            payload = json.dumps(reply.body).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _dispatch(self) -> None:
        body = self._read_body()
        if len(body) < int(self.headers.get("Content-Length") or 0):
            # The client died mid-request (a `kill -9` during a post): like Slack, never act
            # on a request that did not fully arrive.
            self.close_connection = True
            return
        path = urlsplit(self.path).path
        stand_in = self.stand_in
        try:
            if path.startswith("/api/"):
                params = self._params(body)
                reply = stand_in._handle_api(
                    path.removeprefix("/api/"), params, self.headers.get("Authorization")
                )
            elif path.startswith("/response/"):
                try:
                    payload = json.loads(body.decode("utf-8") or "null")
                except (UnicodeDecodeError, json.JSONDecodeError):
                    payload = None
                reply = stand_in._handle_response_url(path.removeprefix("/response/"), payload)
            elif path.startswith("/upload/"):
                reply = stand_in._handle_upload(path.removeprefix("/upload/"), body)
            elif path == "/oauth/v2/authorize":
                reply = stand_in._handle_authorize(urlsplit(self.path).query)
            else:
                reply = _Reply(status=404, body="not_found")
            self._send(reply)
        finally:
            stand_in._notify()

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()
