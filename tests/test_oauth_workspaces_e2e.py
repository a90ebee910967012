"""Issue 14's proof for many workspaces: two workspaces install the app through the OAuth
flow (against the Slack stand-in's authorize page and `oauth.v2.access`), each subscribes
in its own channel, one Hub release alerts each with its own token and only its own
subscription, and `app_uninstalled` in one removes its installation and data while the
other keeps getting alerts. Real HTTP, real Bolt, one Slack stand-in with two workspaces
(every message is recorded with the workspace whose token posted it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.signing import event_body, post_signed, slash_command_body
from tests.doubles.slack_server import SlackStandIn
from tests.harness import SIGNING_SECRET, FakeClock, RadarHarness, shown_text
from tests.oauth_browser import OAUTH, install

pytestmark = pytest.mark.e2e

FORM = "application/x-www-form-urlencoded"
SHARED = "C0SHARED"  # one channel id in both workspaces (as a Slack Connect channel has)


class World:
    def __init__(self, hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness) -> None:
        self.hub, self.slack, self.bot = hub, slack, bot
        self._names = 0

    def radar(self, text: str, *, team: str, channel: str = SHARED) -> str:
        self._names += 1
        name = f"e2e-{self._names}"
        body = slash_command_body(
            "/radar",
            text,
            user_id="U_ANN",
            channel_id=channel,
            team_id=team,
            response_url=self.slack.response_url_for(name),
        )
        status, _, _ = post_signed(
            f"{self.bot.url}/slack/events", body, SIGNING_SECRET, content_type=FORM
        )
        assert status == 200
        [answer] = self.slack.wait_for(lambda: self.slack.responses(name), timeout=20)
        return shown_text(answer)

    def alerts(self, team: str, channel: str = SHARED) -> list[str]:
        return [
            m["text"]
            for m in self.slack.messages(channel, team=team)
            if m.get("thread_ts") is None
        ]

    def release(self, *repos: dict) -> None:
        self.hub.add_many(repos)
        self.bot.clock.advance(minutes=5)
        self.bot.poll_and_deliver()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = FakeClock()
    with (
        HubStandIn() as hub,
        SlackStandIn(wall_clock=lambda: clock.now.timestamp()) as slack,
    ):
        slack.workspaces.add("T_ACME", "Acme")
        slack.workspaces.add("T_BETA", "Beta Labs")
        with RadarHarness(hub.url, slack.url, tmp_path / "radar.json", clock=clock, **OAUTH) as bot:
            slack.workspaces.redirect_url = f"{bot.url}/slack/oauth_redirect"
            for team in ("T_ACME", "T_BETA"):
                _, page = install(bot, slack, team)
                assert page.status_code == 200
            hub.add_many(fx.background(clock.now, 10))
            bot.poll_and_deliver()  # first sight of every lab: recorded, never announced
            yield World(hub, slack, bot)


def test_two_oauth_workspaces_get_their_own_alerts_and_an_uninstall_removes_only_one(
    world: World,
) -> None:
    slack, store, now = world.slack, world.bot.core.store, world.bot.clock.now
    assert "Subscribed this channel" in world.radar("subscribe", team="T_ACME")
    assert "Subscribed this channel" in world.radar("subscribe", team="T_BETA")
    assert "Muted `Qwen`" in world.radar("mute qwen", team="T_BETA", channel="C0BETA")
    assert "Subscribed this channel" in world.radar("subscribe", team="T_BETA", channel="C0BETA")

    world.release(*fx.family_launch(now)[:6])

    # One alert in each workspace's copy of the channel, posted with that workspace's token;
    # Beta's other channel muted Qwen, so nothing there (and nothing in Acme's C0BETA).
    acme, beta = world.alerts("T_ACME"), world.alerts("T_BETA")
    assert len(acme) == 1 and len(beta) == 1 and "Qwen" in acme[0] and "Qwen" in beta[0]
    assert world.alerts("T_BETA", "C0BETA") == [] and world.alerts("T_ACME", "C0BETA") == []
    for team in ("T_ACME", "T_BETA"):
        posts = slack.workspaces.calls_by(team, "chat.postMessage")
        assert {token for _, token in posts} == {slack.workspaces.current_token(team)}
    assert "1 subscription" in world.radar("subscriptions", team="T_ACME")
    assert "qwen" not in world.radar("subscriptions", team="T_ACME", channel="C0BETA").lower()

    # Beta uninstalls: Slack revokes its tokens and tells the bot.
    slack.workspaces.revoke("T_BETA")
    status, _, _ = post_signed(
        f"{world.bot.url}/slack/events",
        event_body({"type": "app_uninstalled"}, team_id="T_BETA"),
        SIGNING_SECRET,
        content_type="application/json",
    )
    assert status == 200
    assert slack.wait_for(lambda: store.slack_installs.get("T_BETA") is None)
    beta_rows = [
        record
        for record in (*store.subscriptions.values(), *store.mutes.values(),
                       *store.deliveries.values())
        if record.team_id == "T_BETA"
    ]  # fmt: skip
    assert beta_rows == []
    assert store.slack_installs.get("T_ACME") is not None
    beta_calls = len(slack.workspaces.calls_by("T_BETA"))

    # The next release reaches Acme, through its own token; nothing more goes to Beta.
    world.release(*fx.breakout(world.bot.clock.now))
    after = world.alerts("T_ACME")
    assert len(after) == 2 and "Lumen" in after[1], after
    assert len(slack.workspaces.calls_by("T_BETA")) == beta_calls
    assert world.alerts("T_BETA") == beta
    assert slack.violations == [], slack.violations
