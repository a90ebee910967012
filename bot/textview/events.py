"""Release events for a terminal (`watch`, `poll`, the demo) and their `--json` shape.

Also the summary of repos the policy filtered out, which `poll` prints after the events.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from bot.radar.models import (
    ModelRecord,
    Openness,
    ReleaseEvent,
)
from bot.radar.vocabulary import (
    country_text,
    flag,
    gated_text,
    license_classes_text,
)
from bot.textview.common import (
    _member_lines,
    plural,
    size_range,
    when,
)

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
        f"license: {license_classes_text(members)}",
        f"gated: {gated_text(members)}",
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
