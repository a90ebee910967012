"""Workspaces and OAuth for the Slack stand-in: several workspaces, each with its own tokens.

`SlackStandIn.workspaces` is one of these. With no workspace added, the stand-in is the
one-workspace Slack it always was (its single `token`). Once workspaces exist:

- Slack's authorize page (`GET /oauth/v2/authorize`) stands for the user who clicks
  "Allow" in the workspace they are signed in to (`signed_in`), or "Cancel" (`deny`):
  it redirects the browser back to the app with a one-time `code` (or `error`);
- `oauth.v2.access` exchanges that code (client id and secret checked, Basic auth or form,
  the redirect URI compared with the authorize step's) for a v2 response with the team,
  `bot_user_id`, a rotating bot token (`xoxe.xoxb-…`), its `refresh_token` and
  `expires_in`; with `grant_type=refresh_token` it hands out a new token (token rotation);
- every Web API call's token resolves to its workspace (`resolve`), so the stand-in
  records which workspace each message went to; an expired token gets `token_expired`, a
  revoked or unknown one `invalid_auth`.
"""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-test"
APP_ID = "A0RADAR"
TOKEN_LIFETIME = 12 * 3600  # Slack's rotating tokens live 12 hours


class WorkspaceError(Exception):
    """A Slack error code for the stand-in to answer with (`{"ok": false, "error": …}`)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Workspace:
    team_id: str
    name: str
    bot_user_id: str
    bot_id: str
    domain: str
    installs: int = 0  # completed code exchanges
    scope: str = ""  # what the last install granted

    def auth_test(self) -> dict[str, Any]:
        return {
            "url": f"https://{self.domain}.slack.com/",
            "team": self.name,
            "user": "radar",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }


@dataclass
class Token:
    value: str
    team_id: str
    expires_at: float | None  # the stand-in's clock; None: never expires
    revoked: bool = False


@dataclass
class _Grant:
    team_id: str
    user_id: str
    scope: str
    redirect_uri: str | None
    used: bool = False


@dataclass
class SlackWorkspaces:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    clock: Callable[[], float] = time.time
    token_lifetime: int = TOKEN_LIFETIME
    # The app's configured Redirect URL: where the authorize page sends the browser when
    # the app's link names none (as Slack does).
    redirect_url: str | None = None
    signed_in: str | None = None  # team id of the browser's Slack session
    installer: str = "U_INSTALLER"
    deny: bool = False  # the user clicks "Cancel" on the authorize page
    workspaces: dict[str, Workspace] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> team
    authorize_visits: list[dict[str, str]] = field(default_factory=list)
    # (method, team id, token) of every Web API call made with a workspace token
    used: list[tuple[str, str, str]] = field(default_factory=list)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _serial: itertools.count = field(default_factory=lambda: itertools.count(1))

    # -- the test's controls ---------------------------------------------------------------

    def add(self, team_id: str, name: str) -> Workspace:
        """A workspace the app can be installed in."""
        number = len(self.workspaces) + 1
        workspace = Workspace(
            team_id=team_id,
            name=name,
            bot_user_id=f"UBOT{number}",
            bot_id=f"BBOT{number}",
            domain=name.lower().replace(" ", "-"),
        )
        self.workspaces[team_id] = workspace
        return workspace

    def add_token(self, team_id: str, token: str, *, expires_in: float | None = None) -> None:
        """A token of `team_id` the test hands out itself (no OAuth round)."""
        expires = None if expires_in is None else self.clock() + expires_in
        self.tokens[token] = Token(token, team_id, expires)

    def current_token(self, team_id: str) -> str | None:
        """The newest live token of the workspace."""
        live = [t for t in self.tokens.values() if t.team_id == team_id and not t.revoked]
        return live[-1].value if live else None

    def expire(self, team_id: str) -> None:
        """Every token of the workspace has expired (as 12 hours later)."""
        for token in self.tokens.values():
            if token.team_id == team_id:
                token.expires_at = self.clock() - 1

    def revoke(self, team_id: str) -> None:
        """The app was uninstalled (or its tokens revoked) in that workspace."""
        for token in self.tokens.values():
            if token.team_id == team_id:
                token.revoked = True
        for refresh, team in list(self.refresh_tokens.items()):
            if team == team_id:
                del self.refresh_tokens[refresh]

    def calls_by(self, team_id: str, method: str | None = None) -> list[tuple[str, str]]:
        """(method, token) of the calls made with that workspace's tokens."""
        return [
            (name, token)
            for name, team, token in self.used
            if team == team_id and (method is None or name == method)
        ]

    # -- what the stand-in calls -----------------------------------------------------------

    def resolve(self, token: str, method: str) -> Workspace | None:
        """The workspace `token` belongs to; None for a token this module did not issue."""
        issued = self.tokens.get(token)
        if issued is None:
            return None
        if issued.revoked:
            raise WorkspaceError("invalid_auth")
        if issued.expires_at is not None and issued.expires_at <= self.clock():
            raise WorkspaceError("token_expired")
        self.used.append((method, issued.team_id, token))
        return self.workspaces[issued.team_id]

    def authorize(self, query: str) -> tuple[int, dict[str, str]]:
        """Slack's authorize page, decided at once: (status, headers) of its redirect."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        self.authorize_visits.append(params)
        if params.get("client_id") != self.client_id:
            return 400, {"X-Slack-Error": "invalid_client_id"}
        redirect = params.get("redirect_uri") or self.redirect_url
        if not redirect:
            return 400, {"X-Slack-Error": "no redirect URL configured"}
        state = params.get("state", "")
        if self.deny:
            return 302, {"Location": _with_query(redirect, error="access_denied", state=state)}
        team_id = params.get("team") or self.signed_in
        if team_id not in self.workspaces:
            return 400, {"X-Slack-Error": "not signed in to a workspace"}
        code = f"code-{team_id}-{next(self._serial)}"
        self._grants[code] = _Grant(
            team_id, self.installer, params.get("scope", ""), params.get("redirect_uri")
        )
        return 302, {"Location": _with_query(redirect, code=code, state=state)}

    def oauth_v2_access(self, params: Mapping[str, Any], auth_header: str | None) -> dict:
        client_id, client_secret = _client_credentials(params, auth_header)
        if client_id != self.client_id:
            raise WorkspaceError("invalid_client_id")
        if client_secret != self.client_secret:
            raise WorkspaceError("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            return self._refresh(str(params.get("refresh_token") or ""))
        grant = self._grants.get(str(params.get("code") or ""))
        if grant is None or grant.used:
            raise WorkspaceError("invalid_code")
        if (params.get("redirect_uri") or None) != grant.redirect_uri:
            raise WorkspaceError("bad_redirect_uri")
        grant.used = True
        workspace = self.workspaces[grant.team_id]
        workspace.installs += 1
        workspace.scope = grant.scope
        return {
            **self._new_tokens(workspace, grant.scope),
            "authed_user": {"id": grant.user_id},
            "incoming_webhook": None,
        }

    # -- internals -------------------------------------------------------------------------

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        team_id = self.refresh_tokens.get(refresh_token)
        if team_id is None:
            raise WorkspaceError("invalid_refresh_token")
        workspace = self.workspaces[team_id]
        return self._new_tokens(workspace, workspace.scope)

    def _new_tokens(self, workspace: Workspace, scope: str) -> dict[str, Any]:
        serial = next(self._serial)
        access = f"xoxe.xoxb-1-{workspace.team_id}-{serial}"
        refresh = f"xoxe-1-{workspace.team_id}-{serial}"
        self.tokens[access] = Token(access, workspace.team_id, self.clock() + self.token_lifetime)
        self.refresh_tokens[refresh] = workspace.team_id
        return {
            "app_id": APP_ID,
            "access_token": access,
            "token_type": "bot",
            "scope": scope,
            "bot_user_id": workspace.bot_user_id,
            "team": {"id": workspace.team_id, "name": workspace.name},
            "enterprise": None,
            "is_enterprise_install": False,
            "expires_in": self.token_lifetime,
            "refresh_token": refresh,
        }


def _client_credentials(params: Mapping[str, Any], auth_header: str | None) -> tuple[str, str]:
    """client_id and client_secret from HTTP Basic auth (slack_sdk's way) or the form."""
    if auth_header and auth_header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth_header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise WorkspaceError("invalid_client_id") from None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return str(params.get("client_id") or ""), str(params.get("client_secret") or "")


def _with_query(url: str, **values: str) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(values)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
