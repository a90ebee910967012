"""What every listener needs, handed to it by name through Bolt's context.

`install(app, radar)` adds a middleware that puts the `SlackRadar` into each request's
context under `radar`; Bolt then passes it to any listener with a `radar` parameter. The
listeners stay plain functions, and nothing is built at import time.

Answers run after the ack, in the same interpreter as the acks, so every runnable answer
thread takes turns at the GIL with the HTTP server's event loop and Bolt. So:

- answers from local data (a lookup, Block Kit, the `respond` post) run on a small CPU
  pool (`ANSWER_THREADS`): more threads would not answer sooner, only take the GIL from
  the acks more often;
- those answers give way to acks: one starts once the HTTP front door has been quiet for
  `QUIET_SECONDS` (no request in flight), or when it has waited `ANSWER_PATIENCE`,
  whichever comes first (`AckFirst`). Slack refuses an ack after 3 s; a `response_url`
  stays valid for 30 minutes. In a burst the acks go first, and no answer waits longer
  than its patience for them;
- work that waits on something else runs on a pool apart, one per thing waited on, so
  that a slow or hung service holds up only the answers that need it: Hub lookups for a
  model the radar does not know (`HUB_THREADS`), Slack API calls and events
  (`WAITING_THREADS`), and store writes, which may queue behind a poll's commit but
  never behind a network wait (`WRITE_THREADS`). With twenty lookups hanging on the Hub,
  `/radar subscribe` is still answered at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, Respond

from bot.config import Settings
from bot.radar.service import ModelLookup
from bot.runtime import Core
from bot.slack.delivery import Deliverer
from bot.slack.digests import DigestPoster
from bot.slack.render import error_message
from bot.slack.workspaces import Workspaces

log = logging.getLogger(__name__)

# CPU-bound answers share one GIL: more threads only take turns with the acks more often.
ANSWER_THREADS = 2
# Threads that wait on the Hub: lookups of models the radar does not know.
HUB_THREADS = 16
# Threads that wait on Slack's Web API (a digest posted now, the Home tab).
WAITING_THREADS = 8
# Store writes (subscribe, mute, …): quick, serialized by the store's lock anyway.
WRITE_THREADS = 2
# An answer starts after this long without a request in flight...
QUIET_SECONDS = 0.005
# ...or after this long, however busy the front door is.
ANSWER_PATIENCE = 1.0

Reply = Callable[..., None]


class AckFirst:
    """Tells answers when the HTTP front door is quiet, so they fill the gaps between
    acks instead of taking the GIL from them (see the module docstring)."""

    def __init__(self, quiet: float = QUIET_SECONDS) -> None:
        self.quiet = quiet
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last_busy = 0.0
        self._idle = threading.Event()
        self._idle.set()

    @contextmanager
    def acking(self) -> Iterator[None]:
        """Wraps one request at the front door."""
        with self._lock:
            self._in_flight += 1
            self._idle.clear()
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self._last_busy = time.monotonic()
                if self._in_flight == 0:
                    self._idle.set()

    def wait_turn(self, deadline: float) -> None:
        """Return once the front door has been quiet for `quiet`, or at `deadline`."""
        while (now := time.monotonic()) < deadline:
            if not self._idle.wait(deadline - now):
                return
            quiet_until = self._last_busy + self.quiet
            if self._idle.is_set() and time.monotonic() >= quiet_until:
                return
            time.sleep(max(0.0, min(quiet_until - time.monotonic(), deadline - now)))


@contextmanager
def answering_errors(reply: Reply) -> Iterator[None]:
    """Whatever breaks after the ack, the user hears about it in words and it is logged."""
    try:
        yield
    except Exception:
        log.exception("answering a Slack request failed")
        reply(
            **error_message(
                "Sorry, something went wrong on my side while answering that.",
                hint="Try again in a minute; the problem has been logged.",
            ),
            response_type="ephemeral",
            replace_original=False,
        )


def _posting(respond: Respond) -> Callable[..., None]:
    def post(**kwargs: Any) -> None:
        try:
            respond(**kwargs)
        except Exception:
            log.exception("posting an answer to Slack failed")

    return post


@dataclass
class SlackRadar:
    settings: Settings
    core: Core
    deliverer: Deliverer
    digests: DigestPoster
    # Which workspaces the bot serves, and each one's client (`SingleWorkspace` in token
    # mode). Channel settings are filed under `workspace_of(context)`.
    workspaces: Workspaces
    workers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(ANSWER_THREADS, thread_name_prefix="answer")
    )
    ack_first: AckFirst = field(default_factory=AckFirst)
    patience: float = ANSWER_PATIENCE
    waiting: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(WAITING_THREADS, thread_name_prefix="waiting")
    )
    hub_waiting: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(HUB_THREADS, thread_name_prefix="hub")
    )
    writing: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="write")
    )

    def after_ack(self, respond: Respond, work: Callable[[Reply], None]) -> None:
        """Answer from local data on the CPU pool, off Bolt's thread, once acks are out.

        `work` gets `reply`, which posts through `respond` (errors are logged). Work that
        turns out to need the Hub hands the rest to `on_hub` (`answer_lookup`).
        """
        reply = _posting(respond)
        deadline = time.monotonic() + self.patience

        def run() -> None:
            self.ack_first.wait_turn(deadline)
            with answering_errors(reply):
                work(reply)

        self.workers.submit(run)

    def while_waiting(self, respond: Respond, work: Callable[[Reply], None]) -> None:
        """Answer on the Slack pool: for work that waits on a Slack API call, which would
        otherwise hold a CPU answer thread while it waits."""
        self._submit(self.waiting, respond, work)

    def on_hub(self, respond: Respond, work: Callable[[Reply], None]) -> None:
        """Answer on the Hub pool: a slow or hung Hub then holds up only Hub answers."""
        self._submit(self.hub_waiting, respond, work)

    def while_writing(self, respond: Respond, work: Callable[[Reply], None]) -> None:
        """Answer on the write pool: a store write never queues behind a network wait."""
        self._submit(self.writing, respond, work)

    @staticmethod
    def _submit(pool: ThreadPoolExecutor, respond: Respond, work: Callable[[Reply], None]):
        reply = _posting(respond)  # the answer is posted from the pool's thread

        def run() -> None:
            with answering_errors(reply):
                work(reply)

        pool.submit(run)

    def answer_lookup(
        self,
        respond: Respond,
        reply: Reply,
        query: str,
        answer: Callable[[ModelLookup, Reply], None],
    ) -> None:
        """`answer(lookup, reply)` for a model query: here when local data resolves it, on
        the Hub pool when only the Hub can (a slow Hub then holds up no other answer)."""
        service = self.core.service
        lookup = service.lookup_local(query)
        if lookup.needs_hub:
            self.on_hub(respond, lambda post: answer(service.finish_on_hub(lookup), post))
        else:
            answer(lookup, reply)

    def in_background(self, work: Callable[[], None]) -> None:
        """Work with no one to answer (an event), off Bolt's thread; failures are logged."""

        def run() -> None:
            try:
                work()
            except Exception:
                log.exception("handling a Slack event failed")

        self.waiting.submit(run)

    @property
    def hub_url(self) -> str:
        return self.settings.hf_endpoint

    def workspace_of(self, context: Any) -> str:
        """The key a request's channel settings are filed under: its workspace's in OAuth
        mode, "" in single-workspace mode. `context` is Bolt's (a dict-like `context`, or
        the team id itself); Bolt reads the installation's team from the request, so an
        event in a Slack Connect channel is filed under the workspace that got it."""
        return self.workspaces.key_of(team_of(context))

    def may_change_settings(self, user_id: str | None, team_id: str | None = None) -> bool:
        """Only the workspace's admins may change subscriptions and labs: RADAR_ADMINS
        entries for that team (`T123:U456`) and the unqualified ones (`U123`). A workspace
        with none leaves it to everyone, as an unset RADAR_ADMINS always did."""
        by_team = self.settings.admins_by_workspace
        admins = by_team.get("", frozenset())
        if team_id:
            admins = admins | by_team.get(team_id, frozenset())
        return not admins or (user_id or "") in admins

    def may_change_labs(self, user_id: str | None, team_id: str | None = None) -> bool:
        """Who may track and untrack labs. The tracked labs are shared by every workspace
        the radar serves, so with many workspaces only its operators may change them: the
        RADAR_ADMINS entries without a workspace (`U123`). With one workspace they are its
        settings like any other."""
        if not self.workspaces.multi:
            return self.may_change_settings(user_id, team_id)
        operators = self.settings.admins_by_workspace.get("", frozenset())
        return (user_id or "") in operators

    def forget_workspace(self, team_id: str | None) -> None:
        """The app was uninstalled from a workspace (or its bot token revoked): delete that
        workspace's settings and queued alerts, then drop its installation.

        In single-workspace mode nothing is deleted: every setting is filed under the one
        key, and the token comes from the environment; the operator decides what happens
        to the bot there (a reinstall keeps working with its settings)."""
        key = self.workspaces.key_of(team_id)
        if not self.workspaces.multi or not key:
            log.warning("Slack says the app left workspace %s; token mode keeps its data", team_id)
            return
        gone = self.core.channels.forget_workspace(key)
        self.workspaces.forget(key)
        log.info(
            "forgot workspace %s: %d subscriptions, %d mutes, %d digest schedules, "
            "%d outbox rows deleted",
            key,
            gone.subscriptions,
            gone.mutes,
            gone.digests,
            gone.deliveries,
        )


def team_of(context: Any) -> str | None:
    """The Slack team id of a request: Bolt's `context.team_id` (or a team id given as is)."""
    if context is None or isinstance(context, str):
        return context
    team = getattr(context, "team_id", None)
    if team is None and hasattr(context, "get"):
        team = context.get("team_id")
    return team


def install(app: App, radar: SlackRadar) -> None:
    def inject_radar(context, next_) -> None:
        context["radar"] = radar
        next_()

    app.use(inject_radar)
