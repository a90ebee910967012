"""One model for a terminal (`python -m bot model`) and its `--json` shape."""

from __future__ import annotations

from typing import Any

from bot.radar.service import ModelLookup
from bot.radar.vocabulary import (
    UNKNOWN,
    by_size,
    count_text,
    country_text,
    flag,
    gated_text,
    record_size_text,
)
from bot.textview.common import (
    DEFAULT_HUB_URL,
    plural,
    when,
)

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
        _row("gated", gated_text([record])),
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
