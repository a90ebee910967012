"""What a request to `POST /slack/events` must be before Bolt sees it.

Bolt parses a body before it checks the signature, and a body it cannot parse (invalid
UTF-8, `payload=null`, `actions: []`) becomes a 500 and a traceback. Here the order is:
the signature headers (no body read yet), the HMAC over the raw bytes, and only then the
decoding and a check of the shape of every field Bolt and the listeners read. Each step
says why it refused, in a few words, so the front door can answer and log one line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import BoltContext, BoltRequest
from slack_bolt.request.internals import build_context

TOLERANCE = 5 * 60  # seconds either way: Slack's own rule
SIGNATURE = re.compile(r"^v0=[0-9a-f]{64}$")
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
# Payload types the bot has listeners for; any other is acknowledged and ignored.
HANDLED = frozenset({"command", "block_actions", "event_callback", "url_verification"})


class Malformed(Exception):
    """A signed body that is not a Slack request the bot can read; `str()` says why."""


def header_problem(signature: str, timestamp: str, now: float) -> str | None:
    """Why the signature headers alone rule the request out, or None. No body needed."""
    if not signature or not timestamp:
        return "unsigned"
    if not SIGNATURE.match(signature):
        return "malformed signature"
    if not TIMESTAMP.match(timestamp):
        return "malformed timestamp"
    if abs(now - int(timestamp)) > TOLERANCE:
        return "stale timestamp"
    return None


def signature_matches(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """Slack's v0 HMAC-SHA256 over `v0:{timestamp}:{body}`, compared in constant time."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def decode(body: bytes, content_type: str | None) -> tuple[str, dict[str, Any]]:
    """The body as text and as a payload, parsed as Bolt parses it; `Malformed` when it
    cannot be. The front door hands Bolt this payload (`bolt_request`), so Bolt never
    parses a body itself."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("body is not UTF-8") from None
    media = (content_type or "").split(";")[0]  # exactly as Bolt reads it
    try:
        if media == "application/json" or text.startswith("{"):
            parsed = json.loads(text)
        else:
            # Bolt reads any form that merely mentions "payload" (`/model payload`) as
            # empty; here only a `payload` field makes it an interactive payload.
            parsed = dict(parse_qsl(text, keep_blank_values=True))
            if "payload" in parsed:
                parsed = json.loads(parsed["payload"])
    except RecursionError:
        raise Malformed("JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and parse_qsl's own complaints
        raise Malformed(f"not valid JSON or form data ({type(exc).__name__})") from None
    if not isinstance(parsed, dict):
        raise Malformed(f"payload is a JSON {type(parsed).__name__}, not an object")
    return text, parsed


# Fields Bolt reads while building a request's context: each must be an object or an id.
_OBJECT_OR_ID = ("user", "team", "channel", "enterprise")
# Fields Bolt and the listeners only ever read as objects.
_OBJECTS = (
    "event",
    "view",
    "message",
    "container",
    "item",
    "previous_message",
    "assistant_thread",
    "function_data",
    "state",
)
_STRINGS = ("type", "response_url", "trigger_id", "callback_id", "api_app_id", "token")


def kind(payload: Mapping[str, Any]) -> str:
    """`command` for a slash command, else the payload's `type` ("" when it has none)."""
    if "command" in payload and "type" not in payload:
        return "command"
    value = payload.get("type")
    return value if isinstance(value, str) else ""


def shape_problem(payload: Mapping[str, Any]) -> str | None:
    """Why a parsed payload would break Bolt or a listener, or None when it is sound."""
    problem = _common_problem(payload)
    if problem is not None:
        return problem
    what = kind(payload)
    if what == "command":
        return _command_problem(payload)
    if what == "block_actions":
        return _actions_problem(payload.get("actions"))
    if what == "event_callback":
        event = payload.get("event")
        if not isinstance(event, dict):
            return "event is not an object"
        for name in ("type", "subtype", "tab"):
            if event.get(name) is not None and not isinstance(event[name], str):
                return f"event.{name} is not a string"
        return None if event.get("type") else "event has no type"
    if what in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("type"), str):
            return "view without a type"
        if not isinstance(view.get("callback_id", ""), str):
            return "view.callback_id is not a string"
        return None
    if what == "url_verification":
        return None if isinstance(payload.get("challenge"), str) else "challenge missing"
    if not what and "ssl_check" not in payload:
        return "neither a command nor a typed payload"
    return None


def _common_problem(payload: Mapping[str, Any]) -> str | None:
    for name in _OBJECT_OR_ID:
        value = payload.get(name)
        if value is not None and not isinstance(value, str | dict):
            return f"{name} is neither an object nor an id"
        if isinstance(value, dict) and not isinstance(value.get("id", ""), str | None):
            return f"{name}.id is not a string"
    for name in _OBJECTS:
        value = payload.get(name)
        if value is not None and not isinstance(value, dict):
            return f"{name} is not an object"
    for name in _STRINGS:
        value = payload.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name} is not a string"
    authorizations = payload.get("authorizations")
    if authorizations is not None and (
        not isinstance(authorizations, list)
        or not all(isinstance(item, dict) for item in authorizations)
    ):
        return "authorizations is not a list of objects"
    urls = payload.get("response_urls")
    if urls is not None and (
        not isinstance(urls, list) or not all(isinstance(item, dict) for item in urls)
    ):
        return "response_urls is not a list of objects"
    return None


def _command_problem(payload: Mapping[str, Any]) -> str | None:
    command = payload.get("command")
    if not isinstance(command, str) or not command.startswith("/"):
        return "command is not a /command"
    return None


def _actions_problem(actions: Any) -> str | None:
    if not isinstance(actions, list) or not actions:
        return "actions is not a non-empty list"
    for action in actions:
        if not isinstance(action, dict):
            return "an action is not an object"
        if not isinstance(action.get("action_id"), str):
            return "an action_id is not a string"
        for name in ("block_id", "value", "type"):
            if action.get(name) is not None and not isinstance(action[name], str):
                return f"an action's {name} is not a string"
    return None


def bolt_request(text: str, payload: dict[str, Any], query: str, headers: Any) -> BoltRequest:
    """A request for `App.dispatch` that carries the payload parsed and checked here.

    Given the raw text, Bolt would parse it a second time, with the quirk above. The raw
    text is kept as `raw_body`, so Bolt's own signature check still passes.
    """
    request = BoltRequest(body="", query=query, headers=headers)
    request.raw_body = text
    request.body = payload
    request.context = build_context(BoltContext({}), payload)
    return request
