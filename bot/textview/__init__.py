"""Plain-text views for a terminal (the CLI and the offline demo), and the `--json` shapes.

The Slack surface has its own Block Kit renderer; this module shows the same facts to a
person at a shell, so an alert printed here reads like the one a channel receives. The
`*_json` functions are the scripting contract: their documented keys never disappear,
new keys may be added.

By surface: `events` (alerts, filtered repos), `models` (one model), `digest` (digest,
scoreboard, labs); `common` holds what they share. Import from `bot.textview`.
"""

from bot.textview.common import (
    DEFAULT_HUB_URL,
    MAX_MEMBER_LINES,
    MembersOf,
    plural,
    size_range,
    when,
)
from bot.textview.digest import (
    digest_json,
    digest_text,
    labs_json,
    labs_text,
    scoreboard_text,
)
from bot.textview.events import (
    EVENT_JSON_EXTRA_KEYS,
    EVENT_JSON_KEYS,
    event_json,
    event_text,
    filtered_counts,
    filtered_text,
    rejection_kind,
)
from bot.textview.models import (
    MODEL_JSON_EXTRA_KEYS,
    MODEL_JSON_KEYS,
    MODEL_MISS_KEYS,
    model_json,
    model_text,
)

__all__ = [
    "DEFAULT_HUB_URL",
    "EVENT_JSON_EXTRA_KEYS",
    "EVENT_JSON_KEYS",
    "MAX_MEMBER_LINES",
    "MODEL_JSON_EXTRA_KEYS",
    "MODEL_JSON_KEYS",
    "MODEL_MISS_KEYS",
    "MembersOf",
    "digest_json",
    "digest_text",
    "event_json",
    "event_text",
    "filtered_counts",
    "filtered_text",
    "labs_json",
    "labs_text",
    "model_json",
    "model_text",
    "plural",
    "rejection_kind",
    "scoreboard_text",
    "size_range",
    "when",
]
