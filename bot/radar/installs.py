"""What the bot keeps of its Slack installations (OAuth mode): plain records in its own store.

Kept in the bot's database, not in files or a second database, so every replica sees the
same installations and an OAuth `state` issued by one replica is accepted by another. The
shapes are slack_sdk's (`Installation`, `Bot`) as JSON dicts; turning them back into those
objects is `bot.slack.oauth_stores`' job, so the domain imports nothing from Slack.

The installation holds the workspace's bot token and refresh token: secrets. They are
never logged, and `repr()` of these records leaves them out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from bot.radar.models import Record, utcnow

ENTERPRISE_PREFIX = "enterprise:"


def install_key(team_id: str | None, enterprise_id: str | None, org_wide: bool) -> str:
    """The key an installation is filed under: the Slack team id (the workspace key of
    `bot.slack.workspaces`), or `enterprise:<id>` for an org-wide Enterprise Grid install."""
    if org_wide or not team_id:
        return f"{ENTERPRISE_PREFIX}{enterprise_id or ''}"
    return team_id


class SlackInstall(Record):
    """One workspace's installation of the app, as slack_sdk describes it."""

    workspace: str  # see `install_key`
    team_id: str | None = None
    team_name: str | None = None
    enterprise_id: str | None = None
    is_enterprise_install: bool = False
    installed_at: datetime = Field(default_factory=utcnow)
    installed_by: str | None = None  # the installing user's id
    # slack_sdk's `Installation.__dict__` and `Bot.__dict__` (tokens included); `bot` may be
    # newer than `installation` when only the bot token was rotated (`save_bot`).
    installation: dict[str, Any] | None = None
    bot: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return self.workspace

    def __repr_args__(self):  # type: ignore[override]
        """Everything but the token-bearing dicts, so a log line never carries a token."""
        return [
            (name, value)
            for name, value in super().__repr_args__()
            if name not in {"installation", "bot"}
        ]


class OAuthState(Record):
    """An OAuth `state` handed to one installing browser: accepted once, until it expires."""

    nonce: str
    expires_at: datetime

    @property
    def key(self) -> str:
        return self.nonce
