"""What every listener needs, handed to it by name through Bolt's context.

`install(app, radar)` adds a middleware that puts the `SlackRadar` into each request's
context under `radar`; Bolt then passes it to any listener with a `radar` parameter. The
listeners stay plain functions, and nothing is built at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import App

from bot.config import Settings
from bot.runtime import Core
from bot.slack.delivery import Deliverer
from bot.slack.digests import DigestPoster


@dataclass
class SlackRadar:
    settings: Settings
    core: Core
    deliverer: Deliverer
    digests: DigestPoster

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
