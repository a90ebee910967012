"""A channel alert for a release, its message metadata, and the thread reply when it grows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.radar.models import (
    ModelRecord,
    Release,
)
from bot.radar.vocabulary import (
    flag,
    gated_text,
    license_classes_text,
)
from bot.slack import ids
from bot.slack.mrkdwn import (
    HUB_URL,
    escape,
    escape_inline,
    hub_link,
)
from bot.slack.views.blocks import (
    _PACKED_SECTION,
    Block,
    Payload,
    _actions,
    _button,
    _header,
    _join_within,
    _message,
    _section,
)
from bot.slack.views.lines import (
    _by_size,
    _country_label,
    _date,
    _field_value,
    _hub_page,
    _member_count,
    _member_line,
    _plural,
    _reasons_text,
    _size_range,
)

EVENT_TYPE_RELEASE = ids.RELEASE_EVENT


def release_metadata(release: Release) -> dict[str, Any]:
    """Message metadata, so after a restart delivery can find an alert it already posted."""
    return {"event_type": EVENT_TYPE_RELEASE, "event_payload": {"release_id": release.id}}


def _release_member_lines(release: Release, members: Sequence[ModelRecord], base: str) -> list[str]:
    lines = [_member_line(member, base) for member in _by_size(members)]
    known = {member.id.lower() for member in members}
    lines += [
        f"• {hub_link(repo_id, repo_id.split('/', 1)[-1], base=base)}"
        for repo_id in release.members
        if repo_id.lower() not in known
    ]
    return lines


def release_alert(
    release: Release, members: Sequence[ModelRecord], *, hub_url: str = HUB_URL
) -> Payload:
    """The one channel message for a new release (a family of sizes is one alert)."""
    count = _member_count(release, members)
    emoji = flag(release.country)
    lab = escape(release.lab_name)
    summary = (
        f"*New open-weight release* from *{escape_inline(release.lab_name)}* · "
        f"{_country_label(release.country)}\n"
        f"{_plural(count, 'model', 'models')} · {_size_range(members)} · "
        f"first seen {_date(release.first_seen)}"
    )
    if release.breakout:
        summary += "\n:chart_with_upwards_trend: Breakout: trending from outside the tracked labs"
    tasks = sorted({m.pipeline_tag for m in members if m.pipeline_tag})
    fields = [
        f"*License*\n{license_classes_text(members)}",
        f"*Gated*\n{_field_value(gated_text(members))}",
    ]
    if tasks:
        fields.append(f"*Task*\n{escape(', '.join(tasks))}")
    lines = _release_member_lines(release, members, hub_url)
    blocks: list[Block] = [
        _header(f"{emoji} {release.lab_name}: {release.title}"),
        _section(summary, fields=fields, block_id="release_summary"),
        _section(_join_within(lines, _PACKED_SECTION, "models"), block_id="release_members"),
    ]
    if release.reasons:
        blocks.append(_section(_reasons_text("Why it's notable", release.reasons)))
    blocks.append(
        _actions(
            [
                _button(
                    "Model details",
                    action_id=ids.RELEASE_DETAILS,
                    value=release.id,
                    style="primary",
                ),
                _button(f"Mute {release.lab_name}", action_id=ids.MUTE_LAB, value=release.lab),
                _button(
                    "View on Hugging Face",
                    action_id=ids.OPEN_LAB_HUB,
                    url=_hub_page(release.lab, hub_url),
                ),
            ],
            block_id="release_actions",
        )
    )
    fallback = (
        f"{emoji} New open-weight release from {lab}: {escape(release.title)} "
        f"({_plural(count, 'model', 'models')}, {_size_range(members)})"
    )
    return _message(fallback, blocks)


def release_update_reply(
    release: Release, new_members: Sequence[ModelRecord], *, hub_url: str = HUB_URL
) -> Payload:
    """The thread reply when more sizes of an already-announced release appear."""
    lines = [_member_line(member, hub_url) for member in _by_size(new_members)]
    body = _join_within(lines, _PACKED_SECTION, "models") if lines else "(no new repos)"
    blocks = [_section(f"*New in this release:*\n{body}")]
    names = ", ".join(member.id for member in _by_size(new_members))
    fallback = f"New in {escape(release.title)}: {escape(names) or 'no new repos'}"
    return _message(fallback, blocks)
