"""`python -m bot serve` as a real process: configured only through its environment, talking
to the Hub and Slack stand-ins over loopback, driven by its own scheduler, stopped by SIGTERM.

Nothing here reaches into the bot: the test sees what an operator sees (the exit code, the
log on stderr, `/healthz`, the database file) and what a Slack channel sees (messages).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.signing import FORM, post_signed, slash_command_body
from tests.doubles.slack_server import SlackStandIn
from tests.harness import BOT_TOKEN, SIGNING_SECRET
from tests.pg import reopen
from tests.serve_process import BotProcess, serve_env, serving, standin_env, wait_until

pytestmark = pytest.mark.e2e

GENERAL = "C_GENERAL"


def radar_command(bot: BotProcess, slack: SlackStandIn, text: str, name: str) -> str:
    body = slash_command_body(
        "/radar",
        text,
        user_id="U_ALICE",
        channel_id=GENERAL,
        response_url=slack.response_url_for(name),
    )
    status, _body, _elapsed = post_signed(
        f"{bot.url}/slack/events", body, SIGNING_SECRET, content_type=FORM
    )
    assert status == 200
    answers = slack.wait_for(lambda: slack.responses(name), timeout=20)
    assert answers, f"no answer to /radar {text}"
    return json.dumps(answers[0], ensure_ascii=False)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as server:
        yield server


def test_serve_polls_alerts_answers_and_stops_cleanly_on_sigterm(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path
) -> None:
    hub.add_many(fx.background(datetime.now(UTC), 10))
    env = standin_env(hub, slack, tmp_path, LOG_LEVEL="DEBUG")
    with serving(env, tmp_path) as bot:
        status, health = bot.health_when(
            lambda _status, body: bool(body.get("last_success_at")),
            what="the first successful poll",
        )
        assert status == 200
        assert health["status"] == "ok" and health["last_status"] == "ok"
        assert health["last_poll_at"] and health["poll_interval_seconds"] == 1
        assert slack.messages() == [], "the first poll records history silently"

        forged = slash_command_body(
            "/radar", "subscribe", user_id="U_EVE", channel_id=GENERAL, response_url="x"
        )
        events = f"{bot.url}/slack/events"
        assert post_signed(events, forged, "wrong-secret", content_type=FORM)[0] == 401
        assert "Subscribed this channel" in radar_command(bot, slack, "subscribe", "subscribe")

        hub.add_many(fx.family_launch(datetime.now(UTC)))
        alerts = slack.wait_for(lambda: slack.messages(GENERAL), timeout=10)
        assert alerts, "the family never reached the channel"
        assert alerts[0]["text"].startswith("🇨🇳 New open-weight release from Qwen: Qwen3.7")
        assert "13 models" in alerts[0]["text"]
        assert not slack.wait_for(lambda: len(slack.messages(GENERAL)) > 1, timeout=2.5), (
            "later polls and drains must not repeat the alert"
        )
        assert bot.health()[0] == 200

        assert bot.stop() == 0
        log = bot.log_text()
        assert "stopped cleanly" in log
        assert BOT_TOKEN not in log and SIGNING_SECRET not in log

    store = reopen(bot.db_path)
    try:
        [subscription] = store.subscriptions.values()
        assert subscription.channel_id == GENERAL
        titles = {release.title for release in store.releases.values()}
        assert "Qwen3.7" in titles
        [delivery] = [d for d in store.deliveries.values() if d.channel_id == GENERAL]
        assert (delivery.status, delivery.ts) == ("sent", alerts[0]["ts"])
    finally:
        store.close()


def test_healthz_is_503_while_polls_keep_failing_and_recovers(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path
) -> None:
    hub.set_failure_rate(1.0, kinds=("500",))
    with serving(standin_env(hub, slack, tmp_path), tmp_path) as bot:
        started = time.monotonic()
        _status, health = bot.health_when(
            lambda status, _body: status == 503, what="/healthz to report the failing poller"
        )
        assert time.monotonic() - started >= 2.5, "not before three poll intervals"
        assert health["status"] == "unhealthy"
        assert health["last_success_at"] is None and health["last_status"] == "failed"
        assert health["errors"], "the failing sources are named"

        hub.clear_faults()
        _status, health = bot.health_when(
            lambda status, body: status == 200 and body["status"] == "ok",
            what="/healthz to recover",
        )
        assert health["status"] == "ok" and health["last_success_at"]

        assert bot.stop() == 0
        assert "stopped cleanly" in bot.log_text()


def test_serve_without_a_signing_secret_exits_2_naming_it(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = standin_env(hub, slack, tmp_path, SLACK_SIGNING_SECRET="")
    with serving(env, tmp_path) as bot:
        assert bot.process.wait(timeout=30) == 2
        lines = bot.log_text().strip().splitlines()
    assert len(lines) == 1, lines
    assert "SLACK_SIGNING_SECRET" in lines[0]
    assert BOT_TOKEN not in lines[0]
    assert not bot.db_path.exists(), "nothing is started without the secret"


def test_sigterm_does_not_wait_for_a_failing_hubs_retries(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path
) -> None:
    """With the default retries a failing Hub keeps a poll busy for many seconds; a stop
    must still be quick, and the database stays loadable."""
    hub.set_failure_rate(1.0, kinds=("503",))
    env = standin_env(hub, slack, tmp_path, HUB_MAX_RETRIES="6", HUB_TIMEOUT_SECONDS="5")
    with serving(env, tmp_path) as bot:
        assert wait_until(lambda: hub.request_count >= 2, 15), "a poll never retried"
        started = time.monotonic()
        assert bot.stop(timeout=20) == 0
        assert time.monotonic() - started < 6, "shutdown waited for the retries"
        assert "stopped cleanly" in bot.log_text()
    with reopen(bot.db_path) as store:
        assert store.state.get("poll") is not None


def test_serve_without_slack_watches_the_hub_and_prints_alerts_in_the_terminal(
    hub: HubStandIn, tmp_path: Path
) -> None:
    """The README's first command on a fresh machine: no Slack app yet, still the main job."""
    now = datetime.now(UTC)
    hub.add_many(fx.background(now, 10))
    env = serve_env(
        hub_url=hub.url,
        slack_url="",
        db_path=tmp_path / "radar.json",
        SLACK_BOT_TOKEN="",
        SLACK_SIGNING_SECRET="",
        HUB_MAX_RETRIES="0",
    )
    with serving(env, tmp_path) as bot:
        assert wait_until(lambda: "First look at" in bot.log_text(), 20), bot.log_tail()
        assert bot.running
        hub.add(
            fx.model_json(
                "openai/gpt-oss-2-200b",
                created_at=datetime.now(UTC),
                params=200 * fx.B,
                downloads=5_000,
                likes=900,
            )
        )
        assert wait_until(lambda: "OpenAI: gpt-oss-2" in bot.log_text(), 20), bot.log_tail()
        assert bot.stop() == 0
    text = bot.log_text()
    hints = [line for line in text.splitlines() if "SLACK_BOT_TOKEN" in line]
    assert len(hints) == 1 and "Create the Slack app" in hints[0]
    assert "🆕 New release · 🇺🇸 OpenAI: gpt-oss-2" in text
    assert "United States · 1 model · 200B" in text
    assert "why it's notable:" in text and "tracked lab OpenAI" in text
    assert text.count("OpenAI: gpt-oss-2") == 1, "each release is printed once"
    assert "Traceback" not in text
    assert text.rstrip().endswith("radar: stopped")
