"""Adoption arithmetic: size classes, interpolation, bounded storage, ranks and scores.

Every expected number here is computed by hand in the comments next to it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.radar.adoption import AdoptionBook, due_milestone, race, size_class
from bot.radar.adoption_series import (
    add_point,
    epoch_day,
    read,
    release_series_id,
    since_first_seen,
    thin,
)
from bot.radar.models import AdoptionSeries, Region, Release
from bot.store import open_store

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY0 = epoch_day(START)


def release_series(rid: str, values: dict[int, int], *, offset: int = 0) -> AdoptionSeries:
    """A release first seen on DAY0 + its own start, with all-time totals by age."""
    series = AdoptionSeries(
        id=release_series_id(rid), kind="release", start_day=DAY0, from_launch=True, offset=offset
    )
    for age in sorted(values):
        add_point(series, DAY0 + age, values[age])
    return series


@pytest.mark.parametrize(
    ("params", "label"),
    [
        (None, None),
        (0, None),
        (600_000_000, "<1B"),
        (999_999_999, "<1B"),
        (1_000_000_000, "1–5B"),
        (4_900_000_000, "1–5B"),
        (8_000_000_000, "5–10B"),
        (32_000_000_000, "10–50B"),
        (70_000_000_000, "50–100B"),
        (235_000_000_000, "100–250B"),
        (250_000_000_000, "250B+"),
        (1_000_000_000_000, "250B+"),
    ],
)
def test_size_classes_are_atoms(params: int | None, label: str | None) -> None:
    assert size_class(params) == label


def test_gaps_are_interpolated_between_real_points_only_and_marked() -> None:
    days, values = [10, 13, 14], [100, 400, 500]
    assert read(days, values, 10).value == 100 and not read(days, values, 10).interpolated
    # day 11 lies a third of the way from 100 (day 10) to 400 (day 13): 200, interpolated
    gap = read(days, values, 11)
    assert gap is not None and gap.value == 200 and gap.interpolated
    assert read(days, values, 9) is None  # before the first snapshot
    assert read(days, values, 15) is None  # never extrapolated past the last


def test_downloads_since_first_seen_subtract_the_baseline() -> None:
    series = release_series("r", {0: 1_000, 7: 6_000}, offset=1_000)
    assert since_first_seen(series, 7).value == 5_000
    unseen = series.model_copy(update={"from_launch": False})
    assert since_first_seen(unseen, 7) is None  # launch not seen: ages are not comparable


def test_rank_and_score_use_the_class_median_below_ten_releases() -> None:
    # Three 10–50B releases at day 7: 100, 400 and 1,000 downloads since first seen.
    # The median is 400, so the scores are 0.25, 1.0 and 2.5; ranks 3, 2, 1.
    series = [
        release_series("a", {0: 0, 7: 100}),
        release_series("b", {0: 0, 7: 400}),
        release_series("c", {0: 0, 7: 1_000}),
        release_series("small", {0: 0, 7: 9_999}),  # another class: not a peer
    ]
    classes = {"a": "10–50B", "b": "10–50B", "c": "10–50B", "small": "<1B"}
    book = AdoptionBook(series, classes)
    a, b, c = (book.standing(rid, 7) for rid in "abc")
    assert (a.rank, b.rank, c.rank) == (3, 2, 1)
    assert a.class_size == 3 and a.reference == 400 and a.reference_kind == "median"
    assert (a.score, b.score, c.score) == (0.25, 1.0, 2.5)


def test_score_against_the_tenth_best_from_ten_releases_on() -> None:
    # Twelve releases at day 30 with 10, 20, …, 120 downloads: the 10th best is 30.
    # The best (120) scores 120 / 30 = 4.0 and ranks 1st; the worst (10) scores 0.333.
    series = [release_series(f"r{n}", {0: 0, 30: 10 * n}) for n in range(1, 13)]
    book = AdoptionBook(series, {f"r{n}": "5–10B" for n in range(1, 13)})
    best, worst = book.standing("r12", 30), book.standing("r1", 30)
    assert best.reference == 30 and best.reference_kind == "10th best"
    assert (best.rank, best.score) == (1, 4.0)
    assert worst.rank == 12 and worst.score == pytest.approx(1 / 3)
    # day 7 lies between the real points of day 0 (0) and day 30 (120): 120 × 7/30 = 28,
    # marked as interpolated; day 31 is past the last snapshot: unknown, not guessed
    day7 = book.standing("r12", 7)
    assert (day7.downloads, day7.interpolated) == (28, True)
    assert book.standing("r12", 31).downloads is None


def test_follow_up_milestones_and_their_late_windows() -> None:
    assert [due_milestone(age) for age in (0, 6, 7, 9, 29, 30, 89, 90, 119, 120)] == [
        None, None, 7, 7, 7, 30, 30, 90, 90, None,
    ]  # fmt: skip


def _daily(series: AdoptionSeries, first: int, last: int, *, every_day: bool) -> None:
    rng = random.Random(first)
    total = 0
    for day in range(first, last + 1):
        total += rng.randint(0, 1_000)
        add_point(series, day, total, total // 3 if series.kind == "lab" else None)
        if every_day:
            thin(series, day)


def test_thinning_every_day_keeps_what_one_thinning_at_the_end_keeps() -> None:
    for kind in ("release", "lab"):
        daily = AdoptionSeries(id="x", kind=kind, start_day=100)
        once = AdoptionSeries(id="x", kind=kind, start_day=100)
        _daily(daily, 100, 100 + 730, every_day=True)
        _daily(once, 100, 100 + 730, every_day=False)
        thin(once, 100 + 730)
        assert daily.days == once.days and daily.totals == once.totals
        assert daily.recent == once.recent


def test_a_two_year_old_series_keeps_daily_weekly_and_four_weekly_points() -> None:
    series = AdoptionSeries(id="x", kind="release", start_day=0)
    _daily(series, 0, 730, every_day=False)
    thin(series, 730)
    ages = [730 - day for day in series.days]
    assert sum(1 for age in ages if age <= 90) == 91  # every day of the last 90 days
    weekly = [age for age in ages if 90 < age <= 365]
    monthly = [age for age in ages if age > 365]
    # one point a 7-day block from day 90 to 365 (≈ 39), one a 28-day block beyond (≈ 13),
    # plus the pinned baseline and curve days (0, 1, 7, 14, 30, 60, 90 of its life)
    assert 38 <= len(weekly) <= 41 and 13 <= len(monthly) <= 22
    assert len(series.days) <= 160


def test_storage_for_two_thousand_releases_over_two_years(tmp_path) -> None:
    """2,000 releases first seen evenly over two years, with 66 labs, after day 730:
    the whole database file stays under 5 MB (estimate in the README)."""
    today = 20_000 + 730
    store = open_store(tmp_path / "radar.json")
    rng = random.Random(7)
    for index in range(2_000):
        first = 20_000 + index * 730 // 2_000
        series = AdoptionSeries(
            id=release_series_id(f"org/model-{index}"),
            kind="release",
            region=Region.CHINA,
            start_day=first,
            from_launch=True,
            offset=rng.randint(0, 50),
            members=[f"org/model-{index}-{m}" for m in range(4)],
        )
        total = 0
        for day in range(first, today + 1):
            total += rng.randint(100, 50_000)
            add_point(series, day, total)
        thin(series, today)
        store.adoption.put(series)
    for lab in range(66):
        series = AdoptionSeries(id=f"lab:lab-{lab}", kind="lab", start_day=20_000)
        _daily(series, 20_000, today, every_day=False)
        thin(series, today)
        store.adoption.put(series)
    store.commit()
    size = (tmp_path / "radar.json").stat().st_size
    points = sum(len(s.days) for s in store.adoption.values())
    store.close()
    print(f"adoption storage: {points} points, {size / 1e6:.2f} MB for 2,000 releases")
    assert points < 2_066 * 160
    assert size < 5_000_000


def test_the_race_sums_lab_snapshots_by_region_with_change_and_share() -> None:
    now = START + timedelta(days=20)
    today = epoch_day(now)

    def lab(name: str, region: Region, recent_now: int, recent_week_ago: int) -> AdoptionSeries:
        series = AdoptionSeries(id=f"lab:{name}", kind="lab", region=region, start_day=today - 7)
        add_point(series, today - 7, 0, recent_week_ago)
        add_point(series, today, 0, recent_now)
        return series

    labs = [
        lab("qwen", Region.CHINA, 600, 400),
        lab("deepseek-ai", Region.CHINA, 300, 200),
        lab("meta-llama", Region.US, 500, 500),
        lab("mistralai", Region.EU, 100, 125),
    ]
    result = race(AdoptionBook(labs, {}), [], now)
    # China 900 (was 600: +50%), US 500 (+0%), EU 100 (was 125: −20%); total 1,500
    assert result.total == 1_500
    assert result.region(Region.CHINA).downloads == 900
    assert result.region(Region.CHINA).change == pytest.approx(0.5)
    assert result.region(Region.EU).change == pytest.approx(-0.2)
    assert result.region(Region.CHINA).share == pytest.approx(0.6)
    assert result.region(Region.OTHER).share == 0
    # two weekly share points: a week ago China had 600 of 1,225
    assert [p.shares[Region.CHINA] for p in result.weekly] == pytest.approx([600 / 1225, 0.6])


def _release(rid: str, first_seen: datetime) -> Release:
    return Release(
        id=rid, lab="Qwen", lab_name="Qwen", title=rid, stem=rid, first_seen=first_seen,
        updated_at=first_seen, region=Region.CHINA, country="CN",
    )  # fmt: skip
