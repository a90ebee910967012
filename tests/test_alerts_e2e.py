"""Channel alerts end to end: the real bot, the Hub stand-in and the Slack stand-in over HTTP.

Every test drives the bot the way production does (a poll finds repos on the Hub, the
deliverer drains the outbox into Slack) and asserts on what people in the channel would see:
how many messages, what they say, which buttons they carry, and what never happens (a second
top-level message for one release, a ping, a message Slack would refuse).

Slack's clock is tied to the bot's fake clock, as the two real clocks agree in production, so
the deliverer's history lookups by time see the messages the stand-in recorded.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.radar.models import Delivery, lead_member
from bot.store import open_store
from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import LOST_REPLY, SlackStandIn, find_broadcast_mentions
from tests.harness import FakeClock, RadarHarness, radar_command, shown_text

pytestmark = pytest.mark.e2e

GENERAL = "C_GENERAL"
PUBLIC_HUB = "https://huggingface.co"
HOSTILE = "<!channel> <@U123> <https://evil.example|click> & Sons"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "radar.json"


@pytest.fixture
def bot(
    hub: HubStandIn, slack: SlackStandIn, db_path: Path, fake_clock: FakeClock
) -> Iterator[RadarHarness]:
    """A running bot that has already recorded the Hub's history without posting it."""
    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as radar:
        hub.add_many(fx.background(radar.clock.now, 10))
        radar.poll_and_deliver()
        assert slack.messages() == [], "the bootstrap poll must stay silent"
        yield radar


# ------------------------------------------------------------------------------ helpers


def top_level(slack: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages(channel) if m["thread_ts"] is None]


def replies(slack: SlackStandIn, channel: str, ts: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages(channel) if m["thread_ts"] == ts]


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def posts_to(slack: SlackStandIn, channel: str) -> int:
    """chat.postMessage attempts for a channel, accepted or not."""
    return sum(1 for call in slack.calls_to("chat.postMessage") if call.get("channel") == channel)


def release_repo(bot: RadarHarness, repo_id: str, params_b: int, **extra: Any) -> dict[str, Any]:
    """A tracked lab's new original model, published an hour before the bot's "now"."""
    return fx.model_json(
        repo_id,
        created_at=bot.clock.now - timedelta(hours=1),
        params=params_b * fx.B,
        downloads=extra.pop("downloads", 5_000),
        likes=extra.pop("likes", 300),
        **extra,
    )


def publish(hub: HubStandIn, bot: RadarHarness, *repos: dict[str, Any]) -> None:
    """Put repos on the Hub and let five minutes pass, as between two polls."""
    hub.add_many(repos)
    bot.clock.advance(minutes=5)


def assert_nothing_slack_refused(slack: SlackStandIn) -> None:
    assert slack.violations == []
    assert find_broadcast_mentions(slack.messages()) == []


# ---------------------------------------------------------------------- what an alert is


def test_a_family_launch_is_one_alert_with_lab_flag_sizes_license_reasons_and_buttons(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    bot.radar.deliverer.hub_url = PUBLIC_HUB  # links are only written for https pages
    assert "Subscribed this channel" in radar_command(bot, slack, "subscribe")
    radar_command(bot, slack, "subscribe region:us", channel="C_US")
    radar_command(bot, slack, "subscribe", channel="C_QUIET")
    assert "Muted `Qwen`" in radar_command(bot, slack, "mute Qwen", channel="C_QUIET")

    family = fx.family_launch(bot.clock.now)
    flagship_ids = [r["id"] for r in family if r["id"].endswith(("-122B-A10B", "-8B-Instruct"))]
    publish(hub, bot, *family, *fx.derivative_flood(bot.clock.now, flagship_ids))
    bot.poll_and_deliver()

    alerts = slack.messages(GENERAL)
    assert len(alerts) == 1, "a family of sizes and 40+ third-party copies is one alert"
    alert = alerts[0]
    text = shown_text(alert)
    assert alert["text"].startswith("🇨🇳 New open-weight release from Qwen: Qwen3.7")
    assert "13 models, 8B–122B" in alert["text"]
    assert alert["blocks"][0]["text"]["text"] == "🇨🇳 Qwen: Qwen3.7"
    assert "*New open-weight release* from *Qwen* · China" in text
    assert "*License*\npermissive" in text
    assert "<https://huggingface.co/Qwen/Qwen3.7-8B-Instruct|Qwen3.7-8B-Instruct> · 8B" in text
    assert "Qwen3.7-122B-A10B> · 122B total / 10B active" in text
    assert "Qwen3.7-35B-A3B-GGUF" in text
    assert "*Why it's notable*" in text
    assert "• tracked lab Qwen (CN)" in text
    assert "• flagship family Qwen3.7" in text
    for copier in ("unsloth", "bartowski", "mlx-community", "huihui-ai"):
        assert copier not in text
    controls = buttons(alert)
    assert controls["release_details"]["text"]["text"] == "Model details"
    assert controls["release_details"]["value"].startswith("qwen/qwen3.7@")
    assert controls["mute_lab"]["text"]["text"] == "Mute Qwen"
    assert controls["mute_lab"]["value"] == "Qwen"
    assert alert["unfurl_links"] is False
    assert alert["metadata"]["event_payload"]["release_id"] == controls["release_details"]["value"]

    assert slack.messages("C_US") == [], "a region:us subscription does not hear about China"
    assert slack.messages("C_QUIET") == [], "a channel that muted Qwen does not hear from it"
    assert len(slack.messages()) == 1
    assert_nothing_slack_refused(slack)


def test_a_muted_lab_is_silenced_in_that_channel_only_and_other_labs_still_arrive(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    radar_command(bot, slack, "subscribe")
    radar_command(bot, slack, "subscribe", channel="C_OTHER")
    publish(hub, bot, release_repo(bot, "Qwen/Qwen4-32B-Instruct", 32))
    bot.poll_and_deliver()
    alert = slack.messages(GENERAL)[0]

    name = "mute-click"
    status, _body, _elapsed = bot.click(
        "mute_lab",
        buttons(alert)["mute_lab"]["value"],
        response_url=slack.response_url_for(name),
        channel_id=GENERAL,
        message_ts=alert["ts"],
    )
    assert status == 200
    answer = slack.wait_for(lambda: slack.responses(name), timeout=20)
    assert "Muted `Qwen` in this channel" in answer[0]["text"]

    publish(
        hub,
        bot,
        release_repo(bot, "Qwen/Qwen4-Coder-480B-A35B-Instruct", 480),
        release_repo(bot, "openai/gpt-oss-2-200b", 200),
    )
    bot.poll_and_deliver()
    general = [m["text"] for m in slack.messages(GENERAL)]
    other = [m["text"] for m in slack.messages("C_OTHER")]
    assert len(general) == 2, general
    assert "from Qwen" in general[0] and "from OpenAI" in general[1]
    assert len(other) == 3, "the mute was for #general only"
    assert any("OpenAI" in t for t in other)


def test_members_that_join_later_edit_the_alert_and_reply_in_its_thread(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    radar_command(bot, slack, "subscribe")
    family = fx.family_launch(bot.clock.now)
    publish(hub, bot, *family[:6])  # the MoE sizes first
    bot.poll_and_deliver()
    [alert] = slack.messages(GENERAL)
    assert "(6 models, 35B–122B)" in alert["text"]

    publish(hub, bot, *family[6:])  # the dense sizes an hour later
    report = bot.poll_and_deliver()
    assert [event.kind for event in report.events] == ["release_updated"]

    [edited] = top_level(slack, GENERAL)
    assert edited["ts"] == alert["ts"], "never a second top-level message for one release"
    assert edited["edited"] is not None
    assert "(13 models, 8B–122B)" in edited["text"]
    assert "Qwen3.7-27B-Thinking" in shown_text(edited)
    [reply] = replies(slack, GENERAL, alert["ts"])
    reply_text = shown_text(reply)
    assert "*New in this release:*" in reply_text
    for repo in family[6:]:
        assert repo["id"].split("/", 1)[1] in reply_text
    assert "Qwen3.7-122B-A10B-FP8" not in reply_text, "the reply lists only what is new"

    bot.clock.advance(minutes=5)
    bot.poll_and_deliver()
    assert len(slack.messages(GENERAL)) == 2, "a quiet poll changes nothing"
    assert len(slack.calls_to("chat.update")) == 1
    assert_nothing_slack_refused(slack)


def test_members_that_join_while_the_alert_is_on_its_way_are_still_announced(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    """A poll that grows the release while its first post is in flight sees the row not yet
    sent; the deliverer notices the release moved on and edits the alert next time."""
    radar_command(bot, slack, "subscribe")
    family = fx.family_launch(bot.clock.now)
    publish(hub, bot, *family[:6])
    bot.poll()
    slack.latency = 2.0  # the first post takes two seconds to be answered
    drain = threading.Thread(target=bot.drain)
    drain.start()
    time.sleep(0.3)  # the post is on its way (answered at about 2 s)
    publish(hub, bot, *family[6:])
    bot.poll()  # commits the grown release while the post is still on its way
    assert slack.calls_to("chat.postMessage") == [], "the poll came too late to test this"
    drain.join(timeout=10)
    slack.latency = 0.0
    bot.drain()

    [alert] = top_level(slack, GENERAL)
    assert "(13 models, 8B–122B)" in alert["text"], "the alert was brought up to date"
    [reply] = replies(slack, GENERAL, alert["ts"])
    assert "Qwen3.7-27B-Thinking" in shown_text(reply)


def test_hostile_hub_text_is_shown_escaped_and_pings_nobody(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    radar_command(bot, slack, "subscribe")
    publish(
        hub,
        bot,
        release_repo(
            bot,
            "Qwen/Qwen9-8B-Instruct",
            8,
            base_model=f"Qwen/Qwen9-Base {HOSTILE}",
            relation="finetune",
        ),
    )
    bot.poll_and_deliver()

    [alert] = slack.messages(GENERAL)
    text = shown_text(alert)
    assert (
        "built on the lab's own Qwen/Qwen9-Base &lt;!channel&gt; &lt;@U123&gt; "
        "&lt;https://evil.example|click&gt; &amp; Sons" in text
    )
    for raw in ("<!channel>", "<@U123>", "<https://evil.example|click>", "& Sons"):
        assert raw not in text
    assert_nothing_slack_refused(slack)


def test_a_release_with_sixty_five_members_posts_within_block_kit_limits(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    radar_command(bot, slack, "subscribe")
    sizes = range(1, 66)
    huge = [
        fx.model_json(
            f"mistralai/Mistral-Colossal-2611-{size}B-Instruct-Long-Context-Preview-Edition",
            created_at=bot.clock.now - timedelta(hours=2, minutes=size),
            params=size * fx.B,
            likes=50,
        )
        for size in sizes
    ]
    publish(hub, bot, *huge)
    bot.poll_and_deliver()

    [alert] = slack.messages(GENERAL)
    assert "(65 models, 1B–65B)" in alert["text"]
    assert len(alert["blocks"]) <= 50
    members = next(b for b in alert["blocks"] if b.get("block_id") == "release_members")
    assert len(members["text"]["text"]) <= 3000
    assert "more models" in members["text"]["text"], "the rest is summarised, not cut off"
    assert_nothing_slack_refused(slack)


# ---------------------------------------------------------------- durable, exactly once


def test_a_restart_resumes_alerts_that_were_queued_but_not_sent(
    hub: HubStandIn, slack: SlackStandIn, db_path: Path, fake_clock: FakeClock
) -> None:
    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as first:
        hub.add_many(fx.background(fake_clock.now, 10))
        first.poll()
        radar_command(first, slack, "subscribe")
        publish(hub, first, *fx.family_launch(fake_clock.now))
        first.poll()  # the release and its outbox row are committed; the bot stops here
    assert slack.messages(GENERAL) == []

    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as second:
        assert second.drain().posted == 1
        fake_clock.advance(minutes=5)
        second.poll_and_deliver()

    alerts = slack.messages(GENERAL)
    assert len(alerts) == 1, "resumed once, and not again by later drains and polls"
    assert "Qwen3.7" in alerts[0]["text"]


@pytest.mark.tinydb_only  # rewinds a sent row to no ts, which PostgreSQL refuses by design
@pytest.mark.parametrize("reached_slack", [True, False], ids=["posted", "never-posted"])
def test_a_crash_between_posting_and_marking_never_posts_twice(
    hub: HubStandIn,
    slack: SlackStandIn,
    db_path: Path,
    fake_clock: FakeClock,
    reached_slack: bool,
) -> None:
    family = fx.family_launch(fake_clock.now)
    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as first:
        hub.add_many(fx.background(fake_clock.now, 10))
        first.poll()
        radar_command(first, slack, "subscribe")
        publish(hub, first, *family[:6])
        first.poll_and_deliver()
    [posted] = slack.messages(GENERAL)

    # Rewind the outbox row to what a crash right after chat.postMessage leaves behind.
    store = open_store(db_path)
    [row] = [d for d in store.deliveries.values() if d.channel_id == GENERAL]
    store.deliveries.put(row.model_copy(update={"status": "posting", "ts": None}))
    store.commit()
    store.close()
    if not reached_slack:
        slack.reset()  # the crash came before Slack accepted the message

    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as second:
        report = second.drain()
        assert (report.adopted, report.posted) == ((1, 0) if reached_slack else (0, 1))
        [alert] = slack.messages(GENERAL)
        if reached_slack:
            assert alert["ts"] == posted["ts"]
        recorded: Delivery = second.core.store.deliveries.get(row.key)
        assert (recorded.status, recorded.ts) == ("sent", alert["ts"])

        publish(hub, second, *family[6:])
        second.poll_and_deliver()
    [edited] = top_level(slack, GENERAL)
    assert edited["ts"] == alert["ts"], "later members edit the adopted message"
    assert "(13 models, 8B–122B)" in edited["text"]
    assert len(replies(slack, GENERAL, alert["ts"])) == 1


@pytest.mark.tinydb_only  # rewinds a sent row to no ts, which PostgreSQL refuses by design
def test_members_that_join_before_a_crashed_post_is_adopted_still_edit_the_alert(
    hub: HubStandIn, slack: SlackStandIn, db_path: Path, fake_clock: FakeClock
) -> None:
    family = fx.family_launch(fake_clock.now)
    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as first:
        hub.add_many(fx.background(fake_clock.now, 10))
        first.poll()
        radar_command(first, slack, "subscribe")
        publish(hub, first, *family[:6])
        first.poll_and_deliver()
    [posted] = slack.messages(GENERAL)
    assert "(6 models, 35B–122B)" in posted["text"]

    store = open_store(db_path)  # the crash: posted, never marked
    [row] = [d for d in store.deliveries.values() if d.channel_id == GENERAL]
    store.deliveries.put(row.model_copy(update={"status": "posting", "ts": None}))
    store.commit()
    store.close()

    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as second:
        publish(hub, second, *family[6:])  # the restart's first poll finds the dense sizes
        second.poll()
        report = second.drain()
    assert (report.adopted, report.posted, report.updated) == (1, 0, 1)
    [alert] = top_level(slack, GENERAL)
    assert alert["ts"] == posted["ts"] and alert["edited"] is not None
    assert "(13 models, 8B–122B)" in alert["text"]
    [reply] = replies(slack, GENERAL, alert["ts"])
    assert "Qwen3.7-27B-Thinking" in shown_text(reply)
    assert "Qwen3.7-122B-A10B-FP8" not in shown_text(reply)


@pytest.mark.tinydb_only  # rewinds a sent row to no ts, which PostgreSQL refuses by design
def test_an_adopted_alert_whose_edit_never_happened_is_still_edited_after_a_restart(
    hub: HubStandIn, slack: SlackStandIn, db_path: Path, fake_clock: FakeClock
) -> None:
    """The crash suite's lost late build: the alert is adopted after a crash, members
    joined meanwhile, and the edit does not happen in that process (Slack fails it, then
    the process dies). The update must stay due, not be buried under a `sent` row."""
    family = fx.family_launch(fake_clock.now)
    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as first:
        hub.add_many(fx.background(fake_clock.now, 10))
        first.poll()
        radar_command(first, slack, "subscribe")
        publish(hub, first, *family[:6])
        first.poll_and_deliver()
    [posted] = slack.messages(GENERAL)

    store = open_store(db_path)  # the crash: posted, never marked
    [row] = [d for d in store.deliveries.values() if d.channel_id == GENERAL]
    store.deliveries.put(row.model_copy(update={"status": "posting", "ts": None}))
    store.commit()
    store.close()

    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as second:
        publish(hub, second, *family[6:])  # the restart's first poll finds the dense sizes
        second.poll()
        slack.inject("500", method="chat.update", times=3)  # every try of this drain
        report = second.drain()
        assert (report.adopted, report.updated, report.deferred) == (1, 0, 1)
    # ... and the process is gone before it tries again.
    [alert] = top_level(slack, GENERAL)
    assert "(6 models, 35B–122B)" in alert["text"]

    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as third:
        fake_clock.advance(minutes=5)  # past the deferral
        third.poll_and_deliver()
    [alert] = top_level(slack, GENERAL)
    assert alert["ts"] == posted["ts"] and alert["edited"] is not None
    assert "(13 models, 8B–122B)" in alert["text"]
    [reply] = replies(slack, GENERAL, alert["ts"])
    assert "Qwen3.7-27B-Thinking" in shown_text(reply)


# ------------------------------------------------------------------------ Slack failures


def test_a_rate_limited_post_waits_retry_after_and_posts_once(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    waits: list[float] = []
    bot.radar.deliverer.sleep = waits.append
    bot.radar.deliverer.per_channel_interval = 0.0
    slack.retry_after = 3
    radar_command(bot, slack, "subscribe")
    slack.inject("429", method="chat.postMessage")
    publish(hub, bot, release_repo(bot, "openai/gpt-oss-2-200b", 200))
    bot.poll_and_deliver()

    assert len(waits) == 1 and 2.9 <= waits[0] <= 3.0, waits
    assert len(slack.messages(GENERAL)) == 1
    assert posts_to(slack, GENERAL) == 2


def test_a_post_whose_reply_is_lost_is_found_in_the_channel_not_posted_again(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    """Slack carried the post out but the connection dropped before its answer: the bot
    cannot know, so it looks in the channel before trying again."""
    bot.radar.deliverer.per_channel_interval = 0.0
    radar_command(bot, slack, "subscribe")
    slack.inject(LOST_REPLY, method="chat.postMessage")
    publish(hub, bot, release_repo(bot, "openai/gpt-oss-2-200b", 200))
    bot.poll_and_deliver()
    bot.clock.advance(minutes=10)
    bot.drain()

    assert len(slack.messages(GENERAL)) == 1, [c[0] for c in slack.calls]
    row = next(iter(bot.core.store.deliveries.values()))
    assert row.status == "sent" and row.ts == slack.messages(GENERAL)[0]["ts"]


def test_a_long_retry_after_defers_the_alert_instead_of_blocking(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    bot.radar.deliverer.per_channel_interval = 0.0
    slack.retry_after = 30
    radar_command(bot, slack, "subscribe")
    slack.inject("429", method="chat.postMessage")
    publish(hub, bot, release_repo(bot, "openai/gpt-oss-2-200b", 200))
    report = bot.poll_and_deliver()
    assert report.events and slack.messages(GENERAL) == []

    bot.clock.advance(seconds=29)
    assert bot.drain().deferred == 0
    assert posts_to(slack, GENERAL) == 1, "nothing is tried before Retry-After has passed"
    bot.clock.advance(seconds=2)
    assert bot.drain().posted == 1
    assert len(slack.messages(GENERAL)) == 1


def test_server_errors_are_retried_with_growing_backoff_then_posted_once(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    waits: list[float] = []
    bot.radar.deliverer.sleep = waits.append
    bot.radar.deliverer.per_channel_interval = 0.0
    radar_command(bot, slack, "subscribe")
    slack.inject("503", method="chat.postMessage", times=2)
    publish(hub, bot, release_repo(bot, "openai/gpt-oss-2-200b", 200))
    bot.poll_and_deliver()
    assert len(waits) == 2 and all(1.0 <= w <= 2.0 for w in waits), waits
    assert len(slack.messages(GENERAL)) == 1

    # A longer outage: each drain tries three times, then defers for longer and longer.
    slack.inject("500", method="chat.postMessage", times=9)
    publish(hub, bot, release_repo(bot, "mistralai/Mistral-Medium-4-Instruct", 70))
    bot.poll()
    delays: list[float] = []
    for _outage_round in range(3):
        assert bot.drain().deferred == 1
        row = next(d for d in bot.core.store.deliveries.values() if d.status != "sent")
        assert row.next_attempt_at is not None
        delays.append((row.next_attempt_at - bot.clock.now).total_seconds())
        bot.clock.now = row.next_attempt_at
    assert 1 <= delays[0] <= 2 and 2 <= delays[1] <= 4 and 4 <= delays[2] <= 8, delays
    assert bot.drain().posted == 1
    texts = [m["text"] for m in slack.messages(GENERAL)]
    assert len(texts) == 2 and "Mistral AI" in texts[1]



def test_an_alert_that_gives_up_ends_failed_and_later_alerts_of_its_channel_flow(
    hub: HubStandIn,
    slack: SlackStandIn,
    bot: RadarHarness,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.delivery")
    bot.radar.deliverer.per_channel_interval = 0.0
    radar_command(bot, slack, "subscribe")
    slack.inject("500", method="chat.postMessage", times=10_000)  # a long Slack outage
    publish(hub, bot, release_repo(bot, "openai/gpt-oss-2-200b", 200))
    bot.poll()
    for _drain in range(40):
        bot.drain()
        bot.clock.advance(minutes=10)
        [row] = bot.core.store.deliveries.values()
        if row.status != "posting":
            break
    assert row.status == "failed"
    assert row.last_error is not None and "gave up after 32 attempts" in row.last_error
    tries = posts_to(slack, GENERAL)
    bot.clock.advance(hours=1)
    bot.drain()
    assert posts_to(slack, GENERAL) == tries, "a row that gave up is not tried again"
    gave_up = [r.getMessage() for r in caplog.records if "giving up" in r.getMessage()]
    assert len(gave_up) == 1 and "openai" in gave_up[0] and GENERAL in gave_up[0]

    slack.clear_faults()  # Slack is back: the next release of the channel goes out
    publish(hub, bot, release_repo(bot, "mistralai/Mistral-Medium-4-Instruct", 70))
    bot.poll_and_deliver()
    [alert] = slack.messages(GENERAL)
    assert "Mistral AI" in alert["text"]

    settings = radar_command(bot, slack, "subscriptions")
    assert "*Alerts that could not be delivered* (1)" in settings
    assert "OpenAI · gpt-oss-2" in settings and "gave up after 32 attempts" in settings
    status, _body, _elapsed = bot.event({"type": "app_home_opened", "user": "U_ALICE"})
    assert status == 200
    assert slack.wait_for(lambda: slack.home_views("U_ALICE"), timeout=20)
    home = shown_text({"blocks": slack.home_views("U_ALICE")[-1]["blocks"]})
    assert "1 alert could not be delivered" in home and "OpenAI · gpt-oss-2" in home


def test_a_public_channel_the_bot_is_not_in_is_joined_then_posted_to(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    slack.not_member.add("C_PUBLIC")
    radar_command(bot, slack, "subscribe", channel="C_PUBLIC")
    publish(hub, bot, release_repo(bot, "openai/gpt-oss-2-200b", 200))
    bot.poll_and_deliver()

    assert [c["channel"] for c in slack.calls_to("conversations.join")] == ["C_PUBLIC"]
    assert len(slack.messages("C_PUBLIC")) == 1


def _missing(slack: SlackStandIn, channel: str) -> None:
    slack.missing_channels.add(channel)


def _archived(slack: SlackStandIn, channel: str) -> None:
    slack.archived_channels.add(channel)


def _private_without_bot(slack: SlackStandIn, channel: str) -> None:
    slack.private_channels.add(channel)
    slack.not_member.add(channel)


def _bad_token(slack: SlackStandIn, channel: str) -> None:
    slack.inject("invalid_auth", method="chat.postMessage")


@pytest.mark.parametrize(
    ("break_channel", "error", "explanation"),
    [
        (_missing, "channel_not_found", "the channel no longer exists"),
        (_archived, "is_archived", "the channel is archived"),
        (_private_without_bot, "not_in_channel", "/invite @Open Model Radar"),
        (_bad_token, "invalid_auth", "Slack rejected the bot token"),
    ],
    ids=["channel_not_found", "is_archived", "private-not_in_channel", "invalid_auth"],
)
def test_an_unusable_channel_is_paused_with_a_log_line_and_others_still_get_alerts(
    hub: HubStandIn,
    slack: SlackStandIn,
    bot: RadarHarness,
    caplog: pytest.LogCaptureFixture,
    break_channel,
    error: str,
    explanation: str,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.delivery")
    bad = "C_BAD"  # sorts before C_GENERAL, so with one worker it is tried first
    bot.radar.deliverer.workers = 1
    radar_command(bot, slack, "subscribe")
    radar_command(bot, slack, "subscribe", channel=bad)
    break_channel(slack, bad)

    publish(hub, bot, release_repo(bot, "openai/gpt-oss-2-200b", 200))
    report = bot.poll_and_deliver()
    assert report.events
    assert len(slack.messages(GENERAL)) == 1, "one broken channel holds up no other"
    assert slack.messages(bad) == []
    pauses = [r.getMessage() for r in caplog.records if "pausing alerts to C_BAD" in r.getMessage()]
    assert len(pauses) == 1 and error in pauses[0] and explanation in pauses[0]
    settings = radar_command(bot, slack, "subscriptions", channel=bad)
    assert f"paused: {error}" in settings

    tries = posts_to(slack, bad)
    publish(hub, bot, release_repo(bot, "mistralai/Mistral-Medium-4-Instruct", 70))
    bot.poll_and_deliver()
    bot.clock.advance(hours=1)
    bot.drain()
    assert posts_to(slack, bad) == tries, "a paused channel is not retried forever"
    assert len(slack.messages(GENERAL)) == 2


def test_a_paused_channel_resumes_after_it_is_fixed_and_subscribed_again(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    slack.archived_channels.add("C_OLD")
    radar_command(bot, slack, "subscribe", channel="C_OLD")
    publish(hub, bot, release_repo(bot, "openai/gpt-oss-2-200b", 200))
    bot.poll_and_deliver()
    assert "paused: is_archived" in radar_command(bot, slack, "subscriptions", channel="C_OLD")

    slack.archived_channels.discard("C_OLD")
    radar_command(bot, slack, "subscribe", channel="C_OLD")
    assert "paused" not in radar_command(bot, slack, "subscriptions", channel="C_OLD")
    publish(hub, bot, release_repo(bot, "google/gemma-4-27b-it", 27))
    bot.poll_and_deliver()
    texts = [m["text"] for m in slack.messages("C_OLD")]
    assert len(texts) == 1 and "Google" in texts[0]


def test_alerts_to_one_channel_are_paced_one_interval_apart(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    deliverer = bot.radar.deliverer
    assert deliverer.per_channel_interval == 1.0, "Slack allows one message a second a channel"
    deliverer.per_channel_interval = 0.3
    deliverer.sleep = time.sleep
    radar_command(bot, slack, "subscribe")
    radar_command(bot, slack, "subscribe", channel="C_OTHER")
    publish(
        hub,
        bot,
        release_repo(bot, "openai/gpt-oss-2-200b", 200),
        release_repo(bot, "mistralai/Mistral-Medium-4-Instruct", 70),
        release_repo(bot, "google/gemma-4-27b-it", 27),
    )
    bot.poll_and_deliver()

    general, other = slack.post_times(GENERAL), slack.post_times("C_OTHER")
    assert len(general) == 3 and len(other) == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(general)]
    assert all(gap >= 0.25 for gap in gaps), gaps
    assert abs(general[0] - other[0]) < 0.25, "channels are paced separately, not in turn"



def test_model_details_opens_the_lead_model_the_domain_names(
    hub: HubStandIn, slack: SlackStandIn, bot: RadarHarness
) -> None:
    """Two members of one size: the more downloaded one leads (as in `/radar latest`)."""
    radar_command(bot, slack, "subscribe")
    now = bot.clock.now
    hub.add_many(
        [
            fx.model_json(
                "Qwen/Qwen9-8B", created_at=now - timedelta(hours=1), params=8 * fx.B, downloads=10
            ),
            fx.model_json(
                "Qwen/Qwen9-8B-FP8",
                created_at=now - timedelta(hours=1),
                params=8 * fx.B,
                downloads=5_000,
            ),
        ]
    )
    bot.clock.advance(minutes=5)
    bot.poll_and_deliver()
    [alert] = top_level(slack, GENERAL)

    status, _body, _elapsed = bot.click(
        "release_details",
        buttons(alert)["release_details"]["value"],
        response_url=slack.response_url_for("details"),
    )
    assert status == 200
    [details] = slack.wait_for(lambda: slack.responses("details"), timeout=20)
    opened = next(b["text"]["text"] for b in details["blocks"] if b["type"] == "header")
    release = bot.core.store.releases.get(buttons(alert)["release_details"]["value"])
    assert release is not None
    assert opened == "Qwen/Qwen9-8B-FP8"
    assert opened == lead_member(bot.core.service.members(release)).id
