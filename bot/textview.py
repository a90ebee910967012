"""Plain-text views for the terminal (the CLI and the offline demo).

The Slack surface has its own Block Kit renderer; this one prints the same facts for a
person at a shell, and the `--json` shapes that scripts rely on.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.radar.digest import Digest, Scoreboard
from bot.radar.facts import human_count, human_params
from bot.radar.labs import country_name, flag
from bot.radar.models import Lab, ModelRecord, Region, Release, ReleaseEvent
from bot.radar.service import ModelLookup

REGION_LABEL = {Region.US: "US", Region.CHINA: "China", Region.EU: "Europe", Region.OTHER: "Rest"}


def _date(release: Release) -> str:
    return release.first_seen.strftime("%Y-%m-%d %H:%M UTC")


def size_range(members: Sequence[ModelRecord]) -> str:
    sizes = sorted({m.params_total for m in members if m.params_total})
    if not sizes:
        return "size n/a"
    if len(sizes) == 1:
        return human_params(sizes[0])
    return f"{human_params(sizes[0])}–{human_params(sizes[-1])}"


def event_text(event: ReleaseEvent, members: Sequence[ModelRecord]) -> str:
    release = event.release
    head = "NEW RELEASE" if event.kind == "new_release" else "UPDATED"
    lines = [
        f"{head}  {flag(release.country)} {release.lab_name} · {release.title}"
        f"  ({len(release.members)} repos, {size_range(members)})",
        f"  first seen {_date(release)}",
    ]
    shown = event.new_members if event.kind == "release_updated" else release.members
    for repo_id in shown[:12]:
        lines.append(f"  - {repo_id}")
    if len(shown) > 12:
        lines.append(f"  … and {len(shown) - 12} more")
    for reason in release.reasons:
        lines.append(f"  why: {reason}")
    return "\n".join(lines)


def event_json(event: ReleaseEvent) -> dict:
    release = event.release
    return {
        "event": event.kind,
        "release_id": release.id,
        "lab": release.lab,
        "country": release.country,
        "title": release.title,
        "members": list(release.members),
        "new_members": list(event.new_members),
        "reasons": list(release.reasons),
        "first_seen": release.first_seen.isoformat(),
    }


def model_json(lookup: ModelLookup) -> dict:
    record = lookup.record
    if record is None:
        return {"id": None, "query": lookup.query, "suggestions": lookup.alternatives}
    return {
        "id": record.id,
        "lab": record.lab or record.author,
        "country": lookup.lab.country if lookup.lab else None,
        "params_total": record.params_total,
        "params_active": record.params_active,
        "license": record.license,
        "license_class": record.license_class.value,
        "gated": record.gated,
        "downloads": record.downloads,
        "downloads_all_time": record.downloads_all_time,
        "likes": record.likes,
        "notable": record.notable,
        "reasons": list(record.reasons),
        "release_id": record.release_id,
        "members": list(lookup.release.members) if lookup.release else [],
        "pipeline_tag": record.pipeline_tag,
        "openness": record.openness.value,
        "first_seen": record.first_seen.isoformat(),
        "alternatives": list(lookup.alternatives),
        "from_hub": lookup.from_hub,
    }


def model_text(lookup: ModelLookup) -> str:
    record, lab = lookup.record, lookup.lab
    if record is None:
        lines = [f"No model matches “{lookup.query}”."]
        if lookup.hub_error:
            lines.append(f"(The Hub could not be asked: {lookup.hub_error})")
        if lookup.alternatives:
            lines.append("Did you mean: " + ", ".join(lookup.alternatives))
        return "\n".join(lines)
    params = human_params(record.params_total) if record.params_total else "n/a"
    if record.params_active:
        params += f" total / {human_params(record.params_active)} active"
    country = lab.country if lab else None
    lines = [
        record.id,
        f"  lab        {lab.name if lab else record.author}"
        f"  {flag(country)} {country_name(country) if country else 'country unknown'}",
        f"  first seen {record.first_seen.strftime('%Y-%m-%d')}",
        f"  params     {params}",
        f"  task       {record.pipeline_tag or 'n/a'}",
        f"  license    {record.license or 'unknown'} ({record.license_class.value})"
        f"{', gated' if record.gated else ''}",
        f"  openness   {record.openness.value}",
        f"  downloads  {human_count(record.downloads)} (30 d)"
        + (
            f", {human_count(record.downloads_all_time)} all time"
            if record.downloads_all_time is not None
            else ""
        ),
        f"  likes      {human_count(record.likes)}",
    ]
    if record.children:
        kids = ", ".join(f"{n} {kind}" for kind, n in sorted(record.children.items()) if n)
        lines.append(f"  derivatives {kids}")
    if lookup.siblings:
        lines.append("  release    " + ", ".join(m.id for m in lookup.siblings[:10]))
    verdict = "notable" if record.notable else "not notable"
    lines.append(f"  {verdict}: " + ("; ".join(record.reasons) or "no reason recorded"))
    if lookup.alternatives:
        lines.append("  did you mean: " + ", ".join(lookup.alternatives))
    return "\n".join(lines)


def scoreboard_text(board: Scoreboard) -> str:
    lines = [f"{'region':<8} {'releases':>8} {'share':>6} {'downloads':>10}  top release"]
    for score in board.regions:
        top = score.top_release.title if score.top_release else "–"
        lines.append(
            f"{REGION_LABEL[score.region]:<8} {score.releases:>8} "
            f"{score.release_share:>6.0%} {human_count(score.downloads):>10}  {top}"
        )
    return "\n".join(lines)


def digest_text(digest: Digest) -> str:
    start = digest.period_start.strftime("%Y-%m-%d")
    end = digest.period_end.strftime("%Y-%m-%d")
    lines = [f"Open Model Radar · week of {start} to {end}", ""]
    if digest.quiet:
        lines.append("A quiet week: no notable open-weight releases.")
    for region, releases in digest.releases_by_region.items():
        if not releases:
            continue
        lines.append(f"{REGION_LABEL[region]} ({len(releases)})")
        for release in releases:
            lines.append(f"  {flag(release.country)} {release.lab_name} · {release.title}")
    lines += ["", "Scoreboard", scoreboard_text(digest.scoreboard)]
    if digest.most_adopted:
        lines += ["", "Most adopted, last 30 days"]
        for release, downloads in digest.most_adopted:
            lines.append(f"  {release.lab_name} · {release.title}: {human_count(downloads)}")
    return "\n".join(lines)


def labs_text(labs: Sequence[Lab]) -> str:
    if not labs:
        return "No tracked labs match."
    lines = []
    for lab in labs:
        lines.append(
            f"{flag(lab.country)} {lab.namespace:<24} {lab.name:<28} "
            f"{lab.country or '??':<3} {lab.region.value:<6} tier {lab.tier}"
        )
    return "\n".join(lines)
