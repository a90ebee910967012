"""Weekly digests end to end: the real bot, the Hub stand-in and the Slack stand-in over HTTP.

The fake clock starts on Monday 2026-11-23 at 08:00 UTC, an hour before the default digest
time. Tests move it to the minutes that matter and run the digest job the way the scheduler
does (`send_digests()`), then assert on what the channel shows: how many digests, what they
say, and the chart image that follows each one.

Slack's clock is tied to the bot's fake clock, as the two real clocks agree in production,
so the poster's history lookups by time see the digests the stand-in recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import LOST_REPLY, SlackStandIn, find_broadcast_mentions
from tests.harness import FakeClock, RadarHarness, radar_command, shown_text
from tests.pg import reopen

pytestmark = pytest.mark.e2e

GENERAL = "C_GENERAL"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def at(text: str) -> datetime:
    """A UTC moment written like '2026-11-23 09:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def fake_clock() -> FakeClock:
    clock = FakeClock()
    assert clock.now == at("2026-11-23 08:00") and clock.now.weekday() == 0
    return clock


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "radar.json"


@contextmanager
def running_bot(
    hub: HubStandIn,
    slack: SlackStandIn,
    db_path: Path,
    clock: FakeClock,
    *,
    bootstrap: bool = True,
    **settings: object,
) -> Iterator[RadarHarness]:
    with RadarHarness(hub.url, slack.url, db_path, clock=clock, **settings) as radar:
        if bootstrap:
            hub.add_many(fx.background(clock.now, 10))
            radar.poll_and_deliver()
        yield radar


@pytest.fixture
def bot(
    hub: HubStandIn, slack: SlackStandIn, db_path: Path, fake_clock: FakeClock
) -> Iterator[RadarHarness]:
    """A running bot that has recorded the Hub's history (older than a week) silently."""
    with running_bot(hub, slack, db_path, fake_clock) as radar:
        yield radar


# ------------------------------------------------------------------------------ helpers


def digests(slack: SlackStandIn, channel: str = GENERAL) -> list[dict[str, Any]]:
    return [
        m
        for m in slack.messages(channel)
        if (m.get("metadata") or {}).get("event_type") == "radar_digest"
    ]


def charts(slack: SlackStandIn, channel: str = GENERAL) -> list[dict[str, Any]]:
    return [upload for upload in slack.uploads if upload["channel"] == channel]


def run_digest_job_at(bot: RadarHarness, moment: datetime) -> list:
    bot.clock.now = moment
    return bot.send_digests()


def week_of_releases(hub: HubStandIn, bot: RadarHarness) -> None:
    """A Chinese family launch, a US and a European release, all found by one poll."""
    now = bot.clock.now
    hub.add_many(fx.family_launch(now))  # 13 repos, 83k downloads in all
    hub.add(
        fx.model_json(
            "openai/gpt-oss-2-200b",
            created_at=now - timedelta(hours=2),
            params=200 * fx.B,
            downloads=50_000,
            likes=900,
        )
    )
    hub.add(
        fx.model_json(
            "mistralai/Mistral-Medium-4-Instruct",
            created_at=now - timedelta(hours=2),
            params=70 * fx.B,
            downloads=9_000,
            likes=100,
        )
    )
    bot.clock.advance(minutes=5)
    bot.poll_and_deliver()


# ------------------------------------------------------------------------------- tests


def test_a_subscribed_channel_gets_the_weekly_digest_monday_at_nine_with_its_chart(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    answer = radar_command(bot, slack, "subscribe")
    assert "A weekly digest comes with it (Monday 09:00 by default)" in answer
    week_of_releases(hub, bot)
    assert len(slack.messages(GENERAL)) == 3, "three alerts during the week"

    assert run_digest_job_at(bot, at("2026-11-23 08:59")) == []
    assert digests(slack) == []
    [result] = run_digest_job_at(bot, at("2026-11-23 09:00"))
    assert result.ok

    [digest] = digests(slack)
    text = shown_text(digest)
    assert digest["text"] == (
        "Open Model Radar weekly digest 2026-11-16 – 2026-11-23: 3 notable releases."
    )
    assert digest["blocks"][0]["text"]["text"] == (
        "Open Model Radar · week of 2026-11-16 – 2026-11-23"
    )
    assert "🇺🇸 *United States* (1)\n🇺🇸 *OpenAI* · gpt-oss-2 (1 repo)" in text
    assert "🇨🇳 *China* (1)\n🇨🇳 *Qwen* · Qwen3.7 (13 repos)" in text
    assert "🇪🇺 *Europe* (1)\n🇫🇷 *Mistral AI* · Mistral" in text
    assert "*Scoreboard this week*" in text
    assert "🇺🇸 *United States*\n1 release (33%) · 50k downloads (35%)" in text
    assert "🇨🇳 *China*\n1 release (33%) · 83k downloads (58%)" in text
    assert "🇪🇺 *Europe*\n1 release (33%) · 9k downloads (6%)" in text
    assert "🌐 *Rest of the world*\n0 releases (0%) · 0 downloads (0%)" in text
    assert "*Most adopted, last 30 days*\n1. 🇨🇳 Qwen · Qwen3.7: 83k downloads" in text
    assert "\n2. 🇺🇸 OpenAI · gpt-oss-2: 50k downloads" in text
    assert digest["unfurl_links"] is False

    [chart] = charts(slack)
    assert chart["data"].startswith(PNG_MAGIC) and len(chart["data"]) > 1000
    assert chart["title"] == "Releases and downloads by region, last 12 weeks"
    assert chart["filename"] == "open-model-radar-2026-11-23.png"
    assert slack.calls_to("files.completeUploadExternal"), "uploaded with files_upload_v2"

    for later in ("2026-11-23 09:01", "2026-11-23 17:00", "2026-11-29 23:59"):
        assert run_digest_job_at(bot, at(later)) == []
    assert len(digests(slack)) == 1, "one digest a week, however often the job runs"
    [next_week] = run_digest_job_at(bot, at("2026-11-30 09:00"))
    assert next_week.ok and len(digests(slack)) == 2 and len(charts(slack)) == 2
    assert slack.violations == [] and find_broadcast_mentions(slack.messages()) == []


def test_the_default_digest_time_is_in_the_radar_timezone(
    hub: HubStandIn, slack: SlackStandIn, db_path: Path, fake_clock: FakeClock
) -> None:
    with running_bot(hub, slack, db_path, fake_clock, radar_timezone="America/New_York") as bot:
        radar_command(bot, slack, "subscribe")
        assert "Mondays at 09:00 (America/New_York)" in radar_command(bot, slack, "subscriptions")
        assert run_digest_job_at(bot, at("2026-11-23 09:00")) == []  # 04:00 in New York
        assert run_digest_job_at(bot, at("2026-11-23 13:59")) == []
        [result] = run_digest_job_at(bot, at("2026-11-23 14:00"))  # 09:00 EST
        assert result.ok and len(digests(slack)) == 1


def test_a_quiet_week_gets_a_short_note_not_silence(slack: SlackStandIn, bot: RadarHarness) -> None:
    radar_command(bot, slack, "subscribe")
    [result] = run_digest_job_at(bot, at("2026-11-23 09:00"))
    assert result.ok

    [digest] = digests(slack)
    assert digest["text"].endswith(": a quiet week.")
    assert "A quiet week: no notable open-weight releases." in shown_text(digest)
    assert "*Scoreboard this week* · No notable releases in this window." in shown_text(digest)
    assert len(charts(slack)) == 1


def test_a_digest_missed_while_the_bot_was_down_is_sent_once_not_once_a_week(
    hub: HubStandIn, slack: SlackStandIn, db_path: Path, fake_clock: FakeClock
) -> None:
    with running_bot(hub, slack, db_path, fake_clock) as bot:
        radar_command(bot, slack, "subscribe")
    fake_clock.advance(weeks=3, hours=2)  # down over three Monday mornings

    with running_bot(hub, slack, db_path, fake_clock, bootstrap=False) as bot:
        [result] = bot.send_digests()
        assert result.ok
        assert bot.send_digests() == []
        bot.clock.advance(minutes=1)
        assert bot.send_digests() == []

    [digest] = digests(slack)
    assert digest["metadata"]["event_payload"]["period"] == "2026-12-14"
    assert "week of 2026-12-07 – 2026-12-14" in shown_text(digest)
    assert len(charts(slack)) == 1


def test_a_digest_scheduled_in_tokyo_fires_at_tokyo_time_once(
    slack: SlackStandIn, bot: RadarHarness
) -> None:
    radar_command(bot, slack, "subscribe")
    answer = radar_command(bot, slack, "digest weekly fri 17:30 Asia/Tokyo")
    assert "Weekly digest set: every Friday at 17:30 (Asia/Tokyo)." in answer

    assert run_digest_job_at(bot, at("2026-11-23 09:00")) == [], "Monday is no longer the day"
    assert run_digest_job_at(bot, at("2026-11-27 08:29")) == []  # Friday 17:29 in Tokyo
    [result] = run_digest_job_at(bot, at("2026-11-27 08:30"))  # Friday 17:30 in Tokyo
    assert result.ok
    assert run_digest_job_at(bot, at("2026-11-27 08:31")) == []
    assert run_digest_job_at(bot, at("2026-11-28 08:30")) == []

    [digest] = digests(slack)
    assert digest["metadata"]["event_payload"]["period"] == "2026-11-27"


def test_digest_off_stops_digests_but_not_alerts(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    radar_command(bot, slack, "subscribe")
    answer = radar_command(bot, slack, "digest off")
    assert "Weekly digests are off for this channel. Alerts are unaffected." in answer
    assert "*Weekly digest*\noff" in radar_command(bot, slack, "subscriptions")

    for monday in ("2026-11-23 09:00", "2026-11-30 09:00", "2026-12-07 09:00"):
        assert run_digest_job_at(bot, at(monday)) == []
    assert digests(slack) == [] and charts(slack) == []

    hub.add(
        fx.model_json(
            "openai/gpt-oss-2-200b",
            created_at=bot.clock.now - timedelta(hours=1),
            params=200 * fx.B,
            likes=900,
        )
    )
    bot.clock.advance(minutes=5)
    bot.poll_and_deliver()
    [alert] = slack.messages(GENERAL)
    assert "New open-weight release from OpenAI" in alert["text"]


def test_a_crash_after_posting_a_digest_does_not_post_it_twice(
    hub: HubStandIn, slack: SlackStandIn, db_path: Path, fake_clock: FakeClock
) -> None:
    with running_bot(hub, slack, db_path, fake_clock) as bot:
        radar_command(bot, slack, "subscribe")
        [result] = run_digest_job_at(bot, at("2026-11-23 09:00"))
        assert result.ok

    # What a crash between chat.postMessage and recording the period leaves behind.
    store = reopen(db_path)
    schedule = store.digests.get(GENERAL)
    assert schedule is not None and schedule.last_sent_period == "2026-11-23"
    store.digests.put(schedule.model_copy(update={"last_sent_period": "2026-11-16"}))
    store.commit()
    store.close()

    fake_clock.advance(minutes=1)
    with running_bot(hub, slack, db_path, fake_clock, bootstrap=False) as bot:
        [again] = bot.send_digests()
        assert again.ok and again.already_posted
        assert bot.send_digests() == []
    assert len(digests(slack)) == 1
    assert len(charts(slack)) == 1


def test_a_digest_whose_reply_is_lost_is_found_in_the_channel_not_posted_again(
    slack: SlackStandIn, bot: RadarHarness
) -> None:
    radar_command(bot, slack, "subscribe")
    slack.inject(LOST_REPLY, method="chat.postMessage")

    [lost] = run_digest_job_at(bot, at("2026-11-23 09:00"))
    assert not lost.ok, "the bot cannot know the digest arrived"
    bot.clock.advance(minutes=1)
    [again] = bot.send_digests()

    assert again.ok and again.already_posted
    assert len(digests(slack)) == 1
    assert bot.send_digests() == []


def test_digests_join_public_channels_and_give_up_for_the_week_on_dead_ones(
    slack: SlackStandIn, bot: RadarHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.digests")
    slack.not_member.add("C_PUBLIC")
    slack.missing_channels.add("C_GONE")
    slack.private_channels.add("C_SECRET")
    slack.not_member.add("C_SECRET")
    for channel in ("C_PUBLIC", "C_GONE", "C_SECRET"):
        radar_command(bot, slack, "subscribe", channel=channel)

    results = {r.channel_id: r for r in run_digest_job_at(bot, at("2026-11-23 09:00"))}
    assert results["C_PUBLIC"].ok and len(digests(slack, "C_PUBLIC")) == 1
    assert results["C_GONE"].error == "channel_not_found"
    assert not results["C_SECRET"].ok
    failures = [r.getMessage() for r in caplog.records if "digest to" in r.getMessage()]
    assert any("C_GONE" in line for line in failures)
    assert any("C_SECRET" in line for line in failures)

    attempts = len(slack.calls_to("chat.postMessage"))
    assert run_digest_job_at(bot, at("2026-11-23 09:01")) == []
    assert len(slack.calls_to("chat.postMessage")) == attempts, "no retry every minute"


def test_a_manual_digest_earlier_on_the_scheduled_day_does_not_cancel_the_weekly_one(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    radar_command(bot, slack, "subscribe")
    week_of_releases(hub, bot)
    bot.clock.now = at("2026-11-23 08:30")  # Monday, half an hour before the weekly digest
    assert "Posted this week's digest" in radar_command(bot, slack, "digest now")
    assert len(digests(slack)) == 1

    [scheduled] = run_digest_job_at(bot, at("2026-11-23 09:00"))
    assert scheduled.ok and not scheduled.already_posted
    assert len(digests(slack)) == 2, "the weekly digest still goes out after a manual one"
    manual, weekly = digests(slack)
    assert weekly["metadata"]["event_payload"]["period"] == "2026-11-23"
    assert manual["metadata"]["event_payload"].get("period") != "2026-11-23"
    assert run_digest_job_at(bot, at("2026-11-23 09:05")) == []
    assert len(digests(slack)) == 2
