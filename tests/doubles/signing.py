"""Requests shaped and signed exactly as Slack sends them, for driving the running app over HTTP.

The bodies carry every field Slack includes, so listeners are exercised with realistic
payloads, and `post_signed` lets a test forge a bad signature or a stale timestamp on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
LEGACY_VERIFICATION_TOKEN = "legacy-verification-token"

_sequence = itertools.count(1)


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The `X-Slack-Signature` value: v0 HMAC-SHA256 over `v0:{timestamp}:{body}`."""
    base = b"v0:" + str(timestamp).encode("ascii") + b":" + body
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def _trigger_id() -> str:
    return f"{next(_sequence)}.1.{int(time.time())}abcdef"


def slash_command_body(
    command: str,
    text: str,
    *,
    user_id: str,
    channel_id: str,
    response_url: str,
    team_id: str = "T1",
    team_domain: str = "radar-test",
    channel_name: str = "general",
    user_name: str = "alice",
    api_app_id: str = "A1",
    trigger_id: str | None = None,
    enterprise_id: str | None = None,
) -> bytes:
    """A form-encoded slash-command request body with all the fields Slack sends."""
    fields = {
        "token": LEGACY_VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }
    if enterprise_id is not None:
        fields["enterprise_id"] = enterprise_id
        fields["enterprise_name"] = "Radar Enterprise"
    return urlencode(fields).encode("utf-8")


def action_body(
    action_id: str,
    value: str,
    *,
    user_id: str,
    channel_id: str,
    response_url: str,
    message_ts: str | None = None,
    block_id: str = "actions",
    button_text: str = "Button",
    is_ephemeral: bool = False,
    message: Mapping[str, Any] | None = None,
    team_id: str = "T1",
    api_app_id: str = "A1",
    trigger_id: str | None = None,
) -> bytes:
    """A `payload=<json>` block_actions body, as sent when a user clicks a button."""
    now = time.time()
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": "alice", "name": "alice", "team_id": team_id},
        "api_app_id": api_app_id,
        "token": LEGACY_VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts or f"{now:.6f}",
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": team_id, "domain": "radar-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "general"},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": f"{now:.6f}",
            }
        ],
    }
    if not is_ephemeral:
        shown = dict(message) if message is not None else {"type": "message", "text": ""}
        shown.setdefault("ts", payload["container"]["message_ts"])
        payload["message"] = shown
    return urlencode({"payload": json.dumps(payload)}).encode("utf-8")


def event_body(
    event: Mapping[str, Any],
    *,
    team_id: str = "T1",
    api_app_id: str = "A1",
    event_id: str | None = None,
    event_time: int | None = None,
) -> bytes:
    """An Events API `event_callback` JSON body wrapping `event`."""
    body = {
        "token": LEGACY_VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_sequence):010d}",
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": "UBOTRADAR",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(body).encode("utf-8")


def url_verification_body(challenge: str) -> bytes:
    """The handshake Slack sends when the request URL is first configured."""
    body = {"token": LEGACY_VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    return json.dumps(body).encode("utf-8")


def post_signed(
    url: str,
    body: bytes,
    secret: str,
    *,
    content_type: str,
    timestamp: int | None = None,
    signature: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, str, float]:
    """POST `body` with Slack's signature headers; returns (status, body text, seconds taken).

    `timestamp` defaults to now and `signature` to the correct one, so a test can pass a
    stale timestamp or a forged signature to check the app refuses it.
    """
    sent_at = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(sent_at),
        "X-Slack-Signature": signature if signature is not None else sign(body, secret, sent_at),
    }
    headers.update(extra_headers or {})
    started = time.perf_counter()
    response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    return response.status_code, response.text, time.perf_counter() - started
