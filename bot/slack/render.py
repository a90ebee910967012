"""Block Kit messages built from domain records: the public names of every Slack surface.

The surfaces live one module each in `bot/slack/views/` (card, alert, lists, home, digest,
messages), built from `views/blocks.py` (block builders and `enforce_limits`). Every
public renderer returns a payload `{"text": <fallback>, "blocks": [...]}` (the Home tab
returns a view) already passed through `enforce_limits`, so a 10,000-member release or a
100 kB model name can never make Slack reject a message. Anything that came from the Hub
or from a user is escaped with `bot.slack.mrkdwn`; nothing here produces a
`<!channel>`-style broadcast or a `<@user>` mention from data.
"""

from __future__ import annotations

from bot.slack.views.alert import (
    EVENT_TYPE_RELEASE,
    release_alert,
    release_metadata,
    release_update_reply,
)
from bot.slack.views.blocks import (
    MAX_FALLBACK_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    Block,
    Payload,
    enforce_limits,
)
from bot.slack.views.card import comparison, model_card
from bot.slack.views.digest import digest_message, stats_message
from bot.slack.views.home import home_view
from bot.slack.views.lines import format_count, format_params, format_size
from bot.slack.views.lists import labs_list, release_list, subscriptions_list
from bot.slack.views.messages import error_message, help_message, ok_message

__all__ = [
    "EVENT_TYPE_RELEASE",
    "MAX_FALLBACK_TEXT",
    "MAX_MESSAGE_BLOCKS",
    "MAX_VIEW_BLOCKS",
    "Block",
    "Payload",
    "comparison",
    "digest_message",
    "enforce_limits",
    "error_message",
    "format_count",
    "format_params",
    "format_size",
    "help_message",
    "home_view",
    "labs_list",
    "model_card",
    "ok_message",
    "release_alert",
    "release_list",
    "release_metadata",
    "release_update_reply",
    "stats_message",
    "subscriptions_list",
]
