"""Fan-out pacing end to end: while one channel waits out its second, others go on.

Slack allows one message a second per channel. When a release grows, every channel's
alert gets an edit and then, one interval later, a thread reply. A worker that slept
through that interval held up every channel queued behind it (200 channels, 8 workers:
28 s for what the pacing allows in about 1.5 s); here one worker serves several channels
and the drain still takes about one interval, with every channel's messages paced.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import SlackStandIn
from tests.harness import FakeClock, RadarHarness, radar_command

pytestmark = pytest.mark.e2e

CHANNELS = [f"C_FAN{index}" for index in range(5)]
INTERVAL = 0.4  # seconds between two messages to one channel (1 s in production)


@pytest.fixture
def bot(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock: FakeClock
) -> Iterator[RadarHarness]:
    with RadarHarness(hub.url, slack.url, tmp_path / "radar.json", clock=fake_clock) as radar:
        hub.add_many(fx.background(radar.clock.now, 10))
        radar.poll_and_deliver()
        for channel in CHANNELS:
            radar_command(radar, slack, "subscribe", channel=channel)
        yield radar


def publish(hub: HubStandIn, bot: RadarHarness, *repos: dict[str, Any]) -> None:
    hub.add_many(repos)
    bot.clock.advance(minutes=5)


def test_one_worker_edits_and_replies_in_every_channel_within_about_one_interval(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    deliverer = bot.radar.deliverer
    deliverer.per_channel_interval = INTERVAL
    deliverer.sleep = time.sleep  # real pacing, not the harness's no-op
    deliverer.workers = 1
    family = fx.family_launch(bot.clock.now)
    publish(hub, bot, *family[:6])
    bot.poll_and_deliver()
    alerts = {channel: slack.messages(channel) for channel in CHANNELS}
    assert all(len(messages) == 1 for messages in alerts.values()), alerts
    time.sleep(INTERVAL)  # the release grows minutes later, not within the alert's second

    publish(hub, bot, *family[6:])
    bot.poll()
    started = time.monotonic()
    report = bot.drain()
    took = time.monotonic() - started

    assert report.updated == len(CHANNELS)
    for channel in CHANNELS:
        [alert] = alerts[channel]
        messages = slack.messages(channel)
        top = [m for m in messages if m["thread_ts"] is None]
        replies = [m for m in messages if m["thread_ts"] == alert["ts"]]
        assert [m["ts"] for m in top] == [alert["ts"]], "never a second alert"
        assert top[0]["edited"] is not None and "(13 models" in top[0]["text"]
        assert len(replies) == 1, f"{channel}: exactly one reply"
        times = slack.post_times(channel)
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap >= INTERVAL - 0.05 for gap in gaps), (channel, gaps)
    edits = [call["channel"] for call in slack.calls_to("chat.update")]
    assert sorted(edits) == sorted(CHANNELS)
    # Sleeping through each channel's interval in turn took len(CHANNELS) intervals.
    assert took < 2 * INTERVAL, f"{took:.2f} s: channels waited for each other"


def test_a_429_pauses_that_method_for_every_channel_until_retry_after_has_passed(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    """Slack's limits are per method and workspace, not per channel."""
    deliverer = bot.radar.deliverer
    deliverer.per_channel_interval = 0.2
    deliverer.sleep = time.sleep
    slack.retry_after = 1
    slack.enforce_retry_after = True
    slack.inject("429", method="chat.postMessage")
    now = bot.clock.now
    publish(
        hub,
        bot,
        fx.model_json("openai/gpt-oss-2-200b", created_at=now, params=200 * fx.B, likes=900),
        fx.model_json("google/gemma-4-27b-it", created_at=now, params=27 * fx.B, likes=900),
    )
    bot.poll()
    report = bot.drain()

    assert report.posted == 2 * len(CHANNELS) and report.deferred == 0
    assert slack.violations == [], "a post went out before Retry-After had passed"
    for channel in CHANNELS:
        assert len(slack.messages(channel)) == 2
        gaps = [b - a for a, b in itertools.pairwise(slack.post_times(channel))]
        assert all(gap >= 0.2 - 0.05 for gap in gaps), (channel, gaps)
