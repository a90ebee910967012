"""Block Kit for adoption: follow-up replies, `/radar adoption`, the race in stats and digests.

Pure functions over `bot.radar.adoption` results, escaped like every other renderer (Hub
text never becomes a live mention) and passed through `render.enforce_limits`. Counts and
sizes are worded by `render`'s functions; the adoption score and ages by the ones here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.radar.adoption import TOP_N, AdoptionSeries, BestScore, Race, Standing
from bot.radar.adoption_series import Reading, day_date
from bot.radar.countries import flag
from bot.radar.models import Lab, ModelRecord, Release
from bot.radar.vocabulary import REGION_MARKS, REGION_NAMES
from bot.slack.mrkdwn import escape, escape_inline
from bot.slack.render import enforce_limits, format_count, format_params
from bot.slack.views.blocks import _context, _section

Block = dict[str, Any]
Payload = dict[str, Any]

SCORE_NOTE = (
    "Adoption score: downloads since the radar first saw the release ÷ those of the "
    f"{TOP_N}th best release of its size class at the same age (the class median while it "
    f"has fewer than {TOP_N}); 1.0 means on pace for the top {TOP_N}. From the radar's own "
    "daily snapshots; ~ marks a value interpolated across a gap in them."
)
_MAX_LAB_RELEASES = 15


# ------------------------------------------------------------------------- wording


def score_text(score: float | None) -> str:
    """The adoption score, worded once: "2.5", "0.04"; "n/a" while unknown."""
    if score is None:
        return "n/a"
    if score >= 10:
        return f"{score:.0f}"
    if score >= 0.1:
        return f"{score:.2g}" if score < 1 else f"{score:.1f}"
    return f"{score:.1g}"


def reading_text(reading: Reading | None) -> str:
    """Downloads at one age: "12k", "~12k" when interpolated, "–" when not known."""
    if reading is None:
        return "–"
    return ("~" if reading.interpolated else "") + format_count(reading.value)


def age_text(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def change_text(change: float | None) -> str:
    """Week-on-week change: "+12%", "−3%"; "new" when there is no week-old snapshot."""
    if change is None:
        return "new"
    sign = "+" if change >= 0 else "−"
    return f"{sign}{abs(change):.0%}"


def standing_text(standing: Standing) -> str:
    """Rank and score in one phrase (a follow-up's and a ranking's second half)."""
    if standing.size_class is None:
        return "size unknown, so no rank or score"
    if standing.rank is None:
        return f"{standing.size_class} class"
    peers = "release" if standing.class_size == 1 else "releases"
    return (
        f"#{standing.rank} of {standing.class_size} {standing.size_class} {peers} the radar "
        f"has seen at day {standing.age} · adoption score {score_text(standing.score)}"
    )


# ---------------------------------------------------------------------- follow-ups


def follow_up_reply(
    release: Release, standing: Standing, milestone: int, members: int
) -> Payload:
    """One line in the alert's thread: downloads since launch, rank in class, score."""
    repos = "1 repo" if members == 1 else f"all {members} repos"
    late = (
        f" (the day-{milestone} follow-up, {age_text(standing.age - milestone)} late: the "
        "radar had no snapshot that day)"
        if standing.age > milestone
        else ""
    )
    downloads = reading_text(
        Reading(standing.downloads, standing.interpolated)
        if standing.downloads is not None
        else None
    )
    line = (
        f":chart_with_upwards_trend: *Day {standing.age}*{late} · {downloads} downloads since "
        f"first seen ({repos}) · {standing_text(standing)}"
    )
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": line}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": SCORE_NOTE}]},
    ]
    fallback = (
        f"Day {standing.age}: {downloads} downloads since first seen · "
        f"{escape_inline(release.title)}"
    )
    return {"text": fallback, "blocks": enforce_limits(blocks)}


# ----------------------------------------------------------------- /radar adoption


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def _payload(fallback: str, blocks: list[Block]) -> Payload:
    return {"text": fallback[:1000] or "Open Model Radar", "blocks": enforce_limits(blocks)}


def release_adoption(
    release: Release,
    members: Sequence[ModelRecord],
    series: AdoptionSeries | None,
    curve: Sequence[tuple[int, Reading | None]],
    standing: Standing | None,
) -> Payload:
    """A release's curve (day 1 … 90) with its latest rank and score."""
    largest = max((m.params_total or 0 for m in members), default=0)
    title = f"{flag(release.country)} {escape_inline(release.lab_name)} · {escape(release.title)}"
    lines = [
        f"{title} ({format_params(largest or None)}, first seen "
        f"{release.first_seen:%Y-%m-%d})"
    ]
    if series is None or not series.days:
        lines.append("No snapshots yet: the first is taken after the next poll.")
    elif not series.from_launch:
        lines.append(
            f"The radar did not see this release launch: its counts start at its own first "
            f"snapshot on {day_date(series.days[0]):%Y-%m-%d}, so it has no curve by age "
            "and no score."
        )
    else:
        cells = " · ".join(f"day {age}: {reading_text(value)}" for age, value in curve)
        lines.append(f"*Downloads since first seen* — {cells}")
        if standing is not None:
            lines.append(f"Latest (day {standing.age}): {standing_text(standing)}")
    blocks = [_header("Adoption"), _section("\n".join(lines)), _context(SCORE_NOTE)]
    return _payload(f"Adoption of {release.title}", blocks)


def lab_adoption(
    lab: Lab, ranked: Sequence[tuple[Release, Standing | None]], lab_series: AdoptionSeries | None
) -> Payload:
    """A lab's releases ranked by adoption score (unknown scores last)."""
    lines = []
    for index, (release, standing) in enumerate(ranked[:_MAX_LAB_RELEASES], start=1):
        if standing is None or standing.downloads is None:
            detail = "no score (launch not seen by the radar, or no snapshot yet)"
        else:
            detail = (
                f"{reading_text(Reading(standing.downloads, standing.interpolated))} downloads "
                f"by day {standing.age} · {standing_text(standing)}"
            )
        lines.append(f"{index}. *{escape_inline(release.title)}*: {detail}")
    if not lines:
        lines.append("No releases of this lab recorded yet.")
    blocks = [
        _header(f"Adoption · {lab.name}"[:150]),
        _section(f"{flag(lab.country)} *{escape_inline(lab.name)}* releases by adoption score"),
        _section("\n".join(lines)),
    ]
    if lab_series is not None and lab_series.recent:
        blocks.append(
            _context(
                f"Its most downloaded models: "
                f"{format_count(lab_series.recent[-1])} downloads in the last 30 days "
                f"(snapshot {day_date(lab_series.days[-1]):%Y-%m-%d})."
            )
        )
    blocks.append(_context(SCORE_NOTE))
    return _payload(f"Adoption of {lab.name}'s releases", blocks)


def race_lines(race: Race) -> list[str]:
    """The regions side by side: 30-day downloads, change since last week, share."""
    lines = []
    for item in sorted(race.regions, key=lambda r: -r.downloads):
        lines.append(
            f"{REGION_MARKS[item.region]} *{REGION_NAMES[item.region]}*: "
            f"{format_count(item.downloads)} downloads "
            f"({item.share:.0%}) · {change_text(item.change)} on last week"
        )
    return lines


def best_lines(best: Sequence[BestScore]) -> list[str]:
    return [
        f"{index}. {flag(item.release.country)} {escape_inline(item.release.lab_name)} · "
        f"{escape_inline(item.release.title)}: score {score_text(item.standing.score)} "
        f"at day {item.standing.age} ({item.standing.size_class})"
        for index, item in enumerate(best, start=1)
    ]


def race_blocks(race: Race, *, title: str = "The downloads race") -> list[Block]:
    """The race section shared by `/radar stats`, `/radar adoption` and the digest."""
    if race.empty:
        return [
            _section(
                f"*{title}*\nNo download snapshot yet: the first is taken after the next poll."
            )
        ]
    blocks = [
        _section(
            f"*{title}* · downloads in the last 30 days of {race.labs} tracked labs' most "
            f"downloaded models (snapshot {race.day:%Y-%m-%d})\n" + "\n".join(race_lines(race))
        )
    ]
    if race.best:
        blocks.append(
            _section(
                "*Best adoption scores, releases of the last 90 days*\n"
                + "\n".join(best_lines(race.best))
            )
        )
    return blocks


def regions_adoption(race: Race) -> Payload:
    blocks = [_header("Adoption · regions"), *race_blocks(race), _context(SCORE_NOTE)]
    leader = max(race.regions, key=lambda r: r.downloads) if not race.empty else None
    fallback = (
        f"Downloads race: {REGION_NAMES[leader.region]} leads with {leader.share:.0%}"
        if leader is not None and race.total
        else "Downloads race: no snapshot yet"
    )
    return _payload(fallback, blocks)


def with_race(payload: Payload, race: Race) -> Payload:
    """A stats or digest payload with the race appended (kept within Slack's limits)."""
    blocks = list(payload.get("blocks") or [])
    context = [b for b in blocks[-1:] if b.get("type") == "context"]
    body = blocks[: len(blocks) - len(context)]
    merged = [*body, {"type": "divider"}, *race_blocks(race), *context]
    return {**payload, "blocks": enforce_limits(merged)}


def share_labels(points: Sequence[date]) -> list[str]:
    return [f"{day:%b} {day.day}" for day in points]
