"""The digest and scoreboard numbers a reader sees, and when a scheduled digest is due."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.radar.digest import (
    REGION_ORDER,
    build_digest,
    due_period,
    latest_period,
    parse_schedule_time,
    release_downloads,
    schedule_due_period,
    scoreboard,
    weekly_series,
)
from bot.radar.models import DigestSchedule, ModelRecord, Region, Release
from bot.store.memory import MemoryStore

NOW = datetime(2025, 6, 18, 12, 0, tzinfo=UTC)  # a Wednesday
REGION_OF = {"US": Region.US, "CN": Region.CHINA, "FR": Region.EU}


def add_release(
    store: MemoryStore,
    release_id: str,
    *,
    lab: str,
    country: str | None,
    seen: datetime,
    members: dict[str, int],
    breakout: bool = False,
) -> Release:
    """A release plus its member models (downloads per repo id) in the store."""
    for repo_id, downloads in members.items():
        if downloads >= 0:  # a negative count means: member the store never fetched
            store.models.put(
                ModelRecord(
                    id=repo_id,
                    author=repo_id.split("/")[0],
                    first_seen=seen,
                    downloads=downloads,
                    notable=True,
                    release_id=release_id,
                )
            )
    release = Release(
        id=release_id,
        lab=lab,
        lab_name=lab.title(),
        country=country,
        region=REGION_OF.get(country or ""),
        title=release_id,
        stem=release_id,
        members=list(members),
        first_seen=seen,
        updated_at=seen,
        breakout=breakout,
    )
    store.releases.put(release)
    return release


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    # In the 7-day period [Jun 11 12:00, Jun 18 12:00).
    add_release(
        store,
        "llama-x",
        lab="meta-llama",
        country="US",
        seen=datetime(2025, 6, 12, 9, tzinfo=UTC),
        members={"meta-llama/Llama-X-8B": 1_000, "meta-llama/Llama-X-70B": 3_000},
    )
    add_release(
        store,
        "gemma-x",
        lab="google",
        country="US",
        seen=datetime(2025, 6, 14, 9, tzinfo=UTC),
        members={"google/gemma-x": 500},
    )
    add_release(
        store,
        "qwen4",
        lab="Qwen",
        country="CN",
        seen=datetime(2025, 6, 13, 9, tzinfo=UTC),
        members={"Qwen/Qwen4-7B": 6_000, "Qwen/Qwen4-72B": 2_000},
    )
    add_release(
        store,
        "kimi-k3",
        lab="moonshotai",
        country="CN",
        seen=datetime(2025, 6, 16, 0, 0, tzinfo=UTC),  # exactly Monday 00:00 UTC
        members={"moonshotai/Kimi-K3": 500},
    )
    add_release(
        store,
        "deepseek-v4",
        lab="deepseek-ai",
        country="CN",
        seen=datetime(2025, 6, 17, 9, tzinfo=UTC),
        members={"deepseek-ai/DeepSeek-V4": 1_500},
    )
    add_release(
        store,
        "cool-model",
        lab="someone",
        country=None,  # breakout from an unknown country
        seen=datetime(2025, 6, 15, 23, 59, 59, tzinfo=UTC),  # last second of a week
        members={"someone/cool-model": 1_000, "someone/cool-model-gguf": -1},
        breakout=True,
    )
    # Outside the period but inside the 30-day adoption window and the 12 weeks.
    add_release(
        store,
        "mistral-next",
        lab="mistralai",
        country="FR",
        seen=datetime(2025, 6, 1, 10, tzinfo=UTC),
        members={"mistralai/Mistral-Next": 20_000},
    )
    # Outside 30 days, inside the 12 weeks (first week starts Monday Mar 31).
    add_release(
        store,
        "old-llama",
        lab="meta-llama",
        country="US",
        seen=datetime(2025, 4, 1, 10, tzinfo=UTC),
        members={"meta-llama/Old-Llama": 90_000},
    )
    # Before the 12 weeks, and after "now": counted nowhere.
    add_release(
        store,
        "ancient",
        lab="google",
        country="US",
        seen=datetime(2025, 3, 30, 23, tzinfo=UTC),
        members={"google/ancient": 7},
    )
    add_release(
        store,
        "future",
        lab="Qwen",
        country="CN",
        seen=NOW + timedelta(seconds=1),
        members={"Qwen/future": 99},
    )
    return store


def test_release_downloads_sums_members_case_insensitively_and_skips_unknown(
    store: MemoryStore,
) -> None:
    qwen = store.releases.get("qwen4")
    breakout = store.releases.get("cool-model")
    assert qwen is not None and breakout is not None
    assert release_downloads(qwen, store.models.get) == 8_000
    assert release_downloads(breakout, store.models.get) == 1_000
    doubled = qwen.model_copy(update={"members": [*qwen.members, "qwen/qwen4-7b"]})
    assert release_downloads(doubled, store.models.get) == 8_000


def test_scoreboard_counts_downloads_shares_tops_and_leader(store: MemoryStore) -> None:
    board = scoreboard(store, start=NOW - timedelta(days=7), end=NOW)

    assert [score.region for score in board.regions] == list(REGION_ORDER)
    by_region = {score.region: score for score in board.regions}
    assert {r: s.releases for r, s in by_region.items()} == {
        Region.US: 2,
        Region.CHINA: 3,
        Region.EU: 0,
        Region.OTHER: 1,
    }
    assert {r: s.downloads for r, s in by_region.items()} == {
        Region.US: 4_500,
        Region.CHINA: 10_000,
        Region.EU: 0,
        Region.OTHER: 1_000,
    }
    assert board.total_releases == 6
    assert board.total_downloads == 15_500
    assert by_region[Region.CHINA].release_share == pytest.approx(0.5)
    assert by_region[Region.US].download_share == pytest.approx(4_500 / 15_500)
    assert sum(s.release_share for s in board.regions) == pytest.approx(1.0)
    assert sum(s.download_share for s in board.regions) == pytest.approx(1.0)

    assert by_region[Region.US].top_release is not None
    assert by_region[Region.US].top_release.id == "llama-x"
    assert by_region[Region.US].top_release_downloads == 4_000
    assert by_region[Region.CHINA].top_release is not None
    assert by_region[Region.CHINA].top_release.id == "qwen4"
    assert by_region[Region.OTHER].top_release is not None
    assert by_region[Region.OTHER].top_release.id == "cool-model"
    assert by_region[Region.EU].top_release is None
    assert by_region[Region.EU].top_release_downloads == 0
    assert board.region(Region.EU).release_share == 0.0

    assert board.leader is Region.CHINA
    assert [(c.country, c.releases, c.downloads) for c in board.countries] == [
        ("CN", 3, 10_000),
        ("US", 2, 4_500),
        (None, 1, 1_000),
    ]


def test_scoreboard_30_days_brings_in_europe(store: MemoryStore) -> None:
    board = scoreboard(store, start=NOW - timedelta(days=30), end=NOW)
    assert board.region(Region.EU).releases == 1
    assert board.region(Region.EU).downloads == 20_000
    assert board.total_releases == 7


def test_scoreboard_has_no_leader_on_a_tie_or_an_empty_window() -> None:
    store = MemoryStore()
    seen = NOW - timedelta(days=1)
    add_release(store, "a", lab="a", country="US", seen=seen, members={"a/a": 10})
    add_release(store, "b", lab="b", country="CN", seen=seen, members={"b/b": 99})
    tied = scoreboard(store, start=NOW - timedelta(days=7), end=NOW)
    assert tied.leader is None
    assert tied.total_releases == 2

    empty = scoreboard(MemoryStore(), start=NOW - timedelta(days=7), end=NOW)
    assert empty.leader is None
    assert empty.total_releases == 0
    assert [s.releases for s in empty.regions] == [0, 0, 0, 0]
    assert [s.release_share for s in empty.regions] == [0.0, 0.0, 0.0, 0.0]
    assert empty.countries == []


def test_scoreboard_rejects_a_backwards_window(store: MemoryStore) -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        scoreboard(store, start=NOW, end=NOW - timedelta(days=1))


def test_digest_lists_period_releases_newest_first_by_region(store: MemoryStore) -> None:
    digest = build_digest(store, now=NOW)

    assert digest.period_start == NOW - timedelta(days=7)
    assert digest.period_end == NOW
    assert not digest.quiet
    ids = {region: [r.id for r in items] for region, items in digest.releases_by_region.items()}
    assert ids == {
        Region.US: ["gemma-x", "llama-x"],
        Region.CHINA: ["deepseek-v4", "kimi-k3", "qwen4"],
        Region.EU: [],
        Region.OTHER: ["cool-model"],
    }
    assert digest.scoreboard.total_releases == 6
    assert digest.scoreboard.leader is Region.CHINA


def test_most_adopted_is_the_top_five_of_thirty_days(store: MemoryStore) -> None:
    digest = build_digest(store, now=NOW)
    assert [(release.id, downloads) for release, downloads in digest.most_adopted] == [
        ("mistral-next", 20_000),
        ("qwen4", 8_000),
        ("llama-x", 4_000),
        ("deepseek-v4", 1_500),
        ("cool-model", 1_000),
    ]


def test_weekly_series_buckets_on_monday_utc_boundaries(store: MemoryStore) -> None:
    weekly = build_digest(store, now=NOW).weekly
    assert weekly == weekly_series(store, now=NOW)

    assert len(weekly) == 12
    assert weekly[0].week_start == date(2025, 3, 31)
    assert weekly[-1].week_start == date(2025, 6, 16)
    assert all(point.week_start.weekday() == 0 for point in weekly)
    by_week = {point.week_start: point for point in weekly}

    this_week = by_week[date(2025, 6, 16)]  # Kimi at Monday 00:00 and DeepSeek; not "future"
    assert this_week.releases == {Region.US: 0, Region.CHINA: 2, Region.EU: 0, Region.OTHER: 0}
    assert this_week.downloads[Region.CHINA] == 2_000

    last_week = by_week[date(2025, 6, 9)]  # includes the breakout at Sunday 23:59:59
    assert last_week.releases == {Region.US: 2, Region.CHINA: 1, Region.EU: 0, Region.OTHER: 1}
    assert last_week.downloads == {
        Region.US: 4_500,
        Region.CHINA: 8_000,
        Region.EU: 0,
        Region.OTHER: 1_000,
    }
    assert by_week[date(2025, 5, 26)].releases[Region.EU] == 1  # Sunday Jun 1
    assert by_week[date(2025, 3, 31)].releases[Region.US] == 1  # old-llama, not "ancient"
    assert sum(sum(point.releases.values()) for point in weekly) == 8
    assert by_week[date(2025, 4, 7)].releases == dict.fromkeys(REGION_ORDER, 0)


def test_weekly_series_length_follows_weeks_argument(store: MemoryStore) -> None:
    weekly = weekly_series(store, now=NOW, weeks=2)
    assert [point.week_start for point in weekly] == [date(2025, 6, 9), date(2025, 6, 16)]
    with pytest.raises(ValueError):
        weekly_series(store, now=NOW, weeks=0)


def test_quiet_week_still_has_scoreboard_and_chart_series(store: MemoryStore) -> None:
    later = datetime(2025, 7, 30, 12, tzinfo=UTC)
    digest = build_digest(store, now=later)
    assert digest.quiet
    assert digest.releases_by_region == {region: [] for region in REGION_ORDER}
    assert digest.scoreboard.total_releases == 0
    assert digest.scoreboard.leader is None
    assert len(digest.weekly) == 12
    assert [release.id for release, _ in digest.most_adopted] == []


def test_digest_of_a_large_store_counts_only_the_week() -> None:
    """Correctness at production size; its speed is measured in bench/store_scale.py."""
    store = MemoryStore()
    countries = ["US", "CN", "FR", None]
    for number in range(3_000):
        seen = NOW - timedelta(hours=number * 0.8 + 0.1)
        members = {f"lab{number % 50}/model-{number}-{size}": number * size for size in range(10)}
        add_release(
            store,
            f"r{number}",
            lab=f"lab{number % 50}",
            country=countries[number % 4],
            seen=seen,
            members=members,
        )
    assert len(store.models) == 30_000

    digest = build_digest(store, now=NOW)

    assert digest.scoreboard.total_releases == 210  # 7 days of one release per 48 minutes
    assert len(digest.most_adopted) == 5


# --- when is a digest due -----------------------------------------------------------------

MONDAY_9 = time(9, 0)
UTC_ZONE = ZoneInfo("UTC")


def test_not_due_before_the_first_occurrence_once_seeded() -> None:
    created = datetime(2025, 6, 11, 15, tzinfo=UTC)  # schedule made on a Wednesday
    seeded = latest_period(0, MONDAY_9, UTC_ZONE, created)
    assert seeded == "2025-06-09"
    before = datetime(2025, 6, 16, 8, 59, 59, tzinfo=UTC)
    assert due_period(0, MONDAY_9, UTC_ZONE, before, seeded) is None


def test_due_exactly_at_the_occurrence_and_after_it() -> None:
    at = datetime(2025, 6, 16, 9, 0, tzinfo=UTC)
    assert due_period(0, MONDAY_9, UTC_ZONE, at, "2025-06-09") == "2025-06-16"
    after = datetime(2025, 6, 18, 22, 0, tzinfo=UTC)
    assert due_period(0, MONDAY_9, UTC_ZONE, after, "2025-06-09") == "2025-06-16"


def test_never_sent_schedule_sends_the_latest_occurrence() -> None:
    now = datetime(2025, 6, 18, 22, 0, tzinfo=UTC)
    assert due_period(0, MONDAY_9, UTC_ZONE, now, None) == "2025-06-16"


def test_not_due_when_already_sent() -> None:
    now = datetime(2025, 6, 17, 9, 0, tzinfo=UTC)
    assert due_period(0, MONDAY_9, UTC_ZONE, now, "2025-06-16") is None


def test_several_missed_weeks_send_only_the_latest_once() -> None:
    now = datetime(2025, 6, 18, 12, 0, tzinfo=UTC)  # bot down since early May
    period = due_period(0, MONDAY_9, UTC_ZONE, now, "2025-05-05")
    assert period == "2025-06-16"
    assert due_period(0, MONDAY_9, UTC_ZONE, now + timedelta(minutes=5), period) is None


def test_weekday_change_does_not_resend_an_older_period() -> None:
    # Sent Monday Jun 16, then moved to Fridays: Friday Jun 13 is older, nothing is due.
    now = datetime(2025, 6, 17, 10, 0, tzinfo=UTC)
    assert due_period(4, MONDAY_9, UTC_ZONE, now, "2025-06-16") is None
    assert due_period(4, MONDAY_9, UTC_ZONE, datetime(2025, 6, 20, 9, tzinfo=UTC), "2025-06-16")


def test_tokyo_period_is_the_local_date() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")  # UTC+9: Monday 09:00 local is Monday 00:00 UTC
    assert (
        due_period(0, MONDAY_9, tokyo, datetime(2025, 6, 15, 23, 59, tzinfo=UTC), "2025-06-09")
        is None
    )
    assert (
        due_period(0, MONDAY_9, tokyo, datetime(2025, 6, 16, 0, 0, tzinfo=UTC), "2025-06-09")
        == "2025-06-16"
    )
    # Monday 06:00 in Tokyo is still Sunday in UTC; the period is Tokyo's Monday.
    early = time(6, 0)
    assert (
        due_period(0, early, tokyo, datetime(2025, 6, 15, 21, 0, tzinfo=UTC), None) == "2025-06-16"
    )


def test_new_york_follows_daylight_saving_time() -> None:
    new_york = ZoneInfo("America/New_York")
    # Winter: Monday Mar 3 09:00 EST is 14:00 UTC.
    assert (
        due_period(0, MONDAY_9, new_york, datetime(2025, 3, 3, 13, 59, tzinfo=UTC), "2025-02-24")
        is None
    )
    assert (
        due_period(0, MONDAY_9, new_york, datetime(2025, 3, 3, 14, 0, tzinfo=UTC), "2025-02-24")
        == "2025-03-03"
    )
    # DST began Sunday Mar 9: Monday Mar 10 09:00 EDT is 13:00 UTC.
    assert (
        due_period(0, MONDAY_9, new_york, datetime(2025, 3, 10, 12, 59, tzinfo=UTC), "2025-03-03")
        is None
    )
    assert (
        due_period(0, MONDAY_9, new_york, datetime(2025, 3, 10, 13, 0, tzinfo=UTC), "2025-03-03")
        == "2025-03-10"
    )
    # DST ended Sunday Nov 2: Monday Nov 3 09:00 EST is 14:00 UTC again.
    assert (
        due_period(0, MONDAY_9, new_york, datetime(2025, 11, 3, 13, 30, tzinfo=UTC), "2025-10-27")
        is None
    )
    # A local time skipped by the spring jump (Sunday 02:30) fires at 07:30 UTC (03:30 EDT).
    skipped = time(2, 30)
    assert (
        due_period(6, skipped, new_york, datetime(2025, 3, 9, 7, 29, tzinfo=UTC), "2025-03-02")
        is None
    )
    assert (
        due_period(6, skipped, new_york, datetime(2025, 3, 9, 7, 30, tzinfo=UTC), "2025-03-02")
        == "2025-03-09"
    )


def test_stored_schedule_is_parsed_and_disabled_schedules_never_fire() -> None:
    schedule = DigestSchedule(
        channel_id="C1", weekday=0, time="9:00", timezone="Europe/Paris", last_sent_period=None
    )
    # Paris is UTC+2 in June: Monday 09:00 local is 07:00 UTC.
    assert schedule_due_period(schedule, datetime(2025, 6, 16, 6, 59, tzinfo=UTC)) == "2025-06-09"
    sent = schedule.model_copy(update={"last_sent_period": "2025-06-09"})
    assert schedule_due_period(sent, datetime(2025, 6, 16, 6, 59, tzinfo=UTC)) is None
    assert schedule_due_period(sent, datetime(2025, 6, 16, 7, 0, tzinfo=UTC)) == "2025-06-16"
    disabled = sent.model_copy(update={"enabled": False})
    assert schedule_due_period(disabled, datetime(2025, 6, 16, 7, 0, tzinfo=UTC)) is None


@pytest.mark.parametrize("text", ["25:00", "9", "09:5", "nine", "09:60"])
def test_bad_schedule_times_are_reported(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time like 09:00"):
        parse_schedule_time(text)


def test_bad_timezone_is_reported() -> None:
    schedule = DigestSchedule(channel_id="C1", timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="unknown IANA timezone"):
        schedule_due_period(schedule, NOW)
