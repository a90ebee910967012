"""The command line as people and scripts use it: in-process and as `python -m bot`.

Every command runs against the Hub stand-in (a real HTTP server on 127.0.0.1) with a
temporary database, configured only through environment variables, exactly as a user
would. The CLI uses the real clock, so the Hub records are dated relative to now.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.radar.labs import LabRegistry
from bot.textview import (
    EVENT_JSON_EXTRA_KEYS,
    MODEL_JSON_EXTRA_KEYS,
    MODEL_MISS_KEYS,
)
from tests.doubles.hub_fixtures import (
    B,
    background,
    breakout,
    derivative_flood,
    family_launch,
    model_json,
    tracked_lab_noise,
)
from tests.doubles.hub_server import HubStandIn

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.now(UTC)
SETTINGS_VARIABLES = [name.upper() for name in Settings.model_fields]

# The documented `--json` contracts (bot/textview/), spelled out independently here.
EVENT_KEYS = {"event", "release_id", "lab", "country", "title", "members", "reasons"}
MODEL_KEYS = {
    "id", "lab", "country", "params_total", "params_active", "license", "license_class",
    "gated", "downloads", "downloads_all_time", "likes", "notable", "reasons", "release_id",
    "members",
}  # fmt: skip
QWEN_FAMILY = 13


@dataclass
class Run:
    code: int
    out: str
    err: str


@contextlib.contextmanager
def preserved_logging() -> Iterator[None]:
    """The CLI configures the root logger for its run; give other tests theirs back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    with preserved_logging():
        yield


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Only these variables configure the in-process run, whatever the shell has set."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def run_cli(*args: str, err: io.StringIO | None = None) -> Run:
    out, err = io.StringIO(), err or io.StringIO()
    code = main(list(args), out=out, err=err)
    return Run(code, out.getvalue(), err.getvalue())


def run_process(*args: str, env: dict[str, str], cwd: Path) -> Run:
    """`python -m bot ARGS` with exactly `env` (plus the import path of this checkout)."""
    completed = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


def hub_env(hub: HubStandIn, db: Path) -> dict[str, str]:
    return {"HF_ENDPOINT": hub.url, "RADAR_DB_PATH": str(db), "HUB_MAX_RETRIES": "0"}


def release_week(hub: HubStandIn) -> None:
    """A Chinese family launch, its flood of third-party derivatives, noise and a breakout."""
    hub.add_many(family_launch(NOW))
    hub.add_many(derivative_flood(NOW, ["Qwen/Qwen3.7-8B-Instruct", "Qwen/Qwen3.7-35B-A3B"]))
    hub.add_many(tracked_lab_noise(NOW))
    hub.add_many(breakout(NOW))


@dataclass
class Week:
    hub: HubStandIn
    env: dict[str, str]
    workdir: Path
    bootstrap: Run
    release_poll: Run


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    """A database that has seen the Hub's history, then one release week (read-only after)."""
    workdir = tmp_path_factory.mktemp("week")
    with HubStandIn() as hub:
        hub.add_many(background(NOW, 12))
        env = hub_env(hub, workdir / "radar.json")
        with pytest.MonkeyPatch.context() as patch, preserved_logging():
            use_env(patch, env)
            bootstrap = run_cli("poll")
            release_week(hub)
            release_poll = run_cli("poll")
        yield Week(hub, env, workdir, bootstrap, release_poll)


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HubStandIn, Path]]:
    """An empty database and a Hub holding some history; the environment points at both."""
    with HubStandIn() as hub:
        hub.add_many(background(NOW, 12))
        db = tmp_path / "radar.json"
        use_env(monkeypatch, hub_env(hub, db))
        yield hub, db


# --------------------------------------------------------------------------- usage


def test_no_command_prints_help_in_process_and_as_a_module(tmp_path: Path) -> None:
    ran = run_cli()
    assert ran.code == 2
    for command in ("serve", "poll", "model", "digest", "labs", "demo"):
        assert re.search(rf"^\s+{command}\s", ran.out, re.MULTILINE), command
    assert "`radar demo`" in ran.out

    module = run_process(env={}, cwd=tmp_path)
    assert module.code == 2
    assert module.out == ran.out
    assert "Traceback" not in module.err


def test_help_flag_and_unknown_command() -> None:
    helped = run_cli("--help")
    assert helped.code == 0
    assert helped.out.startswith("usage: radar")

    typo = run_cli("pol")
    assert typo.code == 2
    assert "invalid choice: 'pol'" in typo.err
    assert typo.out == ""


# ---------------------------------------------------------------------------- poll


def test_first_poll_records_history_silently(fresh: tuple[HubStandIn, Path]) -> None:
    ran = run_cli("poll")
    namespaces = len(LabRegistry.builtin().namespaces_to_list())
    assert ran.code == 0, ran.err
    assert (
        f"First look at {namespaces} lab namespaces: 12 existing repos recorded silently, "
        "no alerts for history." in ran.out
    )
    assert "Poll ok: 0 new repos, 0 new releases, 0 updated releases." in ran.out
    assert "New release" not in ran.out


def test_poll_refreshes_download_counts_when_due_as_serve_does(
    fresh: tuple[HubStandIn, Path],
) -> None:
    """`radar poll` from cron runs the same step as `serve`: after the first poll each
    tracked lab's most downloaded repos are asked for the count refresh and for the day's
    adoption snapshot, then neither again until it is due."""
    hub, _db = fresh

    def by_downloads() -> int:
        return sum(1 for r in hub.requests if r.query.get("sort") == ["downloads"])

    namespaces = len(LabRegistry.builtin().namespaces_to_list())
    assert run_cli("poll").code == 0
    assert by_downloads() == 2 * namespaces  # the count refresh, then the snapshot
    assert run_cli("poll").code == 0
    assert by_downloads() == 2 * namespaces  # neither is due again yet


def test_poll_prints_each_release_once_with_its_reasons(week: Week) -> None:
    assert week.release_poll.code == 0, week.release_poll.err
    text = week.release_poll.out
    assert text.count("🆕 New release") == 1
    assert "🆕 New release · 🇨🇳 Qwen: Qwen3.7" in text
    assert f"China · {QWEN_FAMILY} models · 8B–122B" in text
    assert "     Qwen/Qwen3.7-122B-A10B         122B total / 10B active" in text
    assert "     … and 1 more" in text  # 13 members, 12 lines shown
    assert "     • tier-1 lab" in text
    assert "     • flagship family Qwen3.7" in text
    assert "📈 Breakout · 🌐 lumen-research: Lumen-R1" in text
    assert "     • breakout from untracked namespace lumen-research" in text
    assert "Poll ok: " in text
    assert "2 new releases, 0 updated releases." in text
    filtered = {
        kind: int(count)
        for count, kind in re.findall(r"^\s+(\d+)  (.+)$", text.split("Filtered out")[1], re.M)
    }
    assert filtered["third-party quantization"] >= 14  # 7 quantizers x 2 base models
    assert filtered["third-party fine-tune"] >= 4
    assert (filtered["guard/safety model"], filtered["embedding model"]) == (2, 2)
    assert "unsloth/" not in text  # the flood never reaches the alerts


def test_poll_json_prints_one_documented_object_per_event(
    fresh: tuple[HubStandIn, Path],
) -> None:
    hub, _db = fresh
    first = run_cli("poll", "--json")
    assert (first.code, first.out) == (0, "")  # history is silent, for scripts too

    release_week(hub)
    ran = run_cli("poll", "--json")
    assert ran.code == 0, ran.err
    events = [json.loads(line) for line in ran.out.splitlines()]
    assert len(events) == 2
    for event in events:
        assert set(event) == EVENT_KEYS | set(EVENT_JSON_EXTRA_KEYS)
    by_lab = {event["lab"]: event for event in events}
    qwen = by_lab["Qwen"]
    assert qwen["event"] == "new_release"
    assert qwen["release_id"] == f"qwen/qwen3.7@{NOW.date().isoformat()}"
    assert (qwen["country"], qwen["title"]) == ("CN", "Qwen3.7")
    assert len(qwen["members"]) == QWEN_FAMILY
    assert "Qwen/Qwen3.7-8B-Instruct" in qwen["members"]
    assert "tier-1 lab" in qwen["reasons"]
    lumen = by_lab["lumen-research"]
    assert (lumen["country"], lumen["members"]) == (None, ["lumen-research/Lumen-R1-32B"])

    late = "Qwen/Qwen3.7-235B-A22B"
    hub.add(model_json(late, created_at=NOW, params=235 * B, likes=800, trending=300))
    update = run_cli("poll", "--json")
    (line,) = update.out.splitlines()
    event = json.loads(line)
    assert event["event"] == "release_updated"
    assert event["release_id"] == qwen["release_id"]
    assert event["new_members"] == [late]
    assert len(event["members"]) == QWEN_FAMILY + 1

    hub.add(model_json("Qwen/Qwen3.7-235B-A22B-FP8", created_at=NOW, params=235 * B))
    text = run_cli("poll")
    assert text.out.startswith(
        "➕ Release updated · 🇨🇳 Qwen: Qwen3.7 · 1 more model (15 in all)\n"
        "   posted as a reply in the thread of the original alert:\n"
        "     Qwen/Qwen3.7-235B-A22B-FP8  235B total / 22B active\n"
    )
    assert "Poll ok: 1 new repo, 0 new releases, 1 updated release." in text.out


def test_poll_as_a_module_bootstraps_then_reports_the_release(tmp_path: Path) -> None:
    with HubStandIn() as hub:
        hub.add_many(background(NOW, 12))
        env = hub_env(hub, tmp_path / "radar.json")
        first = run_process("poll", env=env, cwd=tmp_path)
        assert first.code == 0, first.err
        assert "12 existing repos recorded silently" in first.out
        hub.add_many(family_launch(NOW)[:4])
        second = run_process("poll", env=env, cwd=tmp_path)
    assert second.code == 0, second.err
    assert second.out.startswith(
        "🆕 New release · 🇨🇳 Qwen: Qwen3.7\n   China · 4 models · 35B–122B · first seen "
    )
    assert "Poll ok: 4 new repos, 1 new release, 0 updated releases." in second.out
    assert "Traceback" not in second.err


def test_poll_shows_progress_on_a_terminal(fresh: tuple[HubStandIn, Path]) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    ran = run_cli("poll", err=Terminal())
    assert ran.code == 0
    sources = len(LabRegistry.builtin().namespaces_to_list()) + 1
    assert f"\rpolling 1/{sources} Hub listings…" in ran.err
    assert ran.err.endswith(f"\rpolling {sources}/{sources} Hub listings…\n")
    assert "polling" not in ran.out


def test_poll_with_the_hub_unreachable_fails_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    use_env(
        monkeypatch,
        {
            "HF_ENDPOINT": f"http://127.0.0.1:{port}",
            "RADAR_DB_PATH": str(tmp_path / "radar.json"),
            "HUB_MAX_RETRIES": "0",
        },
    )
    ran = run_cli("poll")
    assert ran.code == 1
    assert "Poll failed: 0 new repos" in ran.out
    assert re.search(r"radar: (\d+) of \1 Hub listings failed: ", ran.err)
    assert "Traceback" not in ran.err


# --------------------------------------------------------------------------- model


def test_model_card_text(week: Week, monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, week.env)
    ran = run_cli("model", "qwen/qwen3.7-35b-a3b")  # any case
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == "Qwen/Qwen3.7-35B-A3B"
    assert "  lab         🇨🇳 Qwen · China" in lines
    assert "  size        35B total / 3B active" in lines
    assert "  license     apache-2.0 (permissive)" in lines
    assert "  gated       no" in lines
    assert "  downloads   18k in the last 30 days · 54k all time" in lines
    notable = "  notable     yes: tracked lab Qwen (CN); tier-1 lab"
    assert any(line.startswith(notable) for line in lines)
    release = f"  release     Qwen3.7 · {QWEN_FAMILY} models · qwen/qwen3.7@"
    assert any(line.startswith(release) for line in lines)
    assert f"  on the Hub  {week.hub.url}/Qwen/Qwen3.7-35B-A3B" in lines


def test_model_json_has_the_documented_keys_and_null_where_unknown(
    week: Week, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env(monkeypatch, week.env)
    ran = run_cli("model", "Qwen/Qwen3.7-8B-Instruct", "--json")
    assert ran.code == 0, ran.err
    card = json.loads(ran.out)
    assert set(card) == MODEL_KEYS | set(MODEL_JSON_EXTRA_KEYS)
    assert {key: card[key] for key in sorted(MODEL_KEYS - {"reasons", "members"})} == {
        "country": "CN",
        "downloads": 4_000,
        "downloads_all_time": 12_000,
        "gated": False,
        "id": "Qwen/Qwen3.7-8B-Instruct",
        "lab": "Qwen",
        "license": "apache-2.0",
        "license_class": "permissive",
        "likes": 300,
        "notable": True,
        "params_active": None,
        "params_total": 8 * B,
        "release_id": f"qwen/qwen3.7@{NOW.date().isoformat()}",
    }
    assert "flagship family Qwen3.7" in card["reasons"]
    assert len(card["members"]) == QWEN_FAMILY

    breakout_card = json.loads(run_cli("model", "lumen-research/Lumen-R1-32B", "--json").out)
    assert (breakout_card["lab"], breakout_card["country"]) == ("lumen-research", None)


def test_unknown_model_exits_1_with_suggestions(
    week: Week, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env(monkeypatch, week.env)
    ran = run_cli("model", "nobody/nothing-at-all")
    assert ran.code == 1
    assert ran.out.startswith("No model matches “nobody/nothing-at-all”.")

    as_json = run_cli("model", "nobody/nothing-at-all", "--json")
    assert as_json.code == 1
    miss = json.loads(as_json.out)
    assert set(miss) == MODEL_KEYS | set(MODEL_MISS_KEYS)
    assert (miss["found"], miss["id"], miss["params_total"]) == (False, None, None)
    assert miss["suggestions"]
    assert ran.out.splitlines()[1] == "Did you mean: " + ", ".join(miss["suggestions"])


def test_model_without_a_query_explains_usage(week: Week, monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, week.env)
    blank = run_cli("model", "  ")
    assert blank.code == 2
    assert blank.err == "radar: give a repo id or some words, e.g. `radar model qwen3 8b`\n"
    missing = run_cli("model")
    assert missing.code == 2
    assert "the following arguments are required: query" in missing.err


def test_model_as_a_module(week: Week) -> None:
    found = run_process("model", "qwen3.7", "8b", "instruct", env=week.env, cwd=week.workdir)
    assert found.code == 0, found.err
    assert found.out.splitlines()[0] == "Qwen/Qwen3.7-8B-Instruct"


# -------------------------------------------------------------------------- digest


def test_digest_text_lists_releases_by_region_and_the_scoreboard(
    week: Week, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env(monkeypatch, week.env)
    ran = run_cli("digest")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == "Open Model Radar · digest"
    assert lines[1].endswith(" · 2 notable releases")
    assert "🇨🇳 China (1)" in lines
    assert f"  🇨🇳 Qwen · Qwen3.7 · {QWEN_FAMILY} models · 8B–122B" in lines
    assert "  🌐 lumen-research · Lumen-R1 · 1 model · 32B · breakout" in lines
    board = lines[lines.index("Scoreboard") + 1 :][:5]
    assert board[0].split() == ["region", "releases", "share", "downloads", "top", "release"]
    assert board[1].split()[:3] == ["US", "0", "0%"]
    assert board[2].split() == ["China", "1", "50%", "83k", "Qwen3.7"]
    assert board[3].split()[:3] == ["Europe", "0", "0%"]
    assert board[4].split() == ["Rest", "1", "50%", "185k", "Lumen-R1"]


def test_digest_json_and_as_a_module(week: Week, monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, week.env)
    digest = json.loads(run_cli("digest", "--json").out)
    assert [r["title"] for r in digest["releases"]] == ["Qwen3.7", "Lumen-R1"]
    scores = {score["region"]: score for score in digest["scoreboard"]}
    assert list(scores) == ["us", "china", "eu", "other"]
    assert (scores["china"]["releases"], scores["china"]["downloads"]) == (1, 83_000)
    assert digest["leader"] is None  # one release each: a tie

    module = run_process("digest", "--days", "3", env=week.env, cwd=week.workdir)
    assert module.code == 0, module.err
    assert " · 2 notable releases" in module.out
    bad = run_cli("digest", "--days", "365")
    assert (bad.code, bad.out) == (2, "")
    assert "'365' is not a number of days from 1 to 90" in bad.err


# ---------------------------------------------------------------------------- labs


def test_labs_all_and_by_country(week: Week, monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, week.env)
    registry = LabRegistry.builtin()
    everyone = run_cli("labs")
    assert everyone.code == 0
    assert everyone.out.splitlines()[0] == f"{len(registry.labs())} tracked labs"

    china = run_cli("labs", "china")
    assert china.code == 0
    assert china.out == run_cli("labs", "CN").out
    lines = china.out.splitlines()
    assert lines[0] == f"{len(registry.labs('CN'))} tracked labs in 🇨🇳 China"
    assert any(re.match(r"^  🇨🇳 deepseek-ai\s+DeepSeek\s+CN\s+China\s+tier 1$", x) for x in lines)
    assert "meta-llama" not in china.out

    france = json.loads(run_cli("labs", "--json", "france").out)
    assert {lab["namespace"] for lab in france} == {"mistralai", "PleIAs"}


def test_unknown_country_is_a_usage_error_as_a_module(week: Week) -> None:
    ran = run_process("labs", "atlantis", env=week.env, cwd=week.workdir)
    assert ran.code == 2
    assert ran.out == ""
    assert ran.err.startswith("radar: `atlantis` is not a country I know; try an ISO code")


# ---------------------------------------------------------------------------- demo


def test_demo_runs_offline_with_an_empty_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    ran = run_process("demo", env={}, cwd=tmp_path)
    assert time.monotonic() - started < 10
    assert ran.code == 0, ran.err
    assert ran.err == ""
    text = ran.out
    assert "24 existing repos recorded silently (no alerts for history)" in text
    assert text.count("🆕 New release") == 7
    for heading in (
        "🆕 New release · 🇨🇳 Qwen: Qwen3.7",
        "🆕 New release · 🇺🇸 Ai2: Olmo-4",
        "🆕 New release · 🇫🇷 Mistral AI: Ministral-4",
        "➕ Release updated · 🇨🇳 Qwen: Qwen3.7 · 2 more models (13 in all)",
        "📈 Breakout · 🌐 lumen-research: Lumen-R1",
    ):
        assert heading in text
    assert "openness: weights + data + code" in text  # Olmo: data and code published
    week_summary = text.split("The week: ")[1]
    assert week_summary.startswith("79 new repos seen, 8 release alerts and 1 thread update.")
    assert "Filtered out 52 repos:\n  27  third-party quantization\n" in week_summary
    assert "   2  guard/safety model" in week_summary
    board = text.split("Scoreboard\n")[1].splitlines()
    assert [row.split()[:2] for row in board[1:5]] == [
        ["US", "2"],
        ["China", "3"],
        ["Europe", "1"],
        ["Rest", "2"],
    ]
    assert board[5] == "  China leads with 3 of 8 notable releases."
    assert "the real one was never contacted" in text

    # The same week whatever the shell holds: broken settings and a live-looking endpoint.
    use_env(
        monkeypatch,
        {
            "PORT": "abc",
            "HF_ENDPOINT": "http://127.0.0.1:9",
            "RADAR_DB_PATH": str(tmp_path / "nope" / "radar.json"),
        },
    )
    again = run_cli("demo")
    assert (again.code, again.out) == (0, text)
    assert not (tmp_path / "nope").exists()


# ---------------------------------------------------- configuration and database


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("POLL_INTERVAL_SECONDS", "0"),
        ("RADAR_TIMEZONE", "Mars/Base"),
        ("PORT", "abc"),
        ("DATABASE_URL", "mysql://radar:hunter2@db/radar"),
    ],
)
def test_invalid_configuration_is_one_line_naming_the_variable(
    variable: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env(monkeypatch, {variable: value, "RADAR_DB_PATH": str(tmp_path / "radar.json")})
    for command in (["poll"], ["labs"], ["model", "qwen"], ["digest"]):
        ran = run_cli(*command)
        assert ran.code == 2
        assert ran.out == ""
        assert ran.err.startswith(f"radar: invalid {variable}: ")
        assert ran.err.count("\n") == 1
        assert "hunter2" not in ran.err
    assert not (tmp_path / "radar.json").exists()


def test_invalid_configuration_as_a_module(tmp_path: Path) -> None:
    ran = run_process("poll", env={"RADAR_TIMEZONE": "Mars/Base"}, cwd=tmp_path)
    assert ran.code == 2
    assert ran.err == "radar: invalid RADAR_TIMEZONE: unknown IANA timezone 'Mars/Base'\n"


def test_corrupt_database_exits_1_naming_the_file_and_leaves_it_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "radar.json"
    damaged = b'{"models": {"1": {"id": "Qwen/Qwen3-8B", "author": '
    db.write_bytes(damaged)
    env = {"RADAR_DB_PATH": str(db), "HF_ENDPOINT": "http://127.0.0.1:9", "HUB_MAX_RETRIES": "0"}

    use_env(monkeypatch, env)
    for command in (["poll"], ["digest"], ["labs"]):
        ran = run_cli(*command)
        assert ran.code == 1
        assert str(db) in ran.err
        assert "not valid JSON" in ran.err

    module = run_process("poll", env=env, cwd=tmp_path)
    assert module.code == 1
    assert str(db) in module.err
    assert "Traceback" not in module.err
    assert db.read_bytes() == damaged
    assert sorted(path.name for path in tmp_path.iterdir()) == ["radar.json"]


def test_serve_counts_empty_slack_values_as_unset(tmp_path: Path) -> None:
    """`.env.example` leaves the tokens empty: that is "no Slack yet", not a broken Slack."""
    from bot.serve import missing_settings
    from bot.watch import no_slack_settings
    from tests.harness import make_settings

    empty = make_settings(
        "http://127.0.0.1:9", None, tmp_path / "r.json",
        slack_bot_token="", slack_signing_secret=" ", slack_app_token="",
    )  # fmt: skip
    assert no_slack_settings(empty)
    half = make_settings("http://127.0.0.1:9", None, tmp_path / "r.json", slack_bot_token="xoxb-1")
    assert not no_slack_settings(half)
    assert missing_settings(half) == ["SLACK_SIGNING_SECRET"]
    blank = make_settings(
        "http://127.0.0.1:9", None, tmp_path / "r.json",
        slack_app_token="  ", hf_webhook_secret=" ",
    )  # fmt: skip
    assert not blank.socket_mode and not blank.webhooks_enabled  # blank is unset everywhere
