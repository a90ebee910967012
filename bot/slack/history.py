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
        error = exc.response.get("error") if exc.response is not None else exc
        log.warning("cannot read the history of %s to check for a repeat: %s", channel_id, error)
        return None
    for message in history.get("messages", []):
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == event_type and payload.get(key) == value:
            return message.get("ts")
    return None
