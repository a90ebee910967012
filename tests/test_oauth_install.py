"""OAuth mode end to end: Slack's install flow through the bot's real HTTP front door and
real Bolt, against the Slack stand-in's authorize page and `oauth.v2.access`.

A browser-like client follows the redirects (`Browser`): `/slack/install` sets the state
cookie and sends it to Slack's authorize page, the stand-in's "user" allows the install in
the workspace they are signed in to, and Slack sends the browser back to
`/slack/oauth_redirect`, where the code becomes an installation in the bot's database.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_bolt import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import BOT_SCOPES, ConfigError, load_settings
from bot.logs import RedactSecrets
from bot.radar.installs import SlackInstall
from bot.serve import missing_settings
from bot.slack.installations import InstalledWorkspaces
from bot.slack.oauth import build_workspaces
from bot.slack.oauth_stores import RadarOAuthStateStore
from bot.store import MemoryStore, open_database
from bot.watch import no_slack_settings
from tests.doubles.signing import FORM, event_body, post_signed, slash_command_body
from tests.doubles.slack_server import SlackStandIn
from tests.doubles.slack_workspaces import CLIENT_ID, CLIENT_SECRET
from tests.harness import SIGNING_SECRET, FakeClock, RadarHarness
from tests.oauth_browser import COOKIE, OAUTH, STATE_SECRET, Browser, install

REPO_ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture
def workspaces_slack(slack: SlackStandIn) -> SlackStandIn:
    slack.workspaces.add("T_ACME", "Acme")
    slack.workspaces.add("T_BETA", "Beta Labs")
    return slack


@pytest.fixture
def bot(hub, workspaces_slack: SlackStandIn, tmp_path: Path, fake_clock: FakeClock):
    with RadarHarness(
        hub.url, workspaces_slack.url, tmp_path / "radar.json", clock=fake_clock, **OAUTH
    ) as harness:
        workspaces_slack.workspaces.redirect_url = f"{harness.url}/slack/oauth_redirect"
        yield harness



def installs(bot: RadarHarness) -> dict[str, SlackInstall]:
    return {record.key: record for record in bot.core.store.slack_installs.values()}


def command(bot: RadarHarness, slack: SlackStandIn, team: str, text: str, name: str):
    body = slash_command_body(
        "/radar",
        text,
        team_id=team,
        user_id="U_ALICE",
        channel_id="C_GENERAL",
        response_url=slack.response_url_for(name),
    )
    return post_signed(f"{bot.url}/slack/events", body, SIGNING_SECRET, content_type=FORM)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record, as `radar serve` writes it (through its redacting filter)."""
    redact = RedactSecrets([STATE_SECRET, CLIENT_SECRET])
    return "\n".join(redact.redact(record.getMessage()) for record in caplog.records)


def page_text(response: httpx.Response) -> str:
    return re.sub(r"<[^>]+>", "", response.text)


# -- the install ------------------------------------------------------------------------------


def test_install_sends_the_browser_to_slack_with_the_bots_scopes_and_a_state_cookie(
    bot: RadarHarness, workspaces_slack: SlackStandIn
) -> None:
    browser = Browser()
    response = browser.get(f"{bot.url}/slack/install")

    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}" == workspaces_slack.root
    assert location.path == "/oauth/v2/authorize"
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["scope"].split(",") == list(BOT_SCOPES)
    assert query.get("user_scope", "") == ""
    # The state in the link is the one the cookie holds (checked again on the way back).
    assert browser.cookies[COOKIE] == query["state"]
    set_cookie = response.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie.lower().title()
    assert installs(bot) == {}


def test_two_workspaces_install_and_each_is_answered_with_its_own_token(
    bot: RadarHarness, workspaces_slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    slack = workspaces_slack
    caplog.set_level("DEBUG")
    _, acme_page = install(bot, slack, "T_ACME")
    _, beta_page = install(bot, slack, "T_BETA")

    assert acme_page.status_code == 200 and "installed in Acme" in page_text(acme_page)
    assert beta_page.status_code == 200 and "installed in Beta Labs" in page_text(beta_page)
    saved = installs(bot)
    assert set(saved) == {"T_ACME", "T_BETA"}
    for team, record in saved.items():
        assert record.team_id == team and record.installed_by == "U_INSTALLER"
        assert record.installation["bot_token"] == slack.workspaces.current_token(team)
        assert record.installation["bot_refresh_token"].startswith("xoxe-1-")
        assert record.installation["bot_user_id"] == slack.workspaces.workspaces[team].bot_user_id
    assert saved["T_ACME"].installation["bot_token"] != saved["T_BETA"].installation["bot_token"]

    # A slash command from each workspace: Bolt authorizes it with that workspace's token
    # from the bot's store, and the user gets the answer.
    for team in ("T_ACME", "T_BETA"):
        status, _, _ = command(bot, slack, team, "help", f"help-{team}")
        assert status == 200
        assert slack.wait_for(lambda t=team: slack.responses(f"help-{t}"))
        used = {token for _, token in slack.workspaces.calls_by(team, "auth.test")}
        assert used == {slack.workspaces.current_token(team)}

    # An event from Beta opens its Home tab, published with Beta's token only.
    body = event_body(
        {"type": "app_home_opened", "user": "U_BOB", "tab": "home", "channel": "D1"},
        team_id="T_BETA",
    )
    status, _, _ = post_signed(
        f"{bot.url}/slack/events", body, SIGNING_SECRET, content_type="application/json"
    )
    assert status == 200
    assert slack.wait_for(lambda: slack.workspaces.calls_by("T_BETA", "views.publish"))
    assert slack.workspaces.calls_by("T_ACME", "views.publish") == []
    # Tokens are secrets: no log line carries one (slack_sdk's debug output included), and
    # the bot's own lines do not even before redaction.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    for record in saved.values():
        for token in (record.installation["bot_token"], record.installation["bot_refresh_token"]):
            assert token not in logged(caplog) and token not in ours
            assert token not in repr(record)


def test_a_workspace_that_never_installed_the_app_is_not_answered_with_another_token(
    bot: RadarHarness, workspaces_slack: SlackStandIn
) -> None:
    slack = workspaces_slack
    install(bot, slack, "T_ACME")
    slack.workspaces.add("T_GAMMA", "Gamma")

    status, _, _ = command(bot, slack, "T_GAMMA", "help", "gamma")

    assert status == 200
    notes = slack.wait_for(lambda: slack.responses("gamma"))
    assert notes and "not installed in this workspace" in notes[0]["text"]
    assert "/slack/install" in notes[0]["text"]
    assert slack.workspaces.calls_by("T_GAMMA") == []


# -- states: once, in time, and only ours -----------------------------------------------------


def test_a_used_state_is_refused_the_second_time_and_nothing_more_is_saved(
    bot: RadarHarness, workspaces_slack: SlackStandIn
) -> None:
    browser, page = install(bot, workspaces_slack, "T_ACME")
    assert page.status_code == 200
    callback_url = str(browser.visited[-1].request.url)
    state = parse_qs(urlsplit(callback_url).query)["state"][0]

    again = Browser()
    again.cookies[COOKIE] = state  # even with the cookie the install started with
    replay = again.get(callback_url)

    assert replay.status_code == 401
    assert "expired or was already used" in page_text(replay)
    assert '<a href="/slack/install">' in replay.text
    assert list(installs(bot)) == ["T_ACME"]
    assert workspaces_slack.workspaces.workspaces["T_ACME"].installs == 1


def test_an_expired_state_is_refused_before_slack_is_asked_for_a_token(
    bot: RadarHarness, workspaces_slack: SlackStandIn, fake_clock: FakeClock
) -> None:
    slack = workspaces_slack
    slack.workspaces.signed_in = "T_ACME"
    browser = Browser()
    back_to_bot = browser.follow(browser.get(f"{bot.url}/slack/install"))
    fake_clock.advance(minutes=11)  # the user left the Slack page open too long

    page = browser.follow(back_to_bot)

    assert page.status_code == 401 and "expired" in page_text(page)
    assert slack.calls_to("oauth.v2.access") == []
    assert installs(bot) == {}


def test_forged_states_are_refused_with_a_page_saying_what_to_do(
    bot: RadarHarness, workspaces_slack: SlackStandIn
) -> None:
    url = f"{bot.url}/slack/oauth_redirect?code=code-T_ACME-1&state=made.up"
    no_cookie = Browser().get(url)
    assert no_cookie.status_code == 400
    assert "browser cookie" in page_text(no_cookie)

    forger = Browser()
    forger.cookies[COOKIE] = "made.up"  # a cookie matching the forged state: still refused
    forged = forger.get(url)
    assert forged.status_code == 401 and "start the install again" in page_text(forged)

    assert workspaces_slack.calls_to("oauth.v2.access") == []
    assert installs(bot) == {}
    assert len(bot.core.store.oauth_states) == 0


def test_a_user_who_cancels_on_slacks_page_is_told_nothing_was_installed(
    bot: RadarHarness, workspaces_slack: SlackStandIn
) -> None:
    workspaces_slack.workspaces.deny = True
    _, page = install(bot, workspaces_slack, "T_ACME")

    assert page.status_code == 200
    assert "cancelled the install" in page_text(page)
    assert installs(bot) == {}


def test_a_flood_of_install_starts_is_turned_away_once_too_many_are_under_way(
    bot: RadarHarness, workspaces_slack: SlackStandIn, fake_clock: FakeClock
) -> None:
    from bot.slack.oauth_stores import MAX_LIVE_STATES

    states = bot.app.oauth_flow.settings.state_store
    assert states.max_live == MAX_LIVE_STATES
    states.max_live = 20  # the same rule with a smaller flood
    for _ in range(20):
        assert Browser().get(f"{bot.url}/slack/install").status_code == 302
    busy = Browser().get(f"{bot.url}/slack/install")
    assert busy.status_code == 503 and "Try again in a few minutes" in page_text(busy)
    assert len(bot.core.store.oauth_states) == 20
    fake_clock.advance(minutes=11)  # the abandoned ones expire and are cleared
    _, page = install(bot, workspaces_slack, "T_ACME")
    assert page.status_code == 200 and len(bot.core.store.oauth_states) == 0


def test_a_state_is_accepted_exactly_once_among_racing_callbacks() -> None:
    store = MemoryStore()
    states = RadarOAuthStateStore(store, STATE_SECRET, clock=FakeClock())
    state = states.issue()
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def consume() -> None:
        barrier.wait()
        results.append(states.consume(state))

    threads = [threading.Thread(target=consume) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_replicas_on_one_postgresql_share_states_and_installations(pg_url: str) -> None:
    """A state issued by one replica is accepted by another, once; an installation saved by
    one is the other's too (two stores on one database are two `serve` processes)."""
    from bot.store.postgres import open_postgres

    clock = FakeClock()
    one, two = open_postgres(pg_url), open_postgres(pg_url)
    try:
        state = RadarOAuthStateStore(one, STATE_SECRET, clock=clock).issue()
        racers = [RadarOAuthStateStore(s, STATE_SECRET, clock=clock) for s in (one, two) * 4]
        results: list[bool] = []
        barrier = threading.Barrier(len(racers))

        def consume(states: RadarOAuthStateStore) -> None:
            barrier.wait()
            results.append(states.consume(state))

        threads = [threading.Thread(target=consume, args=(r,)) for r in racers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False] * 7 + [True]

        late = RadarOAuthStateStore(two, STATE_SECRET, clock=clock).issue()
        clock.advance(minutes=11)
        assert RadarOAuthStateStore(one, STATE_SECRET, clock=clock).consume(late) is False
    finally:
        one.close()
        two.close()


# -- token rotation and the per-workspace clients ---------------------------------------------


def test_an_expiring_token_is_refreshed_and_the_next_call_uses_the_new_one(
    bot: RadarHarness, workspaces_slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    slack = workspaces_slack
    caplog.set_level("DEBUG")
    slack.workspaces.token_lifetime = 60  # well inside the 120-minute rotation window
    install(bot, slack, "T_ACME")
    install(bot, slack, "T_BETA")
    first = installs(bot)["T_ACME"].installation["bot_token"]

    workspaces = build_workspaces(bot.settings, bot.core.store, bot.app.client)
    assert isinstance(workspaces, InstalledWorkspaces) and workspaces.multi
    assert workspaces.key_of("T_ACME") == "T_ACME"
    client = workspaces.client_for("T_ACME")

    assert client is not None and client.token != first
    assert client.token == slack.workspaces.current_token("T_ACME")
    refreshes = [c for c in slack.calls_to("oauth.v2.access") if c.get("grant_type")]
    assert [c["grant_type"] for c in refreshes] == ["refresh_token"]
    # The rotated installation is saved: every replica now uses the new token.
    assert installs(bot)["T_ACME"].installation["bot_token"] == client.token
    client.chat_postMessage(channel="C_ACME", text="hello Acme")
    assert [m["text"] for m in slack.messages("C_ACME", team="T_ACME")] == ["hello Acme"]
    assert slack.messages("C_ACME", team="T_BETA") == []
    assert slack.workspaces.calls_by("T_ACME", "chat.postMessage") == [
        ("chat.postMessage", client.token)
    ]

    # Once the first token has expired Slack refuses it; the bot no longer uses it.
    slack.workspaces.tokens[first].expires_at = 0
    with pytest.raises(SlackApiError) as refused:
        WebClient(token=first, base_url=slack.url, retry_handlers=[]).auth_test()
    assert refused.value.response["error"] == "token_expired"

    # A request through Bolt rotates too (its authorize reads and saves the same store).
    before = slack.workspaces.current_token("T_BETA")
    earlier_calls = len(slack.workspaces.calls_by("T_BETA"))
    status, _, _ = command(bot, slack, "T_BETA", "help", "beta-help")
    assert status == 200 and slack.wait_for(lambda: slack.responses("beta-help"))
    rotated = installs(bot)["T_BETA"].installation["bot_token"]
    assert rotated != before and rotated == slack.workspaces.current_token("T_BETA")
    assert slack.workspaces.calls_by("T_BETA")[earlier_calls:] == [("auth.test", rotated)]
    assert first not in logged(caplog) and client.token not in logged(caplog)


def test_clients_are_kept_per_token_and_a_forgotten_workspace_has_none(
    bot: RadarHarness, workspaces_slack: SlackStandIn
) -> None:
    slack = workspaces_slack
    install(bot, slack, "T_ACME")
    install(bot, slack, "T_BETA")
    workspaces = build_workspaces(bot.settings, bot.core.store, bot.app.client)

    acme = workspaces.client_for("T_ACME")
    assert acme is not None and workspaces.client_for("T_ACME") is acme  # no rotation due
    assert workspaces.client_for("T_NEVER") is None
    assert acme.base_url == slack.url and acme.retry_handlers == []

    workspaces.forget("T_ACME")

    assert workspaces.client_for("T_ACME") is None
    assert set(installs(bot)) == {"T_BETA"}
    beta = workspaces.client_for("T_BETA")
    assert beta is not None and beta.token == slack.workspaces.current_token("T_BETA")
    # Uninstalled on Slack's side too: its token is refused.
    slack.workspaces.revoke("T_ACME")
    with pytest.raises(SlackApiError) as refused:
        acme.chat_postMessage(channel="C1", text="still there?")
    assert refused.value.response["error"] == "invalid_auth"


# -- configuration, manifest, migration -------------------------------------------------------


def test_the_scopes_asked_for_are_the_manifests_bot_scopes() -> None:
    manifest = (REPO_ROOT / "manifest.yaml").read_text(encoding="utf-8")
    section = manifest.split("oauth_config:", 1)[1].split("settings:", 1)[0]
    bot_list = section.split("bot:", 1)[1]
    declared = re.findall(r"^\s+- ([a-z:.]+)", bot_list, flags=re.MULTILINE)
    assert declared == list(BOT_SCOPES)
    assert re.search(r"^  redirect_urls:\n    - https://\S+/slack/oauth_redirect$", section, re.M)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"slack_client_id": CLIENT_ID}, "SLACK_CLIENT_SECRET and SLACK_STATE_SECRET are missing"),
        (
            {"slack_client_id": CLIENT_ID, "slack_client_secret": "s"},
            "SLACK_STATE_SECRET is missing",
        ),
        ({**OAUTH, "slack_bot_token": "xoxb-1"}, "not both"),
        ({**OAUTH, "slack_app_token": "xapp-1"}, "leave SLACK_APP_TOKEN empty"),
        ({**OAUTH, "slack_state_secret": "short"}, "SLACK_STATE_SECRET must be a long random"),
    ],
)
def test_a_half_or_mixed_oauth_setup_is_refused_in_words(given: dict, words: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None, **given)
    assert words in str(refused.value)


def test_oauth_mode_needs_no_bot_token_to_serve() -> None:
    settings = load_settings(_env_file=None, slack_signing_secret="s", **OAUTH)
    assert settings.oauth and missing_settings(settings) == []
    token_mode = load_settings(_env_file=None, slack_signing_secret="s")
    assert not token_mode.oauth and missing_settings(token_mode) == ["SLACK_BOT_TOKEN"]
    # OAuth without a signing secret is a Slack setup missing a piece, not "no Slack".
    unsigned = load_settings(_env_file=None, **OAUTH)
    assert not no_slack_settings(unsigned)
    assert missing_settings(unsigned) == ["SLACK_SIGNING_SECRET"]


@pytest.mark.tinydb_only
def test_db_migrate_carries_installations_and_prints_no_token(
    bot: RadarHarness, workspaces_slack: SlackStandIn, tmp_path: Path, pg_url: str
) -> None:
    install(bot, workspaces_slack, "T_ACME")
    token = installs(bot)["T_ACME"].installation["bot_token"]
    bot.core.store.commit()
    source = tmp_path / "radar.json"

    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "migrate", "--from", str(source), "--to", pg_url],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert token not in done.stdout + done.stderr
    moved = open_database(source, pg_url)
    try:
        record = moved.slack_installs.get("T_ACME")
        assert record is not None and record.installation["bot_token"] == token
    finally:
        moved.close()


def test_serve_in_oauth_mode_installs_logs_its_workspaces_and_never_a_token(
    hub, workspaces_slack: SlackStandIn, tmp_path: Path
) -> None:
    """`radar serve` as operators run it: no bot token, the install pages served, start-up
    naming the installed workspaces (no single-token `auth.test`), debug logs redacted."""
    from tests.serve_process import serving, standin_env

    slack = workspaces_slack
    env = standin_env(
        hub,
        slack,
        tmp_path,
        SLACK_BOT_TOKEN="",
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_STATE_SECRET=STATE_SECRET,
        LOG_LEVEL="DEBUG",
        POLL_INTERVAL_SECONDS="3600",
    )
    with serving(env, tmp_path) as served:
        served.wait_ready()
        slack.workspaces.redirect_url = f"{served.url}/slack/oauth_redirect"
        slack.workspaces.signed_in = "T_ACME"
        browser = Browser()
        page = browser.follow(browser.follow(browser.get(f"{served.url}/slack/install")))
        assert page.status_code == 200 and "installed in Acme" in page_text(page)
        assert served.stop() == 0
        served.start()
        served.wait_ready()
        assert served.stop() == 0
    log = served.log_text()
    assert "OAuth mode (client id 1111.2222): 0 workspace(s) installed" in log
    assert "1 workspace(s) installed: Acme (T_ACME)" in log
    assert "installed in workspace T_ACME (Acme)" in log
    assert slack.calls_to("auth.test") == slack.calls_to("auth.test")[:1]  # the install's
    token = slack.workspaces.current_token("T_ACME")
    assert token and token not in log
    assert "xoxe-1-" not in log and CLIENT_SECRET not in log and STATE_SECRET not in log


def test_with_a_public_url_the_install_names_its_redirect_url_and_slack_checks_it(
    workspaces_slack: SlackStandIn, hub, tmp_path: Path
) -> None:
    """RADAR_PUBLIC_URL set: the authorize link and the code exchange both carry
    `<public URL>/slack/oauth_redirect` (Slack refuses an exchange whose URL differs)."""
    from bot.runtime import build_core
    from bot.slack.app import build_web_client
    from bot.slack.oauth import build_oauth_flow

    settings = load_settings(
        _env_file=None,
        slack_api_url=workspaces_slack.url,
        hf_endpoint=hub.url,
        radar_db_path=tmp_path / "radar.json",
        radar_public_url="https://radar.example.com/",
        slack_signing_secret=SIGNING_SECRET,
        **OAUTH,
    )
    core = build_core(settings, store=MemoryStore(), clock=FakeClock())
    flow = build_oauth_flow(settings, core.store, build_web_client(settings), clock=core.clock)
    url = flow.build_authorize_url("a-state", BoltRequest(body="", query=""))
    query = parse_qs(urlsplit(url).query)
    assert query["redirect_uri"] == ["https://radar.example.com/slack/oauth_redirect"]
    assert url.startswith(f"{workspaces_slack.root}/oauth/v2/authorize?")

    workspaces_slack.workspaces.signed_in = "T_ACME"
    status, headers = workspaces_slack.workspaces.authorize(urlsplit(url).query)
    assert status == 302
    code = parse_qs(urlsplit(headers["Location"]).query)["code"][0]
    assert headers["Location"].startswith("https://radar.example.com/slack/oauth_redirect?")
    installation = flow.run_installation(code)
    assert installation is not None and installation.team_id == "T_ACME"

    # An exchange naming another redirect URL than the authorize step did is refused.
    _, headers = workspaces_slack.workspaces.authorize(urlsplit(url).query)
    second = parse_qs(urlsplit(headers["Location"]).query)["code"][0]
    elsewhere = settings.model_copy(update={"radar_public_url": "https://other.example.com"})
    other = build_oauth_flow(elsewhere, core.store, build_web_client(settings), clock=core.clock)
    assert other.run_installation(second) is None
    assert workspaces_slack.outcomes[-1] == ("oauth.v2.access", "bad_redirect_uri")
    core.close()
