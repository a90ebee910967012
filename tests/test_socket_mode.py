"""`python -m bot serve` in Socket Mode, as a real process, against a real WebSocket stand-in.

With SLACK_APP_TOKEN set the bot needs no public URL and no signing secret: it asks
`apps.connections.open` (on the Slack stand-in) for a WebSocket URL, connects to the Socket
Mode stand-in, and from then on Slack's requests arrive as envelopes it must ack within
three seconds. The test sees what Slack would see: acks, `response_url` answers, channel
messages, published Home views; and what an operator sees: the log, `/healthz`, exit codes.
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
from tests.doubles.slack_server import SlackStandIn
from tests.doubles.socket_mode_server import SocketModeStandIn
from tests.harness import BOT_TOKEN
from tests.serve_process import BotProcess, serving, standin_env, wait_until

pytestmark = pytest.mark.e2e

GENERAL = "C_GENERAL"
ALICE = "U_ALICE"
APP_TOKEN = "xapp-1-A1-radar-test-0123456789"
SLACK_ACK_LIMIT = 3.0


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(app_token=APP_TOKEN) as server:
        yield server


@pytest.fixture
def sockets(slack: SlackStandIn) -> Iterator[SocketModeStandIn]:
    with SocketModeStandIn() as server:
        slack.socket_url = server.url
        yield server


def socket_env(hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, **extra: str) -> dict:
    """Socket Mode configuration: an app token and deliberately no signing secret."""
    settings = {"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": "", **extra}
    return standin_env(hub, slack, tmp_path, **settings)


def answer_text(slack: SlackStandIn, name: str) -> str:
    answers = slack.wait_for(lambda: slack.responses(name), timeout=20)
    assert answers, f"nothing was posted to the response_url {name!r}"
    return json.dumps(answers[0], ensure_ascii=False)


def radar_over_socket(
    sockets: SocketModeStandIn, slack: SlackStandIn, text: str, name: str
) -> tuple[float, str]:
    """Send `/radar <text>` as an envelope; (seconds until the ack, the answer's JSON)."""
    envelope_id = sockets.send_slash_command(
        "/radar", text, ALICE, GENERAL, slack.response_url_for(name)
    )
    ack = sockets.wait_for_ack(envelope_id, timeout=SLACK_ACK_LIMIT + 2)
    assert ack is not None, f"/radar {text} was never acked"
    assert ack.seconds is not None
    return ack.seconds, answer_text(slack, name)


def connected(bot: BotProcess, sockets: SocketModeStandIn) -> None:
    if not sockets.wait_for_connection(timeout=20):
        raise AssertionError(f"the bot never opened a socket; its log:\n{bot.log_text()}")


def test_socket_mode_acks_answers_delivers_and_stops_cleanly(
    hub: HubStandIn, slack: SlackStandIn, sockets: SocketModeStandIn, tmp_path: Path
) -> None:
    hub.add_many(fx.background(datetime.now(UTC), 10))
    with serving(socket_env(hub, slack, tmp_path), tmp_path) as bot:
        connected(bot, sockets)
        opened = slack.calls_to("apps.connections.open")
        urls_before_reconnect = len(opened)  # a start-up check of the token, then the socket
        assert opened, "the bot asked Slack for a Socket Mode URL"
        assert all(params == {} for params in opened), (
            "the app token travels as a Bearer header, not a form field"
        )
        assert sockets.handshakes[0].startswith("/link/?ticket=")
        assert sockets.wait_for_ack("no-such-envelope", timeout=0) is None

        status, health = bot.health_when(
            lambda _status, body: bool(body.get("last_success_at")),
            what="/healthz to report the first successful poll in Socket Mode",
        )
        assert status == 200 and health["status"] == "ok"
        assert slack.messages() == [], "the first poll records history silently"

        seconds, answer = radar_over_socket(sockets, slack, "help", "help")
        assert seconds < SLACK_ACK_LIMIT
        assert "Open Model Radar help" in answer and "/radar" in answer

        seconds, answer = radar_over_socket(sockets, slack, "subscribe", "subscribe")
        assert seconds < SLACK_ACK_LIMIT
        assert "Subscribed this channel" in answer

        hub.add_many(fx.family_launch(datetime.now(UTC)))
        alerts = slack.wait_for(lambda: slack.messages(GENERAL), timeout=30)
        assert alerts, f"the family never reached the subscribed channel; log:\n{bot.log_text()}"
        assert alerts[0]["text"].startswith("🇨🇳 New open-weight release from Qwen: Qwen3.7")
        assert "13 models" in alerts[0]["text"]

        opened_home = sockets.send_app_home_opened(ALICE)
        ack = sockets.wait_for_ack(opened_home, timeout=SLACK_ACK_LIMIT)
        assert ack is not None and ack.payload is None, "events are acked with no payload"
        views = slack.wait_for(lambda: slack.home_views(ALICE), timeout=20)
        assert views, "opening the Home tab published no view"
        home = json.dumps(views[-1], ensure_ascii=False)
        assert "Qwen3.7" in home and GENERAL in home

        clicked = sockets.send_interactive(
            "mute_lab", "Qwen", ALICE, GENERAL, slack.response_url_for("mute")
        )
        ack = sockets.wait_for_ack(clicked, timeout=SLACK_ACK_LIMIT)
        assert ack is not None and ack.seconds is not None and ack.seconds < SLACK_ACK_LIMIT
        assert "Muted `Qwen` in this channel" in answer_text(slack, "mute")

        sockets.request_reconnect()
        assert wait_until(
            lambda: len(sockets.handshakes) == 2 and len(sockets.live_connections()) == 1, 10
        ), "the bot never replaced its socket after Slack's disconnect message"
        assert len(slack.calls_to("apps.connections.open")) == urls_before_reconnect + 1, (
            "a fresh URL for each socket"
        )
        seconds, answer = radar_over_socket(sockets, slack, "help", "help-after-reconnect")
        assert seconds < SLACK_ACK_LIMIT and "Open Model Radar help" in answer

        assert sockets.protocol_errors == [] and sockets.rejected_handshakes == []
        assert [ack.envelope_id for ack in sockets.acks] == [
            envelope["envelope_id"] for envelope in sockets.envelopes_sent
        ], "every envelope acked exactly once"
        assert sockets.pings_received, "the client pings the server to detect a dead socket"
        assert slack.violations == []

        started = time.monotonic()
        assert bot.stop() == 0
        assert time.monotonic() - started < 10
        log = bot.log_text()
        assert "Socket Mode connected" in log and "(Socket mode)" in log
        assert "stopped cleanly" in log
        assert APP_TOKEN not in log and BOT_TOKEN not in log
    assert wait_until(lambda: not sockets.live_connections(), 5), "the socket outlived SIGTERM"


def wrong_token_run(hub: HubStandIn, slack: SlackStandIn, tmp_path: Path) -> tuple[int, str, float]:
    """Start with an app token Slack does not know; (exit code, log, seconds to exit)."""
    env = socket_env(hub, slack, tmp_path, SLACK_APP_TOKEN="xapp-1-A1-revoked-token-999")
    with serving(env, tmp_path) as bot:
        started = time.monotonic()
        code = bot.process.wait(timeout=30)
        return code, bot.log_text(), time.monotonic() - started


def test_a_wrong_app_token_is_refused_and_the_bot_exits_naming_the_error(
    hub: HubStandIn, slack: SlackStandIn, sockets: SocketModeStandIn, tmp_path: Path
) -> None:
    code, log, seconds = wrong_token_run(hub, slack, tmp_path)
    assert code != 0, "a bot that can never receive a command must not look healthy"
    assert seconds < 15
    assert slack.outcomes[-1] == ("apps.connections.open", "invalid_auth")
    assert sockets.handshakes == [], "no WebSocket is opened without a URL"
    assert "invalid_auth" in log and "apps.connections.open" in log
    assert "revoked-token" not in log, "the rejected token itself is never logged"
    assert slack.messages() == []


def test_a_wrong_app_token_is_reported_in_one_line_naming_the_setting(
    hub: HubStandIn, slack: SlackStandIn, sockets: SocketModeStandIn, tmp_path: Path
) -> None:
    code, log, _seconds = wrong_token_run(hub, slack, tmp_path)
    assert code != 0
    assert "Traceback" not in log
    [line] = [line for line in log.splitlines() if "invalid_auth" in line]
    assert "SLACK_APP_TOKEN" in line
