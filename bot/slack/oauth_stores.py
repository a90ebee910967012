"""slack_sdk's `InstallationStore` and `OAuthStateStore`, kept in the bot's own database.

slack_sdk ships file, SQLite and SQLAlchemy stores; these instead go through the `Store`
port (`store.slack_installs`, `store.oauth_states`), so TinyDB, memory and PostgreSQL all
hold installations, `radar db migrate` carries them, and several replicas on one
PostgreSQL share them: a `state` issued by one replica is accepted by another, once.

One record per workspace (`bot.radar.installs.SlackInstall`): the bot asks for bot scopes
only, so the latest installation of a workspace is the one that counts.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from logging import Logger
from typing import Any

from slack_bolt.error import BoltError
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.radar.installs import OAuthState, SlackInstall, install_key
from bot.radar.models import as_utc
from bot.radar.ports import Store, StoreError

log = logging.getLogger(__name__)

STATE_SECONDS = 10 * 60  # Bolt's default; an install takes a user a minute or two
# Installs under way at once, at most: each start of an install writes a state (a whole-file
# write on TinyDB), so a flood of `GET /slack/install` is turned away past this many.
MAX_LIVE_STATES = 500


class TooManyInstalls(Exception):
    """More installs are under way than `MAX_LIVE_STATES`; the browser should come back."""
_USER_FIELDS = ("user_token", "user_refresh_token", "user_token_expires_at", "user_scopes")


class RadarInstallationStore(InstallationStore):
    """Installations in `store.slack_installs`, one per workspace (see the module doc)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def logger(self) -> Logger:
        return log

    # -- saving ------------------------------------------------------------------------

    def save(self, installation: Installation) -> None:
        key = install_key(
            installation.team_id, installation.enterprise_id, installation.is_enterprise_install
        )
        with self.store.lock:
            earlier = self.store.slack_installs.get(key)
            bot = installation.to_bot() if installation.bot_token else None
            self._put(
                SlackInstall(
                    workspace=key,
                    team_id=installation.team_id,
                    team_name=installation.team_name,
                    enterprise_id=installation.enterprise_id,
                    is_enterprise_install=bool(installation.is_enterprise_install),
                    installed_at=datetime.fromtimestamp(installation.installed_at, UTC),
                    installed_by=installation.user_id,
                    installation=dict(installation.__dict__),
                    bot=dict(bot.__dict__) if bot else (earlier.bot if earlier else None),
                )
            )

    def save_bot(self, bot: Bot) -> None:
        if not bot.bot_token:
            return
        key = install_key(bot.team_id, bot.enterprise_id, bot.is_enterprise_install)
        with self.store.lock:
            record = self.store.slack_installs.get(key) or SlackInstall(
                workspace=key,
                team_id=bot.team_id,
                team_name=bot.team_name,
                enterprise_id=bot.enterprise_id,
                is_enterprise_install=bool(bot.is_enterprise_install),
                installed_at=datetime.fromtimestamp(bot.installed_at, UTC),
            )
            self._put(record.model_copy(update={"bot": dict(bot.__dict__)}))

    def _put(self, record: SlackInstall) -> None:
        self.store.slack_installs.put(record)
        try:
            self.store.commit()
        except StoreError as exc:  # Bolt shows its "storage_error" page for a BoltError
            raise BoltError(f"could not save the installation: {exc}") from None

    # -- finding -----------------------------------------------------------------------

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        record = self._record(enterprise_id, team_id, is_enterprise_install)
        if record is None:
            return None
        if record.bot:
            return Bot(**record.bot)
        if record.installation and record.installation.get("bot_token"):
            return Installation(**record.installation).to_bot()
        return None

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        record = self._record(enterprise_id, team_id, is_enterprise_install)
        if record is None or record.installation is None:
            return None
        installation = Installation(**record.installation)
        if user_id is not None and installation.user_id != user_id:
            return None  # only the installer's own installation is kept
        bot = record.bot
        if bot and bot.get("bot_token") != installation.bot_token:
            # The bot token was rotated on its own since (`save_bot`): the newer one wins.
            for name in ("bot_id", "bot_user_id", "bot_token", "bot_refresh_token"):
                setattr(installation, name, bot.get(name))
            installation.bot_token_expires_at = bot.get("bot_token_expires_at")
        return installation

    def _record(
        self, enterprise_id: str | None, team_id: str | None, org_wide: bool | None
    ) -> SlackInstall | None:
        return self.store.slack_installs.get(install_key(team_id, enterprise_id, bool(org_wide)))

    def workspaces(self) -> list[SlackInstall]:
        """Every installed workspace (for start-up logs and the operator)."""
        return self.store.slack_installs.values()

    # -- deleting ----------------------------------------------------------------------

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """The bot is all this app installs: without its token nothing is left to keep."""
        self.delete_all(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:
            self.delete_all(enterprise_id=enterprise_id, team_id=team_id)
            return
        with self.store.lock:  # one user's token revoked: the bot stays installed
            record = self._record(enterprise_id, team_id, team_id is None)
            if record is None or record.installation is None:
                return
            if record.installation.get("user_id") != user_id:
                return
            kept: dict[str, Any] = {
                name: (None if name in _USER_FIELDS else value)
                for name, value in record.installation.items()
            }
            self._put(record.model_copy(update={"installation": kept}))

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        key = install_key(team_id, enterprise_id, team_id is None)
        with self.store.lock:
            if self.store.slack_installs.delete(key):
                self.store.commit()
                log.info("forgot the installation of workspace %s", key)


class RadarOAuthStateStore(OAuthStateStore):
    """OAuth states in `store.oauth_states`, signed with SLACK_STATE_SECRET.

    The value handed to the browser is `<nonce>.<HMAC of the nonce>`: a forged or mangled
    state is refused without a database read, and a database row alone cannot be turned
    into a state. `consume` takes the row out in one step (`Collection.take`), so of two
    callbacks with the same state, on any replicas, exactly one is accepted.
    """

    def __init__(
        self,
        store: Store,
        secret: str,
        *,
        clock: Callable[[], datetime],
        expiration_seconds: int = STATE_SECONDS,
        max_live: int = MAX_LIVE_STATES,
    ) -> None:
        self.store = store
        self._secret = secret.encode("utf-8")
        self.clock = clock
        self.expiration_seconds = expiration_seconds
        self.max_live = max_live

    @property
    def logger(self) -> Logger:
        return log

    def _mac(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def issue(self, *args: object, **kwargs: object) -> str:
        nonce = secrets.token_urlsafe(24)
        now = as_utc(self.clock())
        with self.store.lock:
            live = 0
            for state in self.store.oauth_states.values():
                if as_utc(state.expires_at) <= now:  # an install left half-way
                    self.store.oauth_states.delete(state.key)
                else:
                    live += 1
            if live >= self.max_live:
                self.store.commit()
                log.warning("refused to start an install: %d are under way already", live)
                raise TooManyInstalls(live)
            expires = now + timedelta(seconds=self.expiration_seconds)
            self.store.oauth_states.put(OAuthState(nonce=nonce, expires_at=expires))
            self.store.commit()
        return f"{nonce}.{self._mac(nonce)}"

    def consume(self, state: str) -> bool:
        nonce, _, mac = (state or "").partition(".")
        if not nonce or not hmac.compare_digest(mac.encode(), self._mac(nonce).encode()):
            log.info("refused an OAuth callback whose state this bot did not issue")
            return False
        with self.store.lock:
            record = self.store.oauth_states.take(nonce)
            if record is not None:
                self.store.commit()
        if record is None:
            log.info("refused an OAuth callback whose state was already used")
            return False
        if as_utc(record.expires_at) <= as_utc(self.clock()):
            log.info("refused an OAuth callback whose state had expired")
            return False
        return True
