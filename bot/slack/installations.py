"""`InstalledWorkspaces`: the OAuth mode's `Workspaces`, one bot token per installed workspace.

The key a workspace's settings are filed under is its Slack team id. `client_for(key)` is
a `WebClient` with that workspace's bot token, read from the installation store (so a
token another replica rotated, or an uninstall it recorded, is seen at once); a token that
expires within SLACK_TOKEN_ROTATION_MINUTES is first exchanged for a new one through
`oauth.v2.access` (slack_sdk's `TokenRotator`) and the rotated installation saved. Clients
are cached per token, so the many posts of one fan-out reuse one client.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.radar.installs import ENTERPRISE_PREFIX
from bot.slack.oauth_stores import RadarInstallationStore

log = logging.getLogger(__name__)

class InstalledWorkspaces:
    """Many workspaces, each with the bot token its OAuth install gave (see module doc)."""

    multi = True

    def __init__(
        self,
        installations: RadarInstallationStore,
        rotator: TokenRotator,
        *,
        api_url: str,
        rotate_minutes: int = 120,
        timeout: int = 15,
    ) -> None:
        self.installations = installations
        self.rotator = rotator
        self.api_url = api_url
        self.rotate_minutes = rotate_minutes
        self.timeout = timeout
        self._clients: dict[str, tuple[str, WebClient]] = {}  # key -> (token, client)
        self._lock = threading.Lock()
        # One rotation at a time in this process: two jobs needing the same expiring token
        # then make one `oauth.v2.access` call, and the second reads the rotated token.
        self._rotating = threading.Lock()

    def key_of(self, team_id: str | None) -> str:
        return team_id or ""

    def client_for(self, key: str) -> WebClient | None:
        installation = self._find(key)
        if installation is None or not installation.bot_token:
            self._drop(key)
            return None
        if self._expiring(installation):
            with self._rotating:
                installation = self._rotated(key) or installation
        token = installation.bot_token
        assert token is not None
        with self._lock:
            cached = self._clients.get(key)
            if cached is not None and cached[0] == token:
                return cached[1]
            # Like `bot.slack.app.build_web_client`: no automatic re-send of a post.
            client = WebClient(
                token=token, base_url=self.api_url, timeout=self.timeout, retry_handlers=[]
            )
            self._clients[key] = (token, client)
            return client

    def forget(self, key: str) -> None:
        enterprise_id, team_id = self._ids(key)
        self.installations.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        self._drop(key)

    def keys(self) -> list[str]:
        """Every installed workspace's key."""
        return [record.workspace for record in self.installations.workspaces()]

    # -- internals ---------------------------------------------------------------------

    def _find(self, key: str) -> Installation | None:
        enterprise_id, team_id = self._ids(key)
        return self.installations.find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=team_id is None
        )

    @staticmethod
    def _ids(key: str) -> tuple[str | None, str | None]:
        if key.startswith(ENTERPRISE_PREFIX):
            return key.removeprefix(ENTERPRISE_PREFIX) or None, None
        return None, key

    def _expiring(self, installation: Installation) -> bool:
        expires_at = installation.bot_token_expires_at
        if expires_at is None or not installation.bot_refresh_token:
            return False
        return expires_at <= time.time() + self.rotate_minutes * 60

    def _rotated(self, key: str) -> Installation | None:
        """Refresh the workspace's bot token (read again: another thread may have)."""
        installation = self._find(key)
        if installation is None or not self._expiring(installation):
            return installation
        try:
            refreshed = self.rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=self.rotate_minutes
            )
        except SlackTokenRotationError as exc:
            error = exc.api_error.response.get("error") if exc.api_error.response else "error"
            log.warning(
                "could not refresh the bot token of workspace %s (oauth.v2.access: %s); "
                "using the current one until it expires",
                key,
                error,
            )
            return installation
        if refreshed is None:
            return installation
        self.installations.save(refreshed)
        log.info("refreshed the bot token of workspace %s", key)
        return refreshed

    def _drop(self, key: str) -> None:
        with self._lock:
            self._clients.pop(key, None)
