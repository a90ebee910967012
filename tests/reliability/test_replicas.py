"""Three `radar serve` replicas on one PostgreSQL database, and the leader killed mid-fan-out.

Each replica is the real `python -m bot serve` child process with the same DATABASE_URL and
its own port, as behind a load balancer. Every replica answers slash commands (each one
subscribes a channel, so a write taken by a follower must reach the leader's fan-out); one
replica leads and runs the poll and the delivery. Three launches reach the Hub; once the
leader has posted some of the 69 alerts, it gets `kill -9`. A follower must take over within
30 s and finish the fan-out: every channel shows every alert exactly once.

Skipped, with the reason, where no PostgreSQL server is available (tests/pg.py).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.radar.channels import ChannelSettings
from bot.radar.filters import parse_filters
from bot.radar.labs import LabRegistry
from bot.store.postgres import open_postgres
from tests.doubles.hub_fixtures import background
from tests.doubles.hub_server import HubStandIn
from tests.doubles.signing import post_signed, slash_command_body
from tests.doubles.slack_server import SlackStandIn
from tests.harness import SIGNING_SECRET, free_port
from tests.reliability.helpers import (
    ALERT_METADATA,
    alerts_by_channel,
    release_week,
    repeated,
    report,
)
from tests.serve_process import BotProcess, serve_env, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]

REPLICAS = 3
SEEDED_CHANNELS = [f"C_{n:02d}" for n in range(20)]
RELEASES = 3
TAKEOVER_LIMIT = 30.0


def seed(url: str, now: datetime) -> None:
    with open_postgres(url) as store:
        registry = LabRegistry.from_store(store)
        channels = ChannelSettings(store, clock=lambda: now)
        for channel in SEEDED_CHANNELS:
            channels.subscribe(channel, parse_filters([], registry), "U_ADMIN")


def command(bot: BotProcess, slack: SlackStandIn, text: str, channel: str, name: str) -> str:
    """A signed slash command to one replica; the reply it sent to `response_url`."""
    body = slash_command_body(
        "/radar", text, user_id="U_ALICE", channel_id=channel,
        response_url=slack.response_url_for(name),
    )
    status, _, _ = post_signed(
        f"{bot.url}/slack/events", body, SIGNING_SECRET,
        content_type="application/x-www-form-urlencoded",
    )
    assert status == 200
    replies = slack.wait_for(lambda: slack.responses(name), timeout=10)
    assert replies, f"replica on {bot.url} never answered `/radar {text}`"
    return replies[0]["text"]


def leaders(bots: list[BotProcess]) -> list[BotProcess]:
    found = []
    for bot in bots:
        if bot.running:
            try:
                if bot.health()[1].get("leader"):
                    found.append(bot)
            except Exception:  # a replica between restarts
                continue
    return found


def test_three_replicas_one_leader_and_a_kill_9_mid_fan_out_loses_and_repeats_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    seed(pg_url, now)
    week = release_week(now, RELEASES)
    with HubStandIn() as hub, SlackStandIn(latency=0.05, retry_after=0) as slack:
        hub.add_many(background(now, 30))
        bots = []
        for index in range(REPLICAS):
            workdir = tmp_path / f"replica{index}"
            workdir.mkdir()
            env = serve_env(
                hub_url=hub.url, slack_url=slack.url, db_path=workdir / "radar.json",
                port=free_port(), DATABASE_URL=pg_url, POLL_INTERVAL_SECONDS="2",
            )
            bots.append(BotProcess(env, workdir / "serve.log", cwd=workdir))
        try:
            for bot in bots:
                bot.start()
            for bot in bots:
                bot.wait_ready(timeout=30)
            assert wait_until(lambda: len(leaders(bots)) == 1, 15, 0.1), "no single leader"
            (leader,) = leaders(bots)
            assert wait_until(lambda: leader.health()[1]["last_success_at"], 30), (
                "the first poll never completed"
            )
            # Every replica answers, and what a follower saves the leader's fan-out sees.
            live = [f"C_R{index}" for index in range(REPLICAS)]
            for index, bot in enumerate(bots):
                text = command(bot, slack, "subscribe", live[index], f"sub-{index}")
                assert "Subscribed this channel" in text
            channels = SEEDED_CHANNELS + live
            total = len(channels) * RELEASES

            for release in week:
                hub.add_many(release.records)

            def posted() -> int:
                return sum(
                    1 for call in slack.calls_to("chat.postMessage")
                    if ALERT_METADATA in str(call.get("metadata"))
                )

            assert slack.wait_for(lambda: posted() >= 8, timeout=30), "the fan-out never began"
            leader.kill9()
            killed_at = time.monotonic()
            posted_before_kill = posted()
            assert posted_before_kill < total, "the fan-out ended before the kill"

            survivors = [bot for bot in bots if bot is not leader]
            took_over = wait_until(lambda: len(leaders(survivors)) == 1, TAKEOVER_LIMIT, 0.1)
            takeover_seconds = time.monotonic() - killed_at
            assert took_over, f"no new leader within {TAKEOVER_LIMIT} s"

            expected = sorted(release.key for release in week)

            def complete() -> bool:
                shown = alerts_by_channel(slack)
                return all(sorted(set(shown.get(c, []))) == expected for c in channels)

            assert wait_until(complete, 60, 0.2), f"missing: {alerts_by_channel(slack)}"
            time.sleep(3)  # a repeat would come now, from a drain that missed the adoption
            # Commands still answered by the survivors after the takeover.
            for index, bot in enumerate(survivors):
                assert command(bot, slack, "subscriptions", live[0], f"after-{index}")
            shown = alerts_by_channel(slack)
            violations = list(slack.violations)
        finally:
            for bot in bots:
                bot.close()

    for channel in channels:
        assert repeated(shown.get(channel, [])) == {}, f"{channel} saw an alert twice"
        assert sorted(shown.get(channel, [])) == expected
    assert violations == []
    with open_postgres(pg_url) as store:
        statuses = {row.status for row in store.deliveries.values()}
    assert statuses == {"sent"}
    report(
        "replicas",
        replicas=REPLICAS,
        alerts=total,
        posted_before_kill=posted_before_kill,
        takeover_seconds=round(takeover_seconds, 1),
    )
