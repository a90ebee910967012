"""The one place configuration comes from: the environment and an optional `.env` file.

Every other module receives a `Settings` instance (or the values it needs); nothing else
reads `os.environ`. Names are the public contract documented in `.env.example`.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def is_postgres_url(url: str | None) -> bool:
    """True for a `postgresql://` (or `postgres://`) URL: the one rule for DATABASE_URL and
    `radar db migrate --to`."""
    return bool(url) and url.split(":", 1)[0] in {"postgresql", "postgres"}


class ConfigError(Exception):
    """Raised with one human-readable line naming the offending variable."""


def is_set(secret: SecretStr | None) -> bool:
    """A secret set and not blank: `.env.example` leaves them empty, which means unset."""
    return secret is not None and bool(secret.get_secret_value().strip())


# The bot's Slack scopes: the one list the OAuth install asks for and manifest.yaml's
# `oauth_config.scopes.bot` declares (tests/test_oauth_install.py keeps the two in step).
BOT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:join",
    "channels:history",
    "groups:history",
    "files:write",
    "links:read",
    "links:write",
)
OAUTH_VARIABLES = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = Field(
        default=None, description="xapp- token; when set the bot runs in Socket Mode."
    )
    slack_api_url: str = "https://slack.com/api/"
    # OAuth (many workspaces): on when all three are set; then no SLACK_BOT_TOKEN.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_state_secret: SecretStr | None = Field(
        default=None, description="Signs the OAuth state handed to the installing browser."
    )
    slack_scopes: str = Field(
        default=",".join(BOT_SCOPES), description="Bot scopes the install asks for."
    )
    # A workspace's bot token is refreshed when it expires within this many minutes
    # (Slack's rotated tokens live 12 hours).
    slack_token_rotation_minutes: int = Field(default=120, ge=1, le=600)
    radar_admins: str = Field(
        default="",
        description="Comma-separated Slack user ids allowed to change subscriptions: `U123` "
        "(in every workspace) or `T123:U456` (only in workspace T123).",
    )
    model_command: str = "/model"
    radar_command: str = "/radar"

    # Hugging Face Hub
    hf_endpoint: str = "https://huggingface.co"
    hf_token: SecretStr | None = None
    hub_concurrency: int = Field(default=8, ge=1, le=64)
    hub_timeout_seconds: float = Field(default=10.0, gt=0)
    hub_max_retries: int = Field(default=4, ge=0, le=10)
    # Hub webhooks (push): the receiver is on when HF_WEBHOOK_SECRET is set
    hf_webhook_secret: SecretStr | None = None
    radar_public_url: str | None = Field(
        default=None, description="https base URL the Hub can reach; webhooks POST to /hub/webhook"
    )
    reconcile_interval_seconds: int = Field(default=1800, ge=60)
    webhook_labs_per_hook: int = Field(default=10, ge=1, le=200)

    # Radar
    radar_db_path: Path = Path("data/radar.json")
    database_url: SecretStr | None = Field(
        default=None,
        description="postgresql://… to keep the data in PostgreSQL (replicas); unset: TinyDB.",
    )
    port: int = Field(default=3000, ge=1, le=65535)
    host: str = "0.0.0.0"
    poll_interval_seconds: int = Field(default=300, ge=1)
    refresh_interval_seconds: int = Field(default=6 * 3600, ge=60)
    # Every tracked namespace is listed in full (all pages) at least this often, so a
    # launch created long before it turned public is still found (issue 9).
    full_listing_interval_seconds: int = Field(default=30 * 60, ge=60)
    full_listing_page_size: int = Field(default=500, ge=10, le=1000)
    # New weights join a release only this long after its first sighting.
    release_window_hours: float = Field(default=72.0, gt=0)
    radar_timezone: str = "UTC"
    log_level: str = "INFO"

    @field_validator("radar_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not is_postgres_url(value.get_secret_value()):
            raise ValueError("must be a postgresql://user:password@host/database URL")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("hf_endpoint")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("radar_public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        value = (value or "").strip().rstrip("/")
        return value or None

    @field_validator("model_command", "radar_command")
    @classmethod
    def _slash_command(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith("/") or len(value) < 2 or " " in value:
            raise ValueError("must look like /name")
        return value

    @model_validator(mode="after")
    def _one_slack_mode(self) -> Settings:
        """OAuth takes all three variables, and replaces the single bot token and Socket
        Mode rather than mixing with them: a half-configured install is refused in words."""
        given = self._oauth_given()
        if not given:
            return self
        if len(given) < len(OAUTH_VARIABLES):
            missing = [name for name in OAUTH_VARIABLES if name not in given]
            raise ValueError(
                f"OAuth (many workspaces) needs {', '.join(OAUTH_VARIABLES)} together; "
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"
            )
        if is_set(self.slack_bot_token):
            raise ValueError(
                "SLACK_BOT_TOKEN is for one workspace, SLACK_CLIENT_ID/SECRET/STATE_SECRET "
                "for OAuth installs in many: set one or the other, not both"
            )
        if self.socket_mode:
            raise ValueError(
                "OAuth installs need the public /slack/oauth_redirect URL, so they run in "
                "HTTP mode: leave SLACK_APP_TOKEN empty"
            )
        if not self.bot_scopes:
            raise ValueError("SLACK_SCOPES must name at least one bot scope")
        if len(self.slack_state_secret.get_secret_value().strip()) < 16:  # type: ignore[union-attr]
            raise ValueError(
                "SLACK_STATE_SECRET must be a long random string (16 characters or more; "
                "e.g. `openssl rand -hex 32`): it signs the state of installs under way"
            )
        return self

    @property
    def oauth(self) -> bool:
        """Many workspaces install the app through Slack's OAuth flow (see `_one_slack_mode`)."""
        return len(self._oauth_given()) == len(OAUTH_VARIABLES)

    def _oauth_given(self) -> list[str]:
        """Which of the OAuth variables are set (and not blank)."""
        client_id = SecretStr(self.slack_client_id) if self.slack_client_id else None
        values = (client_id, self.slack_client_secret, self.slack_state_secret)
        return [name for name, value in zip(OAUTH_VARIABLES, values, strict=True) if is_set(value)]

    @property
    def bot_scopes(self) -> list[str]:
        return [scope.strip() for scope in self.slack_scopes.split(",") if scope.strip()]

    @property
    def slack_authorize_url(self) -> str:
        """Slack's authorize page, beside the Web API (so the Slack stand-in serves it too)."""
        base = self.slack_api_url.removesuffix("/").removesuffix("/api")
        return f"{base}/oauth/v2/authorize"

    @property
    def socket_mode(self) -> bool:
        return is_set(self.slack_app_token)

    @property
    def webhooks_enabled(self) -> bool:
        """The `/hub/webhook` receiver runs only with a secret to check deliveries against."""
        return is_set(self.hf_webhook_secret)

    @property
    def postgres_url(self) -> str | None:
        """The PostgreSQL URL when the data lives there; None for the TinyDB file."""
        return self.database_url.get_secret_value() if self.database_url else None

    @property
    def admins_by_workspace(self) -> dict[str, frozenset[str]]:
        """RADAR_ADMINS by Slack team id: `T123:U456` under "T123", a bare `U123` under ""
        (an admin in every workspace). The admins of workspace T are both sets together."""
        found: dict[str, set[str]] = {}
        for part in self.radar_admins.split(","):
            team, _, user = part.strip().rpartition(":")
            if user.strip():
                found.setdefault(team.strip(), set()).add(user.strip())
        return {team: frozenset(users) for team, users in found.items()}


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first.get("loc"):  # a rule across variables: its message names them
            raise ConfigError(str(first["msg"]).removeprefix("Value error, ")) from None
        name = str(first["loc"][0]).upper()
        raise ConfigError(f"invalid {name}: {first['msg']}") from None
