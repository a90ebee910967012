"""Crash safety: `kill -9` the real bot twenty times during a release week.

`python -m bot serve` runs as a child process (real clock, 1 s poll interval) against the
Hub and Slack stand-ins. Before each start the next launch of a scripted week is put on
the Hub (and a few lives later the lab's official FP8 build of it); each life ends with
SIGKILL at a moment picked to hurt: while a poll is fetching, right after Slack accepted
an alert (before the bot could record it), while a weekly digest is being posted, or at
a random time. After every kill the database must open with its subscriptions and mutes
intact; after a last, clean life every channel must show each alert and each digest
exactly once, and no release may be missing.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.hub.client import HubClient
from bot.radar.channels import ChannelSettings
from bot.radar.filters import parse_filters
from bot.radar.labs import LabRegistry
from bot.radar.models import DigestSchedule
from bot.runtime import Core, build_core
from bot.slack.app import build_slack
from bot.slack.context import SlackRadar
from bot.store import open_store
from tests.doubles.hub_fixtures import background
from tests.doubles.hub_server import HubStandIn
from tests.doubles.signing import post_signed, slash_command_body
from tests.doubles.slack_server import SlackStandIn
from tests.harness import SIGNING_SECRET, FakeClock, free_port, make_settings
from tests.reliability.helpers import (
    ALERT_METADATA,
    DIGEST_METADATA,
    EU_COUNTRIES,
    ScriptedRelease,
    alert_texts,
    alerts_by_channel,
    digests_by_channel,
    release_week,
    repeated,
    report,
    thread_reply_members,
)
from tests.serve_process import BotProcess, serve_env, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.tinydb_only]  # the file itself

KILLS = 20
SEED = 20261123
RELEASES = 10
LATE_BUILD_LIVES = 3  # an official build appears this many lives after its launch
TRIGGERS = ("digest", "delivery", "poll", "delivery", "random")
TRIGGER_TIMEOUT = 3.0
FINAL_TIMEOUT = 40.0
SEEDED_SUBSCRIPTIONS = {"C_ALL": [], "C_CHINA": ["region:china"], "C_US": ["country:US"]}
SEEDED_MUTES = {("C_ALL", "meta-llama"), ("C_CHINA", "deepseek-ai")}
DIGEST_CHANNELS = ("C_ALL", "C_CHINA", "C_US", "C_DIGEST")


def expected_alerts(week: list[ScriptedRelease]) -> dict[str, list[str]]:
    """Each channel's alerts, from its filters and mutes (the EU one is subscribed live)."""
    wanted = {
        "C_ALL": [r.key for r in week if r.lab != "meta-llama"],
        "C_CHINA": [r.key for r in week if r.country == "CN" and r.lab != "deepseek-ai"],
        "C_US": [r.key for r in week if r.country == "US"],
        "C_EU": [r.key for r in week if r.country in EU_COUNTRIES],
    }
    return {channel: sorted(keys) for channel, keys in wanted.items()}


def seed_database(db_path: Path, now: datetime) -> None:
    """Subscriptions, mutes and due digests, written before the bot's first start."""
    with open_store(db_path) as store:
        registry = LabRegistry.from_store(store)
        channels = ChannelSettings(store, clock=lambda: now)
        for channel, tokens in SEEDED_SUBSCRIPTIONS.items():
            channels.subscribe(channel, parse_filters(tokens, registry), "U_ADMIN")
        for channel, lab in SEEDED_MUTES:
            until = now + timedelta(days=30) if channel == "C_CHINA" else None
            channels.mute(channel, lab, until, "U_ADMIN")
        yesterday = (now - timedelta(days=1)).weekday()
        for channel in DIGEST_CHANNELS:  # last week's digest is due as soon as the bot runs
            store.digests.put(DigestSchedule(channel_id=channel, weekday=yesterday, time="00:00"))
        store.commit()


def check_database(db_path: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """Open the file a killed bot left behind; return its subscription channels and mutes."""
    with open_store(db_path) as store:
        subscribed = {s.channel_id for s in store.subscriptions.values() if not s.paused_reason}
        mutes = {(m.channel_id, m.lab) for m in store.mutes.values()}
        assert store.quarantine() == []
    return subscribed, mutes


class Killer:
    """Picks the moment of each SIGKILL from what the stand-ins see the bot doing."""

    def __init__(self, hub: HubStandIn, slack: SlackStandIn, rng: random.Random) -> None:
        self.hub = hub
        self.slack = slack
        self.rng = rng

    def _posts(self, kind: str) -> int:
        calls = self.slack.calls_to("chat.postMessage") + self.slack.calls_to("chat.update")
        return sum(1 for params in calls if kind in str(params.get("metadata")))

    def _digest_steps(self) -> int:
        """Digest messages posted plus charts uploaded: the two steps of one digest."""
        charts = self.slack.calls_to("files.completeUploadExternal")
        return self._posts(DIGEST_METADATA) + len(charts)

    def wait_for(self, trigger: str) -> str:
        """Block until the moment `trigger` names; returns where the kill lands."""
        if trigger == "digest" and set(digests_by_channel(self.slack)) == set(DIGEST_CHANNELS):
            trigger = "random"  # every digest is out: nothing left to interrupt there
        if trigger == "random":
            time.sleep(self.rng.uniform(0.2, 2.0))
            return trigger
        if trigger == "poll":
            start = self.hub.request_count
            fired = wait_until(lambda: self.hub.request_count >= start + 5, TRIGGER_TIMEOUT, 0.005)
            time.sleep(self.rng.uniform(0, 0.05))
            return trigger if fired else "idle"
        if trigger == "delivery":
            start = self._posts(ALERT_METADATA)
            fired = self.slack.wait_for(
                lambda: self._posts(ALERT_METADATA) > start, timeout=TRIGGER_TIMEOUT
            )
            time.sleep(self.rng.uniform(0, 0.02))
            return trigger if fired else "idle"
        start = self._digest_steps()
        fired = self.slack.wait_for(lambda: self._digest_steps() > start, timeout=TRIGGER_TIMEOUT)
        time.sleep(self.rng.uniform(0, 0.2))
        return trigger if fired else "idle"


def test_twenty_kill_9s_during_a_release_week_lose_nothing_and_repeat_nothing(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    week = release_week(now, RELEASES, late_builds=True)
    db_path = tmp_path / "data" / "radar.json"
    seed_database(db_path, now)
    seeded_subscriptions, seeded_mutes = check_database(db_path)
    kills: Counter[str] = Counter()

    with (
        HubStandIn() as hub,
        SlackStandIn(latency=0.05, retry_after=0) as slack,
    ):
        hub.add_many(background(now, 40))
        env = serve_env(hub_url=hub.url, slack_url=slack.url, db_path=db_path, port=free_port())
        bot = BotProcess(env, tmp_path / "serve.log", cwd=tmp_path)
        killer = Killer(hub, slack, rng)
        try:
            for life in range(KILLS):
                launch = life - 1  # life 0 only takes its first look at the labs
                if 0 <= launch < len(week):
                    hub.add_many(week[launch].records)
                if 0 <= launch - LATE_BUILD_LIVES < len(week):
                    hub.add_many(week[launch - LATE_BUILD_LIVES].late_records)
                bot.start().wait_ready()
                if life == 0:
                    subscribe_eu(bot, slack)
                    assert wait_until(lambda: bot.health()[1]["last_success_at"], 20), (
                        "the first poll never completed"
                    )
                landed = killer.wait_for(TRIGGERS[life % len(TRIGGERS)])
                bot.kill9()
                kills[landed] += 1
                subscribed, mutes = check_database(db_path)
                assert seeded_subscriptions <= subscribed and mutes == seeded_mutes

            for launch in range(KILLS - 1, len(week)):
                hub.add_many(week[launch].records)
            for launch in range(max(0, KILLS - 1 - LATE_BUILD_LIVES), len(week)):
                hub.add_many(week[launch].late_records)
            bot.start().wait_ready()
            expected = expected_alerts(week)
            settled = wait_until(
                lambda: not missing_from_slack(slack, week, expected), FINAL_TIMEOUT, 0.2
            )
            still_missing = missing_from_slack(slack, week, expected)
            exit_code = bot.stop()
        finally:
            bot.close()

        shown = alerts_by_channel(slack)
        digests = digests_by_channel(slack)
        texts = alert_texts(slack)
        announced = thread_reply_members(slack)
        assert slack.violations == []

    assert settled, f"never shown: {still_missing}"
    assert exit_code == 0
    for channel, keys in expected.items():
        got = shown.get(channel, [])
        assert repeated(got) == {}, f"{channel} saw an alert twice after a crash"
        assert sorted(got) == keys
    assert digests == Counter({channel: 1 for channel in DIGEST_CHANNELS})
    counts = {release.key: release.member_count for release in week}
    for channel, keys in expected.items():  # each alert was edited for its late build
        for key in keys:
            assert f"({counts[key]} models" in texts[(channel, key)], (channel, key)

    subscribed, mutes = check_database(db_path)
    assert subscribed == seeded_subscriptions | {"C_EU"}
    assert mutes == seeded_mutes
    with open_store(db_path) as store:
        keys = {release.id.split("@", 1)[0] for release in store.releases.values()}
        statuses = Counter(row.status for row in store.deliveries.values())
    assert {release.key for release in week} <= keys
    assert set(statuses) == {"sent"}

    report(
        "crash-safety",
        kills=KILLS,
        landed=dict(kills),
        restarts=bot.starts,
        alerts=sum(len(v) for v in shown.values()),
        digests=sum(digests.values()),
        thread_replies=sum(len(v) for v in announced.values()),
        repeated_replies=sum(len(repeated(v)) for v in announced.values()),
    )


def subscribe_eu(bot: BotProcess, slack: SlackStandIn) -> None:
    """A user subscribes a channel while the bot runs; the ack must mean it is saved."""
    body = slash_command_body(
        "/radar",
        "subscribe region:eu",
        user_id="U_ALICE",
        channel_id="C_EU",
        response_url=slack.response_url_for("subscribe-eu"),
    )
    status, _, _ = post_signed(
        f"{bot.url}/slack/events",
        body,
        SIGNING_SECRET,
        content_type="application/x-www-form-urlencoded",
    )
    assert status == 200
    replies = slack.wait_for(lambda: slack.responses("subscribe-eu"), timeout=5)
    assert replies and "Subscribed this channel" in replies[0]["text"]


def missing_from_slack(
    slack: SlackStandIn, week: list[ScriptedRelease], expected: dict[str, list[str]]
) -> list[str]:
    """What a channel still lacks: alerts, digests, or the late build in an alert."""
    shown = alerts_by_channel(slack)
    missing = [
        f"{channel}: alert {key}"
        for channel, keys in expected.items()
        for key in keys
        if key not in shown.get(channel, [])
    ]
    digests = digests_by_channel(slack)
    missing += [f"{channel}: digest" for channel in DIGEST_CHANNELS if channel not in digests]
    texts = alert_texts(slack)
    counts = {r.key: r.member_count for r in week}
    missing += [
        f"{channel}: {key} still without its late build"
        for channel, keys in expected.items()
        for key in keys
        if key in shown.get(channel, [])
        and f"({counts[key]} models" not in texts.get((channel, key), "")
    ]
    return missing


def test_a_crash_right_after_a_thread_reply_does_not_repeat_it_on_restart(
    tmp_path: Path,
) -> None:
    """Deterministic twin of the random kills for the update path: Slack has the reply,
    the bot's record of it never reached the disk, then the process is gone."""
    clock = FakeClock()
    db_path = tmp_path / "radar.json"
    (release,) = release_week(clock.now, 1, late_builds=True)
    with HubStandIn() as hub, SlackStandIn(retry_after=0) as slack:
        hub.add_many(background(clock.now, 20))

        def start_bot() -> tuple[Core, SlackRadar]:
            settings = make_settings(hub.url, slack.url, db_path)
            hub_client = HubClient(hub.url, timeout=2, max_retries=1, sleep=lambda _s: None)
            core = build_core(settings, store=open_store(db_path), hub=hub_client, clock=clock)
            _app, radar = build_slack(core)
            radar.deliverer.sleep = lambda _s: None
            return core, radar

        core, radar = start_bot()
        everything = parse_filters([], core.registry)
        ChannelSettings(core.store, clock=clock).subscribe("C_ALL", everything)
        core.tracker.poll_cycle()
        hub.add_many(release.records)
        clock.advance(minutes=1)
        core.tracker.poll_cycle()
        radar.deliverer.drain()
        hub.add_many(release.late_records)
        clock.advance(minutes=1)
        core.tracker.poll_cycle()  # the FP8 build joins: the row is due as an update

        # The process "dies" between Slack's answer and the row's commit: after the update,
        # put back the file as it was before it, and start a new process on it.
        snapshot = db_path.read_bytes()
        radar.deliverer.drain()
        assert len(thread_reply_members(slack)[("C_ALL", release.key)]) == 1
        core.hub.close()
        db_path.write_bytes(snapshot)

        core, radar = start_bot()  # the restart
        radar.deliverer.drain()
        core.close()
        announced = thread_reply_members(slack)[("C_ALL", release.key)]
    assert repeated(announced) == {}
