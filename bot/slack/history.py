"""Find a message the bot already posted, by its message metadata.

Alerts and digests carry metadata (`event_type` plus an id in `event_payload`). After a
crash between posting and recording the post, this lookup is what turns "post again" into
"adopt the message Slack already has", so nobody sees a second copy.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

HISTORY_PAGE = 200


def find_posted(
    client: WebClient,
    channel_id: str,
    *,
    event_type: str,
    key: str,
    value: str,
    since: datetime,
) -> str | None:
    """The ts of the newest message since `since` whose metadata has `key == value`.

    Unreadable history (missing scope, channel gone) answers None: the caller then posts,
    preferring a rare repeat over a lost message.
    """
    try:
        history = client.conversations_history(
            channel=channel_id,
            oldest=f"{since.timestamp():.6f}",
            limit=HISTORY_PAGE,
            include_all_metadata=True,
        )
    except SlackApiError as exc:
        _log_unreadable(channel_id, exc)
        return None
    return _matching_ts(history.get("messages", []), event_type, key, value)


def find_reply(
    client: WebClient,
    channel_id: str,
    thread_ts: str,
    *,
    event_type: str,
    key: str,
    value: str,
) -> str | None:
    """The ts of a reply in the thread of `thread_ts` whose metadata has `key == value`."""
    try:
        replies = client.conversations_replies(
            channel=channel_id, ts=thread_ts, limit=HISTORY_PAGE, include_all_metadata=True
        )
    except SlackApiError as exc:
        _log_unreadable(channel_id, exc)
        return None
    return _matching_ts(replies.get("messages", []), event_type, key, value)


def _matching_ts(messages: list[dict], event_type: str, key: str, value: str) -> str | None:
    for message in messages:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == event_type and payload.get(key) == value:
            return message.get("ts")
    return None


def _log_unreadable(channel_id: str, exc: SlackApiError) -> None:
    error = exc.response.get("error") if exc.response is not None else exc
    log.warning("cannot read the history of %s to check for a repeat: %s", channel_id, error)
