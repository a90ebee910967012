"""Plain-text views for a terminal (the CLI and the offline demo), and the `--json` shapes.

The Slack surface has its own Block Kit renderer; this module shows the same facts to a
person at a shell, so an alert printed here reads like the one a channel receives. The
`*_json` functions are the scripting contract: their documented keys never disappear,
new keys may be added.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.radar.adoption import Race
from bot.radar.digest import Digest, Scoreboard
from bot.radar.models import (
    Lab,
    LicenseClass,
    ModelRecord,
    Openness,
    Region,
    Release,
    ReleaseEvent,
)
from bot.radar.service import ModelLookup
from bot.radar.vocabulary import (
    REGION_MARKS,
    REGION_NAMES,
    REGION_SHORT_NAMES,
    UNKNOWN,
    by_size,
    count_text,
    country_label,
    country_text,
    flag,
    record_size_text,
    size_range_text,
)

MAX_MEMBER_LINES = 12
DEFAULT_HUB_URL = "https://huggingface.co"

MembersOf = Callable[[Release], Sequence[ModelRecord]]

# --------------------------------------------------------------------------- helpers


def when(moment: datetime) -> str:
    """`Mon 14 Sep 2026 12:00 UTC`: a weekday helps people place a release in their week."""
    return moment.strftime("%a %d %b %Y %H:%M UTC")


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def size_range(members: Sequence[ModelRecord]) -> str:
    return size_range_text(m.params_total for m in members)


def _license_summary(members: Sequence[ModelRecord]) -> str:
    classes = sorted({m.license_class for m in members}, key=list(LicenseClass).index)
    return ", ".join(c.value for c in classes) if classes else LicenseClass.UNKNOWN.value


def _gated_summary(members: Sequence[ModelRecord]) -> str:
    gated = sum(1 for m in members if m.gated)
    if gated == 0:
        return "no"
    if gated == len(members):
        return "yes (accept the terms on the Hub)"
    return f"{gated} of {len(members)} repos"


def _member_lines(
    repo_ids: Sequence[str], records: Sequence[ModelRecord], indent: str
) -> list[str]:
    """One line per repo, sizes aligned; repos the store lacks are still listed by id."""
    known = {m.id.lower(): m for m in records}
    chosen = by_size(known[i.lower()] for i in repo_ids if i.lower() in known)
    unknown = [i for i in repo_ids if i.lower() not in known]
    width = min(48, max((len(i) for i in repo_ids), default=0))
    lines = [
        f"{indent}{m.id:<{width}}  {record_size_text(m)}" for m in chosen
    ]
    lines += [f"{indent}{repo_id}" for repo_id in unknown]
    if len(lines) > MAX_MEMBER_LINES:
        hidden = len(lines) - MAX_MEMBER_LINES
        lines = [*lines[:MAX_MEMBER_LINES], f"{indent}… and {hidden} more"]
    return lines


# ---------------------------------------------------------------------------- alerts


def _openness_summary(members: Sequence[ModelRecord]) -> str:
    kinds = {m.openness for m in members} - {Openness.UNKNOWN}
    if not kinds:
        return Openness.UNKNOWN.value
    return ", ".join(sorted(kind.value for kind in kinds))


def event_text(event: ReleaseEvent, members: Sequence[ModelRecord]) -> str:
    """A release alert (or the thread reply of an update) as a terminal block."""
    release = event.release
    heading = f"{flag(release.country)} {release.lab_name}: {release.title}"
    if event.kind == "release_updated":
        added = [m for m in members if m.id in set(event.new_members)]
        lines = [
            f"➕ Release updated · {heading} · {plural(len(event.new_members), 'more model')}"
            f" ({len(release.members)} in all)",
            "   posted as a reply in the thread of the original alert:",
            *_member_lines(event.new_members, added, "     "),
        ]
        return "\n".join(lines)

    head = "📈 Breakout" if release.breakout else "🆕 New release"
    place = country_text(release.country)
    lines = [
        f"{head} · {heading}",
        f"   {place} · {plural(len(release.members), 'model')} · {size_range(members)}"
        f" · first seen {when(release.first_seen)}",
    ]
    if release.breakout:
        lines.append("   trending from outside the tracked labs")
    facts = [
        f"license: {_license_summary(members)}",
        f"gated: {_gated_summary(members)}",
        f"openness: {_openness_summary(members)}",
    ]
    tasks = sorted({m.pipeline_tag for m in members if m.pipeline_tag})
    if tasks:
        facts.append("task: " + ", ".join(tasks))
    lines.append("   " + " · ".join(facts))
    lines += _member_lines(release.members, members, "     ")
    if release.reasons:
        lines.append("   why it's notable:")
        lines += [f"     • {reason}" for reason in release.reasons]
    return "\n".join(lines)


EVENT_JSON_KEYS = ("event", "release_id", "lab", "country", "title", "members", "reasons")
"""The `poll --json` contract: every line has these keys (country null when unknown)."""
EVENT_JSON_EXTRA_KEYS = ("lab_name", "region", "new_members", "breakout", "first_seen")
"""Added for convenience: display name, region bucket, the repos this event added (all of
them for a new release), whether it is a breakout, and when the radar first saw it."""


def event_json(event: ReleaseEvent) -> dict[str, Any]:
    """One `poll --json` line: `EVENT_JSON_KEYS`, then `EVENT_JSON_EXTRA_KEYS`."""
    release = event.release
    return {
        "event": event.kind,
        "release_id": release.id,
        "lab": release.lab,
        "country": release.country,
        "title": release.title,
        "members": list(release.members),
        "reasons": list(release.reasons),
        "lab_name": release.lab_name,
        "region": release.region.value if release.region else None,
        "new_members": list(event.new_members),
        "breakout": release.breakout,
        "first_seen": release.first_seen.isoformat(),
    }


# ------------------------------------------------------------------ filtered repos

_REJECTION_KINDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), label)
    for pattern, label in (
        (r"^third-party quantization", "third-party quantization"),
        (r"^third-party \S+ reupload", "third-party reupload (GGUF/MLX…)"),
        (r"^derivative of .*fine-tune", "third-party fine-tune"),
        (r"^derivative of", "third-party derivative"),
        (r"^merge of", "merge of other models"),
        (r"^adapter on|^LoRA/adapter", "LoRA/adapter, not full weights"),
        (r"^task \S+ is out of scope", "not a chat/vision LLM (task)"),
        (r"^untracked namespace .* not trending", "unknown lab, not trending"),
        (r"^untracked namespace", "unknown lab, no task declared"),
        (r"^first published", "unknown lab, too old for a breakout"),
        (r"^minor lab", "minor lab, nothing flagship"),
    )
)


def rejection_kind(reason: str) -> str:
    """Group the policy's specific reason ("third-party quantization of Qwen/…") by kind."""
    for pattern, label in _REJECTION_KINDS:
        if pattern.search(reason):
            return label
    return reason


def filtered_counts(records: Iterable[ModelRecord]) -> Counter[str]:
    """How many non-notable repos were filtered out, by kind of reason."""
    counts: Counter[str] = Counter()
    for record in records:
        if not record.notable:
            counts[rejection_kind(record.reasons[0]) if record.reasons else "not notable"] += 1
    return counts


def filtered_text(counts: Counter[str], *, indent: str = "  ") -> str:
    """`Filtered out 12 repos:` followed by one line per kind, most frequent first."""
    total = sum(counts.values())
    if not total:
        return f"{indent}Nothing filtered out."
    width = len(str(max(counts.values())))
    lines = [f"{indent}Filtered out {plural(total, 'repo')}:"]
    for kind, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"{indent}  {count:>{width}}  {kind}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- models

MODEL_JSON_KEYS = (
    "id", "lab", "country", "params_total", "params_active", "license", "license_class",
    "gated", "downloads", "downloads_all_time", "likes", "notable", "reasons", "release_id",
    "members",
)  # fmt: skip
"""The `model --json` contract: always present, null where unknown (`members` and
`reasons` are lists, empty when the model is in no release or has no recorded reason)."""
MODEL_JSON_EXTRA_KEYS = (
    "found", "query", "lab_name", "pipeline_tag", "openness", "first_seen", "children",
    "alternatives", "from_hub",
)  # fmt: skip
"""Added for convenience; on a miss `found` is false, the contract keys are null (lists
empty) and `suggestions` and `hub_error` (MODEL_MISS_KEYS) say what to try instead."""
MODEL_MISS_KEYS = ("found", "query", "suggestions", "hub_error")


def model_json(lookup: ModelLookup) -> dict[str, Any]:
    """`model --json`: `MODEL_JSON_KEYS`, then `MODEL_JSON_EXTRA_KEYS` (see above).

    A miss keeps the contract keys (null, lists empty) so `jq .id` works on every answer.
    """
    record = lookup.record
    if record is None:
        miss: dict[str, Any] = dict.fromkeys(MODEL_JSON_KEYS)
        miss.update(reasons=[], members=[], found=False, query=lookup.query)
        miss["suggestions"] = list(lookup.alternatives)
        miss["hub_error"] = lookup.hub_error
        return miss
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
        "found": True,
        "query": lookup.query,
        "lab_name": lookup.lab.name if lookup.lab else None,
        "pipeline_tag": record.pipeline_tag,
        "openness": record.openness.value,
        "first_seen": record.first_seen.isoformat(),
        "children": dict(record.children),
        "alternatives": list(lookup.alternatives),
        "from_hub": lookup.from_hub,
    }


def _row(label: str, value: str) -> str:
    return f"  {label:<12}{value}"


def model_text(lookup: ModelLookup, *, hub_url: str = DEFAULT_HUB_URL) -> str:
    """The model card: what `/model` shows in Slack, one fact per line."""
    record, lab = lookup.record, lookup.lab
    if record is None:
        lines = [f"No model matches “{lookup.query}”."]
        if lookup.hub_error:
            lines.append(f"The Hub could not be asked: {lookup.hub_error}")
        if lookup.alternatives:
            lines.append("Did you mean: " + ", ".join(lookup.alternatives))
        lines.append("Try a repo id (org/name) or a few words, e.g. `radar model qwen3 8b`.")
        return "\n".join(lines)

    country = lab.country if lab else None
    lab_label = f"{flag(country)} {lab.name if lab else record.author} · {country_text(country)}"
    if lab is None:
        lab_label += " (not a tracked lab)"
    license_text = f"{record.license or UNKNOWN} ({record.license_class.value})"
    downloads = f"{count_text(record.downloads)} in the last 30 days"
    if record.downloads_all_time is not None:
        downloads += f" · {count_text(record.downloads_all_time)} all time"
    lines = [
        record.id,
        _row("lab", lab_label),
        _row("size", record_size_text(record)),
        _row("task", record.pipeline_tag or UNKNOWN),
        _row("license", license_text),
        _row("gated", "yes (accept the terms on the Hub)" if record.gated else "no"),
        _row("openness", record.openness.value),
        _row("downloads", downloads),
        _row("likes", count_text(record.likes)),
    ]
    kids = [f"{n} {kind}" for kind, n in sorted(record.children.items()) if n]
    if kids:
        lines.append(_row("derivatives", ", ".join(kids)))
    lines.append(_row("first seen", when(record.first_seen)))
    if lookup.release is not None:
        release = lookup.release
        lines.append(
            _row(
                "release",
                f"{release.title} · {plural(len(release.members), 'model')} · {release.id}",
            )
        )
        if lookup.siblings:
            shown = [m.name for m in by_size(lookup.siblings)[:4]]
            more = len(lookup.siblings) - len(shown)
            lines.append(_row("", "with " + ", ".join(shown) + (f" +{more} more" if more else "")))
    reasons = "; ".join(record.reasons) or "no reason recorded"
    lines.append(_row("notable", ("yes: " if record.notable else "no: ") + reasons))
    lines.append(_row("on the Hub", f"{hub_url.rstrip('/')}/{record.id}"))
    if lookup.from_hub:
        lines.append("  (looked up on the Hub just now; the radar has not recorded this repo)")
    if lookup.alternatives:
        lines.append(_row("similar", ", ".join(lookup.alternatives)))
    return "\n".join(lines)


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
