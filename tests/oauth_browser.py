"""The installing user's browser for OAuth tests: follows the bot's and Slack's redirects.

Shared by the OAuth suites (tests/test_oauth_install.py and the many-workspaces proof), so
every one installs the app the same way a person does.
"""

from __future__ import annotations

import http.cookies
from typing import Any

import httpx

from tests.doubles.slack_server import SlackStandIn
from tests.doubles.slack_workspaces import CLIENT_ID, CLIENT_SECRET

STATE_SECRET = "state-secret-for-tests-0123456789"
OAUTH = {
    "slack_bot_token": None,
    "slack_client_id": CLIENT_ID,
    "slack_client_secret": CLIENT_SECRET,
    "slack_state_secret": STATE_SECRET,
}
COOKIE = "slack-app-oauth-state"


class Browser:
    """Follows one redirect at a time and keeps cookies, as a browser would.

    Bolt marks the state cookie `Secure`; the bot sits behind an https front door in
    production, so here, on plain http, the cookie is sent back by hand like a browser
    talking https would."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}
        self.visited: list[httpx.Response] = []

    def get(self, url: str) -> httpx.Response:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = httpx.get(url, headers=headers, timeout=10, follow_redirects=False)
        for raw in response.headers.get_list("set-cookie"):
            jar = http.cookies.SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel.value == "deleted" or "1970" in (morsel["expires"] or ""):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        self.visited.append(response)
        return response

    def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code == 302, (response.status_code, response.text)
        return self.get(response.headers["location"])


def install(bot: Any, slack: SlackStandIn, team: str) -> tuple[Browser, httpx.Response]:
    """A user signed in to `team` clicks "Add to Slack", then "Allow"."""
    slack.workspaces.signed_in = team
    browser = Browser()
    to_slack = browser.get(f"{bot.url}/slack/install")
    back_to_bot = browser.follow(to_slack)
    return browser, browser.follow(back_to_bot)
