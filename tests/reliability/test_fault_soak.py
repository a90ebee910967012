"""Fault soak: 200 poll cycles against a Hub and a Slack that fail 30 % of the time.

The real bot runs in-process (`RadarHarness`) with a fake clock. The Hub stand-in fails a
seeded 30 % of requests with every fault it knows (5xx, 429 with Retry-After, timeouts,
truncated and malformed JSON, wrong field types) and the Slack stand-in fails 30 % of Web
API calls (HTTP 429, 500, `ratelimited`), while a release week is scripted into the Hub.
Afterwards everything a user would notice is checked: each alert exactly once and in
release order per channel, every release's final message complete, no unhandled
exception, `/healthz` honest during and after, and memory steady.

The soak polls the twelve labs of the scripted week plus the trending list (13 listings
a cycle) instead of all built-in labs: the fault rate per request is what is under test.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.hub.client import HubClient
from tests.doubles.hub_fixtures import background
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import SlackStandIn
from tests.harness import FakeClock, RadarHarness
from tests.reliability.helpers import (
    EU_COUNTRIES,
    LAB_ROTATION,
    ScriptedRelease,
    alert_texts,
    alerts_by_channel,
    collecting_logs,
    keep_only_labs,
    release_key,
    release_week,
    repeated,
    report,
    rss_bytes,
    thread_reply_members,
    use_hub_client,
)

pytestmark = pytest.mark.reliability

CYCLES = 200
MEMORY_BASELINE_CYCLE = 50
RELEASES = 20
RELEASE_EVERY = 9  # cycles between two launches
LATE_BUILD_AFTER = 3  # cycles between a launch and its official FP8 build
HUB_FAULTS = ("500", "503", "429", "timeout", "truncated", "malformed", "wrong-type")
SLACK_FAULTS = ("429", "500", "ratelimited")
FAILURE_RATE = 0.3
RECOVERY_CYCLES = 30
CHANNELS = {
    "C_ALL": "subscribe",
    "C_CHINA": "subscribe region:china",
    "C_US": "subscribe country:US",
    "C_EU": "subscribe region:eu",
}


def wanted_in(channel: str, release: ScriptedRelease) -> bool:
    """Which scripted releases each channel's subscription asks for."""
    if channel == "C_CHINA":
        return release.country == "CN"
    if channel == "C_US":
        return release.country == "US"
    if channel == "C_EU":
        return release.country in EU_COUNTRIES
    return True


class ThreadErrors:
    """Exceptions that escaped any thread (a listener, a drain worker, uvicorn)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._previous = threading.excepthook

    def __enter__(self) -> ThreadErrors:
        def record(args: threading.ExceptHookArgs) -> None:
            self.seen.append(f"{args.exc_type.__name__}: {args.exc_value}")
            self._previous(args)

        threading.excepthook = record
        return self

    def __exit__(self, *exc: object) -> None:
        threading.excepthook = self._previous


@pytest.fixture
def hub() -> Iterator[HubStandIn]:
    # A "timeout" holds the request longer than the bot's Hub client waits (0.1 s).
    with HubStandIn(timeout_sleep=0.15) as server:
        yield server


@contextmanager
def soak_bot(
    hub: HubStandIn, slack: SlackStandIn, db_path: Path, clock: FakeClock, sleeps: list[float]
) -> Iterator[RadarHarness]:
    """The bot polling the scripted labs, subscribed in every channel, past its first look."""
    keep_only_labs(db_path, [lab for lab, _ in LAB_ROTATION])
    with RadarHarness(hub.url, slack.url, db_path, clock=clock) as bot:
        use_hub_client(bot, HubClient(hub.url, timeout=0.1, max_retries=1, sleep=sleeps.append))
        for channel, text in CHANNELS.items():
            status, _, _ = bot.command(
                "/radar", text, channel_id=channel, response_url=slack.response_url_for(channel)
            )
            assert status == 200
            assert slack.wait_for(lambda c=channel: slack.responses(c), timeout=3)
        first = bot.poll_and_deliver()  # the first look at each lab is recorded silently
        assert first.status == "ok" and first.events == []
        yield bot


def test_two_hundred_cycles_at_thirty_percent_faults_deliver_every_alert_once_in_order(
    hub: HubStandIn, tmp_path: Path
) -> None:
    clock = FakeClock()
    hub.add_many(background(clock.now, 40))
    week = release_week(clock.now, RELEASES, late_builds=True)
    hub_sleeps: list[float] = []
    health: list[tuple[str, int, str]] = []  # (cycle status, /healthz code, /healthz status)

    with (
        SlackStandIn(retry_after=1) as slack,
        ThreadErrors() as thread_errors,
        collecting_logs(logging.ERROR) as logs,
        soak_bot(hub, slack, tmp_path / "radar.json", clock, hub_sleeps) as bot,
        httpx.Client(timeout=5) as http,
    ):
        hub.set_failure_rate(FAILURE_RATE, HUB_FAULTS, seed=20261123)
        slack.set_failure_rate(FAILURE_RATE, SLACK_FAULTS, seed=5, method=None)
        launched: dict[int, ScriptedRelease] = {}
        rss_at_baseline = 0
        for cycle in range(1, CYCLES + 1):
            index = (cycle - 1) // RELEASE_EVERY
            if (cycle - 1) % RELEASE_EVERY == 0 and index < len(week):
                hub.add_many(week[index].records)
                launched[cycle] = week[index]
            late = launched.get(cycle - LATE_BUILD_AFTER)
            if late is not None:
                hub.add_many(late.late_records)
            clock.advance(seconds=bot.settings.poll_interval_seconds)
            cycle_report = bot.poll()  # an unhandled error would end the soak right here
            bot.drain()
            hub.reset_log()  # the stand-in's request log is not the bot's memory
            response = http.get(f"{bot.url}/healthz")
            health.append((cycle_report.status, response.status_code, response.json()["status"]))
            if cycle == MEMORY_BASELINE_CYCLE:
                gc.collect()
                rss_at_baseline = rss_bytes()
        gc.collect()
        rss_at_end = rss_bytes()
        slack_calls = len(slack.outcomes)
        slack_failures = sum(1 for _, outcome in slack.outcomes if outcome)

        hub.clear_faults()
        slack.set_failure_rate(0)
        for _ in range(RECOVERY_CYCLES):
            clock.advance(seconds=bot.settings.poll_interval_seconds)
            recovered = bot.poll_and_deliver()
            if recovered.status == "ok" and not _undelivered(bot):
                break
        healthy_after = http.get(f"{bot.url}/healthz")
        first_seen = {
            release_key(r.id): (r.first_seen, r.id) for r in bot.core.store.releases.values()
        }

        shown = alerts_by_channel(slack)
        for channel in CHANNELS:
            expected = sorted(r.key for r in week if wanted_in(channel, r))
            got = shown.get(channel, [])
            assert repeated(got) == {}, f"{channel} saw an alert more than once"
            assert sorted(got) == expected, f"{channel} is missing alerts or has strays"
            order = [first_seen[key] for key in got]
            assert order == sorted(order), f"{channel}: alerts out of release order"
        texts = alert_texts(slack)
        for release in week:  # the message as it reads now lists the late build too
            assert f"({release.member_count} models" in texts[("C_ALL", release.key)]
        for (channel, key), members in thread_reply_members(slack).items():
            assert repeated(members) == {}, f"{channel}: {key} announced a repo twice"
        assert slack.violations == []

    assert thread_errors.seen == []
    assert logs.messages() == []  # no ERROR line and no traceback in 200 faulty cycles

    faulty = [(code, status) for cycle, code, status in health if cycle != "ok"]
    assert len(faulty) >= CYCLES * 0.5
    assert set(faulty) == {(200, "degraded")}, "while the Hub fails /healthz says degraded"
    assert all(code == 200 for _, code, _ in health)
    assert healthy_after.status_code == 200 and healthy_after.json()["status"] == "ok"

    growth = (rss_at_end - rss_at_baseline) / rss_at_baseline
    assert growth < 0.10, f"RSS grew {growth:.1%} between cycle 50 and 200"
    assert 1.0 in hub_sleeps  # a 429's `Retry-After: 1` was waited out

    report(
        "fault-soak",
        cycles=CYCLES,
        hub_retries=len(hub_sleeps),
        slack_calls=slack_calls,
        slack_failures=slack_failures,
        alerts=sum(len(v) for v in shown.values()),
        cycles_with_errors=len(faulty),
        healthz_degraded=sum(status == "degraded" for _, status in faulty),
        healthz_503=sum(code == 503 for code, _ in faulty),
        rss_cycle50_mb=round(rss_at_baseline / 2**20, 1),
        rss_cycle200_mb=round(rss_at_end / 2**20, 1),
        rss_growth=f"{growth:.1%}",
    )


def test_healthz_says_degraded_not_unhealthy_while_one_lab_listing_keeps_failing(
    hub: HubStandIn, tmp_path: Path
) -> None:
    clock = FakeClock()
    hub.add_many(background(clock.now, 20))
    sleeps: list[float] = []
    with (
        SlackStandIn() as slack,
        soak_bot(hub, slack, tmp_path / "radar.json", clock, sleeps) as bot,
        httpx.Client(timeout=5) as http,
    ):
        hub.inject("503", times=1000, path_contains="author=Qwen")  # one lab, every request
        seen = []
        for _ in range(6):
            clock.advance(seconds=bot.settings.poll_interval_seconds)
            assert bot.poll().status == "degraded"  # 12 of 13 listings answered
            response = http.get(f"{bot.url}/healthz")
            seen.append((response.status_code, response.json()["status"]))
    assert seen == [(200, "degraded")] * 6


def test_an_alert_deferred_by_a_long_retry_after_is_not_overtaken_by_a_later_release(
    hub: HubStandIn, tmp_path: Path
) -> None:
    clock = FakeClock()
    hub.add_many(background(clock.now, 20))
    first, second = release_week(clock.now, 2)
    sleeps: list[float] = []
    with (
        SlackStandIn(retry_after=120) as slack,
        soak_bot(hub, slack, tmp_path / "radar.json", clock, sleeps) as bot,
    ):
        hub.add_many(first.records)
        clock.advance(minutes=1)
        slack.inject("429", method="chat.postMessage")  # "wait 120 s" for the first alert
        bot.poll_and_deliver()
        hub.add_many(second.records)
        for _ in range(4):  # a minute a cycle: the first alert becomes due again at +2 min
            clock.advance(minutes=1)
            bot.poll_and_deliver()
        clock.advance(minutes=5)
        bot.drain()
        shown = alerts_by_channel(slack)
    assert shown["C_ALL"] == [first.key, second.key]


def _undelivered(bot: RadarHarness) -> bool:
    """Rows still to deliver, due now or deferred by a backoff."""
    return any(row.status in ("pending", "posting") for row in bot.core.store.deliveries.values())
