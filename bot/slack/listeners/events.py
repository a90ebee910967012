"""Events: the App Home tab, link unfurls (`bot.slack.unfurl`), and the app leaving a
workspace (`app_uninstalled`, `tokens_revoked` for the bot token), which deletes that
workspace's settings (`SlackRadar.forget_workspace`)."""

from __future__ import annotations

import logging
import re

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack import unfurl
from bot.slack.context import SlackRadar
from bot.slack.render import home_view

log = logging.getLogger(__name__)

HOME_RELEASES = 10


def register(app: App) -> None:
    app.event("app_home_opened")(open_home)
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
    unfurl.register(app)
    app.event(re.compile(r".*", re.DOTALL))(unknown_event)  # last: anything else


def unknown_event(event: dict) -> None:
    """An event the bot subscribed to by mistake, or a new kind: acknowledged (Slack
    would retry anything else three times) and noted at debug level."""
    log.debug("acknowledged an unhandled %r event", str(event.get("type"))[:100])


def app_uninstalled(context: BoltContext, radar: SlackRadar) -> None:
    """The app was removed from a workspace: its settings and queued alerts go (after the
    ack), and so does its installation."""
    team = context.team_id
    radar.in_background(lambda: radar.forget_workspace(team))


def tokens_revoked(event: dict, context: BoltContext, radar: SlackRadar) -> None:
    """Tokens were revoked; only a revoked bot token ends the bot's life in the workspace
    (a user token going away changes nothing the radar uses)."""
    tokens = event.get("tokens") or {}
    if not tokens.get("bot"):
        log.debug("user tokens revoked in %s: nothing to do", context.team_id)
        return
    team = context.team_id
    radar.in_background(lambda: radar.forget_workspace(team))


def open_home(event: dict, client: WebClient, radar: SlackRadar, context: BoltContext) -> None:
    """Ack at once; the Home tab (store reads and a views.publish call) is built after.

    Bolt runs listeners before it answers Slack (`process_before_response`), so anything
    slow here would hold the event's 200. `client` is Bolt's, the workspace's own.
    """
    team = radar.workspace_of(context)
    radar.in_background(lambda: publish_home(event, client, radar, team))


def publish_home(event: dict, client: WebClient, radar: SlackRadar, team: str = "") -> None:
    """The user's subscriptions (the ones they created in this workspace), recent releases
    and how-to."""
    if event.get("tab", "home") != "home":
        return
    user = event.get("user") or ""
    service = radar.core.service
    by_channel: dict[str, list] = {}
    for sub in radar.core.channels.subscriptions(team_id=team):
        if sub.created_by == user:
            by_channel.setdefault(sub.channel_id, []).append(sub)
    recent = service.latest(HOME_RELEASES)
    failed: dict[str, list] = {}
    for alert in radar.core.outbox.failed(team_id=team):
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
