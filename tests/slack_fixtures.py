"""A populated radar served over HTTP, and helpers that read replies the way a user sees them.

The Slack-surface suites (commands, buttons, App Home, authenticity) share this world so
each module starts one bot, not one per test: a Hub stand-in with a year of history from
tracked labs, a silent bootstrap poll, then a fresh Qwen family launch with its flood of
third-party copies, a breakout from an untracked namespace, and the alerts delivered to a
subscribed channel. Tests that change settings use their own channel ids, so they do not
see each other's subscriptions or mutes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.radar.models import Filters
from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.signing import FORM, JSON, action_body, event_body, sign, slash_command_body
from tests.doubles.slack_server import SlackStandIn
from tests.harness import SIGNING_SECRET, RadarHarness, shown_texts

ALERTS_CHANNEL = "C0ALERTS"
SUBSCRIBER = "U_ALICE"
ACK_LIMIT_SECONDS = 3.0  # Slack's deadline for the HTTP answer to any request
REPLY_TIMEOUT = 5.0

FAMILY_LEAD = f"{fx.FAMILY_LAB}/{fx.FAMILY_STEM}-122B-A10B"
FAMILY_SMALL = f"{fx.FAMILY_LAB}/{fx.FAMILY_STEM}-8B-Instruct"
FAMILY_RELEASE_MEMBERS = 13  # every size, base, instruct and the lab's own FP8/GGUF repos
BREAKOUT_REPO = "lumen-research/Lumen-R1-32B"
DENSE_REPO = "Qwen/Qwen3-32B"
HUB_ONLY_REPO = "quietlab/Quiet-Coder-7B"  # on the Hub, added after the last poll
LEAD_CHILDREN = {"quantized": 14, "finetune": 3}

_reply_names = itertools.count(1)


# ---------------------------------------------------------------------------------------------
# Reading replies
# ---------------------------------------------------------------------------------------------


def buttons(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The buttons of a message, in the order they are shown."""
    return [
        element
        for block in payload.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements") or []
        if element.get("type") == "button"
    ]


def button(payload: Mapping[str, Any], action_id: str) -> dict[str, Any]:
    matching = [b for b in buttons(payload) if b.get("action_id") == action_id]
    assert matching, f"no {action_id!r} button in {[b.get('action_id') for b in buttons(payload)]}"
    return matching[0]


def header(payload: Mapping[str, Any]) -> str:
    heads = [b["text"]["text"] for b in payload.get("blocks") or [] if b.get("type") == "header"]
    return heads[0] if heads else ""


def field_value(payload: Mapping[str, Any], title: str) -> str:
    """The value under a `*Title*` field of a card ("*Lab*\\n🇨🇳 Qwen · China" -> the rest)."""
    prefix = f"*{title}*\n"
    for block in payload.get("blocks") or []:
        for item in block.get("fields") or []:
            if item["text"].startswith(prefix):
                return item["text"].removeprefix(prefix)
    raise AssertionError(f"no {title!r} field in the message")


@dataclass
class Reply:
    """What Slack got back for one request: the HTTP ack, then what came to the response_url."""

    status: int
    ack_body: str
    seconds: float
    response_name: str
    payloads: list[dict[str, Any]] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, Any]:
        assert self.payloads, f"no reply arrived at the response_url ({self.status})"
        return self.payloads[-1]

    @property
    def text(self) -> str:
        """The plain fallback every reply must carry."""
        return str(self.payload.get("text") or "")

    @property
    def shown(self) -> str:
        """All visible text of the reply, blocks and attachments (tables) included."""
        return "\n".join(
            shown_texts(self.payload.get("blocks") or [])
            + shown_texts(self.payload.get("attachments") or [])
        )

    def table(self) -> list[list[str]]:
        """The rows of the reply's table block (cells as shown), [] when it has none."""
        for attachment in self.payload.get("attachments") or []:
            for block in attachment.get("blocks") or []:
                if block.get("type") == "table":
                    return [[cell.get("text", "") for cell in row] for row in block["rows"]]
        return []

    @property
    def response_type(self) -> str | None:
        return self.payload.get("response_type")


# ---------------------------------------------------------------------------------------------
# The world
# ---------------------------------------------------------------------------------------------


@dataclass
class SlackWorld:
    """The running bot and both stand-ins, driven the way Slack drives the bot.

    Requests are built and signed with the same helpers as `RadarHarness.command` and
    friends, but sent over one kept-alive HTTP client: a new client per request costs more
    than the bot takes to answer, and these suites send hundreds of requests.
    """

    hub: HubStandIn
    slack: SlackStandIn
    bot: RadarHarness
    http: httpx.Client

    @property
    def events_url(self) -> str:
        return f"{self.bot.url}/slack/events"

    def post(
        self,
        body: bytes,
        *,
        content_type: str,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
    ) -> tuple[int, str, float]:
        """POST to the bot's request URL; returns (status, body, seconds to the answer).

        By default the request carries Slack's headers for `body` signed now with the app's
        secret; `timestamp`, `signature` and `signed=False` forge the ways it can go wrong.
        """
        sent_at = int(time.time()) if timestamp is None else timestamp
        headers = {"Content-Type": content_type}
        if signed:
            headers["X-Slack-Request-Timestamp"] = str(sent_at)
            headers["X-Slack-Signature"] = signature or sign(body, secret, sent_at)
        started = time.perf_counter()
        response = self.http.post(self.events_url, content=body, headers=headers)
        return response.status_code, response.text, time.perf_counter() - started

    def _answers(self, name: str) -> list[dict[str, Any]]:
        """What reached response_url `name`, waiting (up to a bound) for the first answer."""
        self.slack.wait_for(lambda: self.slack.responses(name), REPLY_TIMEOUT)
        return self.slack.responses(name)

    def ask(
        self,
        command: str,
        text: str,
        *,
        user_id: str = SUBSCRIBER,
        channel_id: str = "C0GENERAL",
    ) -> Reply:
        """Type a slash command in Slack and wait for the answer at its response_url."""
        name = f"cmd-{next(_reply_names)}"
        body = slash_command_body(
            command,
            text,
            user_id=user_id,
            channel_id=channel_id,
            response_url=self.slack.response_url_for(name),
        )
        status, ack, seconds = self.post(body, content_type=FORM)
        payloads = self._answers(name) if status == 200 else []
        return Reply(status, ack, seconds, name, payloads)

    def radar(self, text: str, **where: str) -> Reply:
        return self.ask(self.bot.settings.radar_command, text, **where)

    def model(self, text: str, **where: str) -> Reply:
        return self.ask(self.bot.settings.model_command, text, **where)

    def press(
        self,
        action_id: str,
        value: str,
        *,
        user_id: str = SUBSCRIBER,
        channel_id: str = "C0GENERAL",
        message: Mapping[str, Any] | None = None,
    ) -> Reply:
        """Click a button (on `message`, when given) and wait for what the bot sends back."""
        name = f"click-{next(_reply_names)}"
        body = action_body(
            action_id,
            value,
            user_id=user_id,
            channel_id=channel_id,
            response_url=self.slack.response_url_for(name),
            message_ts=message.get("ts") if message else None,
            message=message,
        )
        status, ack, seconds = self.post(body, content_type=FORM)
        payloads = self._answers(name) if status == 200 else []
        return Reply(status, ack, seconds, name, payloads)

    def warm_up(self) -> None:
        """Bolt looks up its own identity (auth.test) on the first request it obeys. Done
        up front, no test depends on running after another one in the same worker."""
        assert self.radar("help", channel_id="C0WARMUP").status == 200

    def open_home(self, user_id: str, *, tab: str = "home") -> tuple[int, float]:
        """Open the app's Home tab as `user_id`; returns (status, seconds to the ack)."""
        event = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D0RADAR1",
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        status, _ack, seconds = self.post(event_body(event), content_type=JSON)
        return status, seconds


def _catalogue_extras(now: datetime) -> list[dict[str, Any]]:
    """A dense model the background catalogue lacks, for `qwen3 32b` style lookups."""
    return [
        fx.model_json(
            DENSE_REPO,
            created_at=now - timedelta(days=200),
            params=32 * fx.B,
            downloads=640_000,
            likes=2_100,
        ),
    ]


def _launch(now: datetime) -> list[dict[str, Any]]:
    family = fx.family_launch(now)
    for record in family:
        if record["id"] == FAMILY_LEAD:
            record["childrenModelCount"] = dict(LEAD_CHILDREN)
    flood = fx.derivative_flood(now, [FAMILY_SMALL])
    return [*family, *flood, *fx.breakout(now)]


@contextmanager
def radar_world(
    db_path: Path, *, populated: bool = True, **settings: object
) -> Iterator[SlackWorld]:
    """The bot on loopback against both stand-ins; `populated` adds history and a launch.

    A populated world has bootstrapped quietly, then seen one Qwen family launch (13 repos
    of the lab, 40 third-party derivatives of its 8B) and one breakout, both announced in
    `ALERTS_CHANNEL`. One more repo is then put on the Hub only, for on-demand lookups.
    """
    with (
        HubStandIn() as hub,
        SlackStandIn() as slack,
        RadarHarness(hub.url, slack.url, db_path, **settings) as bot,
        httpx.Client(timeout=10.0) as http,
    ):
        world = SlackWorld(hub, slack, bot, http)
        if populated:
            hub.add_many(fx.background(bot.clock.now, 20))
            hub.add_many(_catalogue_extras(bot.clock.now))
            bot.poll()  # first sight of every lab: recorded, never announced
            bot.core.channels.subscribe(ALERTS_CHANNEL, Filters(), SUBSCRIBER)
            bot.clock.advance(hours=1)
            hub.add_many(_launch(bot.clock.now))
            bot.poll_and_deliver()
            bot.clock.advance(minutes=5)  # people ask about a release after it was announced
            hub.add(
                fx.model_json(
                    HUB_ONLY_REPO,
                    created_at=bot.clock.now - timedelta(days=3),
                    params=7 * fx.B,
                    license="cc-by-nc-4.0",
                    downloads=1_200,
                    likes=14,
                )
            )
        yield world


def alerts(world: SlackWorld, channel: str = ALERTS_CHANNEL) -> dict[str, dict[str, Any]]:
    """The release alerts posted in a channel, by header text."""
    return {header(m): m for m in world.slack.messages(channel) if header(m)}


def assert_quick_ack(reply: Reply) -> None:
    assert reply.status == 200, reply.ack_body
    assert reply.seconds < ACK_LIMIT_SECONDS


def assert_ephemeral(reply: Reply) -> None:
    assert reply.response_type == "ephemeral", reply.payload
    assert reply.text.strip(), "every reply needs a plain text fallback"
