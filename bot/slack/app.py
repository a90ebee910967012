"""Build the Bolt app and the Slack-facing services from a `Core`.

Nothing here talks to Slack at build time: token verification is off (the `serve`
command calls `auth.test` itself and logs the outcome), so a Slack outage cannot stop
the bot from starting and catching up. In OAuth mode (`Settings.oauth`) the app has no
bot token: Bolt's install flow (`bot.slack.oauth`) fills the installation store, and each
request is authorized with its own workspace's token from there.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import Settings
from bot.runtime import Core
from bot.slack.context import SlackRadar, install
from bot.slack.delivery import Deliverer
from bot.slack.digests import DigestPoster
from bot.slack.listeners import actions, commands, events
from bot.slack.oauth import NOT_INSTALLED_NOTE, build_oauth_flow, build_workspaces
from bot.slack.workspaces import Workspaces

log = logging.getLogger(__name__)

LISTENER_THREADS = 16


class _DropTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and then warns that our client's token wins,
    on every start; the client's token is the same value, so the notice only confuses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_web_client(settings: Settings) -> WebClient:
    """The Web API client for every call the bot makes.

    slack_sdk re-sends a request whose connection dropped (`retry_handlers` default). For a
    post that Slack carried out before the drop, that is a second copy in the channel, so
    the client never retries on its own: the deliverer and the digest poster retry, after
    looking in the channel for what already arrived.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=15, retry_handlers=[])


def build_slack(
    core: Core, *, client: WebClient | None = None, workspaces: Workspaces | None = None
) -> tuple[App, SlackRadar]:
    """The Bolt app and the Slack services. `workspaces`: who the bot serves and each
    one's client; by default the installed workspaces in OAuth mode (`InstalledWorkspaces`),
    else the one workspace of `client` (token mode)."""
    settings = core.settings
    client = client or build_web_client(settings)
    workspaces = workspaces or build_workspaces(settings, core.store, client)
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    bolt_logger = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _DropTokenNotice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_DropTokenNotice())
    oauth_flow = (
        build_oauth_flow(settings, core.store, client, clock=core.clock) if settings.oauth else None
    )
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=False,
        request_verification_enabled=True,
        # Our listeners only ack and hand the answer to `SlackRadar`'s pools, so Bolt can
        # run them on the dispatching thread: otherwise it hands each one to a listener
        # thread and polls every 10 ms for its ack (a thread hop and up to 10 ms per ack).
        process_before_response=True,
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="listener"
        ),
        logger=bolt_logger,
        oauth_flow=oauth_flow,
        user_facing_authorize_error_message=NOT_INSTALLED_NOTE if oauth_flow else None,
    )
    radar = SlackRadar(
        settings=settings,
        core=core,
        deliverer=Deliverer(
            workspaces,
            core.store,
            core.outbox,
            core.channels,
            clock=core.clock,
            hub_url=settings.hf_endpoint,
        ),
        digests=DigestPoster(
            workspaces, core.store, core.channels, clock=core.clock, hub_url=settings.hf_endpoint
        ),
        workspaces=workspaces,
    )
    install(app, radar)
    commands.register(
        app, model_command=settings.model_command, radar_command=settings.radar_command
    )
    actions.register(app)
    events.register(app)

    @app.error
    def log_errors(error: Exception, body: dict) -> None:
        log.error("unhandled error in a listener: %s", error, exc_info=error)

    return app, radar
