"""What every listener needs, handed to it by name through Bolt's context.

`install(app, radar)` adds a middleware that puts the `SlackRadar` into each request's
context under `radar`; Bolt then passes it to any listener with a `radar` parameter. The
listeners stay plain functions, and nothing is built at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from slack_bolt import App, Respond

from bot.config import Settings
from bot.runtime import Core
from bot.slack.delivery import Deliverer
from bot.slack.digests import DigestPoster
from bot.slack.render import error_message

log = logging.getLogger(__name__)

ANSWER_THREADS = 16


@contextmanager
def answering_errors(respond: Respond) -> Iterator[None]:
    """Whatever breaks after the ack, the user hears about it in words and it is logged."""
    try:
        yield
    except Exception:
        log.exception("answering a Slack request failed")
        respond(
            **error_message(
                "Sorry, something went wrong on my side while answering that.",
                hint="Try again in a minute; the problem has been logged.",
            ),
            response_type="ephemeral",
            replace_original=False,
        )


@dataclass
class SlackRadar:
    settings: Settings
    core: Core
    deliverer: Deliverer
    digests: DigestPoster
    workers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(ANSWER_THREADS, thread_name_prefix="answer")
    )

    def after_ack(self, respond: Respond, work: Callable[[], None]) -> None:
        """Run the slow part of a listener off Bolt's listener threads.

        Bolt acks from the listener's own thread; if those threads were busy waiting on
        the Hub, new requests could not even be acked. Answers queue here instead.
        """

        def run() -> None:
            with answering_errors(respond):
                work()

        self.workers.submit(run)

    @property
    def hub_url(self) -> str:
        return self.settings.hf_endpoint

    def may_change_settings(self, user_id: str | None) -> bool:
        """With RADAR_ADMINS set, only those users may change subscriptions and labs."""
        admins = self.settings.admin_ids
        return not admins or (user_id or "") in admins


def install(app: App, radar: SlackRadar) -> None:
    def inject_radar(context, next_) -> None:
        context["radar"] = radar
        next_()

    app.use(inject_radar)
