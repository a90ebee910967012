"""Only genuine, fresh Slack requests are obeyed.

Each forged request here would change something if it were obeyed (a subscription, a mute,
a Home view, a reply at its response_url). Every one must get 401 and leave no trace; a
genuine request sent right after proves the bot was up and answering all along.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.doubles.signing import FORM, JSON, action_body, event_body, sign, slash_command_body
from tests.harness import SIGNING_SECRET
from tests.slack_fixtures import SlackWorld, radar_world

pytestmark = [pytest.mark.e2e, pytest.mark.security]

STALE = 5 * 60 + 1  # Slack's tolerance is five minutes either way


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackWorld]:
    path = tmp_path_factory.mktemp("auth") / "radar.json"
    with radar_world(path, populated=False) as running:
        running.warm_up()  # "no Web API call at all" then holds for any test order
        yield running


@pytest.fixture(autouse=True)
def clean_slate(world: SlackWorld) -> Iterator[None]:
    """Each test starts with no subscriptions, mutes or recorded Slack traffic."""
    world.bot.core.channels.unsubscribe("C0SECURE", "all")
    world.bot.core.channels.unmute("C0SECURE", "Qwen")
    world.slack.reset()
    yield
    assert world.slack.violations == []


def subscribe_body(response_name: str, world: SlackWorld) -> bytes:
    return slash_command_body(
        "/radar",
        "subscribe org:Qwen",
        user_id="U_ALICE",
        channel_id="C0SECURE",
        response_url=world.slack.response_url_for(response_name),
    )


def assert_nothing_happened(world: SlackWorld, response_name: str) -> None:
    """The bot still answers genuine requests, and the forged one left no trace."""
    control = world.radar("help", channel_id="C0SECURE")
    assert control.status == 200 and control.payloads
    assert world.bot.core.channels.subscriptions("C0SECURE") == []
    assert world.bot.core.channels.active_mutes("C0SECURE") == []
    assert world.slack.responses(response_name) == []
    assert world.slack.calls == []  # no Web API call at all: no message, no view


def test_a_genuine_request_is_obeyed(world: SlackWorld) -> None:
    body = subscribe_body("genuine", world)

    status, ack, seconds = world.post(body, content_type=FORM)

    assert (status, ack) == (200, "")
    assert seconds < 3.0
    assert world.slack.wait_for(lambda: world.slack.responses("genuine"), 5)
    assert len(world.bot.core.channels.subscriptions("C0SECURE")) == 1


def test_a_request_signed_four_minutes_ago_is_still_obeyed(world: SlackWorld) -> None:
    status, _, _ = world.post(
        subscribe_body("recent", world), content_type=FORM, timestamp=int(time.time()) - 240
    )

    assert status == 200
    assert world.slack.wait_for(lambda: world.slack.responses("recent"), 5)
    assert len(world.bot.core.channels.subscriptions("C0SECURE")) == 1


def test_an_unsigned_request_is_refused(world: SlackWorld) -> None:
    status, _, _ = world.post(subscribe_body("unsigned", world), content_type=FORM, signed=False)

    assert status == 401
    assert_nothing_happened(world, "unsigned")


@pytest.mark.parametrize(
    "signature",
    [
        "v0=" + "0" * 64,
        "v0=not-hex-at-all",
        "v1=" + "a" * 64,
        "garbage",
        "v0=",
    ],
)
def test_a_forged_signature_is_refused(world: SlackWorld, signature: str) -> None:
    status, _, _ = world.post(
        subscribe_body("forged", world), content_type=FORM, signature=signature
    )

    assert status == 401
    assert_nothing_happened(world, "forged")


def test_a_request_signed_with_another_secret_is_refused(world: SlackWorld) -> None:
    status, _, _ = world.post(
        subscribe_body("wrong-secret", world), content_type=FORM, secret="someone-elses-secret"
    )

    assert status == 401
    assert_nothing_happened(world, "wrong-secret")


@pytest.mark.parametrize("age", [STALE, 3600, -STALE, -3600])
def test_a_stale_or_future_request_is_refused(world: SlackWorld, age: int) -> None:
    """Correctly signed, but for a moment outside Slack's five-minute window."""
    status, _, _ = world.post(
        subscribe_body("stale", world), content_type=FORM, timestamp=int(time.time()) - age
    )

    assert status == 401
    assert_nothing_happened(world, "stale")


def post_with_timestamp_header(world: SlackWorld, response_name: str, timestamp: str) -> int:
    body = subscribe_body(response_name, world)
    return world.http.post(
        world.events_url,
        content=body,
        headers={
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(body, SIGNING_SECRET, int(time.time())),
        },
    ).status_code


def test_a_non_numeric_timestamp_changes_nothing(world: SlackWorld) -> None:
    status = post_with_timestamp_header(world, "bad-timestamp", "yesterday")

    assert status != 200
    assert_nothing_happened(world, "bad-timestamp")


def test_a_non_numeric_timestamp_is_answered_401(world: SlackWorld) -> None:
    assert post_with_timestamp_header(world, "bad-timestamp-status", "yesterday") == 401


def test_a_body_altered_after_signing_is_refused(world: SlackWorld) -> None:
    original = slash_command_body(
        "/radar",
        "subscriptions",
        user_id="U_ALICE",
        channel_id="C0SECURE",
        response_url=world.slack.response_url_for("altered"),
    )
    altered = original.replace(b"subscriptions", b"subscribe+org%3AQwen")
    assert altered != original
    sent_at = int(time.time())

    status, _, _ = world.post(
        altered,
        content_type=FORM,
        timestamp=sent_at,
        signature=sign(original, SIGNING_SECRET, sent_at),
    )

    assert status == 401
    assert_nothing_happened(world, "altered")


def test_a_replayed_request_is_refused_the_second_time(world: SlackWorld) -> None:
    body = subscribe_body("replayed", world)
    sent_at = int(time.time())
    signature = sign(body, SIGNING_SECRET, sent_at)

    first, _, _ = world.post(body, content_type=FORM, timestamp=sent_at, signature=signature)
    assert first == 200
    assert world.slack.wait_for(lambda: world.slack.responses("replayed"), 5)
    assert len(world.bot.core.channels.subscriptions("C0SECURE")) == 1
    removed = world.radar("unsubscribe all", channel_id="C0SECURE")
    assert removed.text.startswith("Removed `s-")
    world.slack.reset()

    again, _, _ = world.post(body, content_type=FORM, timestamp=sent_at, signature=signature)

    assert again == 401
    assert_nothing_happened(world, "replayed")


def test_a_forged_button_click_is_refused(world: SlackWorld) -> None:
    body = action_body(
        "mute_lab",
        "Qwen",
        user_id="U_ALICE",
        channel_id="C0SECURE",
        response_url=world.slack.response_url_for("forged-click"),
    )

    unsigned, _, _ = world.post(body, content_type=FORM, signed=False)
    badly_signed, _, _ = world.post(body, content_type=FORM, secret="not-our-secret")
    stale, _, _ = world.post(body, content_type=FORM, timestamp=int(time.time()) - STALE)

    assert (unsigned, badly_signed, stale) == (401, 401, 401)
    assert not world.bot.core.channels.is_muted("C0SECURE", "Qwen")
    assert_nothing_happened(world, "forged-click")


def test_a_forged_event_is_refused(world: SlackWorld) -> None:
    body = event_body(
        {"type": "app_home_opened", "user": "U_ALICE", "channel": "D0X", "tab": "home"}
    )

    unsigned, _, _ = world.post(body, content_type=JSON, signed=False)
    badly_signed, _, _ = world.post(body, content_type=JSON, secret="not-our-secret")

    assert (unsigned, badly_signed) == (401, 401)
    assert_nothing_happened(world, "unused")
    assert world.slack.home_views() == []
