"""One-line renderings shared by several Slack surfaces: a member, a release, a subscription.

The words for facts (sizes, counts, countries, regions) come from `bot.radar.vocabulary`,
so Slack and the terminal say the same thing; here they are escaped for mrkdwn and linked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.radar.models import (
    ModelRecord,
    Release,
    Subscription,
    lead_member,
)
from bot.radar.vocabulary import (
    REGION_MARKS,
    REGION_NAMES,
    REGION_ORDER,
    WEEKDAY_NAMES,
    by_size,
    count_text,
    country_text,
    flag,
    params_text,
    record_size_text,
    size_range_text,
    size_text,
)
from bot.slack.mrkdwn import (
    escape,
    escape_inline,
    hub_link,
    hub_url,
)
from bot.slack.views.blocks import _PACKED_SECTION, _join_within

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
_REGION_ORDER = REGION_ORDER
_REGION_LABELS = {region: (REGION_MARKS[region], REGION_NAMES[region]) for region in REGION_ORDER}
_WEEKDAY_NAMES = WEEKDAY_NAMES


def _field_value(text: str) -> str:
    """A vocabulary phrase as a Block Kit field value: first letter capitalised."""
    return text[:1].upper() + text[1:]


def _country_label(code: str | None) -> str:
    return escape(country_text(code))


# The words for sizes and counts are the domain's (`bot.radar.vocabulary`), shared with the
# terminal; these names stay for callers of the renderer.
format_params = params_text
format_size = size_text
format_count = count_text


def _date(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment is not None else "unknown"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _by_size(records: Iterable[ModelRecord]) -> list[ModelRecord]:
    return by_size(records)


def _size_range(records: Sequence[ModelRecord]) -> str:
    return size_range_text(r.params_total for r in records)


def _member_line(record: ModelRecord, base: str) -> str:
    size = record_size_text(record)
    return f"• {hub_link(record.id, record.name, base=base)} · {size}"


def _lead_member(release: Release, members: Sequence[ModelRecord]) -> str | None:
    """The repo a release's title links to: the domain's lead member, else its first id."""
    lead = lead_member(members)
    if lead is not None:
        return lead.id
    return release.members[0] if release.members else None


def _channel_ref(channel_id: str) -> str:
    """A clickable channel reference (not a ping); anything odd is shown as escaped text."""
    return f"<#{channel_id}>" if _CHANNEL_ID.match(channel_id) else escape(channel_id)


def _reasons_text(title: str, reasons: Sequence[str]) -> str:
    lines = [f"• {escape(reason)}" for reason in reasons if str(reason).strip()]
    return (
        f"*{title}*\n" + _join_within(lines, _PACKED_SECTION, "reasons") if lines else f"*{title}*"
    )


def _hub_page(repo_id: str, base: str) -> str:
    return hub_url(repo_id, base=base)


def _member_count(release: Release, members: Sequence[ModelRecord]) -> int:
    known = {member.id.lower() for member in members}
    return len(known | {repo_id.lower() for repo_id in release.members})


def _release_line(release: Release, members: Sequence[ModelRecord], base: str) -> str:
    lead = _lead_member(release, members)
    title = hub_link(lead, release.title, base=base) if lead else escape(release.title)
    count = _member_count(release, members)
    return (
        f"{flag(release.country)} *{escape_inline(release.lab_name)}*: {title} · "
        f"{_size_range(members)} · {_plural(count, 'model', 'models')} · "
        f"{_date(release.first_seen)}"
    )


def _filters_text(subscription: Subscription) -> str:
    canonical = subscription.filters.canonical()
    return f"`{escape_inline(canonical)}`" if canonical else "all notable releases"


def _subscription_line(subscription: Subscription) -> str:
    line = (
        f"• `{escape_inline(subscription.id)}`: {_filters_text(subscription)} "
        f"(since {_date(subscription.created_at)})"
    )
    if subscription.paused_reason:
        line += f" · :double_vertical_bar: paused: {escape(subscription.paused_reason)}"
    return line
