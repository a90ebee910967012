"""Fan-out to many workspaces: one release to 1,000 workspaces x 5 channels, each workspace
through its own client and bot token.

One Hub poll serves every workspace: `Outbox.enqueue` writes a row per (workspace, channel,
release) and the bot's own deliverer (`build_slack(core, workspaces=...)`, its real pacing
and worker count) drains them, each through `Workspaces.client_for(row.team_id)`. The Slack
stand-in runs in its own process, adds 20 ms to every call, and here accepts one bot token
per workspace: a call to a workspace's channel with another workspace's token is refused
(`invalid_auth`), so every accepted message went out through the right client.

Two phases, as in `bench/fanout.py`: the release is announced (one message per channel),
then it grows (each alert edited, then a thread reply, at least 1 s after the alert in
that channel). Slack's limits are per workspace: one message a second per channel, and a
workspace-wide budget for `chat.postMessage` of several hundred a minute (we check the
busiest workspace's busiest minute against 300, a conservative reading).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/fanout_workspaces.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk import WebClient

from bench.common import (
    BENCH_NOW,
    Child,
    Hosted,
    Target,
    build_database,
    parse_options,
    report,
    run_main,
)
from bench.fanout import announce, grow, timed_drain
from bot.config import Settings
from bot.radar.channels import subscription_id
from bot.radar.models import Filters, Subscription
from bot.runtime import build_core
from bot.slack.app import build_slack
from bot.store import open_store
from tests.doubles.slack_server import SlackStandIn, _SlackError
from tests.harness import BOT_TOKEN, SIGNING_SECRET, FakeClock

BENCH = "fanout_workspaces"
CHANNEL_MINUTE_BUDGET = 300  # chat.postMessage per workspace per minute, conservatively
MIN_GAP_TOLERANCE = 0.02  # seconds: the stand-in stamps posts on arrival, not on sending


def team_of(index: int) -> str:
    return f"T{index:05d}"


def token_of(team: str) -> str:
    return f"xoxb-bench-{team}"


def channel_of(team: str, index: int) -> str:
    """Channel ids carry their workspace, so the stand-in can check each call's token."""
    return f"C{team[1:]}X{index}"


class WorkspacesSlackStandIn(SlackStandIn):
    """The Slack stand-in with one bot token per workspace (teams named by channel id)."""

    def _check_token(self, params: Mapping[str, Any], auth_header: str | None, expected: str):
        channel = params.get("channel")
        if not isinstance(channel, str) or not channel.startswith("C") or "X" not in channel:
            return super()._check_token(params, auth_header, expected)
        token = auth_header[7:].strip() if auth_header else params.get("token")
        if token != token_of("T" + channel[1:].split("X", 1)[0]):
            raise _SlackError("invalid_auth", [f"wrong workspace's token for {channel}"])
        return None


def host_slack(*, latency: float = 0.0) -> Hosted:
    """Child entry: the many-token stand-in; per channel, its messages and post times."""
    slack = WorkspacesSlackStandIn(latency=latency)
    slack.start()

    def summary() -> dict[str, Any]:
        by_channel: dict[str, dict[str, Any]] = {}
        for message in slack.messages():
            entry = by_channel.setdefault(message["channel"], {"top": 0, "replies": 0})
            entry["replies" if message["thread_ts"] else "top"] += 1
        for channel, entry in by_channel.items():
            entry["times"] = slack.post_times(channel)
        with slack._condition:
            violations = [f"{v.method}: {v.error}" for v in slack.violations]
            calls = len(slack.calls)
        return {"channels": by_channel, "violations": violations[:5], "calls": calls}

    return Hosted(
        info={"url": slack.url},
        operations={"summary": summary, "reset": slack.reset},
        close=slack.stop,
    )


class Installed:
    """What the OAuth mode's installation store gives the jobs: a client per workspace."""

    multi = True

    def __init__(self, clients: dict[str, WebClient]) -> None:
        self.clients = clients

    def key_of(self, team_id: str | None) -> str:
        return team_id or ""

    def client_for(self, key: str) -> WebClient | None:
        return self.clients.get(key)

    def forget(self, key: str) -> None:
        self.clients.pop(key, None)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspaces", type=int, default=1000, help="installed workspaces")
    parser.add_argument("--channels", type=int, default=5, help="subscribed channels each")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per Slack call")
    parser.add_argument("--models", type=int, default=3_000, help="models in the database")


def busiest_minute(times: list[float]) -> int:
    """The most posts within any 60 s window."""
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 60.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> None:
    options = parse_options(__doc__.splitlines()[0], configure)
    quick = options.quick
    workspaces = 20 if quick else options.workspaces
    per_workspace = 2 if quick else options.channels
    models = 300 if quick else options.models
    teams = [team_of(index) for index in range(workspaces)]

    slack = Child("bench.fanout_workspaces:host_slack", latency=options.latency)
    with tempfile.TemporaryDirectory(prefix="radar-bench-") as scratch, slack:
        path = Path(scratch) / "radar.json"
        build_database(path, models=models, releases=models // 10, subscriptions=0)
        clock = FakeClock(now=BENCH_NOW)
        store = open_store(path)
        with store.lock:
            for team in teams:
                for index in range(per_workspace):
                    channel = channel_of(team, index)
                    store.subscriptions.put(
                        Subscription(
                            id=subscription_id(channel, Filters()),
                            channel_id=channel,
                            team_id=team,
                            created_at=BENCH_NOW - timedelta(days=30),
                        )
                    )
            store.commit()
        url = slack.info["url"]
        installed = Installed(
            {
                team: WebClient(token=token_of(team), base_url=url, timeout=15, retry_handlers=[])
                for team in teams
            }
        )
        settings = Settings(
            _env_file=None,
            radar_db_path=path,
            slack_api_url=url,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            hf_endpoint="http://127.0.0.1:9",
        )
        core = build_core(settings, store=store, clock=clock)
        _app, radar = build_slack(core, workspaces=installed)
        deliverer = radar.deliverer
        try:
            clock.advance(hours=1)
            started = time.perf_counter()
            release = announce(core, 0, clock)
            enqueue_s = time.perf_counter() - started
            announced = timed_drain(core, deliverer)
            time.sleep(deliverer.per_channel_interval)  # the release grows minutes later
            clock.advance(minutes=5)
            grow(core, release, clock)
            grown = timed_drain(core, deliverer)
            seen = slack.call("summary")
        finally:
            core.close()

    channels = seen["channels"]
    expected = [channel_of(team, index) for team in teams for index in range(per_workspace)]
    wrong = sum(
        1
        for channel in expected
        if (channels.get(channel, {}).get("top"), channels.get(channel, {}).get("replies"))
        != (1, 1)
    )
    short_gaps = 0
    per_team_times: dict[str, list[float]] = defaultdict(list)
    for channel, entry in channels.items():
        times = entry["times"]
        short_gaps += sum(
            1 for a, b in itertools.pairwise(times) if b - a < 1.0 - MIN_GAP_TOLERANCE
        )
        per_team_times["T" + channel[1:].split("X", 1)[0]].extend(times)
    busiest = max((busiest_minute(times) for times in per_team_times.values()), default=0)
    rows = workspaces * per_workspace
    ideal = math.ceil(rows / deliverer.workers) * options.latency
    figures = {
        "workspaces": workspaces,
        "channels_each": per_workspace,
        "rows": rows,
        "workers": deliverer.workers,
        "latency_ms": options.latency * 1000,
        "enqueue_s": round(enqueue_s, 3),
        "announce": {**announced, "wall_s": round(announced["wall_s"], 3)},
        "announce_ideal_s": round(ideal, 3),
        "release_grows": {**grown, "wall_s": round(grown["wall_s"], 3)},
        "busiest_workspace_minute_posts": busiest,
        "slack_calls": seen["calls"],
        "slack_violations": seen["violations"],
    }
    targets = {
        "channels_without_one_alert_and_one_reply": Target(wrong, 0, "=="),
        "posts_closer_than_1s_in_a_channel": Target(short_gaps, 0, "=="),
        "slack_violations_incl_wrong_token": Target(len(seen["violations"]), 0, "=="),
        "busiest_workspace_minute_posts": Target(busiest, CHANNEL_MINUTE_BUDGET, "<="),
        "announce_wall_vs_ideal": Target(
            round(announced["wall_s"] / ideal, 2), 2.0, "<=", "x"
        ),
    }
    report(
        BENCH,
        quick=quick,
        figures=figures,
        targets=targets,
        notes=[
            f"{workspaces} workspaces x {per_workspace} channels, one client and token each, "
            f"{options.latency * 1000:.0f} ms per Slack call, {deliverer.workers} workers, "
            f"database of {models} models",
        ],
    )


if __name__ == "__main__":
    run_main(main)
