"""Adoption: is a release catching on, and who is winning the downloads race?

The Hub gives only a repo's 30-day `downloads` and its `downloadsAllTime`, no history, so
the radar keeps its own: `AdoptionSeries` records of daily snapshots (taken by
`bot.radar.snapshots`). Everything here is arithmetic over those records: no HTTP, no Slack.

Definitions (the README's "Adoption" section says how they differ from ATOM's):
- a release's *age* is counted in UTC days from the day the radar first saw it (day 0);
- *downloads since first seen* at day d = the members' summed `downloadsAllTime` on day d
  minus what they had when the radar first saw them (a member that joins later counts in
  full: it was published after the release was first seen);
- its *size class* is ATOM's, by the total parameters of its largest member;
- the *adoption score* at day d = its downloads since first seen at day d divided by those of
  the 10th best release of its class at day d (the class median while it has fewer than 10
  releases with a value at that age), the release itself included;
- a value between two real snapshots is interpolated linearly and marked; nothing is
  extrapolated beyond the last real snapshot or before the first.

The series themselves (storing, thinning, reading a day back) are `bot.radar.adoption_series`.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.radar.adoption_series import (
    CURVE_DAYS,
    Reading,
    day_date,
    epoch_day,
    latest_age,
    read,
    since_first_seen,
)
from bot.radar.models import AdoptionSeries, ModelRecord, Region, Release, as_utc
from bot.radar.vocabulary import REGION_ORDER

if TYPE_CHECKING:  # the protocol only; the domain never depends on a storage backend
    from bot.radar.ports import Store

SIZE_CLASSES: tuple[tuple[float, str], ...] = (
    (1e9, "<1B"),
    (5e9, "1–5B"),
    (10e9, "5–10B"),
    (50e9, "10–50B"),
    (100e9, "50–100B"),
    (250e9, "100–250B"),
    (float("inf"), "250B+"),
)
MILESTONES: tuple[int, ...] = (7, 30, 90)
FOLLOW_UP_WINDOW_END = 120  # a day-90 follow-up missed by an outage is not posted after this
TOP_N = 10
RACE_WEEKS = 12
BEST_SCORES_DAYS = 90
BEST_SCORES_LIMIT = 5


# ----------------------------------------------------------------------- size classes


def size_class(params_total: int | None) -> str | None:
    """ATOM's size class of a parameter count; None when the size is unknown."""
    if params_total is None or params_total <= 0:
        return None
    for limit, label in SIZE_CLASSES:
        if params_total < limit:
            return label
    return SIZE_CLASSES[-1][1]  # pragma: no cover - inf catches everything


def release_size_class(members: Iterable[ModelRecord]) -> str | None:
    """A release's class is its largest member's (a family spanning classes is ranked
    with the flagship's peers)."""
    largest = max((m.params_total or 0 for m in members), default=0)
    return size_class(largest or None)


# --------------------------------------------------------------------- ranks, scores


@dataclass(frozen=True)
class Standing:
    """Where a release stands among its size class at one age."""

    release_id: str
    age: int
    downloads: int | None
    interpolated: bool
    size_class: str | None
    rank: int | None  # 1 = most downloads since first seen
    class_size: int
    reference: float | None  # the 10th best's downloads (the median below 10 releases)
    score: float | None

    @property
    def reference_kind(self) -> str:
        return "10th best" if self.class_size >= TOP_N else "median"


def reference_value(values: Sequence[int]) -> float | None:
    """The 10th best value, or the median while there are fewer than `TOP_N`."""
    if not values:
        return None
    ordered = sorted(values, reverse=True)
    if len(ordered) >= TOP_N:
        return float(ordered[TOP_N - 1])
    return float(statistics.median(ordered))


class AdoptionBook:
    """Reads the adoption collection once and answers ranks, scores and curves from it.

    `classes` maps release id -> size class (computed from the members by the caller, so
    the book needs no model lookups of its own).
    """

    def __init__(
        self, series: Iterable[AdoptionSeries], classes: Mapping[str, str | None]
    ) -> None:
        self.releases: dict[str, AdoptionSeries] = {}
        self.labs: dict[str, AdoptionSeries] = {}
        for item in series:
            if item.kind == "release":
                self.releases[item.id.removeprefix("release:")] = item
            else:
                self.labs[item.id.removeprefix("lab:")] = item
        self.classes = dict(classes)

    def standing(self, release_id: str, age: int) -> Standing:
        series = self.releases.get(release_id)
        klass = self.classes.get(release_id)
        own = since_first_seen(series, age) if series is not None else None
        peers: list[int] = []
        if klass is not None:
            for other_id, other in self.releases.items():
                if self.classes.get(other_id) != klass:
                    continue
                reading = since_first_seen(other, age)
                if reading is not None:
                    peers.append(reading.value)
        if own is None or klass is None:
            known = own.value if own is not None else None
            interpolated = bool(own and own.interpolated)
            return Standing(
                release_id, age, known, interpolated, klass, None, len(peers), None, None
            )
        rank = 1 + sum(1 for value in peers if value > own.value)
        reference = reference_value(peers)
        score = own.value / reference if reference else None
        return Standing(
            release_id, age, own.value, own.interpolated, klass, rank, len(peers), reference, score
        )

    def curve(self, release_id: str) -> list[tuple[int, Reading | None]]:
        """Downloads since first seen at days 1, 7, 14, 30, 60, 90 (None: not known)."""
        series = self.releases.get(release_id)
        return [
            (age, since_first_seen(series, age) if series is not None else None)
            for age in CURVE_DAYS
        ]

    def latest_standing(self, release_id: str, today: int) -> Standing | None:
        """The standing at the release's latest snapshot age (at most `today`'s)."""
        series = self.releases.get(release_id)
        if series is None or not series.from_launch:
            return None
        age = latest_age(series)
        if age is None:
            return None
        return self.standing(release_id, min(age, today - series.start_day))


def classes_of(
    releases: Iterable[Release], lookup: Callable[[str], ModelRecord | None]
) -> dict[str, str | None]:
    """Release id -> size class, looking members up by lower-cased id."""
    result: dict[str, str | None] = {}
    for release in releases:
        members = [lookup(member.lower()) for member in release.members]
        result[release.id] = release_size_class(m for m in members if m is not None)
    return result


def book_from_store(store: Store) -> AdoptionBook:
    """An `AdoptionBook` over everything the store holds (one pass over each collection)."""
    return book_and_releases(store)[0]


def book_and_releases(store: Store) -> tuple[AdoptionBook, list[Release]]:
    """The book and the releases it was built from, read together under the store's lock
    (so a poll committing meanwhile cannot give a book that disagrees with the list)."""
    with store.lock:
        releases = store.releases.values()
        book = AdoptionBook(store.adoption.values(), classes_of(releases, store.models.get))
    return book, releases


# ----------------------------------------------------------------------- follow-ups


def due_milestone(age: int) -> int | None:
    """The follow-up day due at this age: the latest milestone reached, while the next one
    is not (a follow-up missed during an outage is posted late, once, never after the next
    milestone replaced it)."""
    due = None
    for position, milestone in enumerate(MILESTONES):
        window_end = (
            MILESTONES[position + 1] if position + 1 < len(MILESTONES) else FOLLOW_UP_WINDOW_END
        )
        if milestone <= age < window_end:
            due = milestone
    return due


# ------------------------------------------------------------------- the race


@dataclass(frozen=True)
class RegionRace:
    region: Region
    downloads: int  # 30-day downloads of the tracked labs' most downloaded models
    previous: int | None  # the same a week earlier (None: no snapshot reaches back)
    share: float

    @property
    def change(self) -> float | None:
        if self.previous is None or self.previous == 0:
            return None
        return (self.downloads - self.previous) / self.previous


@dataclass(frozen=True)
class SharePoint:
    day: date
    shares: dict[Region, float]


@dataclass(frozen=True)
class BestScore:
    release: Release
    standing: Standing


@dataclass(frozen=True)
class Race:
    """ATOM's headline figure from the radar's own snapshots."""

    day: date | None  # the snapshot day the figures come from; None: no snapshot yet
    regions: list[RegionRace]
    total: int
    weekly: list[SharePoint]
    best: list[BestScore]
    labs: int  # labs counted

    @property
    def empty(self) -> bool:
        return self.day is None

    def region(self, region: Region) -> RegionRace:
        return next(item for item in self.regions if item.region == region)


def _regional(labs: Iterable[AdoptionSeries], day: int) -> tuple[dict[Region, int], int, bool]:
    """30-day downloads per region on `day` (interpolated between real lab snapshots);
    and how many labs had a value, and whether every lab did."""
    sums = dict.fromkeys(REGION_ORDER, 0)
    counted = 0
    for series in labs:
        reading = read(series.days, series.recent, day) if series.recent else None
        if reading is None:
            continue
        sums[series.region or Region.OTHER] += reading.value
        counted += 1
    return sums, counted, counted > 0


def race(book: AdoptionBook, releases: Iterable[Release], now: datetime) -> Race:
    """Regional 30-day downloads (latest snapshot), their change since a week before and
    each region's share; the 12-week share series; the best scores of the last 90 days."""
    today = epoch_day(now)
    labs = list(book.labs.values())
    last_days = [series.days[-1] for series in labs if series.days and series.recent]
    best = _best_scores(book, releases, now)
    if not last_days:
        return Race(None, [RegionRace(r, 0, None, 0.0) for r in REGION_ORDER], 0, [], best, 0)
    latest = min(max(last_days), today)
    current, counted, _ = _regional(labs, latest)
    earlier, _, any_earlier = _regional(labs, latest - 7)
    total = sum(current.values())
    regions = [
        RegionRace(
            region,
            current[region],
            earlier[region] if any_earlier else None,
            current[region] / total if total else 0.0,
        )
        for region in REGION_ORDER
    ]
    weekly: list[SharePoint] = []
    for weeks_back in range(RACE_WEEKS - 1, -1, -1):
        day = latest - 7 * weeks_back
        sums, _, known = _regional(labs, day)
        whole = sum(sums.values())
        if known and whole:
            weekly.append(SharePoint(day_date(day), {r: sums[r] / whole for r in REGION_ORDER}))
    return Race(day_date(latest), regions, total, weekly, best, counted)


def _best_scores(book: AdoptionBook, releases: Iterable[Release], now: datetime) -> list[BestScore]:
    today = epoch_day(now)
    start = today - BEST_SCORES_DAYS
    scored: list[BestScore] = []
    for release in releases:
        if epoch_day(release.first_seen) < start:
            continue
        standing = book.latest_standing(release.id, today)
        if standing is not None and standing.score is not None:
            scored.append(BestScore(release, standing))
    scored.sort(key=lambda item: (item.standing.score, item.release.id), reverse=True)
    return scored[:BEST_SCORES_LIMIT]


def race_from_store(store: Store, now: datetime) -> Race:
    book, releases = book_and_releases(store)
    return race(book, releases, now)


def adoption_rows(store: Store, now: datetime) -> list[dict]:
    """`radar adoption --json`: one row per release, newest first (null where unknown)."""
    book, releases = book_and_releases(store)
    today = epoch_day(now)
    rows = []
    for release in sorted(releases, key=lambda r: as_utc(r.first_seen), reverse=True):
        series = book.releases.get(release.id)
        standing = book.latest_standing(release.id, today)
        days = latest_age(series) if series is not None else None
        rows.append(
            {
                "release_id": release.id,
                "lab": release.lab,
                "region": (release.region or Region.OTHER).value,
                "size_class": book.classes.get(release.id),
                "first_seen": as_utc(release.first_seen).isoformat(),
                "days": standing.age if standing is not None else days,
                "downloads_since_first_seen": standing.downloads if standing else None,
                "rank_in_class": standing.rank if standing else None,
                "class_size": standing.class_size if standing else None,
                "adoption_score": (
                    round(standing.score, 4)
                    if standing is not None and standing.score is not None
                    else None
                ),
            }
        )
    return rows
