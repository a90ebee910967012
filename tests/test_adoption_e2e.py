"""Adoption end to end: months of simulated days against the Hub and Slack stand-ins.

The bot's clock is a `FakeClock` moved a day at a time; the Hub stand-in's
`downloadsAllTime` of each release grows by a known amount a day, so every number the bot
posts is computed by hand in the test. Each simulated day runs what `serve`'s scheduler runs
(`poll_and_deliver` in `bot.schedule`): a poll, the adoption snapshot when due, a drain.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.radar.adoption_series import read
from bot.schedule import poll_and_deliver
from tests.conftest import track_only
from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import LOST_REPLY, SlackStandIn, find_broadcast_mentions
from tests.harness import FakeClock, RadarHarness, radar_command, shown_text

pytestmark = pytest.mark.e2e

GENERAL, QUIET = "C_GENERAL", "C_QUIET"
LABS = ("Qwen", "deepseek-ai", "mistralai")
# Three 10–50B launches: downloads since first seen grow by these amounts a day.
GROWTH = {
    "Qwen/Qwen9-32B": 1_000,
    "deepseek-ai/DeepSeek-X-30B": 3_000,
    "mistralai/Mistral-Y-24B": 500,
}


def start_bot(hub: HubStandIn, slack: SlackStandIn, db: Path, clock: FakeClock) -> RadarHarness:
    return RadarHarness(hub.url, slack.url, db, clock=clock).start()


def day(bot: RadarHarness) -> None:
    """What the scheduler's poll job does, once, and the deliver job right after it."""
    poll_and_deliver(bot.core, bot.radar)
    bot.drain()


def grow(hub: HubStandIn, age: int) -> None:
    for repo_id, per_day in GROWTH.items():
        hub.update(repo_id, downloadsAllTime=per_day * age, downloads=per_day * min(age, 30))


def follow_ups(slack: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    return [
        m
        for m in slack.messages(channel)
        if (m.get("metadata") or {}).get("event_type") == "radar_follow_up"
    ]


def thread_of(slack: SlackStandIn, channel: str, title_word: str) -> str:
    alerts = [
        m
        for m in slack.messages(channel)
        if m["thread_ts"] is None and title_word in shown_text(m)
    ]
    assert len(alerts) == 1, f"one alert for {title_word}"
    return alerts[0]["ts"]


@pytest.fixture
def world(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock: FakeClock
) -> Iterator[tuple[RadarHarness, Path]]:
    db = tmp_path / "radar.json"
    bot = start_bot(hub, slack, db, fake_clock)
    track_only(bot.core.registry, bot.core.store, LABS)
    hub.add_many(
        [m for m in fx.background(fake_clock.now, 12) if m["id"].split("/")[0] in LABS]
    )
    day(bot)  # the first poll records history silently, and the first snapshot
    assert slack.messages() == []
    holder = {"bot": bot}
    yield holder, db
    holder["bot"].stop()


# The day-30 crash is simulated by putting back a copy of the database file taken before
# the replies were recorded, so this scenario needs the TinyDB file; on PostgreSQL the same
# exactly-once path is covered by the lost-reply test at the end of this module.
@pytest.mark.tinydb_only
def test_follow_ups_at_day_7_30_90_exactly_once_across_restarts_and_an_outage(
    world, hub: HubStandIn, slack: SlackStandIn, fake_clock: FakeClock
) -> None:
    holder, db = world
    bot: RadarHarness = holder["bot"]
    radar_command(bot, slack, "subscribe")
    radar_command(bot, slack, "subscribe follow-ups:off", channel=QUIET)
    for repo_id in GROWTH:
        hub.add(
            fx.model_json(
                repo_id, created_at=fake_clock.now - timedelta(hours=1), params=30 * fx.B
            )
        )
    fake_clock.advance(minutes=5)
    day(bot)
    qwen_thread = thread_of(slack, GENERAL, "Qwen9")
    assert len([m for m in slack.messages(QUIET) if m["thread_ts"] is None]) == 3

    outage = {7, 8}  # no poll at all on days 7 and 8
    restarts = {20, 60}
    crash_after_post = 30  # the day-30 reply reaches Slack, but its `sent` is lost
    for age in range(1, 101):
        fake_clock.advance(days=1)
        grow(hub, age)
        if age in outage:
            continue
        if age in restarts:
            holder["bot"].stop()
            holder["bot"] = bot = start_bot(hub, slack, db, fake_clock)
        if age == crash_after_post:
            saved = db.with_suffix(".before")
            bot.core.snapshots.after_poll()  # queues the day-30 follow-ups, committed
            bot.core.store.commit()
            shutil.copy(db, saved)
            bot.drain()  # Slack takes the replies ...
            holder["bot"].stop()
            shutil.copy(saved, db)  # ... and the process dies before recording them
            holder["bot"] = bot = start_bot(hub, slack, db, fake_clock)
        day(bot)

    replies = follow_ups(slack, GENERAL)
    keys = sorted(m["metadata"]["event_payload"]["follow_up"] for m in replies)
    assert keys == sorted(f"{r}#d{d}" for r in _release_ids(bot) for d in (7, 30, 90))
    assert follow_ups(slack, QUIET) == [], "follow-ups:off keeps the channel's threads quiet"
    assert all(m["thread_ts"] is not None for m in replies), "thread replies only"

    qwen = [m for m in replies if m["thread_ts"] == qwen_thread]
    texts = [shown_text(m) for m in qwen]
    assert len(qwen) == 3
    # Day 7 fell in the outage: posted once, late, with its real age (day 9). Qwen has
    # 9 × 1,000 = 9k downloads since first seen; DeepSeek 27k, Mistral 4.5k: #2 of 3, and
    # the class median is Qwen's own 9k, so the score is 1.0.
    assert "*Day 9* (the day-7 follow-up, 2 days late" in texts[0]
    assert "9k downloads since first seen (1 repo)" in texts[0]
    assert "#2 of 3 10–50B releases the radar has seen at day 9" in texts[0]
    assert "adoption score 1.0" in texts[0]
    assert "*Day 30* · 30k downloads" in texts[1] and "#2 of 3" in texts[1]
    assert "*Day 90* · 90k downloads" in texts[2]
    deepseek = [m for m in replies if "DeepSeek" in m["text"]]
    # DeepSeek at day 30: 90k against the median 30k (Qwen): score 3.0, first of three
    assert any("#1 of 3" in shown_text(m) and "score 3.0" in shown_text(m) for m in deepseek)
    assert slack.violations == [] and find_broadcast_mentions(slack.messages()) == []

    # The curve: day 7 fell in the outage, so it is interpolated between days 6 and 9, and
    # marked; the others are real snapshots.
    curve = radar_command(bot, slack, "adoption Qwen/Qwen9-32B")
    assert "day 1: 1k · day 7: ~7k · day 14: 14k · day 30: 30k · day 60: 60k · day 90: 90k" in curve
    assert "#2 of 3 10–50B releases the radar has seen at day 100" in curve


def _release_ids(bot: RadarHarness) -> list[str]:
    """The three launches of the test (the bootstrap's history releases get no alert)."""
    releases = bot.core.store.releases.values()
    return [r.id for r in releases if any(member in GROWTH for member in r.members)]


# ----------------------------------------------------------- the race, stats, digest


RACE_MODELS = {  # 30-day downloads at the first snapshot, then a week later
    "Qwen/Qwen-Race-7B": (600_000, 900_000),
    "meta-llama/Llama-Race-8B": (300_000, 300_000),
    "mistralai/Mistral-Race-7B": (100_000, 100_000),
}


@pytest.fixture
def race_bot(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock: FakeClock
) -> Iterator[RadarHarness]:
    bot = start_bot(hub, slack, tmp_path / "radar.json", fake_clock)
    track_only(bot.core.registry, bot.core.store, ("Qwen", "meta-llama", "mistralai"))
    for repo_id, (first, _later) in RACE_MODELS.items():
        model = fx.model_json(
            repo_id, created_at=fake_clock.now - timedelta(days=200), params=7 * fx.B
        )
        model.update(downloads=first, downloadsAllTime=first * 10)
        hub.add(model)
    try:
        yield bot
    finally:
        bot.stop()


def test_the_first_poll_already_shows_the_race_in_stats(
    race_bot: RadarHarness, slack: SlackStandIn
) -> None:
    assert "No download snapshot yet" in radar_command(race_bot, slack, "stats")
    day(race_bot)  # the first poll: history only, and the day's snapshot
    text = radar_command(race_bot, slack, "stats")
    # 600k + 300k + 100k = 1M: China 60%, US 30%, EU 10%; no week-old snapshot yet
    assert "*China*: 600k downloads (60%) · new on last week" in text
    assert "*United States*: 300k downloads (30%)" in text
    assert "*Europe*: 100k downloads (10%)" in text
    assert "3 tracked labs" in text


def test_the_digest_race_with_known_numbers_and_a_share_chart(
    race_bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn, fake_clock: FakeClock
) -> None:
    day(race_bot)
    for age in range(1, 8):
        fake_clock.advance(days=1)
        if age == 7:
            for repo_id, (_first, later) in RACE_MODELS.items():
                hub.update(repo_id, downloads=later)
        day(race_bot)
    result = race_bot.radar.digests.post("C_DIGEST")
    assert result.ok
    message = [m for m in slack.messages("C_DIGEST") if m["thread_ts"] is None][-1]
    text = shown_text(message)
    # China 900k of 1.3M = 69%, up 50% from 600k; US 300k = 23%, unchanged; EU 8%
    assert "*China*: 900k downloads (69%) · +50% on last week" in text
    assert "*United States*: 300k downloads (23%) · +0% on last week" in text
    assert "*Europe*: 100k downloads (8%)" in text
    assert slack.uploads, "the chart (with the share panel) follows the digest"
    assert slack.violations == []


def test_radar_adoption_answers_regions_labs_releases_and_typos(
    race_bot: RadarHarness, slack: SlackStandIn
) -> None:
    day(race_bot)
    assert "China*: 600k downloads (60%)" in radar_command(race_bot, slack, "adoption")
    assert "China*: 600k" in radar_command(race_bot, slack, "adoption region")
    lab = radar_command(race_bot, slack, "adoption qwen")
    assert "Qwen" in lab and "600k downloads in the last 30 days" in lab
    typo = radar_command(race_bot, slack, "adoption qwenn-nothing-like-it")
    assert "I know no release, model or lab" in typo and "adoption region" in typo


def test_a_hub_outage_leaves_a_marked_gap_and_the_lab_listings_are_retried(
    race_bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn, fake_clock: FakeClock
) -> None:
    day(race_bot)
    snapshots = race_bot.core.snapshots
    for age in (1, 2):
        fake_clock.advance(days=1)
        hub.update("Qwen/Qwen-Race-7B", downloads=600_000 + 100_000 * age)
        if age == 1:
            hub.set_failure_rate(1.0)  # every Hub request fails on day 1 (after retries)
            report = snapshots.after_poll()
            assert report.lab_points == 0 and report.errors
            assert snapshots.due(), "a day whose listings all failed is tried again"
            hub.clear_faults()
            continue
        day(race_bot)
        assert not snapshots.due()
    qwen = race_bot.core.store.adoption.get("lab:qwen")
    assert qwen is not None
    start = qwen.days[0]
    assert qwen.days == [start, start + 2], "day 1 is a gap, not a stored guess"
    # the race of day 1, read back, is interpolated between day 0 (600k) and day 2 (800k)
    gap = read(qwen.days, qwen.recent, start + 1)
    assert gap is not None and gap.value == 700_000 and gap.interpolated


def test_a_follow_up_whose_reply_was_lost_is_found_in_the_thread_not_posted_again(
    world, hub: HubStandIn, slack: SlackStandIn, fake_clock: FakeClock
) -> None:
    holder, _db = world
    bot: RadarHarness = holder["bot"]
    radar_command(bot, slack, "subscribe org:Qwen")
    repo_id = "Qwen/Qwen9-32B"
    launched = fake_clock.now - timedelta(hours=1)
    hub.add(fx.model_json(repo_id, created_at=launched, params=32 * fx.B))
    fake_clock.advance(minutes=5)
    day(bot)
    thread = thread_of(slack, GENERAL, "Qwen9")
    for age in range(1, 8):
        fake_clock.advance(days=1)
        hub.update(repo_id, downloadsAllTime=1_000 * age)
        if age == 7:
            # Slack takes the day-7 reply, but the answer never reaches the bot
            slack.inject(LOST_REPLY, "chat.postMessage")
        day(bot)
    assert ("chat.postMessage", "injected:lost-reply") in slack.outcomes
    assert slack.calls_to("conversations.replies"), "the bot looked in the thread"
    replies = [m for m in follow_ups(slack, GENERAL) if m["thread_ts"] == thread]
    assert len(replies) == 1, "adopted from the thread, not posted twice"
    assert "*Day 7* · 7k downloads since first seen" in shown_text(replies[0])
    rows = [r for r in bot.core.store.deliveries.values() if r.follow_up_day == 7]
    assert [(r.status, r.ts) for r in rows] == [("sent", replies[0]["ts"])]
