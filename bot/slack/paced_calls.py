"""Paced Slack calls for one outbox row: its workspace's client, `Pacer`'s turn, retries.

What the deliverer (`bot.slack.delivery`) and what one try of a row does
(`bot.slack.alert_posts`, `bot.slack.followups`) share for talking to Slack: a row's call
goes through its own workspace's client (`NotInstalled` when it has none any more), waits
its turn (one message a second per channel, and never while the method waits out a
`Retry-After` in that workspace), and a failure worth trying again later comes back as
`RetryLater` (a 429 pauses the method for the workspace first). Other Slack errors are
raised as they are: what they mean for the row is the deliverer's to decide.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Generator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.radar.models import Delivery
from bot.slack import errors
from bot.slack.pacing import MethodPaused, Pacer
from bot.slack.workspace_clients import NotInstalled, client_in
from bot.slack.workspaces import Workspaces

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """Try the row again after `delay` seconds.

    `paused`: the method is paused for the workspace (a 429), and the next call waits for it
    in `PacedCalls.call` rather than in a sleeping worker. `attempted`: False when the row
    was not even tried (another channel's 429 paused the method), so it does not count
    toward giving up.
    """

    def __init__(
        self, delay: float, reason: str, *, paused: bool = False, attempted: bool = True
    ) -> None:
        super().__init__(reason)
        self.delay = delay
        self.paused = paused
        self.attempted = attempted


class PacedCalls:
    """Web API calls for outbox rows, each in the row's workspace and paced by `pacer`."""

    def __init__(self, workspaces: Workspaces, pacer: Pacer, *, max_inline_wait: float) -> None:
        self.workspaces = workspaces
        self.pacer = pacer
        self.max_inline_wait = max_inline_wait  # longer pauses defer the row instead

    def client_for(self, row: Delivery) -> WebClient:
        """The client of the row's workspace (`NotInstalled` when it has none any more)."""
        return client_in(self.workspaces, row.team_id)

    def call(self, row: Delivery, method_name: str, **kwargs) -> Generator[float, None, Any]:
        """A message call (`method_name` of the row's workspace's client) to one channel
        when `Pacer` allows it: one message a second per channel, and never while the
        method waits out a `Retry-After` (Slack's limits are per method and workspace, so
        each workspace has its own pauses). Waiting is the scheduler's job (`run_paced`):
        this yields the time the call may start. A pause longer than `max_inline_wait`
        defers the row instead (`RetryLater`, not counted as an attempt).
        """
        channel_id, team = kwargs["channel"], row.team_id
        method = getattr(self.client_for(row), method_name)
        try:
            yield from self.pacer.turn(
                method_name, channel_id, max_wait=self.max_inline_wait, team=team
            )
        except MethodPaused as paused:
            raise RetryLater(
                paused.seconds, "rate limited (method paused)", paused=True, attempted=False
            ) from None
        try:
            return self._call_once(method, method_name, team, **kwargs)
        finally:
            self.pacer.called(channel_id, team)

    def post(
        self, row: Delivery, payload: dict, metadata: dict, *, thread_ts: str | None = None
    ) -> Generator[float, None, Any]:
        """`chat.postMessage` of a rendered payload to the row's channel (in a thread with
        `thread_ts`), paced like `call`. Our posts never unfurl links: an alert names
        several Hub pages, and a preview of each would bury it."""
        extra = {"thread_ts": thread_ts} if thread_ts is not None else {}
        return (
            yield from self.call(
                row,
                "chat_postMessage",
                channel=row.channel_id,
                **extra,
                text=payload["text"],
                blocks=payload["blocks"],
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata,
            )
        )

    def join(self, row: Delivery) -> bool:
        """Join the row's channel after `not_in_channel` (a public channel lets the bot
        in); False when it cannot, and the row's error stands."""
        channel_id = row.channel_id
        try:
            self.client_for(row).conversations_join(channel=channel_id)
            log.info("joined %s to deliver alerts", channel_id)
            return True
        except NotInstalled:
            return False
        except SlackApiError as exc:
            log.warning("cannot join %s: %s", channel_id, errors.error_code(exc))
            return False

    def _call_once(self, method: Any, method_name: str, team: str, **kwargs):
        """One Web API call in workspace `team`, translating transient failures into
        `RetryLater` (a 429 pauses the method in that workspace only)."""
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            if errors.is_rate_limited(exc):
                delay = errors.retry_after(exc)
                self.pacer.pause_method(method_name, delay, team)
                raise RetryLater(delay, "rate limited", paused=True) from None
            if errors.is_transient(exc):
                reason = f"Slack {errors.http_status(exc) or errors.error_code(exc)}"
                raise RetryLater(1.0 + random.random(), reason) from None
            raise
        except (OSError, TimeoutError) as exc:
            raise RetryLater(1.0 + random.random(), f"network: {type(exc).__name__}") from None
