"""Many workspaces: one bot, one Hub poll, each workspace's settings and alerts its own.

Two Slack stand-ins play two workspaces (T1 and T2), each with its own bot token: a post
with the wrong workspace's token would be refused by the stand-in (`invalid_auth`), so a
message in a stand-in proves it went out through that workspace's client. The bot gets
its clients through the `Workspaces` protocol (`bot.slack.workspaces`); `Installed` below
stands in for the OAuth installation store (built on its own branch), with the protocol's
shape and nothing more. The channel id `C0SHARED` exists in both workspaces, as a Slack
Connect channel does: its settings in one workspace must not leak into the other.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.config import Settings
from bot.schedule import poll_and_deliver
from bot.slack.workspace_clients import NOT_INSTALLED
from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.signing import event_body, post_signed, slash_command_body
from tests.doubles.slack_server import SlackStandIn
from tests.harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeClock,
    RadarHarness,
    radar_command,
    shown_text,
)

pytestmark = pytest.mark.e2e

SHARED = "C0SHARED"  # one channel id in both workspaces (Slack Connect)
TEAM_TWO_TOKEN = "xoxb-radar-team-two"
FORM = "application/x-www-form-urlencoded"
_names = itertools.count(1)


class Installed:
    """The installations the jobs see: one client per installed team (OAuth mode)."""

    multi = True

    def __init__(self, clients: dict[str, WebClient]) -> None:
        self.clients = dict(clients)
        self.forgotten: list[str] = []

    def key_of(self, team_id: str | None) -> str:
        return team_id or ""

    def client_for(self, key: str) -> WebClient | None:
        return self.clients.get(key)

    def forget(self, key: str) -> None:
        self.clients.pop(key, None)
        self.forgotten.append(key)


class TwoWorkspaces:
    def __init__(
        self, hub: HubStandIn, one: SlackStandIn, two: SlackStandIn, bot: RadarHarness
    ) -> None:
        self.hub, self.one, self.two, self.bot = hub, one, two, bot
        self.installed: Installed = bot.radar.workspaces  # type: ignore[assignment]

    def slack(self, team: str) -> SlackStandIn:
        return self.one if team == "T1" else self.two

    def radar(self, text: str, *, team: str, channel: str = SHARED, user: str = "U_ANN") -> str:
        """`/radar <text>` typed in `team`'s channel; returns the ephemeral answer's text."""
        name = f"ws-{next(_names)}"
        slack = self.slack(team)
        body = slash_command_body(
            "/radar",
            text,
            user_id=user,
            channel_id=channel,
            response_url=slack.response_url_for(name),
            team_id=team,
        )
        status, _ack, _took = post_signed(
            f"{self.bot.url}/slack/events", body, SIGNING_SECRET, content_type=FORM
        )
        assert status == 200
        [answer] = slack.wait_for(lambda: slack.responses(name), timeout=20)
        assert answer.get("response_type") in (None, "ephemeral")
        return shown_text(answer)

    def event(self, event: dict, *, team: str) -> None:
        status, _body, _took = post_signed(
            f"{self.bot.url}/slack/events",
            event_body(event, team_id=team),
            SIGNING_SECRET,
            content_type="application/json",
        )
        assert status == 200

    def alerts(self, team: str, channel: str = SHARED) -> list[str]:
        """Top-level alert texts in a workspace's channel."""
        return [
            m["text"] for m in self.slack(team).messages(channel) if m.get("thread_ts") is None
        ]

    def release(self, *repos: dict) -> None:
        self.hub.add_many(repos)
        self.bot.clock.advance(minutes=5)
        self.bot.poll_and_deliver()


def two_workspaces(tmp_path: Path, **settings: object) -> Iterator[TwoWorkspaces]:
    clock = FakeClock()
    with (
        HubStandIn() as hub,
        SlackStandIn(wall_clock=lambda: clock.now.timestamp()) as one,
        # Slack never gives two messages in one channel the same ts, even a Slack Connect
        # channel seen from two workspaces; two stand-ins on one clock would.
        SlackStandIn(token=TEAM_TWO_TOKEN, wall_clock=lambda: clock.now.timestamp() + 0.5) as two,
    ):
        two.team_id = "T2"
        installed = Installed(
            {
                "T1": WebClient(token=BOT_TOKEN, base_url=one.url, retry_handlers=[]),
                "T2": WebClient(token=TEAM_TWO_TOKEN, base_url=two.url, retry_handlers=[]),
            }
        )
        with RadarHarness(
            hub.url, one.url, tmp_path / "radar.json", clock=clock, workspaces=installed,
            **settings,
        ) as bot:
            hub.add_many(fx.background(clock.now, 10))
            bot.poll_and_deliver()  # first sight of every lab: recorded, never announced
            yield TwoWorkspaces(hub, one, two, bot)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[TwoWorkspaces]:
    yield from two_workspaces(tmp_path)


# ------------------------------------------------------------ settings and fan-out


def test_one_channel_id_in_two_workspaces_has_two_independent_settings(
    world: TwoWorkspaces,
) -> None:
    assert "Subscribed this channel" in world.radar("subscribe", team="T1")
    assert "Subscribed this channel" in world.radar("subscribe", team="T2", user="U_BOB")
    assert "Muted `Qwen`" in world.radar("mute qwen", team="T2", user="U_BOB")

    one = world.radar("subscriptions", team="T1")
    two = world.radar("subscriptions", team="T2")
    assert "*Muted labs*\nNone." in one
    assert "qwen" in two.lower() and "*Muted labs*\nNone." not in two
    # Unsubscribing everything in T1 leaves T2's subscription alone.
    assert "Removed" in world.radar("unsubscribe all", team="T1")
    assert "no subscriptions" in world.radar("unsubscribe all", team="T1").lower()
    assert "1 subscription" in world.radar("subscriptions", team="T2")


def test_one_poll_alerts_every_workspace_through_its_own_client(world: TwoWorkspaces) -> None:
    world.radar("subscribe", team="T1")
    world.radar("subscribe", team="T2", user="U_BOB")
    world.radar("mute qwen", team="T2", user="U_BOB")
    world.radar("subscribe org:Qwen", team="T2", channel="C0TWOONLY", user="U_BOB")

    world.release(*fx.family_launch(world.bot.clock.now)[:6], *fx.breakout(world.bot.clock.now))

    one, two = world.alerts("T1"), world.alerts("T2")
    assert len(one) == 2, one  # the Qwen family and the breakout
    assert any("Qwen" in text for text in one) and any("Lumen" in text for text in one)
    assert len(two) == 1 and "Lumen" in two[0], two  # Qwen is muted in T2's copy
    assert [text for text in world.alerts("T2", "C0TWOONLY") if "Qwen" in text]
    assert world.alerts("T1", "C0TWOONLY") == []  # a T2 subscription never posts in T1
    for slack in (world.one, world.two):
        assert slack.violations == [], slack.violations

    # The family grows: each workspace's copy of the alert is edited where it was posted.
    world.release(*fx.family_launch(world.bot.clock.now)[6:])
    [qwen] = [m for m in world.one.messages(SHARED) if "Qwen" in m["text"] and not m["thread_ts"]]
    assert qwen["edited"] is not None
    assert [m for m in world.one.messages(SHARED) if m["thread_ts"] == qwen["ts"]]
    assert len(world.alerts("T2")) == 1  # still only the breakout in T2's shared channel


def test_digests_go_to_each_workspace_and_digest_now_is_counted_per_workspace(
    world: TwoWorkspaces,
) -> None:
    world.radar("subscribe", team="T1")
    world.radar("subscribe", team="T2", user="U_BOB")

    assert "Posted this week's digest" in world.radar("digest now", team="T1")
    # The same channel id in the other workspace has its own `digest now` window.
    assert "Posted this week's digest" in world.radar("digest now", team="T2", user="U_BOB")
    assert "a few minutes ago" in world.radar("digest now", team="T1")
    assert len(world.one.messages(SHARED)) == 1 and len(world.two.messages(SHARED)) == 1

    world.radar("digest off", team="T1")
    world.bot.clock.advance(days=8)
    results = world.bot.send_digests()
    assert [(r.team_id, r.channel_id, r.ok) for r in results] == [("T2", SHARED, True)]
    assert len(world.one.messages(SHARED)) == 1  # T1 turned its digest off
    assert len(world.two.messages(SHARED)) == 2


# ----------------------------------------------------------------- admins


def test_radar_admins_apply_per_workspace(tmp_path: Path) -> None:
    for world in two_workspaces(tmp_path, radar_admins="T2:U_BOSS, U_ROOT"):
        refused = "only the radar's admins"
        assert refused in world.radar("subscribe", team="T1", user="U_BOSS")
        assert "Subscribed" in world.radar("subscribe", team="T2", user="U_BOSS")
        assert refused in world.radar("subscribe", team="T2", user="U_ANN")
        assert "Subscribed" in world.radar("subscribe", team="T1", user="U_ROOT")
        assert refused in world.radar("digest off", team="T1", user="U_BOSS")
        assert "latest" in world.radar("subscribe", team="T1", user="U_BOSS")  # the hint


def test_with_many_workspaces_only_the_operators_change_the_shared_labs(tmp_path: Path) -> None:
    """Tracked labs serve every workspace: a workspace's own admin may not untrack one
    under the others' feet; an operator (RADAR_ADMINS entry with no workspace) may."""
    for world in two_workspaces(tmp_path, radar_admins="T2:U_BOSS, U_ROOT"):
        refused = "shared by every workspace"
        assert refused in world.radar("untrack deepseek-ai", team="T2", user="U_BOSS")
        assert refused in world.radar("track newlab-ai CN", team="T1", user="U_ANN")
        assert "`deepseek-ai`" in world.radar("labs china", team="T2", user="U_BOSS")
        assert "Now tracking `newlab-ai`" in world.radar(
            "track newlab-ai CN", team="T2", user="U_ROOT"
        )
        assert "Stopped tracking `newlab-ai`" in world.radar(
            "untrack newlab-ai", team="T1", user="U_ROOT"
        )


# ------------------------------------------------------------ leaving a workspace


def test_uninstall_removes_one_workspace_and_the_other_keeps_getting_alerts(
    world: TwoWorkspaces,
) -> None:
    world.radar("subscribe", team="T1")
    world.radar("mute lumen-research", team="T1")
    world.radar("subscribe", team="T2", user="U_BOB")
    world.radar("mute lumen-research", team="T2", user="U_BOB")
    world.radar("digest weekly fri 10:00", team="T2", user="U_BOB")
    world.release(*fx.family_launch(world.bot.clock.now)[:6])
    assert len(world.alerts("T1")) == 1 and len(world.alerts("T2")) == 1
    calls_before = len(world.two.calls)

    world.event({"type": "app_uninstalled"}, team="T2")
    store = world.bot.core.store
    world.two.wait_for(
        lambda: not [s for s in store.subscriptions.values() if s.team_id == "T2"]
    )
    assert world.installed.forgotten == ["T2"]
    assert not [r for r in (*store.mutes.values(), *store.digests.values()) if r.team_id == "T2"]
    assert not [row for row in store.deliveries.values() if row.team_id == "T2"]

    # T1 is untouched: its settings, and its alerts go on (the family grows: edit + reply).
    one = world.radar("subscriptions", team="T1")
    assert "1 subscription" in one and "lumen-research" in one
    world.release(*fx.family_launch(world.bot.clock.now)[6:])
    [alert] = world.one.messages(SHARED)[:1]
    assert alert["edited"] is not None
    assert [m for m in world.one.messages(SHARED) if m["thread_ts"] == alert["ts"]]
    world.bot.clock.advance(days=8)
    world.bot.send_digests()
    assert len(world.two.calls) == calls_before, "nothing more went to the removed workspace"


def test_a_revoked_bot_token_forgets_the_workspace_and_a_user_token_does_not(
    world: TwoWorkspaces,
) -> None:
    world.radar("subscribe", team="T2", user="U_BOB")
    world.event({"type": "tokens_revoked", "tokens": {"oauth": ["U_BOB"]}}, team="T2")
    time.sleep(0.2)  # the handler runs after the ack; it must decide to do nothing
    assert "1 subscription" in world.radar("subscriptions", team="T2", user="U_BOB")
    assert world.installed.forgotten == []

    world.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOTRADAR"]}}, team="T2")
    world.two.wait_for(lambda: world.installed.forgotten == ["T2"])
    assert "no subscriptions" in world.radar("unsubscribe all", team="T2", user="U_BOB").lower()


def test_alerts_for_a_workspace_without_a_client_end_with_the_reason(
    world: TwoWorkspaces,
) -> None:
    """An installation gone without its data (the uninstall event was missed): its rows
    end `dropped` saying why, once, and are never retried; the other workspace is served."""
    world.radar("subscribe", team="T1")
    world.radar("subscribe", team="T2", user="U_BOB")
    del world.installed.clients["T2"]

    world.release(*fx.family_launch(world.bot.clock.now)[:6])

    assert len(world.alerts("T1")) == 1
    assert world.alerts("T2") == [] and world.two.calls_to("chat.postMessage") == []
    [row] = [r for r in world.bot.core.store.deliveries.values() if r.team_id == "T2"]
    assert (row.status, row.last_error) == ("dropped", NOT_INSTALLED)
    assert world.bot.drain().dropped == 0  # ended, not retried
    world.bot.clock.advance(days=8)
    [result] = [r for r in world.bot.send_digests() if r.team_id == "T2"]
    assert result.error == NOT_INSTALLED


# ------------------------------------------------------------------ pacing


def test_a_429_in_one_workspace_does_not_hold_back_the_other(world: TwoWorkspaces) -> None:
    channels = ["C0PACE1", "C0PACE2", "C0PACE3"]
    for channel in channels:
        world.radar("subscribe", team="T1", channel=channel)
        world.radar("subscribe", team="T2", channel=channel, user="U_BOB")
    world.one.retry_after = 30  # longer than the deliverer waits inline: rows are deferred
    world.one.enforce_retry_after = True
    world.two.enforce_retry_after = True
    world.one.inject("429", "chat.postMessage")
    # One worker, and T1's rows come first: T2's posts queue right behind T1's 429.
    world.bot.radar.deliverer.workers = 1

    started = time.monotonic()
    world.release(*fx.family_launch(world.bot.clock.now)[:6])
    took = time.monotonic() - started

    for channel in channels:
        assert len(world.alerts("T2", channel)) == 1, channel  # not delayed by T1's 429
        assert world.alerts("T1", channel) == [], channel  # T1 waits out its Retry-After
    assert took < 20, took  # generous: T2 never waited 30 s for T1's pause
    pacer = world.bot.radar.deliverer.pacer
    assert pacer.pause("chat_postMessage", "T1")[1] > 0
    assert pacer.pause("chat_postMessage", "T2") == (None, 0.0)
    assert world.one.violations == [] and world.two.violations == []

    world.bot.clock.advance(seconds=31)  # T1's pause is over: its alerts go out, once each
    world.bot.drain()
    for channel in channels:
        assert len(world.alerts("T1", channel)) == 1, channel
        assert len(world.alerts("T2", channel)) == 1, channel


# ------------------------------------------------- a database from before workspaces


def _strip_team_ids(db_path: Path) -> int:
    """Make the database look written by a bot from before workspaces: no `team_id` in any
    record. Returns how many records changed."""
    collections = ("subscriptions", "mutes", "digests", "deliveries")
    url = os.environ.get("DATABASE_URL")
    if url:
        import psycopg

        changed = 0
        with psycopg.connect(url, autocommit=True) as conn:
            for name in collections:
                cursor = conn.execute(
                    f"UPDATE radar_{name} SET doc = doc - 'team_id' WHERE doc ? 'team_id'"
                )
                changed += cursor.rowcount
        return changed
    data = json.loads(db_path.read_text())
    changed = 0
    for name in collections:
        for doc in data.get(name, {}).values():
            changed += doc.pop("team_id", None) is not None
    db_path.write_text(json.dumps(data))
    return changed


def test_a_database_from_before_workspaces_reads_and_works_unchanged(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock: FakeClock
) -> None:
    db = tmp_path / "radar.json"
    with RadarHarness(hub.url, slack.url, db, clock=fake_clock) as bot:
        hub.add_many(fx.background(fake_clock.now, 10))
        bot.poll_and_deliver()
        answer = radar_command(bot, slack, "subscribe", channel="C_OLD")
        sub_id = answer.split("Subscription id `")[1].split("`")[0]
        radar_command(bot, slack, "mute lumen-research", channel="C_OLD")
        radar_command(bot, slack, "digest weekly fri 10:00", channel="C_OLD")
        hub.add_many(fx.family_launch(fake_clock.now)[:6])
        fake_clock.advance(minutes=5)
        bot.poll_and_deliver()
    [alert] = slack.messages("C_OLD")
    assert _strip_team_ids(db) >= 4  # a subscription, a mute, a schedule, a delivery row

    with RadarHarness(hub.url, slack.url, db, clock=fake_clock) as bot:
        listed = radar_command(bot, slack, "subscriptions", channel="C_OLD")
        assert sub_id in listed and "lumen-research" in listed and "Friday" in listed
        again = radar_command(bot, slack, "subscribe", channel="C_OLD")
        assert f"already has that subscription (`{sub_id}`)" in again
        # The old delivery row is found by its old key: the alert is edited, not repeated.
        hub.add_many(fx.family_launch(fake_clock.now)[6:])
        fake_clock.advance(minutes=5)
        bot.poll_and_deliver()
        top = [m for m in slack.messages("C_OLD") if m["thread_ts"] is None]
        assert [m["ts"] for m in top] == [alert["ts"]] and top[0]["edited"] is not None
        assert "Removed" in radar_command(bot, slack, f"unsubscribe {sub_id}", channel="C_OLD")
        assert "Unmuted" in radar_command(bot, slack, "unmute lumen-research", channel="C_OLD")


def test_token_mode_keeps_its_settings_when_slack_says_the_app_left(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock: FakeClock
) -> None:
    """With SLACK_BOT_TOKEN every setting is filed under the one key: an uninstall event
    deletes nothing (the operator owns that token; a reinstall works on as before)."""
    with RadarHarness(hub.url, slack.url, tmp_path / "radar.json", clock=fake_clock) as bot:
        radar_command(bot, slack, "subscribe", channel="C_KEEP")
        revoked = {"type": "tokens_revoked", "tokens": {"bot": ["UBOTRADAR"]}}
        for event in ({"type": "app_uninstalled"}, revoked):
            status, _body, _took = bot.event(event)
            assert status == 200
        time.sleep(0.2)  # the handlers run after the ack
        assert "1 subscription" in radar_command(bot, slack, "subscriptions", channel="C_KEEP")


def test_radar_admins_are_read_per_workspace() -> None:
    settings = Settings(_env_file=None, radar_admins=" U_ROOT, T2:U_BOSS ,T2:U_TWO,, T3:U_X")
    assert settings.admins_by_workspace == {
        "": frozenset({"U_ROOT"}),
        "T2": frozenset({"U_BOSS", "U_TWO"}),
        "T3": frozenset({"U_X"}),
    }
    assert Settings(_env_file=None, radar_admins="").admins_by_workspace == {}


def test_adoption_follow_ups_reply_in_each_workspace_thread(world: TwoWorkspaces) -> None:
    world.radar("subscribe", team="T1")
    world.radar("subscribe", team="T2", user="U_BOB")
    clock, repo = world.bot.clock, "Qwen/Qwen9-32B"
    world.hub.add(fx.model_json(repo, created_at=clock.now - timedelta(hours=1), params=30 * fx.B))
    clock.advance(minutes=5)
    poll_and_deliver(world.bot.core, world.bot.radar)
    world.bot.drain()
    for age in range(1, 9):
        clock.advance(days=1)
        world.hub.update(repo, downloadsAllTime=1_000 * age, downloads=1_000 * age)
        poll_and_deliver(world.bot.core, world.bot.radar)
        world.bot.drain()

    for slack in (world.one, world.two):
        [alert] = [m for m in slack.messages(SHARED) if m["thread_ts"] is None]
        replies = [
            m
            for m in slack.messages(SHARED)
            if (m.get("metadata") or {}).get("event_type") == "radar_follow_up"
        ]
        assert [m["thread_ts"] for m in replies] == [alert["ts"]], "one follow-up, in its thread"
        assert "*Day 7*" in shown_text(replies[0])
