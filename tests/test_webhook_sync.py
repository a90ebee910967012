"""`radar webhooks sync|status` and `/radar track|untrack` against the Hub stand-in's
webhook management API (`/api/settings/webhooks`), and the payload model on its own.

The CLI is configured through environment variables only, as an operator would; the
assertions read what the operator sees (stdout, stderr, exit code) and what the Hub then
holds (which webhook watches which namespace).
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.radar.labs import LabRegistry
from bot.webhooks.payload import HubEvent, PayloadError, parse_event
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import SlackStandIn
from tests.harness import RadarHarness, radar_command

SECRET = "hub-webhook-secret-0123456789"
PUBLIC = "https://radar.example.org"
WRITE, READ = "hf_write_token_0123456789", "hf_read_token_0123456789"
SETTINGS_VARIABLES = [name.upper() for name in Settings.model_fields]


def run(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def env(hub: HubStandIn, tmp_path: Path) -> dict[str, str]:
    hub.webhooks.tokens = {WRITE: "write", READ: "read"}
    return {
        "HF_ENDPOINT": hub.url,
        "RADAR_DB_PATH": str(tmp_path / "radar.json"),
        "HF_TOKEN": WRITE,
        "HF_WEBHOOK_SECRET": SECRET,
        "RADAR_PUBLIC_URL": PUBLIC,
        "WEBHOOK_LABS_PER_HOOK": "10",
    }


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def watched(hub: HubStandIn) -> dict[str, str]:
    """namespace (lower) -> the id of the webhook watching it."""
    return {
        item["name"].lower(): hook.id
        for hook in hub.webhooks.hooks.values()
        for item in hook.watched
    }


# ----------------------------------------------------------------------------- the CLI


def test_sync_spreads_every_lab_and_alias_over_webhooks_and_says_which_watches_what(
    monkeypatch: pytest.MonkeyPatch, hub: HubStandIn, env: dict[str, str]
) -> None:
    registry = LabRegistry.builtin()
    labs = registry.labs()
    code, out, err = run(monkeypatch, env, "webhooks", "sync")
    assert (code, err) == (0, "")
    hooks = list(hub.webhooks.hooks.values())
    assert len(hooks) == math.ceil(len(labs) / 10)
    assert all(len({registry.resolve(w["name"]).key for w in h.watched}) <= 10 for h in hooks)
    assert all(h.url == f"{PUBLIC}/hub/webhook" and h.secret == SECRET for h in hooks)
    assert all(h.domains == ["repo"] for h in hooks)
    names = watched(hub)
    for lab in labs:
        for namespace in (lab.namespace, *lab.aliases):
            assert namespace.lower() in names, namespace
            # a lab and its aliases share a webhook
            assert names[namespace.lower()] == names[lab.namespace.lower()]
    tier1 = [lab for lab in labs if lab.tier == 1]
    holding = {names[lab.namespace.lower()] for lab in tier1}
    assert len(holding) == min(len(tier1), len(hooks)), "the busiest labs are dealt out"
    assert f"Synced {len(hooks)} webhooks to {PUBLIC}/hub/webhook: {len(hooks)} created" in out
    for hook in hooks:
        line = next(line for line in out.splitlines() if hook.id in line)
        assert "(enabled)" in line and hook.watched[0]["name"] in line
    assert "(alias of " in out

    code, out, _ = run(monkeypatch, env, "webhooks", "sync")
    assert code == 0
    assert ": 0 created, 0 updated, 0 re-enabled, 0 deleted." in out, "a second sync is a no-op"


def test_status_lists_states_and_sync_re_enables_and_fills_gaps(
    monkeypatch: pytest.MonkeyPatch, hub: HubStandIn, env: dict[str, str]
) -> None:
    code, out, _ = run(monkeypatch, env, "webhooks", "status")
    assert code == 1
    assert "No webhook points at https://radar.example.org/hub/webhook" in out
    foreign = hub.webhooks.register("https://elsewhere.example/hook", ["Qwen"], "x")
    assert run(monkeypatch, env, "webhooks", "sync")[0] == 0
    first = sorted(h for h in hub.webhooks.hooks if h != foreign)[0]
    hub.webhooks.set_disabled(first)
    code, out, _ = run(monkeypatch, env, "webhooks", "status")
    assert code == 1
    assert f"webhook {first} (disabled)" in out
    assert "Not watched by an enabled webhook:" in out
    assert foreign not in out, "webhooks pointing elsewhere are not ours"

    code, out, _ = run(monkeypatch, env, "webhooks", "sync")
    assert code == 0 and "1 re-enabled" in out
    code, out, _ = run(monkeypatch, env, "webhooks", "status")
    assert code == 0 and "(disabled)" not in out and "Not watched" not in out
    assert hub.webhooks.hooks[foreign].watched == [{"type": "org", "name": "Qwen"}]


@pytest.mark.parametrize(
    ("change", "message", "code"),
    [
        ({"HF_TOKEN": ""}, "HF_TOKEN is not set", 2),
        ({"HF_TOKEN": READ}, "HF_TOKEN cannot manage webhooks (403): it needs write permission", 1),
        ({"HF_TOKEN": "hf_unknown_0123456789"}, "the Hub refused HF_TOKEN (401)", 1),
        ({"RADAR_PUBLIC_URL": "http://radar.example.org"}, "must be an https URL", 2),
        ({"RADAR_PUBLIC_URL": ""}, "RADAR_PUBLIC_URL is not set", 2),
        ({"HF_WEBHOOK_SECRET": ""}, "HF_WEBHOOK_SECRET is not set", 2),
    ],
)
def test_sync_explains_what_is_missing_or_refused(
    monkeypatch: pytest.MonkeyPatch,
    hub: HubStandIn,
    env: dict[str, str],
    change: dict[str, str],
    message: str,
    code: int,
) -> None:
    got, out, err = run(monkeypatch, {**env, **change}, "webhooks", "sync")
    assert got == code
    assert message in err and err.startswith("radar: ")
    assert WRITE not in err + out and "Traceback" not in err
    assert hub.webhooks.hooks == {}


def test_webhooks_needs_an_action(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    code, _out, err = run(monkeypatch, env, "webhooks", "synk")
    assert code == 2 and "invalid choice: 'synk'" in err and "sync" in err


# ---------------------------------------------------------------- /radar track, untrack


def test_track_and_untrack_keep_the_webhooks_in_step(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path
) -> None:
    hub.webhooks.tokens = {WRITE: "write"}
    with RadarHarness(
        hub.url,
        slack.url,
        tmp_path / "radar.json",
        hf_token=WRITE,
        hf_webhook_secret=SECRET,
        radar_public_url=PUBLIC,
    ) as bot:
        answer = radar_command(bot, slack, "track acme-ai FR")
        assert "Now tracking `acme-ai`" in answer
        assert "The Hub webhooks follow in a moment." in answer
        deadline = time.monotonic() + 10
        while "acme-ai" not in watched(hub) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "acme-ai" in watched(hub)
        assert "qwen" in watched(hub), "the first sync covers every tracked lab"

        assert "Stopped tracking `acme-ai`" in radar_command(bot, slack, "untrack acme-ai")
        deadline = time.monotonic() + 10
        while "acme-ai" in watched(hub) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "acme-ai" not in watched(hub)


def test_track_without_webhook_settings_says_nothing_about_webhooks(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path
) -> None:
    with RadarHarness(hub.url, slack.url, tmp_path / "radar.json") as bot:
        answer = radar_command(bot, slack, "track acme-ai FR")
        assert "Now tracking `acme-ai`" in answer and "webhook" not in answer
    assert hub.webhooks.hooks == {}


# ------------------------------------------------------------------------ the payloads


def _payload(scope: str, action: str, **extra: object) -> dict:
    repo = {"type": "model", "name": "Qwen/Qwen9-8B", "private": extra.pop("private", False)}
    return {
        "event": {"action": action, "scope": scope},
        "repo": repo,
        "webhook": {"id": "x", "version": 3},
        **extra,
    }


def test_each_event_kind_becomes_its_hint() -> None:
    assert parse_event(_payload("repo", "create")) == HubEvent("created", "Qwen/Qwen9-8B")
    assert parse_event(_payload("repo", "delete")) == HubEvent("deleted", "Qwen/Qwen9-8B")
    moved = parse_event(_payload("repo", "move", movedTo={"name": "Qwen/Qwen9-8B-Instruct"}))
    assert moved == HubEvent("moved", "Qwen/Qwen9-8B", "Qwen/Qwen9-8B-Instruct")
    public = _payload("repo.config", "update", updatedConfig={"private": False})
    assert parse_event(public) == HubEvent("public", "Qwen/Qwen9-8B")
    content = _payload("repo.content", "update", updatedRefs=[])
    assert parse_event(content) == HubEvent("content", "Qwen/Qwen9-8B")
    # the real recorded example from huggingface_hub's tests: a space, ignored
    space = json.loads(
        '{"event":{"action":"update","scope":"repo.content"},'
        '"repo":{"type":"space","name":"Wauplin/gradio-user-history","private":false},'
        '"webhook":{"id":"65a14fd933eca76f4639fc84","version":3},'
        '"updatedRefs":[{"ref":"refs/pr/5","oldSha":null,"newSha":"227c7834"}]}'
    )
    assert parse_event(space) is None
    assert parse_event(_payload("repo", "update")) is None
    assert parse_event(_payload("repo.content", "update", private=True)) is None


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"event": {"action": "create", "scope": "repo"}},
        {"event": "create", "repo": {"type": "model", "name": "a/b"}},
        {"event": {"action": "create", "scope": "repo"}, "repo": {"type": "model", "name": 5}},
        {
            "event": {"action": "move", "scope": "repo"},
            "repo": {"type": "model", "name": "a/b"},
        },
    ],
)
def test_unknown_shapes_are_payload_errors(body: object) -> None:
    with pytest.raises(PayloadError):
        parse_event(body)


# --------------------------------------------------------- the periodic webhook check


def test_the_periodic_check_sets_the_poll_pace_from_the_hubs_webhook_list(
    hub: HubStandIn, tmp_path: Path
) -> None:
    from bot.runtime import build_core
    from bot.schedule import check_webhooks
    from bot.webhooks.sync import admin_for, sync_webhooks

    hub.webhooks.tokens = {WRITE: "write"}
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        hf_endpoint=hub.url,
        radar_db_path=tmp_path / "radar.json",
        hf_token=WRITE,
        hf_webhook_secret=SECRET,
        radar_public_url=PUBLIC,
    )
    core = build_core(settings)
    try:
        assert core.push is not None and core.push.mode() == "polling"
        check_webhooks(core)
        assert core.push.mode() == "polling"
        assert core.push.snapshot()["last_check_note"] == "no webhook points at this bot"
        with admin_for(settings) as admin:
            sync_webhooks(admin, core.registry, f"{PUBLIC}/hub/webhook", SECRET, 10)
        check_webhooks(core)
        assert core.push.mode() == "webhooks"
        assert core.push.interval() == settings.reconcile_interval_seconds

        hub.webhooks.set_disabled(next(iter(hub.webhooks.hooks)))
        check_webhooks(core)
        assert core.push.mode() == "polling"
        assert core.push.interval() == settings.poll_interval_seconds
        assert core.push.snapshot()["last_check_note"].startswith("disabled: ")

        hub.webhooks.tokens = {"another": "write"}  # ours was revoked
        check_webhooks(core)
        assert core.push.mode() == "polling"
        assert "401" in core.push.snapshot()["last_check_note"]
    finally:
        core.close()
