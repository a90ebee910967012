"""Run the real bot against the Hub and Slack stand-ins, in-process, over real HTTP.

`RadarHarness` wires exactly what `serve` wires (`build_core`, `build_slack`, `build_asgi`)
and serves it with uvicorn on a free loopback port. The scheduler is not started: tests
call `poll()`, `drain()` and `send_digests()` themselves so every step is deterministic.
The clock is a `FakeClock` the test moves forward.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from bot.config import Settings
from bot.hub.client import HubClient
from bot.radar.models import LicenseClass, ModelRecord
from bot.runtime import Core, build_core
from bot.serve import freeze_long_lived
from bot.slack.app import build_slack
from bot.slack.context import SlackRadar
from bot.slack.server import build_asgi
from bot.slack.workspaces import Workspaces
from bot.store import open_database
from bot.webhooks.receiver import build_receiver
from tests.doubles.signing import (
    action_body,
    event_body,
    post_signed,
    slash_command_body,
)

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-radar-test"
FORM = "application/x-www-form-urlencoded"


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 8, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_settings(
    hub_url: str, slack_url: str | None, db_path: Path, **overrides: object
) -> Settings:
    """The tests' one settings factory: the stand-ins' addresses, the database at `db_path`,
    and nothing from a developer's `.env` or shell (explicit values win over both).
    Without `slack_url` no Slack setting is made (the core alone, or `serve` without Slack).
    """
    slack: dict = (
        {
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack_url,
        }
        if slack_url is not None
        else {}
    )
    values: dict = {
        **slack,
        "hf_endpoint": hub_url,
        "radar_db_path": db_path,
        "poll_interval_seconds": 60,
        "host": "127.0.0.1",
        "port": free_port(),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class RadarHarness:
    """The bot, served on 127.0.0.1, with handles on its parts for assertions."""

    def __init__(
        self,
        hub_url: str,
        slack_url: str,
        db_path: Path,
        *,
        clock: FakeClock | None = None,
        workspaces: Workspaces | None = None,
        **settings_overrides: object,
    ) -> None:
        self.clock = clock or FakeClock()
        # Bound here and handed to uvicorn: a port merely found free could be taken by
        # another test worker before the server binds it.
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        settings_overrides["port"] = self._socket.getsockname()[1]
        self.settings = make_settings(hub_url, slack_url, db_path, **settings_overrides)
        self.hub_client = HubClient(
            self.settings.hf_endpoint, timeout=2.0, max_retries=1, sleep=lambda _s: None
        )
        self.core: Core = build_core(
            self.settings,
            store=open_database(db_path, self.settings.postgres_url),
            hub=self.hub_client,
            clock=self.clock,
        )
        freeze_long_lived(self.core)  # as `serve` does
        self.app, self.radar = build_slack(self.core, workspaces=workspaces)
        self.radar.deliverer.sleep = lambda _s: None  # pacing is asserted in its own test
        # `POST /hub/webhook` when HF_WEBHOOK_SECRET is among the overrides, as in `serve`.
        self.hub_webhook = build_receiver(self.core, self.radar.deliverer.drain)
        self.asgi = build_asgi(
            self.app,
            self.core.store,
            poll_interval=self.settings.poll_interval_seconds,
            clock=self.clock,
            signing_secret=(
                self.settings.slack_signing_secret.get_secret_value()
                if self.settings.slack_signing_secret
                else None
            ),
            gate=self.radar.ack_first,
            hub_webhook=self.hub_webhook,
        )
        self.url = f"http://127.0.0.1:{self.settings.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.asgi,
                host="127.0.0.1",
                port=self.settings.port,
                log_level="warning",
                lifespan="on",
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    # -------------------------------------------------------------- lifecycle

    def start(self) -> RadarHarness:
        if self.hub_webhook is not None:
            self.hub_webhook.start()
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the bot's HTTP server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        if self.hub_webhook is not None:
            self.hub_webhook.stop()
        self.core.close()

    def __enter__(self) -> RadarHarness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ what jobs do

    def poll(self):
        return self.core.tracker.poll_cycle()

    def drain(self):
        return self.radar.deliverer.drain()

    def poll_and_deliver(self):
        report = self.poll()
        self.drain()
        return report

    def send_digests(self):
        return self.radar.digests.send_due()

    @property
    def slack_radar(self) -> SlackRadar:
        return self.radar

    # ------------------------------------------------------- requests as Slack

    def command(
        self,
        command: str,
        text: str,
        *,
        response_url: str,
        user_id: str = "U_ALICE",
        channel_id: str = "C_GENERAL",
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> tuple[int, str, float]:
        body = slash_command_body(
            command, text, user_id=user_id, channel_id=channel_id, response_url=response_url
        )
        return post_signed(
            f"{self.url}/slack/events", body, secret, content_type=FORM, timestamp=timestamp
        )

    def click(
        self,
        action_id: str,
        value: str,
        *,
        response_url: str,
        user_id: str = "U_ALICE",
        channel_id: str = "C_GENERAL",
        message_ts: str | None = None,
    ) -> tuple[int, str, float]:
        body = action_body(
            action_id,
            value,
            user_id=user_id,
            channel_id=channel_id,
            response_url=response_url,
            message_ts=message_ts,
        )
        return post_signed(f"{self.url}/slack/events", body, SIGNING_SECRET, content_type=FORM)

    def event(self, event: dict) -> tuple[int, str, float]:
        return post_signed(
            f"{self.url}/slack/events",
            event_body(event),
            SIGNING_SECRET,
            content_type="application/json",
        )


_response_names = itertools.count(1)


def shown_texts(value: Any) -> list[str]:
    """Every string a reader sees in a payload or view (texts, not ids or button values)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                found.append(item)
            else:
                found.extend(shown_texts(item))
    elif isinstance(value, list | tuple):
        for item in value:
            found.extend(shown_texts(item))
    return found


def shown_text(payload: Any) -> str:
    """Every text a reader sees in a message or response: fallback and all block texts."""
    return "\n".join(shown_texts({"text": payload.get("text"), "blocks": payload.get("blocks")}))


def radar_command(bot: RadarHarness, slack: Any, text: str, channel: str = "C_GENERAL") -> str:
    """Run `/radar <text>` in a channel as a user would; returns what the bot answered."""
    name = f"answer-{next(_response_names)}"
    status, _body, _elapsed = bot.command(
        "/radar", text, response_url=slack.response_url_for(name), channel_id=channel
    )
    assert status == 200
    answers = slack.wait_for(lambda: slack.responses(name), timeout=20)
    assert answers, f"no answer to /radar {text}"
    return shown_text(answers[0])


def notable_record(repo_id: str, params_b: int, seen: datetime) -> ModelRecord:
    """A stored notable Qwen model, for suites that write releases straight to the store."""
    return ModelRecord(
        id=repo_id,
        author=repo_id.split("/", 1)[0],
        lab="Qwen",
        first_seen=seen,
        created_at=seen,
        pipeline_tag="text-generation",
        license="apache-2.0",
        license_class=LicenseClass.PERMISSIVE,
        params_total=params_b * 1_000_000_000,
        downloads=1_000,
        likes=50,
        notable=True,
        reasons=["Qwen is a tracked lab"],
    )
