"""Adoption series: the daily download snapshots kept for a release or a lab, bounded.

The Hub gives no download history, so the radar records its own (`AdoptionSeries`, taken
by `bot.radar.snapshots`), one point a UTC day. Storage stays bounded (`thin`): every point
of the last 90 days, then the last point of each 7-day block up to a year, then of each
28-day block. The blocks nest (four weeks make a block), so thinning every day leaves
exactly what one thinning at the end would. `read` gives a day's value back, interpolated
(and marked) between real snapshots, never extrapolated. `bot.radar.adoption` ranks and
scores releases from these series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.radar.models import AdoptionSeries, as_utc

CURVE_DAYS: tuple[int, ...] = (1, 7, 14, 30, 60, 90)  # the ages a release's curve is read at
DAILY_DAYS = 90
WEEKLY_DAYS = 365
WEEK_BLOCK = 7
MONTH_BLOCK = 28
_EPOCH = date(1970, 1, 1)


# ------------------------------------------------------------------------------ days


def epoch_day(moment: datetime | date) -> int:
    """The UTC day number of a moment (days since 1970-01-01)."""
    day = as_utc(moment).date() if isinstance(moment, datetime) else moment
    return (day - _EPOCH).days


def day_date(day: int) -> date:
    return _EPOCH + timedelta(days=day)


def release_series_id(release_id: str) -> str:
    return f"release:{release_id}"


def lab_series_id(namespace: str) -> str:
    return f"lab:{namespace.lower()}"


# --------------------------------------------------------------------------- series


def add_point(series: AdoptionSeries, day: int, total: int, recent: int | None = None) -> None:
    """Record the snapshot of `day` (replacing one already taken that day)."""
    if series.days and series.days[-1] == day:
        series.totals[-1] = total
        if recent is not None and series.recent:
            series.recent[-1] = recent
        return
    if series.days and day < series.days[-1]:
        return  # a clock that went backwards never rewrites history
    series.days.append(day)
    series.totals.append(total)
    if recent is not None:
        series.recent.append(recent)


def pinned_days(series: AdoptionSeries) -> set[int]:
    """Points thinning never drops: the first one (the baseline) and, for a release, the
    days its curve and follow-ups are read at."""
    pinned = {series.days[0]} if series.days else set()
    if series.kind == "release":
        pinned.update(series.start_day + offset for offset in (0, *CURVE_DAYS))
    return pinned


def thin(series: AdoptionSeries, today: int) -> int:
    """Drop points no longer needed at full resolution; returns how many were dropped.

    A point older than `DAILY_DAYS` survives when it is the last one of its 7-day block;
    older than `WEEKLY_DAYS`, the last one of its 28-day block.
    """
    if len(series.days) < 2:
        return 0
    pinned = pinned_days(series)
    keep: list[int] = []
    days = series.days
    for index, day in enumerate(days):
        age = today - day
        if age <= DAILY_DAYS or day in pinned:
            keep.append(index)
            continue
        block = WEEK_BLOCK if age <= WEEKLY_DAYS else MONTH_BLOCK
        following = days[index + 1] if index + 1 < len(days) else None
        if following is None or following // block != day // block:
            keep.append(index)
    dropped = len(days) - len(keep)
    if dropped:
        series.days = [days[i] for i in keep]
        series.totals = [series.totals[i] for i in keep]
        if series.recent:
            series.recent = [series.recent[i] for i in keep]
    return dropped


@dataclass(frozen=True)
class Reading:
    """A value read from a series: real on a snapshot day, else interpolated (marked)."""

    value: int
    interpolated: bool


def read(days: Sequence[int], values: Sequence[int], day: int) -> Reading | None:
    """The value on `day`, interpolated between the real points around it; None outside
    the snapshots' span (never extrapolated)."""
    if not days or not values or day < days[0] or day > days[-1]:
        return None
    low, high = 0, len(days) - 1
    while low <= high:
        middle = (low + high) // 2
        if days[middle] == day:
            return Reading(values[middle], False)
        if days[middle] < day:
            low = middle + 1
        else:
            high = middle - 1
    before, after = high, low  # days[before] < day < days[after]
    span = days[after] - days[before]
    fraction = (day - days[before]) / span
    value = values[before] + (values[after] - values[before]) * fraction
    return Reading(round(value), True)


def since_first_seen(series: AdoptionSeries, age: int) -> Reading | None:
    """Downloads since first seen at `age` days; None before the radar's snapshots or after
    its last one, and for a release whose launch the radar did not see (its counts start
    at the radar's first snapshot, so ages are not comparable)."""
    if not series.from_launch:
        return None
    reading = read(series.days, series.totals, series.start_day + age)
    if reading is None:
        return None
    return Reading(max(0, reading.value - series.offset), reading.interpolated)


def latest_age(series: AdoptionSeries) -> int | None:
    """The age of the release at its last real snapshot."""
    return series.days[-1] - series.start_day if series.days else None
