"""Request authenticity: only requests Slack signed, once and recently, change anything,
and the secrets that make that work never reach a log.

Forged requests go to the running bot over HTTP: no signature, a signature made with the
wrong secret, a timestamp older or newer than five minutes, a body altered after signing,
and a faithful replay of a request that was accepted once. Each must get 401 and leave
no trace: no subscription, no mute, no reply. The log scans cover `python -m bot serve`
at DEBUG level (its stderr) and the in-process bot with the production log set-up.
"""

from __future__ import annotations

import io
import itertools
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.hub.client import HubClient
from bot.logs import setup_logging
from tests.doubles.hub_fixtures import background
from tests.doubles.hub_server import HubStandIn
from tests.doubles.signing import (
    action_body,
    post_signed,
    sign,
    slash_command_body,
)
from tests.doubles.slack_server import SlackStandIn
from tests.harness import BOT_TOKEN, SIGNING_SECRET, FakeClock, RadarHarness, free_port
from tests.reliability.helpers import (
    LAB_ROTATION,
    family_records,
    keep_only_labs,
    report,
    restored_logging,
    use_hub_client,
)
from tests.serve_process import BotProcess, serve_env, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.security]

FORM = "application/x-www-form-urlencoded"
HF_TOKEN = "hf_" + "Q7rT2x9KpL4mN8vB3cZ6wY1sD5"
WRONG_SECRET = "not-the-signing-secret-42"
STALE = 5 * 60 + 30  # seconds: beyond Slack's five-minute window
QUIET = 0.4  # seconds to wait for a reply that must not come
_names = itertools.count()


@pytest.fixture(scope="module")
def bot_and_slack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RadarHarness, SlackStandIn]]:
    db_path = tmp_path_factory.mktemp("authenticity") / "radar.json"
    keep_only_labs(db_path, [lab for lab, _ in LAB_ROTATION])
    with (
        HubStandIn() as hub,
        SlackStandIn() as slack,
        RadarHarness(hub.url, slack.url, db_path, clock=FakeClock()) as bot,
    ):
        hub.add_many(background(bot.clock.now, 20))
        yield bot, slack


def fresh(name: str) -> str:
    """A channel and response-url name of its own for each request under test."""
    return f"{name}-{next(_names)}"


def subscribe_body(channel: str, slack: SlackStandIn) -> bytes:
    return slash_command_body(
        "/radar",
        "subscribe org:Qwen",
        user_id="U_MALLORY",
        channel_id=channel,
        response_url=slack.response_url_for(channel),
    )


def mute_click_body(channel: str, slack: SlackStandIn) -> bytes:
    return action_body(
        "mute_lab",
        "Qwen",
        user_id="U_MALLORY",
        channel_id=channel,
        response_url=slack.response_url_for(channel),
    )


def send(
    bot: RadarHarness,
    body: bytes,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    signed_body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """POST `body` signed over `signed_body` (default: itself) at `timestamp` (default: now)."""
    sent_at = int(time.time()) if timestamp is None else timestamp
    if headers is None:
        headers = {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": str(sent_at),
            "X-Slack-Signature": sign(signed_body or body, secret, sent_at),
        }
    response = httpx.post(f"{bot.url}/slack/events", content=body, headers=headers, timeout=5)
    return response.status_code


def traces(bot: RadarHarness, slack: SlackStandIn, channel: str) -> list[str]:
    """Everything a request in `channel` could have changed, in words."""
    store = bot.core.store
    subscriptions = store.subscriptions.values()
    found = [f"subscription {s.id}" for s in subscriptions if s.channel_id == channel]
    found += [f"mute {m.lab}" for m in store.mutes.values() if m.channel_id == channel]
    found += [f"reply {r.get('text')!r}" for r in slack.responses(channel)]
    found += [f"message {m.get('text')!r}" for m in slack.messages(channel)]
    found += [f"ephemeral {m.get('text')!r}" for m in slack.ephemerals(channel)]
    return found


FORGERIES = {
    "no signature": lambda bot, body: send(bot, body, headers={"Content-Type": FORM}),
    "signature without timestamp": lambda bot, body: send(
        bot,
        body,
        headers={"Content-Type": FORM, "X-Slack-Signature": sign(body, SIGNING_SECRET, 0)},
    ),
    "wrong secret": lambda bot, body: send(bot, body, secret=WRONG_SECRET),
    "stale timestamp": lambda bot, body: send(bot, body, timestamp=int(time.time()) - STALE),
    "future timestamp": lambda bot, body: send(bot, body, timestamp=int(time.time()) + STALE),
    "garbage signature": lambda bot, body: send(
        bot,
        body,
        headers={
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    ),
    "body altered after signing": lambda bot, body: send(
        bot,
        body.replace(b"org%3AQwen", b"org%3Adeepseek-ai").replace(b"Qwen", b"Mistral"),
        signed_body=body,
    ),
}


@pytest.mark.parametrize("kind", ["command", "button"])
@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_request_gets_401_and_changes_nothing(
    bot_and_slack: tuple[RadarHarness, SlackStandIn], forgery: str, kind: str
) -> None:
    bot, slack = bot_and_slack
    channel = fresh("C_FORGED")
    body = (subscribe_body if kind == "command" else mute_click_body)(channel, slack)
    assert FORGERIES[forgery](bot, body) == 401
    time.sleep(QUIET)
    assert traces(bot, slack, channel) == []


@pytest.mark.parametrize("kind", ["command", "button"])
def test_a_replayed_request_gets_401_and_changes_nothing(
    bot_and_slack: tuple[RadarHarness, SlackStandIn], kind: str
) -> None:
    bot, slack = bot_and_slack
    channel = fresh("C_REPLAY")
    body = (subscribe_body if kind == "command" else mute_click_body)(channel, slack)
    sent_at = int(time.time())
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": str(sent_at),
        "X-Slack-Signature": sign(body, SIGNING_SECRET, sent_at),
    }
    assert send(bot, body, headers=headers) == 200
    assert slack.wait_for(lambda: slack.responses(channel), timeout=10)  # done and answered
    assert [t for t in traces(bot, slack, channel) if not t.startswith("reply")]
    # The user undoes it; a captured copy of the first request must not redo it.
    with bot.core.store.lock:
        for sub in bot.core.channels.subscriptions(channel):
            bot.core.store.subscriptions.delete(sub.key)
        bot.core.channels.unmute(channel, "Qwen")
        bot.core.store.commit()
    before = len(slack.responses(channel))

    assert send(bot, body, headers=headers) == 401
    time.sleep(QUIET)
    assert len(slack.responses(channel)) == before
    assert [t for t in traces(bot, slack, channel) if not t.startswith("reply")] == []


# ------------------------------------------------------------------- secrets in logs


def secrets_found(text: str) -> list[str]:
    """Which secret values (or Slack/HF token shapes) appear in `text`."""
    found = [
        label
        for label, value in (
            ("bot token", BOT_TOKEN),
            ("signing secret", SIGNING_SECRET),
            ("hf token", HF_TOKEN),
        )
        if value in text
    ]
    found += [shape for shape in ("xoxb-", "xoxp-", "xapp-", "hf_") if shape in text]
    return found


def test_serve_at_debug_level_never_logs_a_secret(tmp_path: Path) -> None:
    with HubStandIn() as hub, SlackStandIn(token=BOT_TOKEN) as slack:
        hub.add_many(background(datetime.now(UTC), 20))
        env = serve_env(
            hub_url=hub.url,
            slack_url=slack.url,
            db_path=tmp_path / "radar.json",
            port=free_port(),
            LOG_LEVEL="DEBUG",
            HF_TOKEN=HF_TOKEN,
        )
        bot = BotProcess(env, tmp_path / "serve.log", cwd=tmp_path)
        try:
            bot.start().wait_ready()
            url = f"{bot.url}/slack/events"
            requests = [
                ("subscribe", SIGNING_SECRET),
                (f"subscribe org:{SIGNING_SECRET}", SIGNING_SECRET),  # a secret typed in
                ("subscribe", WRONG_SECRET),
            ]
            for text, secret in requests:
                body = slash_command_body(
                    "/radar",
                    text,
                    user_id="U_ALICE",
                    channel_id="C_LOGS",
                    response_url=slack.response_url_for("logs"),
                )
                post_signed(url, body, secret, content_type=FORM)
            for query in (BOT_TOKEN, HF_TOKEN, SIGNING_SECRET):
                body = slash_command_body(
                    "/model",
                    query,
                    user_id="U_ALICE",
                    channel_id="C_LOGS",
                    response_url=slack.response_url_for("logs"),
                )
                post_signed(url, body, SIGNING_SECRET, content_type=FORM)
            assert slack.wait_for(lambda: len(slack.responses("logs")) >= 5, timeout=10)
            hub.add_many(family_records("Qwen", "Vega-2", datetime.now(UTC)))
            hub.inject("500", times=2, path_contains="author=Qwen")  # a failure gets logged
            assert wait_until(lambda: slack.messages("C_LOGS"), timeout=15)
            assert bot.stop() == 0
        finally:
            bot.close()
    log = bot.log_text()
    assert "DEBUG" in log and "poll cycle" in log and "Hub GET" in log  # it did log things
    assert secrets_found(log) == []
    report("authenticity-serve-log", lines=len(log.splitlines()), secrets_found=0)


def test_in_process_logs_at_debug_level_never_contain_a_secret(tmp_path: Path) -> None:
    stream = io.StringIO()
    db_path = tmp_path / "radar.json"
    keep_only_labs(db_path, [lab for lab, _ in LAB_ROTATION])
    with (
        restored_logging(),
        HubStandIn() as hub,
        SlackStandIn(token=BOT_TOKEN) as slack,
        RadarHarness(hub.url, slack.url, db_path, clock=FakeClock()) as bot,
    ):
        setup_logging("DEBUG", [BOT_TOKEN, SIGNING_SECRET, HF_TOKEN], stream=stream)
        hub.add_many(background(bot.clock.now, 20))
        use_hub_client(
            bot, HubClient(hub.url, HF_TOKEN, timeout=2, max_retries=1, sleep=lambda _s: None)
        )
        bot.poll_and_deliver()
        for query in (BOT_TOKEN, HF_TOKEN, SIGNING_SECRET):
            bot.command("/model", query, response_url=slack.response_url_for("logs"))
        bot.command("/radar", "subscribe", response_url=slack.response_url_for("logs"))
        forged = slack.response_url_for("forged")
        bot.command("/radar", "subscribe", response_url=forged, secret=WRONG_SECRET)
        assert slack.wait_for(lambda: len(slack.responses("logs")) >= 4, timeout=10)
        hub.add_many(family_records("Qwen", "Vega-2", bot.clock.now))
        hub.inject("500", path_contains="author=Qwen")  # retried, and logged
        slack.inject("invalid_auth", method="chat.postMessage")
        bot.clock.advance(minutes=1)
        bot.poll_and_deliver()
        logging.getLogger("bot.test").debug("a token in a message: %s %s", BOT_TOKEN, HF_TOKEN)
        try:
            raise RuntimeError(f"failed with {SIGNING_SECRET}")
        except RuntimeError:
            logging.getLogger("bot.test").exception("an exception that carries the secret")
    log = stream.getvalue()
    assert "DEBUG" in log and "[redacted]" in log and "invalid_auth" in log
    assert secrets_found(log) == []
    report("authenticity-in-process-log", lines=len(log.splitlines()), secrets_found=0)
