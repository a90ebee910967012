"""Which Slack workspaces the bot serves, and the Web API client to use in each.

One Hub poll serves every workspace; what differs per workspace is the token a post goes
out with and the key its channel settings are filed under. Two implementations:

- `SingleWorkspace`: `SLACK_BOT_TOKEN` mode, one client for everything. Its settings are
  filed under the empty key, so a database from before workspaces existed reads unchanged.
- the OAuth mode's implementation (installations kept in the bot's own database), where
  the key is the Slack team id and each workspace has its own bot token.

Background jobs (alerts, digests, follow-ups) look a row's client up by its key;
listeners get theirs from Bolt's per-request context.

When Slack says the app left a workspace (`app_uninstalled`, or `tokens_revoked` for the bot
token), `SlackRadar.forget_workspace(team_id)` deletes what is filed under its key
(`ChannelSettings.forget_workspace`) and then calls `forget(key)`.
"""

from __future__ import annotations

from typing import Protocol

from slack_sdk import WebClient

SINGLE_WORKSPACE_KEY = ""


class Workspaces(Protocol):
    @property
    def multi(self) -> bool:
        """True when many workspaces may install the app (OAuth mode)."""
        ...

    def key_of(self, team_id: str | None) -> str:
        """The key a request from `team_id` files its channel settings under."""
        ...

    def client_for(self, key: str) -> WebClient | None:
        """The bot's client in that workspace; None when the app is no longer installed."""
        ...

    def forget(self, key: str) -> None:
        """Drop what lets the bot act in that workspace (uninstalled, tokens revoked)."""
        ...


class SingleWorkspace:
    """One workspace, one bot token: every key is the same, every client the one."""

    multi = False

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def key_of(self, team_id: str | None) -> str:
        return SINGLE_WORKSPACE_KEY

    def client_for(self, key: str) -> WebClient | None:
        return self.client

    def forget(self, key: str) -> None:
        """Nothing to drop: the token comes from the environment."""
