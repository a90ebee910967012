"""The weekly digest, the scoreboard and the lab list for a terminal, and their `--json` shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.radar.adoption import Race
from bot.radar.digest import Digest, Scoreboard
from bot.radar.models import (
    Lab,
    Region,
    Release,
)
from bot.radar.vocabulary import (
    REGION_MARKS,
    REGION_NAMES,
    REGION_SHORT_NAMES,
    count_text,
    country_label,
    flag,
)
from bot.textview.common import (
    MembersOf,
    plural,
    size_range,
    when,
)

# ---------------------------------------------------------------------------- digest


def scoreboard_text(board: Scoreboard, *, indent: str = "  ") -> str:
    """US vs China vs Europe vs the rest: releases, share, downloads, top release."""
    lines = [f"{indent}{'region':<8}{'releases':>9}{'share':>7}{'downloads':>11}  top release"]
    for score in board.regions:
        top = score.top_release.title if score.top_release else "–"
        lines.append(
            f"{indent}{REGION_SHORT_NAMES[score.region]:<8}{score.releases:>9}"
            f"{score.release_share:>7.0%}"
            f"{count_text(score.downloads):>11}  {top}"
        )
    leader = board.leader
    if leader is not None:
        lead = board.region(leader)
        lines.append(
            f"{indent}{REGION_NAMES[leader]} leads with {lead.releases} of "
            f"{plural(board.total_releases, 'notable release')}."
        )
    elif board.total_releases:
        lines.append(f"{indent}No single region leads: a tie at the top.")
    return "\n".join(lines)


def _release_line(release: Release, members_of: MembersOf | None) -> str:
    members = members_of(release) if members_of else []
    detail = f"{plural(len(release.members), 'model')}"
    if members:
        detail += f" · {size_range(members)}"
    badge = " · breakout" if release.breakout else ""
    return f"  {flag(release.country)} {release.lab_name} · {release.title} · {detail}{badge}"


def digest_text(digest: Digest, members_of: MembersOf | None = None) -> str:
    """The weekly digest: releases by region, the scoreboard, the most adopted releases."""
    total = digest.scoreboard.total_releases
    lines = [
        "Open Model Radar · digest",
        f"{when(digest.period_start)} → {when(digest.period_end)}"
        f" · {plural(total, 'notable release')}",
        "",
    ]
    if digest.quiet:
        lines += ["A quiet week: no notable open-weight releases.", ""]
    for region, releases in digest.releases_by_region.items():
        if not releases:
            continue
        lines.append(f"{REGION_MARKS[region]} {REGION_NAMES[region]} ({len(releases)})")
        lines += [_release_line(release, members_of) for release in releases]
        lines.append("")
    lines += ["Scoreboard", scoreboard_text(digest.scoreboard)]
    if digest.most_adopted:
        lines += ["", "Most adopted releases, last 30 days (Hub downloads)"]
        for rank, (release, downloads) in enumerate(digest.most_adopted, start=1):
            lines.append(
                f"  {rank}. {flag(release.country)} {release.lab_name} · {release.title}"
                f": {count_text(downloads)}"
            )
    return "\n".join(lines)


def _release_json(release: Release) -> dict[str, Any]:
    return {
        "release_id": release.id,
        "lab": release.lab,
        "lab_name": release.lab_name,
        "country": release.country,
        "region": (release.region or Region.OTHER).value,
        "title": release.title,
        "members": list(release.members),
        "reasons": list(release.reasons),
        "breakout": release.breakout,
        "first_seen": release.first_seen.isoformat(),
    }


def digest_json(digest: Digest) -> dict[str, Any]:
    """`digest --json`: the releases of the period, the scoreboard and the adoption ranking."""
    return {
        "period_start": digest.period_start.isoformat(),
        "period_end": digest.period_end.isoformat(),
        "quiet": digest.quiet,
        "releases": [
            _release_json(release)
            for releases in digest.releases_by_region.values()
            for release in releases
        ],
        "scoreboard": [
            {
                "region": score.region.value,
                "releases": score.releases,
                "release_share": score.release_share,
                "downloads": score.downloads,
                "download_share": score.download_share,
                "top_release": score.top_release.id if score.top_release else None,
            }
            for score in digest.scoreboard.regions
        ],
        "leader": digest.scoreboard.leader.value if digest.scoreboard.leader else None,
        "most_adopted": [
            {"release_id": release.id, "title": release.title, "downloads": downloads}
            for release, downloads in digest.most_adopted
        ],
        "race": _race_json(digest.race),
    }


def _race_json(race: Race | None) -> dict[str, Any] | None:
    """The downloads race of the adoption snapshots; None before the first snapshot."""
    if race is None or race.empty:
        return None
    return {
        "day": race.day.isoformat() if race.day else None,
        "regions": [
            {
                "region": item.region.value,
                "downloads_30d": item.downloads,
                "week_before": item.previous,
                "share": item.share,
            }
            for item in race.regions
        ],
        "best_scores": [
            {
                "release_id": best.release.id,
                "adoption_score": best.standing.score,
                "days": best.standing.age,
                "size_class": best.standing.size_class,
            }
            for best in race.best
        ],
    }




# ------------------------------------------------------------------------------ labs


def labs_text(labs: Sequence[Lab], country: str | None = None) -> str:
    """The tracked labs as a table, US first, then China, Europe and the rest."""
    where = f" in {country_label(country)}" if country else ""
    if not labs:
        return f"No tracked labs{where}. Add one in Slack with `/radar track <org> <country>`."
    width = max(len(lab.namespace) for lab in labs)
    name_width = max(len(lab.name) for lab in labs)
    lines = [f"{plural(len(labs), 'tracked lab')}{where}"]
    for lab in labs:
        aliases = f"  (also {', '.join(lab.aliases)})" if lab.aliases else ""
        lines.append(
            f"  {flag(lab.country)} {lab.namespace:<{width}}  {lab.name:<{name_width}}  "
            f"{lab.country or '??':<2}  {REGION_SHORT_NAMES[lab.region]:<6}  "
            f"tier {lab.tier}{aliases}"
        )
    return "\n".join(lines)


def labs_json(labs: Sequence[Lab]) -> list[dict[str, Any]]:
    return [
        {
            "namespace": lab.namespace,
            "name": lab.name,
            "country": lab.country,
            "region": lab.region.value,
            "tier": lab.tier,
            "aliases": list(lab.aliases),
            "source": lab.source,
        }
        for lab in labs
    ]
