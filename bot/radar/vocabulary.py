"""The radar's words for facts: sizes, counts, regions, countries, weekdays and "unknown".

Slack (`bot/slack/render.py`) and the terminal (`bot/textview/`, `bot/radar/digest.py`,
`bot/radar/filters.py`, the chart) word a fact through these functions, so 27.8e9
parameters read `27.8B` in an alert, on a card, in a policy reason and in `radar poll`
alike. Plain text only: each surface escapes for its own medium.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from bot.radar.countries import country_name, flag
from bot.radar.models import LicenseClass, ModelRecord, Region

__all__ = [
    "REGION_MARKS",
    "REGION_NAMES",
    "REGION_ORDER",
    "REGION_SHORT_NAMES",
    "UNKNOWN",
    "WEEKDAY_NAMES",
    "by_size",
    "count_text",
    "country_label",
    "country_text",
    "flag",
    "gated_text",
    "license_classes_text",
    "params_text",
    "record_size_text",
    "region_label",
    "size_range_text",
    "size_text",
    "weekday_name",
]

UNKNOWN = "unknown"
SIZE_UNKNOWN = "size unknown"
COUNTRY_UNKNOWN = "country unknown"

# ------------------------------------------------------------------------ numbers

_PARAM_UNITS = (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3), ("", 1))
_COUNT_UNITS = (("B", 10**9), ("M", 10**6), ("k", 10**3), ("", 1))


def _number(value: float, one_decimal_below: float) -> str:
    if value < one_decimal_below:
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.0f}"


def _compact(value: float, units: Sequence[tuple[str, int]], one_decimal_below: float) -> str:
    """Scale to the largest unit that fits; move up a unit when rounding reaches 1000."""
    for index, (suffix, size) in enumerate(units):
        if value >= size or index == len(units) - 1:
            text = _number(value / size, one_decimal_below)
            if float(text) >= 1000 and index > 0:
                suffix, size = units[index - 1]
                text = _number(value / size, one_decimal_below)
            return text + suffix
    return str(value)  # pragma: no cover - the loop always returns


def params_text(params: float | None) -> str:
    """A parameter count as model cards write it: 235B, 27.8B, 1.5B, 270M, 1T; "unknown"."""
    if params is None or params <= 0:
        return UNKNOWN
    return _compact(float(params), _PARAM_UNITS, one_decimal_below=100)


def size_text(
    total: float | None,
    active: float | None = None,
    *,
    experts: int | None = None,
    expert_params: float | None = None,
) -> str:
    """The one wording of a model's size, on cards, alerts, reasons and the CLI.

    "235B total / 22B active" for a mixture of experts with both sizes known, "8B" for a
    dense model, "17B active" when only the per-token size is known, "8×22B" for a name
    that states experts × expert size and no total is known (never an invented product),
    "size unknown" otherwise.
    """
    if total is not None and total > 0:
        if active is not None and 0 < active < total:
            return f"{params_text(total)} total / {params_text(active)} active"
        return params_text(total)
    if experts and expert_params:
        named = f"{experts}×{params_text(expert_params)}"
        return f"{named} / {params_text(active)} active" if active else named
    if active is not None and active > 0:
        return f"{params_text(active)} active"
    return SIZE_UNKNOWN


def record_size_text(record: ModelRecord) -> str:
    """`size_text` for a stored record."""
    return size_text(
        record.params_total,
        record.params_active,
        experts=record.params_experts,
        expert_params=record.params_expert_size,
    )


def size_range_text(totals: Iterable[float | None]) -> str:
    """The sizes of a release's members: "0.6B–235B", "8B", or "size unknown"."""
    sizes = sorted(total for total in totals if total is not None and total > 0)
    if not sizes:
        return SIZE_UNKNOWN
    low, high = params_text(sizes[0]), params_text(sizes[-1])
    return low if low == high else f"{low}–{high}"


def count_text(count: float | None) -> str:
    """Downloads and likes: 950, 1.2k, 35k, 340k, 3.4M, 1.2B; "unknown" when not counted."""
    if count is None:
        return UNKNOWN
    if count <= 0:
        return "0"
    return _compact(float(count), _COUNT_UNITS, one_decimal_below=10)


# --------------------------------------------------------------------- access

GATED = "yes: accept the terms on the Hub"


def gated_text(members: Sequence[ModelRecord]) -> str:
    """Whether downloading takes accepting terms: "no", "yes: …" or "2 of 5 repos"."""
    gated = sum(1 for m in members if m.gated)
    if gated == 0:
        return "no"
    if gated == len(members):
        return GATED
    return f"{gated} of {len(members)} repos"


def license_classes_text(members: Sequence[ModelRecord]) -> str:
    """The license classes of a release's members, most open first."""
    classes = sorted({m.license_class for m in members}, key=list(LicenseClass).index)
    return ", ".join(c.value for c in classes) if classes else LicenseClass.UNKNOWN.value


# ------------------------------------------------------------------ member order

Member = TypeVar("Member", bound=ModelRecord)


def by_size(members: Iterable[Member]) -> list[Member]:
    """The one order of a release's members: largest first (the lead size leads, as on a
    model card), unknown sizes last, then by repo id."""
    return sorted(members, key=lambda m: (-(m.params_total or 0), m.id.lower()))


# ----------------------------------------------------------------------- places

REGION_ORDER: tuple[Region, ...] = (Region.US, Region.CHINA, Region.EU, Region.OTHER)
REGION_NAMES: dict[Region, str] = {
    Region.US: "United States",
    Region.CHINA: "China",
    Region.EU: "Europe",
    Region.OTHER: "Rest of the world",
}
# For table columns and chart legends, where the full name does not fit.
REGION_SHORT_NAMES: dict[Region, str] = {
    Region.US: "US",
    Region.CHINA: "China",
    Region.EU: "Europe",
    Region.OTHER: "Rest",
}
REGION_MARKS: dict[Region, str] = {
    Region.US: "🇺🇸",
    Region.CHINA: "🇨🇳",
    Region.EU: "🇪🇺",
    Region.OTHER: "🌐",
}


def region_label(region: Region | None) -> str:
    """ "🇨🇳 China"; a lab of unknown region counts with the rest of the world."""
    region = region or Region.OTHER
    return f"{REGION_MARKS[region]} {REGION_NAMES[region]}"


def country_text(code: str | None) -> str:
    """A country's name ("China"), or "country unknown"."""
    return country_name(code) if code else COUNTRY_UNKNOWN


def country_label(code: str | None) -> str:
    """Flag and name: "🇨🇳 China", "🌐 country unknown"."""
    return f"{flag(code)} {country_text(code)}"


# ---------------------------------------------------------------------- weekdays

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekday_name(weekday: int) -> str:
    """Monday = 0, as `datetime.weekday()` counts."""
    return WEEKDAY_NAMES[weekday]
