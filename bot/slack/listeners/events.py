"""Events: the App Home tab, and link unfurls (`bot.slack.unfurl`)."""

from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack import unfurl
from bot.slack.context import SlackRadar
from bot.slack.render import home_view

log = logging.getLogger(__name__)

HOME_RELEASES = 10


def register(app: App) -> None:
    app.event("app_home_opened")(open_home)
    unfurl.register(app)
    app.event(re.compile(r".*", re.DOTALL))(unknown_event)  # last: anything else


def unknown_event(event: dict) -> None:
    """An event the bot subscribed to by mistake, or a new kind: acknowledged (Slack
    would retry anything else three times) and noted at debug level."""
    log.debug("acknowledged an unhandled %r event", str(event.get("type"))[:100])


def open_home(event: dict, client: WebClient, radar: SlackRadar) -> None:
    """Ack at once; the Home tab (store reads and a views.publish call) is built after.

    Bolt runs listeners before it answers Slack (`process_before_response`), so anything
    slow here would hold the event's 200.
    """
    radar.in_background(lambda: publish_home(event, client, radar))


def publish_home(event: dict, client: WebClient, radar: SlackRadar) -> None:
    """The user's subscriptions (the ones they created), recent releases and how-to."""
    if event.get("tab", "home") != "home":
        return
    user = event.get("user") or ""
    service = radar.core.service
    by_channel: dict[str, list] = {}
    for sub in radar.core.channels.subscriptions():
        if sub.created_by == user:
            by_channel.setdefault(sub.channel_id, []).append(sub)
    recent = service.latest(HOME_RELEASES)
    failed: dict[str, list] = {}
    for alert in radar.core.outbox.failed():
        if alert.channel_id in by_channel:
            failed.setdefault(alert.channel_id, []).append(alert)
    view = home_view(
        by_channel,
        recent,
        {r.id: service.members(r) for r in recent},
        model_command=radar.settings.model_command,
        radar_command=radar.settings.radar_command,
        hub_url=radar.hub_url,
        failed_by_channel=failed,
    )
    client.views_publish(user_id=user, view=view)
