"""The App Home tab: recent releases, where the radar posts (and what it could not deliver)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.radar.models import (
    ModelRecord,
    Release,
    Subscription,
)
from bot.radar.outbox import FailedAlert
from bot.slack.mrkdwn import (
    HUB_URL,
    escape_inline,
)
from bot.slack.views.blocks import (
    _MAX_LIST_ITEMS,
    MAX_VIEW_BLOCKS,
    Block,
    _capped_lines,
    _context,
    _divider,
    _header,
    _pack_lines,
    _section,
    enforce_limits,
)
from bot.slack.views.lines import _channel_ref, _date, _plural, _release_line, _subscription_line
from bot.slack.views.messages import _usage

_MAX_HOME_CHANNELS = 25


def _failed_summary(failed: Sequence[FailedAlert]) -> str:
    """One line for App Home: how many alerts a channel missed, and the latest of them."""
    latest = failed[0]
    what = f"{latest.lab_name} · {latest.title}" if latest.lab_name else latest.title
    count = _plural(len(failed), "alert", "alerts")
    return (
        f"    :warning: {count} could not be delivered (latest: {escape_inline(what)}, "
        f"{_date(latest.at)})"
    )


def home_view(
    subscriptions_by_channel: Mapping[str, Sequence[Subscription]],
    recent_releases: Sequence[Release],
    members_by_release: Mapping[str, Sequence[ModelRecord]],
    *,
    model_command: str,
    radar_command: str,
    hub_url: str = HUB_URL,
    failed_by_channel: Mapping[str, Sequence[FailedAlert]] | None = None,
) -> dict[str, Any]:
    """The App Home tab: recent releases, where the radar posts (and alerts it could not
    deliver there), and how to drive it."""
    radar = escape_inline(radar_command)
    blocks: list[Block] = [
        _header("Open Model Radar"),
        _section(
            "Notable open-weight model releases on the Hugging Face Hub, by lab and country. "
            + _usage(
                "Look one up with `{model} <repo>`; see everything with `{radar} help`.",
                model_command=model_command,
                radar_command=radar_command,
            )
        ),
        _divider(),
        _section("*Latest releases*"),
    ]
    if recent_releases:
        shown = recent_releases[:_MAX_LIST_ITEMS]
        lines = [_release_line(r, members_by_release.get(r.id, ()), hub_url) for r in shown]
        blocks += [_section(chunk) for chunk in _pack_lines(lines)]
        if len(recent_releases) > len(shown):
            blocks.append(_context(f"…and {len(recent_releases) - len(shown)} more releases"))
    else:
        blocks.append(_section("No notable releases yet."))
    blocks += [_divider(), _section("*Channel subscriptions*")]
    active = {channel: subs for channel, subs in subscriptions_by_channel.items() if subs}
    if active:
        channels = sorted(active.items())
        lines = []
        for channel, subs in channels[:_MAX_HOME_CHANNELS]:
            lines.append(_channel_ref(channel))
            lines += _capped_lines(
                subs, lambda s: f"    {_subscription_line(s)}", "subscriptions", cap=5
            )
            if failed := (failed_by_channel or {}).get(channel):
                lines.append(_failed_summary(failed))
        if len(channels) > _MAX_HOME_CHANNELS:
            lines.append(f"…and {len(channels) - _MAX_HOME_CHANNELS} more channels")
        blocks += [_section(chunk) for chunk in _pack_lines(lines)]
    else:
        blocks.append(
            _section(f"No channel subscribes yet. In a channel, type `{radar} subscribe`.")
        )
    blocks.append(_context(f"`{radar} help` lists every command."))
    return {"type": "home", "blocks": enforce_limits(blocks, max_blocks=MAX_VIEW_BLOCKS)}
