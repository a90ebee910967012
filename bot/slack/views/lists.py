"""Lists people ask for: `/radar latest`, `/radar labs`, `/radar subscriptions`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.radar.models import (
    DigestSchedule,
    Lab,
    ModelRecord,
    Mute,
    Release,
    Subscription,
)
from bot.radar.outbox import FailedAlert
from bot.radar.vocabulary import (
    flag,
)
from bot.slack.mrkdwn import (
    HUB_URL,
    escape,
    escape_inline,
)
from bot.slack.views.blocks import (
    _MAX_LIST_ITEMS,
    Block,
    Payload,
    _capped_lines,
    _context,
    _header,
    _message,
    _pack_lines,
    _section,
)
from bot.slack.views.lines import (
    _REGION_LABELS,
    _REGION_ORDER,
    _WEEKDAY_NAMES,
    _date,
    _plural,
    _release_line,
    _subscription_line,
)
from bot.slack.views.messages import _usage

_MAX_LABS_PER_REGION = 100


def release_list(
    title: str,
    releases: Sequence[Release],
    members_by_release: Mapping[str, Sequence[ModelRecord]],
    *,
    empty_text: str,
    hub_url: str = HUB_URL,
) -> Payload:
    """One compact line per release, for `/radar latest`."""
    blocks: list[Block] = [_header(title)]
    if not releases:
        blocks.append(_section(escape(empty_text)))
        return _message(f"{escape(title)}: {escape(empty_text)}", blocks)
    shown = releases[:_MAX_LIST_ITEMS]
    lines = [_release_line(r, members_by_release.get(r.id, ()), hub_url) for r in shown]
    blocks += [_section(chunk) for chunk in _pack_lines(lines)]
    if len(releases) > len(shown):
        blocks.append(_context(f"…and {len(releases) - len(shown)} more releases"))
    fallback = f"{escape(title)}: {_plural(len(releases), 'release', 'releases')}"
    return _message(fallback, blocks)


def _lab_line(lab: Lab) -> str:
    line = f"{flag(lab.country)} *{escape_inline(lab.name)}* `{escape_inline(lab.namespace)}`"
    if lab.tier == 1:
        line += " · frontier"
    if lab.source == "user":
        line += " · added here"
    return line


def labs_list(
    labs: Sequence[Lab], *, country: str | None, radar_command: str = "/radar"
) -> Payload:
    """Tracked labs grouped by region (US, China, EU, rest), optionally for one country."""
    tracked = [lab for lab in labs if not lab.removed]
    if country:
        wanted = country.strip().lower()
        tracked = [
            lab
            for lab in tracked
            if (lab.country or "").lower() == wanted or lab.region.value == wanted
        ]
        title = f"Tracked labs: {flag(country)} {country.strip().upper()}"
    else:
        title = "Tracked labs"
    blocks: list[Block] = [_header(title)]
    if not tracked:
        where = f" for {escape(country)}" if country else ""
        blocks.append(
            _section(
                f"No tracked labs{where}. Add one with "
                + _usage("`{radar} track <namespace> <country>`.", radar_command=radar_command)
            )
        )
        return _message(f"No tracked labs{where}.", blocks)
    for region in _REGION_ORDER:
        in_region = sorted(
            (lab for lab in tracked if lab.region == region),
            key=lambda lab: (lab.tier, lab.name.lower()),
        )
        if not in_region:
            continue
        emoji, name = _REGION_LABELS[region]
        heading = f"*{emoji} {name}* · {_plural(len(in_region), 'lab', 'labs')}"
        lines = _capped_lines(in_region, _lab_line, "labs", cap=_MAX_LABS_PER_REGION)
        chunks = _pack_lines([heading, *lines])
        blocks += [_section(chunk) for chunk in chunks]
    fallback = f"{_plural(len(tracked), 'tracked lab', 'tracked labs')}"
    return _message(fallback, blocks)


def _mute_line(mute: Mute) -> str:
    until = (
        f"until {mute.until.strftime('%Y-%m-%d %H:%M %Z').strip()}"
        if mute.until is not None
        else "until unmuted"
    )
    return f"• `{escape_inline(mute.lab)}` {until}"


def _failed_line(failed: FailedAlert) -> str:
    what = f"{failed.lab_name} · {failed.title}" if failed.lab_name else failed.title
    return (
        f"• {escape_inline(what)} ({_date(failed.at)}): {escape(failed.reason)}"
        if failed.reason
        else f"• {escape_inline(what)} ({_date(failed.at)})"
    )


def _schedule_text(schedule: DigestSchedule | None) -> str:
    if schedule is None or not schedule.enabled:
        return "off"
    day = _WEEKDAY_NAMES[schedule.weekday]
    return f"{day}s at {escape(schedule.time)} ({escape(schedule.timezone)})"


def subscriptions_list(
    subs: Sequence[Subscription],
    mutes: Sequence[Mute],
    schedule: DigestSchedule | None,
    *,
    now: datetime | None = None,
    radar_command: str = "/radar",
    failed: Sequence[FailedAlert] = (),
) -> Payload:
    """A channel's subscriptions, active mutes and digest schedule, for `/radar subscriptions`;
    and the alerts the bot gave up delivering here, so a silent channel is explained."""
    radar = escape_inline(radar_command)
    active_mutes = [m for m in mutes if now is None or m.active(now)]
    blocks: list[Block] = [_header("Radar settings for this channel")]
    if subs:
        lines = _capped_lines(subs, _subscription_line, "subscriptions")
        blocks += [_section(c) for c in _pack_lines([f"*Subscriptions* ({len(subs)})", *lines])]
    else:
        blocks.append(
            _section(
                "*Subscriptions*\nNone yet. Try "
                f"`{radar} subscribe region:china` or `{radar} subscribe org:meta-llama`."
            )
        )
    if active_mutes:
        lines = _capped_lines(active_mutes, _mute_line, "muted labs")
        blocks += [
            _section(chunk)
            for chunk in _pack_lines([f"*Muted labs* ({len(active_mutes)})", *lines])
        ]
    else:
        blocks.append(_section("*Muted labs*\nNone."))
    blocks.append(_section(f"*Weekly digest*\n{_schedule_text(schedule)}"))
    if failed:
        lines = _capped_lines(failed, _failed_line, "alerts")
        heading = f"*Alerts that could not be delivered* ({len(failed)})"
        blocks += [_section(chunk) for chunk in _pack_lines([heading, *lines])]
    blocks.append(_context(f"Change these with `{radar} help`."))
    fallback = (
        f"{_plural(len(subs), 'subscription', 'subscriptions')}, "
        f"{_plural(len(active_mutes), 'muted lab', 'muted labs')}, "
        f"weekly digest {_schedule_text(schedule)}"
    )
    return _message(fallback, blocks)
