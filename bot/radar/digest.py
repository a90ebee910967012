"""The weekly digest and the regional scoreboard, computed from what the store already knows.

Everything here is arithmetic over stored `Release`s and `ModelRecord`s: no Slack, no HTTP.
Time windows are half-open, `start <= first_seen < end`, so back-to-back windows (and the
Monday-to-Monday weeks of the chart) never count a release twice. A release whose country is
unknown (`region=None`, typically a breakout) is scored as "other".

"Downloads" always means the Hub's rolling 30-day count as last stored for each member repo.
The Hub has no download history, so a week's downloads in the weekly series are the current
30-day downloads of the releases first seen that week: how well that week's releases caught on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.radar.adoption import Race, race_from_store
from bot.radar.models import DigestSchedule, ModelRecord, Region, Release, as_utc
from bot.radar.vocabulary import REGION_ORDER

if TYPE_CHECKING:  # the protocol only; the domain never depends on a storage backend
    from bot.radar.ports import Store

ADOPTION_WINDOW = timedelta(days=30)
MOST_ADOPTED_LIMIT = 5
DEFAULT_WEEKS = 12


@dataclass(frozen=True)
class RegionScore:
    region: Region
    releases: int
    downloads: int
    release_share: float
    download_share: float
    top_release: Release | None
    top_release_downloads: int


@dataclass(frozen=True)
class CountryScore:
    country: str | None
    releases: int
    downloads: int


@dataclass(frozen=True)
class Scoreboard:
    """Releases and downloads per region for one window; what `/radar stats` shows."""

    start: datetime
    end: datetime
    regions: list[RegionScore]
    countries: list[CountryScore]
    total_releases: int
    total_downloads: int

    @property
    def leader(self) -> Region | None:
        """The region with the most releases; None when nobody leads (tie or empty window)."""
        best = max((score.releases for score in self.regions), default=0)
        if best == 0:
            return None
        leaders = [score.region for score in self.regions if score.releases == best]
        return leaders[0] if len(leaders) == 1 else None

    def region(self, region: Region) -> RegionScore:
        """The score of one region (every region is always present)."""
        return next(score for score in self.regions if score.region == region)


@dataclass(frozen=True)
class WeekPoint:
    week_start: date
    releases: dict[Region, int]
    downloads: dict[Region, int]


@dataclass(frozen=True)
class Digest:
    period_start: datetime
    period_end: datetime
    releases_by_region: dict[Region, list[Release]]
    scoreboard: Scoreboard
    most_adopted: list[tuple[Release, int]]
    weekly: list[WeekPoint]
    race: Race | None = None  # the downloads race from the adoption snapshots

    @property
    def quiet(self) -> bool:
        """No notable release in the period: the digest says so instead of listing nothing."""
        return self.scoreboard.total_releases == 0


@dataclass(frozen=True, slots=True)
class _Scored:
    """A release with the values every calculation needs, computed once per build."""

    release: Release
    seen: datetime  # first_seen, timezone-aware UTC
    region: Region
    downloads: int

    @property
    def rank_key(self) -> tuple[int, datetime, str]:
        """Most downloaded first; on a tie the newer release, then a stable id order."""
        return (self.downloads, self.seen, self.release.id)


def release_downloads(release: Release, models_lookup: Callable[[str], ModelRecord | None]) -> int:
    """Sum of the 30-day downloads of a release's members.

    `models_lookup` receives the lower-cased repo id (the key of `store.models`); members the
    store does not know count as zero, and a member listed twice is counted once.
    """
    total = 0
    for repo_key in dict.fromkeys(member.lower() for member in release.members):
        record = models_lookup(repo_key)
        if record is not None:
            total += max(record.downloads, 0)
    return total


def scoreboard(store: Store, *, start: datetime, end: datetime) -> Scoreboard:
    """The regional scoreboard of releases first seen in `[start, end)`."""
    start, end = as_utc(start), as_utc(end)
    if end < start:
        raise ValueError("the scoreboard window ends before it starts")
    return _scoreboard_from(_score_window(store, start, end), start, end)


def weekly_series(store: Store, *, now: datetime, weeks: int = DEFAULT_WEEKS) -> list[WeekPoint]:
    """Releases and downloads per region for the last `weeks` Monday-to-Monday UTC weeks.

    The last point is the week containing `now` (counted up to `now`); points run oldest first
    and weeks without releases are present with zeros, so a chart's x axis has no gaps.
    """
    now = as_utc(now)
    first_week = _first_week_start(now, weeks)
    return _weekly_from(_score_window(store, _midnight(first_week), now), now, weeks)


def build_digest(store: Store, *, now: datetime, days: int = 7) -> Digest:
    """Everything the weekly digest shows for the `days` before `now`.

    The store is read once: releases are filtered to the widest window any section needs and
    each member's downloads are looked up once, so the cost grows linearly with the data.
    """
    if days < 1:
        raise ValueError("a digest covers at least one day")
    now = as_utc(now)
    period_start = now - timedelta(days=days)
    adoption_start = now - ADOPTION_WINDOW
    weekly_start = _midnight(_first_week_start(now, DEFAULT_WEEKS))
    scored = _score_window(store, min(period_start, adoption_start, weekly_start), now)

    in_period = [item for item in scored if item.seen >= period_start]
    by_region: dict[Region, list[Release]] = {region: [] for region in REGION_ORDER}
    for item in sorted(in_period, key=lambda item: (item.seen, item.release.id), reverse=True):
        by_region[item.region].append(item.release)

    return Digest(
        period_start=period_start,
        period_end=now,
        releases_by_region=by_region,
        scoreboard=_scoreboard_from(in_period, period_start, now),
        most_adopted=_most_adopted(item for item in scored if item.seen >= adoption_start),
        weekly=_weekly_from(scored, now, DEFAULT_WEEKS),
        race=race_from_store(store, now),
    )


def latest_period(schedule_weekday: int, schedule_time: time, tz: ZoneInfo, now: datetime) -> str:
    """The local ISO date of the most recent scheduled occurrence at or before `now`.

    Whoever creates a schedule can store this as `last_sent_period`, so the first digest goes
    out at the next occurrence instead of right away.
    """
    if not 0 <= schedule_weekday <= 6:
        raise ValueError("schedule_weekday must be 0 (Monday) to 6 (Sunday)")
    now = as_utc(now)
    local_today = now.astimezone(tz).date()
    day = local_today - timedelta(days=(local_today.weekday() - schedule_weekday) % 7)
    if _occurrence_utc(day, schedule_time, tz) > now:
        day -= timedelta(days=7)
    return day.isoformat()


def due_period(
    schedule_weekday: int,
    schedule_time: time,
    tz: ZoneInfo,
    now: datetime,
    last_sent_period: str | None,
) -> str | None:
    """The period to send now, or None when the latest occurrence was already sent.

    Only the latest occurrence at or before `now` counts, so a bot that was down for three
    weeks sends one digest on start, not three. Wall-clock times follow the zone's DST rules:
    09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer. A local time skipped by
    a DST jump fires at the same instant one hour later on the clock.
    """
    period = latest_period(schedule_weekday, schedule_time, tz, now)
    if last_sent_period is not None and _not_after(period, last_sent_period):
        return None
    return period


def schedule_due_period(schedule: DigestSchedule, now: datetime) -> str | None:
    """`due_period` for a stored schedule; None when the schedule is disabled.

    Raises ValueError when the stored time or timezone cannot be understood.
    """
    if not schedule.enabled:
        return None
    return due_period(
        schedule.weekday,
        parse_schedule_time(schedule.time),
        parse_timezone(schedule.timezone),
        now,
        schedule.last_sent_period,
    )


def parse_schedule_time(text: str) -> time:
    """'09:00' (or '9:00') to a time; ValueError with a readable message otherwise."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a time like 09:00")
    hour, minute = int(hours), int(minutes)
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time like 09:00")
    return time(hour, minute)


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA zone name to a ZoneInfo; ValueError with a readable message otherwise."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown IANA timezone {name!r}") from exc


# --- internals -------------------------------------------------------------------------


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _week_start(moment: datetime) -> date:
    day = moment.date()
    return day - timedelta(days=day.weekday())


def _first_week_start(now: datetime, weeks: int) -> date:
    if weeks < 1:
        raise ValueError("a weekly series has at least one week")
    return _week_start(now) - timedelta(weeks=weeks - 1)


def _occurrence_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on local `day` (compared in UTC: see `datetime` docs
    on same-tzinfo comparisons ignoring DST folds)."""
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz).astimezone(UTC)


def _not_after(period: str, last_sent_period: str) -> bool:
    """True when `period` is the one already sent or older (e.g. after a weekday change)."""
    try:
        return date.fromisoformat(period) <= date.fromisoformat(last_sent_period)
    except ValueError:
        return period == last_sent_period


def _score_window(store: Store, start: datetime, end: datetime) -> list[_Scored]:
    """One pass over the releases; downloads are looked up only for those in the window."""
    window = [r for r in store.releases.values() if start <= as_utc(r.first_seen) < end]
    # The members of the window's releases in one read, not one per member (a database).
    lookup = store.models.get_many(m.lower() for r in window for m in r.members).get
    scored: list[_Scored] = []
    for release in window:
        region = release.region or Region.OTHER
        seen = as_utc(release.first_seen)
        scored.append(_Scored(release, seen, region, release_downloads(release, lookup)))
    return scored


def _scoreboard_from(scored: Iterable[_Scored], start: datetime, end: datetime) -> Scoreboard:
    releases = dict.fromkeys(REGION_ORDER, 0)
    downloads = dict.fromkeys(REGION_ORDER, 0)
    top: dict[Region, _Scored] = {}
    countries: dict[str | None, list[int]] = {}
    for item in scored:
        releases[item.region] += 1
        downloads[item.region] += item.downloads
        current = top.get(item.region)
        if current is None or item.rank_key > current.rank_key:
            top[item.region] = item
        country = item.release.country.upper() if item.release.country else None
        tally = countries.setdefault(country, [0, 0])
        tally[0] += 1
        tally[1] += item.downloads

    total_releases = sum(releases.values())
    total_downloads = sum(downloads.values())
    regions = [
        RegionScore(
            region=region,
            releases=releases[region],
            downloads=downloads[region],
            release_share=_share(releases[region], total_releases),
            download_share=_share(downloads[region], total_downloads),
            top_release=top[region].release if region in top else None,
            top_release_downloads=top[region].downloads if region in top else 0,
        )
        for region in REGION_ORDER
    ]
    country_scores = sorted(
        (CountryScore(country, count, total) for country, (count, total) in countries.items()),
        key=lambda score: (
            -score.releases,
            -score.downloads,
            score.country is None,
            score.country or "",
        ),
    )
    return Scoreboard(
        start=start,
        end=end,
        regions=regions,
        countries=country_scores,
        total_releases=total_releases,
        total_downloads=total_downloads,
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _most_adopted(scored: Iterable[_Scored]) -> list[tuple[Release, int]]:
    """The most downloaded releases; releases nobody downloaded yet are not "adopted"."""
    adopted = sorted(
        (item for item in scored if item.downloads > 0),
        key=lambda item: item.rank_key,
        reverse=True,
    )
    return [(item.release, item.downloads) for item in adopted[:MOST_ADOPTED_LIMIT]]


def _weekly_from(scored: Iterable[_Scored], now: datetime, weeks: int) -> list[WeekPoint]:
    first = _first_week_start(now, weeks)
    starts = [first + timedelta(weeks=offset) for offset in range(weeks)]
    index = {week: position for position, week in enumerate(starts)}
    releases = [dict.fromkeys(REGION_ORDER, 0) for _ in starts]
    downloads = [dict.fromkeys(REGION_ORDER, 0) for _ in starts]
    for item in scored:
        if item.seen >= now:
            continue
        position = index.get(_week_start(item.seen))
        if position is None:
            continue
        releases[position][item.region] += 1
        downloads[position][item.region] += item.downloads
    return [
        WeekPoint(week_start=week, releases=releases[i], downloads=downloads[i])
        for i, week in enumerate(starts)
    ]
