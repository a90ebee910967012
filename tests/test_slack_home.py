"""The App Home tab end to end: `app_home_opened` in, the published view out.

The bot answers the event with `views.publish`; the Slack stand-in validates the view as
Slack would and keeps it per user, which is what these tests read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.slack_fixtures import (
    ALERTS_CHANNEL,
    REPLY_TIMEOUT,
    SUBSCRIBER,
    SlackWorld,
    radar_world,
    shown_texts,
)

pytestmark = pytest.mark.e2e

BOB = "U_BOB"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackWorld]:
    with radar_world(tmp_path_factory.mktemp("home") / "radar.json") as running:
        yield running


@pytest.fixture(autouse=True)
def no_refused_slack_calls(world: SlackWorld) -> Iterator[None]:
    seen = len(world.slack.violations)
    yield
    assert world.slack.violations[seen:] == []


def open_home(world: SlackWorld, user: str) -> dict[str, Any]:
    """Open the Home tab and return the view published for `user` in answer."""
    before = len(world.slack.home_views(user))
    status, seconds = world.open_home(user)
    assert status == 200
    assert seconds < 3.0
    published = world.slack.wait_for(
        lambda: len(world.slack.home_views(user)) > before, REPLY_TIMEOUT
    )
    assert published, f"no Home view was published for {user}"
    return world.slack.home_views(user)[-1]


def section_after(view: dict[str, Any], title: str) -> str:
    """The text of the blocks between the `*title*` section and the next divider."""
    texts: list[str] = []
    inside = False
    for block in view["blocks"]:
        if block["type"] == "divider" and inside:
            break
        text = block.get("text", {}).get("text", "")
        if inside:
            texts.extend(shown_texts(block))
        elif text == f"*{title}*":
            inside = True
    return "\n".join(texts)


def test_home_shows_recent_releases_subscriptions_and_how_to(world: SlackWorld) -> None:
    world.radar("subscribe region:china min-params:30B", channel_id="C0HOME1")
    alerts_sub = world.bot.core.channels.subscriptions(ALERTS_CHANNEL)[0]
    china_sub = world.bot.core.channels.subscriptions("C0HOME1")[0]

    view = open_home(world, SUBSCRIBER)

    assert view["type"] == "home"
    assert view["blocks"][0]["text"]["text"] == "Open Model Radar"
    shown = "\n".join(shown_texts(view["blocks"]))
    assert "Look one up with `/model &lt;repo&gt;`; see everything with `/radar help`." in shown
    assert "`/radar help` lists every command." in shown

    releases = section_after(view, "Latest releases").splitlines()
    assert len(releases) == 10
    assert releases[0] == "🌐 *lumen-research*: Lumen-R1 · 32B · 1 model · 2026-11-23"
    assert releases[1] == "🇨🇳 *Qwen*: Qwen3.7 · 8B–122B · 13 models · 2026-11-23"

    subscriptions = section_after(view, "Channel subscriptions")
    assert f"<#{ALERTS_CHANNEL}>" in subscriptions
    assert f"• `{alerts_sub.id}`: all notable releases (since 2026-11-23)" in subscriptions
    assert "<#C0HOME1>" in subscriptions
    assert f"• `{china_sub.id}`: `region:china min-params:30B`" in subscriptions


def test_home_shows_only_the_subscriptions_a_user_made(world: SlackWorld) -> None:
    world.radar("subscribe org:google", channel_id="C0BOBS", user_id=BOB)
    bobs = world.bot.core.channels.subscriptions("C0BOBS")[0]

    bob_view = open_home(world, BOB)
    alice_view = open_home(world, SUBSCRIBER)

    bob_subs = section_after(bob_view, "Channel subscriptions")
    assert "<#C0BOBS>" in bob_subs and f"`{bobs.id}`: `org:google`" in bob_subs
    assert f"<#{ALERTS_CHANNEL}>" not in bob_subs
    assert "<#C0BOBS>" not in section_after(alice_view, "Channel subscriptions")


def test_home_of_someone_without_subscriptions_says_how_to_start(world: SlackWorld) -> None:
    view = open_home(world, "U_CAROL")

    subscriptions = section_after(view, "Channel subscriptions").splitlines()
    assert subscriptions[0] == "No channel subscribes yet. In a channel, type `/radar subscribe`."
    assert "<#" not in "\n".join(subscriptions)
    assert len(section_after(view, "Latest releases").splitlines()) == 10


def test_home_is_fresh_each_time_it_is_opened(world: SlackWorld) -> None:
    world.radar("subscribe org:nvidia", channel_id="C0HOME2", user_id="U_DAN")
    sub = world.bot.core.channels.subscriptions("C0HOME2")[0]
    assert f"`{sub.id}`" in section_after(open_home(world, "U_DAN"), "Channel subscriptions")

    world.radar(f"unsubscribe {sub.id}", channel_id="C0HOME2", user_id="U_DAN")
    again = open_home(world, "U_DAN")

    assert f"`{sub.id}`" not in section_after(again, "Channel subscriptions")
    assert "No channel subscribes yet." in section_after(again, "Channel subscriptions")


def test_opening_the_messages_tab_publishes_nothing(world: SlackWorld) -> None:
    status, seconds = world.open_home("U_ERIN", tab="messages")

    assert status == 200 and seconds < 3.0
    # Opening Home afterwards publishes exactly one view: the messages tab added none.
    open_home(world, "U_ERIN")
    assert len(world.slack.home_views("U_ERIN")) == 1
    assert [c["user_id"] for c in world.slack.calls_to("views.publish")].count("U_ERIN") == 1


def test_home_before_any_release_is_seen(tmp_path) -> None:
    with radar_world(tmp_path / "radar.json", populated=False) as empty:
        view = open_home(empty, SUBSCRIBER)

        assert section_after(view, "Latest releases") == "No notable releases yet."
        assert section_after(view, "Channel subscriptions").startswith("No channel subscribes")
        assert empty.slack.violations == []
