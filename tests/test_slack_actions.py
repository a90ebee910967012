"""Buttons end to end: clicks on `/model` cards and on release alerts, signed as Slack sends them.

Each click must be acked inside Slack's 3 seconds; the answer arrives at the click's
response_url, where these tests read it: public or ephemeral, replacing the card or not,
and what it says.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.doubles import hub_fixtures as fx
from tests.slack_fixtures import (
    ALERTS_CHANNEL,
    BREAKOUT_REPO,
    FAMILY_LEAD,
    FAMILY_RELEASE_MEMBERS,
    HUB_ONLY_REPO,
    Reply,
    SlackWorld,
    alerts,
    assert_quick_ack,
    button,
    buttons,
    field_value,
    header,
    radar_world,
)

pytestmark = pytest.mark.e2e

QWEN_ALERT = "🇨🇳 Qwen: Qwen3.7"
BREAKOUT_ALERT = "🌐 lumen-research: Lumen-R1"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackWorld]:
    with radar_world(tmp_path_factory.mktemp("actions") / "radar.json") as running:
        yield running


@pytest.fixture(autouse=True)
def no_refused_slack_calls(world: SlackWorld) -> Iterator[None]:
    seen = len(world.slack.violations)
    yield
    assert world.slack.violations[seen:] == []


def clicked(reply: Reply) -> Reply:
    """A click is acked fast with an empty 200, and exactly one answer follows."""
    assert_quick_ack(reply)
    assert reply.ack_body == ""
    assert len(reply.payloads) == 1
    assert reply.text.strip()
    return reply


def card_for(world: SlackWorld, query: str) -> dict:
    reply = world.model(query)
    assert reply.response_type == "ephemeral"
    return reply.payload


# ------------------------------------------------------------------------------ share_model


def test_share_posts_the_card_publicly(world: SlackWorld) -> None:
    card = card_for(world, FAMILY_LEAD)
    share = button(card, "share_model")

    reply = clicked(world.press("share_model", share["value"]))

    assert reply.response_type == "in_channel"
    assert reply.payload["replace_original"] is False
    assert header(reply.payload) == FAMILY_LEAD
    assert reply.text.startswith(f"{FAMILY_LEAD}: Qwen, 122B total / 10B active")
    assert field_value(reply.payload, "Lab") == "🇨🇳 Qwen · China"
    assert field_value(reply.payload, "Parameters") == "122B total / 10B active"
    assert f"({FAMILY_RELEASE_MEMBERS} models)" in reply.shown


def test_the_shared_card_has_no_buttons_that_change_it(world: SlackWorld) -> None:
    card = card_for(world, "kimi k2")
    assert any(b["action_id"].startswith("model_alternative_") for b in buttons(card))

    reply = clicked(world.press("share_model", button(card, "share_model")["value"]))

    assert reply.response_type == "in_channel"
    assert [b["action_id"] for b in buttons(reply.payload)] == ["open_model_hub"]
    assert "Did you mean" not in reply.shown


def test_share_a_model_known_only_from_the_hub(world: SlackWorld) -> None:
    card = card_for(world, HUB_ONLY_REPO)

    reply = clicked(world.press("share_model", button(card, "share_model")["value"]))

    assert reply.response_type == "in_channel"
    assert header(reply.payload) == HUB_ONLY_REPO
    assert field_value(reply.payload, "License") == "cc-by-nc-4.0 (non-commercial)"


def test_share_a_model_that_is_gone_tells_only_the_clicker(world: SlackWorld) -> None:
    reply = clicked(world.press("share_model", "nobody/deleted-model"))

    assert reply.response_type == "ephemeral"
    assert reply.payload["replace_original"] is False
    assert reply.text == "That model is no longer available."


# ------------------------------------------------------------------------ did you mean


@pytest.mark.parametrize("index", [0, 1])
def test_an_alternative_replaces_the_card(world: SlackWorld, index: int) -> None:
    card = card_for(world, "qwen3.7 122b a10b")
    alternatives = [b for b in buttons(card) if b["action_id"].startswith("model_alternative_")]
    assert len(alternatives) >= 2
    chosen = alternatives[index]
    assert chosen["action_id"] == f"model_alternative_{index}"

    reply = clicked(world.press(chosen["action_id"], chosen["value"]))

    assert reply.payload["replace_original"] is True
    assert reply.response_type in (None, "ephemeral")
    assert header(reply.payload) == chosen["value"]
    assert header(reply.payload) != header(card)
    assert button(reply.payload, "share_model")["value"] == chosen["value"]


def test_an_alternative_that_no_longer_matches_anything(world: SlackWorld) -> None:
    reply = clicked(world.press("model_alternative_2", "nobody/vanished-model"))

    assert reply.payload["replace_original"] is True
    assert reply.text.startswith("I found no model matching “nobody/vanished-model”.")


# ----------------------------------------------------------------------- release_details


def test_release_details_shows_the_lead_model_of_the_alert(world: SlackWorld) -> None:
    alert = alerts(world)[QWEN_ALERT]
    details = button(alert, "release_details")

    reply = clicked(world.press("release_details", details["value"], channel_id=ALERTS_CHANNEL))

    assert reply.response_type == "ephemeral"
    assert reply.payload["replace_original"] is False
    assert header(reply.payload) == FAMILY_LEAD
    assert f"*Part of the release “Qwen3.7”* ({FAMILY_RELEASE_MEMBERS} models)" in reply.shown
    assert "• Qwen3.7-8B-Base · 8B" in reply.shown
    assert field_value(reply.payload, "Derivatives") == "14 quantized · 3 fine-tunes"
    assert "*Why it's on the radar*" in reply.shown
    assert world.slack.messages(ALERTS_CHANNEL) == list(alerts(world).values())


def test_release_details_of_a_breakout(world: SlackWorld) -> None:
    alert = alerts(world)[BREAKOUT_ALERT]

    reply = clicked(
        world.press(
            "release_details", button(alert, "release_details")["value"], channel_id=ALERTS_CHANNEL
        )
    )

    assert header(reply.payload) == BREAKOUT_REPO
    assert field_value(reply.payload, "Lab") == "🌐 lumen-research · country unknown"
    assert "• breakout from untracked namespace lumen-research" in reply.shown


def test_release_details_of_an_unknown_release(world: SlackWorld) -> None:
    reply = clicked(world.press("release_details", "nobody/nothing@2020-01-01"))

    assert reply.response_type == "ephemeral"
    assert reply.text == "I no longer have that release."


# -------------------------------------------------------------------------------- mute_lab


def test_mute_lab_from_an_alert_silences_that_lab_in_that_channel(world: SlackWorld) -> None:
    channel = "C0MUTEBTN"
    world.radar("subscribe", channel_id=channel)
    alert = alerts(world)[QWEN_ALERT]
    mute = button(alert, "mute_lab")
    assert mute["text"]["text"] == "Mute Qwen"

    reply = clicked(world.press("mute_lab", mute["value"], channel_id=channel, message=alert))

    assert reply.response_type == "ephemeral"
    assert reply.payload["replace_original"] is False
    assert reply.text == (
        "Muted `Qwen` in this channel. `/radar unmute Qwen` to hear from it again."
    )
    assert world.bot.core.channels.is_muted(channel, "Qwen")
    assert not world.bot.core.channels.is_muted(ALERTS_CHANNEL, "Qwen")
    listing = world.radar("subscriptions", channel_id=channel)
    assert "• `qwen` until unmuted" in listing.shown

    # The next Qwen release skips this channel; other labs still arrive.
    world.bot.clock.advance(hours=2)
    now = world.bot.clock.now
    world.hub.add_many(
        [
            fx.model_json("Qwen/Qwen4-9B", created_at=now - timedelta(hours=1), params=9 * fx.B),
            fx.model_json(
                "deepseek-ai/DeepSeek-V4", created_at=now - timedelta(hours=1), params=700 * fx.B
            ),
        ]
    )
    world.bot.poll_and_deliver()

    here = [header(m) for m in world.slack.messages(channel)]
    assert len(here) == 1 and here[0].startswith("🇨🇳 DeepSeek: ")
    unmuted_channel = [header(m) for m in world.slack.messages(ALERTS_CHANNEL)]
    assert any(h.startswith("🇨🇳 Qwen: Qwen4") for h in unmuted_channel)


def test_mute_lab_without_a_lab(world: SlackWorld) -> None:
    reply = clicked(world.press("mute_lab", "", channel_id="C0MUTEBTN2"))

    assert reply.response_type == "ephemeral"
    assert reply.text == "I could not tell which lab to mute."
    assert world.bot.core.channels.active_mutes("C0MUTEBTN2") == []


FORGED_VALUES = ["<!channel>", "Qwen/../../etc", "a" * 10_000, "org:<@U0EVIL>", "x" * 97]


@pytest.mark.parametrize("value", FORGED_VALUES, ids=lambda v: v[:12])
def test_a_forged_mute_value_is_refused_and_stores_nothing(world: SlackWorld, value: str) -> None:
    """`/radar mute` would refuse each of these; the button refuses them the same way."""
    channel = "C0FORGEDMUTE"

    reply = clicked(world.press("mute_lab", value, channel_id=channel))

    assert reply.response_type == "ephemeral" and reply.payload["replace_original"] is False
    assert reply.text.startswith("That button carried a value I cannot use, so I changed nothing.")
    assert "is not a Hugging Face namespace" in reply.shown
    assert value not in reply.shown or len(value) < 100  # a long value is never echoed whole
    assert "<!channel>" not in reply.shown and "<@U0EVIL>" not in reply.shown
    assert world.bot.core.channels.active_mutes(channel) == []


def test_a_forged_release_value_is_refused(world: SlackWorld) -> None:
    reply = clicked(world.press("release_details", "<!here> " + "r" * 5_000))

    assert reply.response_type == "ephemeral"
    assert reply.text.startswith("That button carried a value I cannot use")
    assert "It does not name a release." in reply.shown


@pytest.mark.parametrize("action_id", ["share_model", "model_alternative_0"])
def test_a_model_button_value_meets_the_model_commands_rules(
    world: SlackWorld, action_id: str
) -> None:
    reply = clicked(world.press(action_id, "q" * 2_001))

    assert reply.response_type == "ephemeral"
    assert reply.text.startswith("That button carried a value I cannot use")
    assert "That is far longer than any model name." in reply.shown


def test_an_unknown_action_is_acked_and_answered_with_nothing(world: SlackWorld) -> None:
    name = "unknown-click"
    status, ack, _ = world.bot.click(
        "some_old_button", "v", response_url=world.slack.response_url_for(name)
    )

    assert (status, ack) == (200, "")
    clicked(world.press("release_details", "nobody/nothing@2020-01-01"))
    assert world.slack.responses(name) == []


# ---------------------------------------------------------------------------- link buttons


@pytest.mark.parametrize("action_id", ["open_model_hub", "open_lab_hub"])
def test_link_buttons_are_acked_and_answered_with_nothing(
    world: SlackWorld, action_id: str
) -> None:
    name = "link-click"
    status, ack, seconds = world.bot.click(
        action_id, "", response_url=world.slack.response_url_for(name)
    )

    assert status == 200
    assert ack == ""
    assert seconds < 3.0
    # A later click's answer arriving proves the link click was handled and left no reply.
    clicked(world.press("release_details", "nobody/nothing@2020-01-01"))
    assert world.slack.responses(name) == []
