"""`python -m bot serve` as a real process: configured only through its environment, talking
to the Hub and Slack stand-ins over loopback, driven by its own scheduler, stopped by SIGTERM.

Nothing here reaches into the bot: the test sees what an operator sees (the exit code, the
log on stderr, `/healthz`, the database file) and what a Slack channel sees (messages).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.store import open_store
from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.signing import FORM, post_signed, slash_command_body
from tests.doubles.slack_server import SlackStandIn
from tests.harness import BOT_TOKEN, SIGNING_SECRET, free_port

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERAL = "C_GENERAL"


@dataclass
class ServeProcess:
    """A running `serve` and where to find what it wrote."""

    process: subprocess.Popen
    url: str
    db_path: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def health(self) -> tuple[int, dict[str, Any]]:
        response = httpx.get(f"{self.url}/healthz", timeout=2)
        return response.status_code, response.json()

    def health_when(
        self, accept: Callable[[int, dict[str, Any]], bool], *, what: str, timeout: float = 15
    ) -> tuple[int, dict[str, Any]]:
        """The first `/healthz` answer that `accept(status, body)` likes."""

        def accepted() -> tuple[int, dict[str, Any]] | None:
            status, body = self.health()
            return (status, body) if accept(status, body) else None

        return wait_until(accepted, timeout=timeout, what=what)

    def stop(self, timeout: float = 20) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def serve_env(hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Everything `serve` needs, and nothing inherited from the developer's environment."""
    env = {
        "PYTHONPATH": str(REPO_ROOT),
        "HOME": str(tmp_path),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
        "HF_ENDPOINT": hub.url,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "RADAR_DB_PATH": str(tmp_path / "radar.json"),
        "PORT": str(free_port()),
        "HOST": "127.0.0.1",
        "POLL_INTERVAL_SECONDS": "1",
        "HUB_TIMEOUT_SECONDS": "2",
        "HUB_MAX_RETRIES": "0",  # a failing Hub fails fast, so SIGTERM is not kept waiting
    }
    env.update(extra)
    return {name: value for name, value in env.items() if value}


@contextmanager
def serving(env: dict[str, str], tmp_path: Path) -> Iterator[ServeProcess]:
    log_path = tmp_path / "serve.log"
    with log_path.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            cwd=tmp_path,  # no stray .env file can leak in
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            yield ServeProcess(
                process,
                f"http://127.0.0.1:{env['PORT']}",
                Path(env["RADAR_DB_PATH"]),
                log_path,
            )
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def wait_until(check: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """Poll `check` every 50 ms until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except httpx.TransportError:
            result = None  # the server is not listening yet
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def radar_command(bot: ServeProcess, slack: SlackStandIn, text: str, name: str) -> str:
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
    answers = slack.wait_for(lambda: slack.responses(name), timeout=5)
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
    env = serve_env(hub, slack, tmp_path, LOG_LEVEL="DEBUG")
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
        log = bot.log()
        assert "stopped cleanly" in log
        assert BOT_TOKEN not in log and SIGNING_SECRET not in log

    store = open_store(bot.db_path)
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
    with serving(serve_env(hub, slack, tmp_path), tmp_path) as bot:
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
        assert "stopped cleanly" in bot.log()


def test_serve_without_a_signing_secret_exits_2_naming_it(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = serve_env(hub, slack, tmp_path, SLACK_SIGNING_SECRET="")
    with serving(env, tmp_path) as bot:
        assert bot.process.wait(timeout=30) == 2
        lines = bot.log().strip().splitlines()
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
    env = serve_env(hub, slack, tmp_path, HUB_MAX_RETRIES="6", HUB_TIMEOUT_SECONDS="5")
    with serving(env, tmp_path) as bot:
        wait_until(lambda: "retry 1/6" in bot.log(), timeout=15, what="a poll to be retrying")
        started = time.monotonic()
        assert bot.stop(timeout=20) == 0
        assert time.monotonic() - started < 6, "shutdown waited for the retries"
        assert "stopped cleanly" in bot.log()
    with open_store(bot.db_path) as store:
        assert store.state.get("poll") is not None
