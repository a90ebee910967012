"""The regional scoreboard (`/radar stats`) and the weekly digest message."""

from __future__ import annotations

from bot.radar.digest import Digest, Scoreboard
from bot.radar.vocabulary import (
    flag,
)
from bot.slack.mrkdwn import (
    HUB_URL,
    escape,
    escape_inline,
    hub_link,
)
from bot.slack.views.blocks import (
    _MAX_LIST_ITEMS,
    Block,
    Payload,
    _context,
    _divider,
    _header,
    _message,
    _section,
)
from bot.slack.views.lines import (
    _REGION_LABELS,
    _REGION_ORDER,
    _country_label,
    _date,
    _plural,
    format_count,
)


def _scoreboard_fields(board: Scoreboard) -> list[str]:
    fields = []
    for score in board.regions:
        icon, label = _REGION_LABELS[score.region]
        top = (
            f"\ntop: {escape_inline(score.top_release.lab_name)} · "
            f"{escape_inline(score.top_release.title)}"
            if score.top_release
            else ""
        )
        fields.append(
            f"{icon} *{label}*\n"
            f"{_plural(score.releases, 'release', 'releases')} "
            f"({score.release_share:.0%}) · {format_count(score.downloads)} downloads "
            f"({score.download_share:.0%}){top}"
        )
    return fields


def _leader_line(board: Scoreboard) -> str:
    if board.total_releases == 0:
        return "No notable releases in this window."
    leader = board.leader
    if leader is None:
        return f"{board.total_releases} notable releases; no region leads outright."
    icon, label = _REGION_LABELS[leader]
    share = board.region(leader).release_share
    return f"{icon} *{label}* leads with {share:.0%} of {board.total_releases} notable releases."


def stats_message(board: Scoreboard, *, days: int) -> Payload:
    """`/radar stats`: the scoreboard by region and by country for one window."""
    countries = [
        f"{flag(c.country)} {_country_label(c.country)}: "
        f"{_plural(c.releases, 'release', 'releases')}, {format_count(c.downloads)} downloads"
        for c in board.countries[:15]
    ]
    blocks: list[Block] = [
        _header(f"Open-weight scoreboard · last {days} days"),
        _section(_leader_line(board)),
        _section(fields=_scoreboard_fields(board)),
    ]
    if countries:
        blocks += [_divider(), _section("*By country*\n" + "\n".join(countries))]
    blocks.append(_context("Downloads are the Hub's 30-day counts of each release's repos. "))
    fallback = f"Scoreboard, last {days} days: " + ", ".join(
        f"{_REGION_LABELS[s.region][1]} {s.releases}" for s in board.regions
    )
    return _message(fallback, blocks)


def digest_message(digest: Digest, *, hub_url: str = HUB_URL) -> Payload:
    """The weekly digest: releases by region, the scoreboard, the most adopted releases."""
    start = _date(digest.period_start)
    end = _date(digest.period_end)
    blocks: list[Block] = [_header(f"Open Model Radar · week of {start} – {end}")]
    if digest.quiet:
        blocks.append(
            _section(
                "A quiet week: no notable open-weight releases. "
                "The scoreboard and adoption ranking below still cover the last 30 days."
            )
        )
    for region in _REGION_ORDER:
        releases = digest.releases_by_region.get(region) or []
        if not releases:
            continue
        icon, label = _REGION_LABELS[region]
        lines = [
            f"{flag(r.country)} *{escape_inline(r.lab_name)}* · "
            f"{hub_link(r.members[0], r.title, base=hub_url) if r.members else escape(r.title)}"
            f" ({_plural(len(r.members), 'repo', 'repos')})"
            for r in releases
        ]
        blocks.append(
            _section(f"{icon} *{label}* ({len(releases)})\n" + "\n".join(lines[:_MAX_LIST_ITEMS]))
        )
    blocks += [
        _divider(),
        _section("*Scoreboard this week* · " + _leader_line(digest.scoreboard)),
        _section(fields=_scoreboard_fields(digest.scoreboard)),
    ]
    if digest.most_adopted:
        lines = [
            f"{i}. {flag(r.country)} {escape_inline(r.lab_name)} · {escape_inline(r.title)}: "
            f"{format_count(d)} downloads"
            for i, (r, d) in enumerate(digest.most_adopted, start=1)
        ]
        blocks.append(_section("*Most adopted, last 30 days*\n" + "\n".join(lines)))
    blocks.append(_context("Chart: releases and downloads by region, last 12 weeks (below)."))
    total = sum(len(v) for v in digest.releases_by_region.values())
    fallback = f"Open Model Radar weekly digest {start} – {end}: " + (
        "a quiet week." if digest.quiet else f"{total} notable releases."
    )
    return _message(fallback, blocks)
