"""The background jobs' side of `bot.slack.workspaces`: a client per outbox row's workspace.

The deliverer and the digest poster take either a `Workspaces` (many workspaces, OAuth
mode) or a plain `WebClient` (one workspace, `SLACK_BOT_TOKEN` mode, and most tests), which
is wrapped in `SingleWorkspace`. A workspace whose client is gone (the app was uninstalled,
its token revoked) ends its work with `NOT_INSTALLED` as the reason, never retries it.
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.slack.workspaces import SingleWorkspace, Workspaces

NOT_INSTALLED = "app_not_installed"  # recorded as a row's `last_error`, a digest's error
NOT_INSTALLED_REASON = "the app is no longer installed in this workspace"


class NotInstalled(Exception):
    """The row's workspace has no client any more: its work ends, it is not retried."""


def as_workspaces(client: WebClient | Workspaces) -> Workspaces:
    """A `Workspaces` for either kind of argument (a plain client: one workspace)."""
    if isinstance(client, WebClient):
        return SingleWorkspace(client)
    return client


def client_in(workspaces: Workspaces, team_id: str) -> WebClient:
    """The bot's client in that workspace, or `NotInstalled`."""
    client = workspaces.client_for(team_id)
    if client is None:
        raise NotInstalled(team_id)
    return client
