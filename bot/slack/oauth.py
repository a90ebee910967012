"""Slack's OAuth install flow (OAuth mode): Bolt's `OAuthFlow` on the bot's own stores.

`GET /slack/install` sets a state cookie and redirects the browser to Slack's authorize
page with the bot's scopes; Slack sends it back to `GET /slack/oauth_redirect` with a
code, which `oauth.v2.access` exchanges for the workspace's bot token (and, with token
rotation on, a refresh token). Every call goes to SLACK_API_URL, so tests run the whole
flow against the Slack stand-in. The pages the installer sees say in words what happened
and what to do next; no page or log line carries a token.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime

from slack_bolt import BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.config import Settings
from bot.radar.ports import Store
from bot.slack.installations import InstalledWorkspaces
from bot.slack.oauth_stores import STATE_SECONDS, RadarInstallationStore, RadarOAuthStateStore
from bot.slack.workspaces import SingleWorkspace, Workspaces

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
_START_AGAIN = f'<a href="{INSTALL_PATH}">start the install again</a>'
# What the installer reads for each reason Bolt gives; the status is Bolt's suggestion.
FAILURES: dict[str, str] = {
    "access_denied": "You cancelled the install, so nothing was installed. To add the app, "
    + _START_AGAIN
    + ".",
    "invalid_browser": "This page was opened without the browser cookie the install started "
    "with (another browser, or cookies blocked). Please " + _START_AGAIN + " in this browser.",
    "invalid_state": "This install link has expired or was already used. Please "
    + _START_AGAIN
    + ".",
    "missing_code": "Slack did not confirm the install (no code came back). Please "
    + _START_AGAIN
    + ".",
    "invalid_code": "Slack did not accept the install's code (it may have been used "
    "already). Please " + _START_AGAIN + ".",
    "storage_error": "The install could not be saved, so nothing was installed. Try again "
    "in a minute; the problem has been logged.",
}


# What a user of a workspace without (or no longer with) an installation is told.
NOT_INSTALLED_NOTE = (
    "Open Model Radar is not installed in this workspace (or was removed from it). Someone "
    f"allowed to add apps can install it from the bot's {INSTALL_PATH} page."
)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{body}</p></body></html>"
    )


def _html(status: int, title: str, body: str, cookie: str) -> BoltResponse:
    return BoltResponse(
        status=status,
        body=_page(title, body),
        headers={"Content-Type": "text/html; charset=utf-8", "Set-Cookie": [cookie]},
    )


def installed_page(args: SuccessArgs) -> BoltResponse:
    installation = args.installation
    team = installation.team_name or installation.team_id or "your workspace"
    log.info(
        "installed in workspace %s (%s) by %s",
        installation.team_id,
        installation.team_name,
        installation.user_id,
    )
    body = (
        f"Open Model Radar is installed in <b>{html.escape(team)}</b>. In any channel, "
        "type <code>/radar help</code> to see what it can do, or "
        "<code>/radar subscribe</code> to get alerts there."
    )
    cookie = args.settings.state_utils.build_set_cookie_for_deletion()
    return _html(200, "Installed", body, cookie)


def failure_page(args: FailureArgs) -> BoltResponse:
    reason = args.reason or "error"
    text = FAILURES.get(reason)
    if text is None:  # an error Slack reported in the redirect
        text = (
            f"Slack reported <code>{html.escape(reason)}</code>, so nothing was installed. "
            f"Please {_START_AGAIN}."
        )
    level = logging.WARNING if reason == "storage_error" else logging.INFO
    log.log(level, "an OAuth install did not complete: %s", reason)
    cookie = args.settings.state_utils.build_set_cookie_for_deletion()
    return _html(args.suggested_status_code, "Not installed", text, cookie)


def build_oauth_flow(
    settings: Settings,
    store: Store,
    client: WebClient,
    *,
    clock: Callable[[], datetime],
) -> OAuthFlow:
    """The install flow on the bot's database, calling Slack through `client`'s base URL."""
    assert settings.oauth and settings.slack_client_secret and settings.slack_state_secret
    client_id = settings.slack_client_id or ""
    client_secret = settings.slack_client_secret.get_secret_value()
    installations = RadarInstallationStore(store)
    redirect_uri = (
        f"{settings.radar_public_url}{REDIRECT_PATH}" if settings.radar_public_url else None
    )
    oauth = OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=settings.bot_scopes,
        user_scopes=[],
        # Unset: Slack sends the installer to the app's one configured Redirect URL.
        redirect_uri=redirect_uri,
        install_path=INSTALL_PATH,
        install_page_rendering_enabled=False,  # straight to Slack's page
        redirect_uri_path=REDIRECT_PATH,
        callback_options=CallbackOptions(success=installed_page, failure=failure_page),
        authorization_url=settings.slack_authorize_url,
        installation_store=installations,
        token_rotation_expiration_minutes=settings.slack_token_rotation_minutes,
        state_store=RadarOAuthStateStore(
            store, settings.slack_state_secret.get_secret_value(), clock=clock
        ),
        state_expiration_seconds=STATE_SECONDS,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    # Bolt's own authorize rotates tokens through a default client (slack.com); this one
    # goes where every other call goes (SLACK_API_URL).
    oauth.authorize = InstallationStoreAuthorize(
        logger=logging.getLogger("bot.slack.bolt"),
        installation_store=installations,
        client_id=client_id,
        client_secret=client_secret,
        token_rotation_expiration_minutes=settings.slack_token_rotation_minutes,
        client=client,
    )
    return OAuthFlow(client=client, settings=oauth, logger=logging.getLogger("bot.slack.bolt"))


def build_workspaces(settings: Settings, store: Store, client: WebClient) -> Workspaces:
    """`InstalledWorkspaces` in OAuth mode, else the one workspace of SLACK_BOT_TOKEN."""
    if not settings.oauth:
        return SingleWorkspace(client)
    assert settings.slack_client_secret is not None
    rotator = TokenRotator(
        client_id=settings.slack_client_id or "",
        client_secret=settings.slack_client_secret.get_secret_value(),
        client=client,
    )
    return InstalledWorkspaces(
        RadarInstallationStore(store),
        rotator,
        api_url=settings.slack_api_url,
        rotate_minutes=settings.slack_token_rotation_minutes,
    )
