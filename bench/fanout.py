"""Alert fan-out: one release to 200 subscribed channels through the Slack stand-in.

The Slack stand-in runs in its own process and adds 20 ms to every Web API call. The bot's
own deliverer (`build_slack(core).deliverer`, its real pacing and worker count) drains the
outbox rows that `Outbox.enqueue` wrote for the release, against a database of production
size (every row's state change is committed to it, so its size matters).

Two phases, timed separately:
1. the release is announced: one top-level message per channel;
2. the release grows by one repo: each channel's message is edited and a thread reply
   says what is new, which is where the one-message-per-second pacing has work to do.

The ideal time for announcing is `ceil(channels / workers) x latency`. For the growth it
is the later of `ceil(2 x channels / workers) x latency` (every call once) and
`ceil(channels / workers) x latency + interval + latency`: the last batch of edits cannot
start before the others are done, and its replies not before the pacing interval after
them (1 s between two messages to one channel). As a
same-run floor, the same number of bare `chat.postMessage` calls are also made through the
bot's own Slack client with as many threads, and none of the deliverer's work (`post_only`).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/fanout.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    BENCH_NOW,
    Child,
    Target,
    build_database,
    median,
    parse_options,
    report,
    run_main,
)
from bot.config import Settings
from bot.radar.channels import subscription_id
from bot.radar.models import (
    Filters,
    Region,
    Release,
    ReleaseEvent,
    Subscription,
)
from bot.radar.releases import family_stem, release_id, release_title
from bot.runtime import build_core
from bot.slack.app import build_slack
from bot.store import open_store
from tests.harness import BOT_TOKEN, SIGNING_SECRET, FakeClock, notable_record

BENCH = "fanout"
MIN_GAP_TOLERANCE = 0.02  # seconds: the stand-in stamps posts on arrival, not on sending


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channels", type=int, default=200, help="subscribed channels")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per Slack call")
    parser.add_argument("--models", type=int, default=30_000, help="models in the database")
    parser.add_argument("--repeats", type=int, default=3, help="releases fanned out")
    parser.add_argument(
        "--growth-repeats", type=int, default=1, help="of those, how many then grow"
    )


def announce(core: Any, index: int, clock: FakeClock) -> Release:
    """What a poll cycle does for a new release: store it, enqueue its rows, one commit."""
    now = clock.now
    members = [
        notable_record(f"Qwen/Fanout{index}-{size}B-Instruct", size, now) for size in (8, 32)
    ]
    name = members[0].name
    release = Release(
        id=release_id("Qwen", family_stem(name), now),
        lab="Qwen",
        lab_name="Qwen",
        country="CN",
        region=Region.CHINA,
        title=release_title("Qwen", [m.id for m in members]),
        stem=family_stem(name),
        members=[m.id for m in members],
        first_seen=now,
        updated_at=now,
        reasons=["Qwen is a tracked lab"],
    )
    with core.store.lock:
        for member in members:
            member.release_id = release.id
            core.store.models.put(member)
        core.store.releases.put(release)
        core.outbox.enqueue(
            [ReleaseEvent(kind="new_release", release=release, new_members=release.members)]
        )
        core.store.commit()
    return release


def grow(core: Any, release: Release, clock: FakeClock) -> None:
    """A new size of the family appears: the release gains a member."""
    member = notable_record(release.members[0].replace("-8B-", "-235B-"), 235, clock.now)
    member.release_id = release.id
    grown = release.model_copy(
        update={"members": [*release.members, member.id], "updated_at": clock.now}
    )
    with core.store.lock:
        core.store.models.put(member)
        core.store.releases.put(grown)
        core.outbox.enqueue(
            [ReleaseEvent(kind="release_updated", release=grown, new_members=[member.id])]
        )
        core.store.commit()


def timed_drain(core: Any, deliverer: Any) -> dict[str, Any]:
    writes = core.store.writes
    started = time.perf_counter()
    drained = deliverer.drain()
    return {
        "wall_s": time.perf_counter() - started,
        "writes": core.store.writes - writes,
        "posted": drained.posted,
        "updated": drained.updated,
        "deferred": drained.deferred,
        "dropped": drained.dropped,
        "errors": drained.errors[:3],
    }


def post_only(client: Any, count: int, workers: int) -> float:
    """`count` bare posts (to channels nobody subscribed) from `workers` threads."""

    def post(index: int) -> None:
        client.chat_postMessage(channel=f"P{index:07d}", text="baseline")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(post, range(count)))
    return time.perf_counter() - started


def pacing(by_channel: dict[str, dict[str, Any]]) -> tuple[float, int]:
    """The smallest gap between two messages to one channel, and how many gaps were short."""
    gaps = [
        later - earlier
        for entry in by_channel.values()
        for earlier, later in zip(entry["post_times"], entry["post_times"][1:], strict=False)
    ]
    short = sum(1 for gap in gaps if gap < 1.0 - MIN_GAP_TOLERANCE)
    return (min(gaps) if gaps else math.inf), short


def main() -> None:
    options = parse_options(__doc__.splitlines()[0], configure)
    quick = options.quick
    channels = 12 if quick else options.channels
    models = 300 if quick else options.models
    repeats = 1 if quick else max(1, options.repeats)
    latency = options.latency

    slack = Child("bench.common:host_slack", latency=latency)
    with tempfile.TemporaryDirectory(prefix="radar-bench-") as scratch, slack:
        path = Path(scratch) / "radar.json"
        build_database(path, models=models, releases=models // 10, subscriptions=0)
        clock = FakeClock(now=BENCH_NOW)
        store = open_store(path)
        channel_ids = [f"F{index:07d}" for index in range(channels)]
        with store.lock:
            for channel in channel_ids:
                store.subscriptions.put(
                    Subscription(
                        id=subscription_id(channel, Filters()),
                        channel_id=channel,
                        created_at=BENCH_NOW - timedelta(days=30),
                    )
                )
            store.commit()
        settings = Settings(
            _env_file=None,
            radar_db_path=path,
            slack_api_url=slack.info["url"],
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            hf_endpoint="http://127.0.0.1:9",
        )
        core = build_core(settings, store=store, clock=clock)
        _app, radar = build_slack(core)
        deliverer = radar.deliverer
        announced: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        per_channel: list[dict[str, dict[str, Any]]] = []
        floors: list[float] = []
        try:
            for index in range(repeats):
                slack.call("reset")
                client = deliverer.workspaces.client_for("")  # the one workspace
                floors.append(post_only(client, channels, deliverer.workers))
                clock.advance(hours=1)
                release = announce(core, index, clock)
                announced.append(timed_drain(core, deliverer))
                if index < options.growth_repeats:
                    # A release grows minutes later, not within the second the alert went
                    # out: let the alert's pacing interval pass, as it would have.
                    time.sleep(deliverer.per_channel_interval)
                    clock.advance(minutes=5)
                    grow(core, release, clock)
                    updated.append(timed_drain(core, deliverer))
                per_channel.append(slack.call("messages_by_channel"))
            calls = slack.call("call_counts")
            violations = slack.call("violations")
        finally:
            core.close()

    workers = deliverer.workers
    figures, targets = summarise(
        announced,
        updated,
        per_channel,
        channel_ids,
        workers,
        latency,
        deliverer.per_channel_interval,
        calls,
        violations,
    )
    floor = median(floors)
    figures["announce"]["post_only_s"] = round(floor, 3)
    figures["announce"]["wall_vs_post_only"] = round(figures["announce"]["wall_s"] / floor, 2)
    figures["database_models"] = models
    report(
        BENCH,
        quick=quick,
        figures=figures,
        targets=targets,
        notes=[
            f"{channels} channels, {latency * 1000:.0f} ms per Slack call, {workers} workers, "
            f"database of {models} models; medians of {repeats} release(s)",
        ],
    )


def summarise(
    announced: list[dict[str, Any]],
    updated: list[dict[str, Any]],
    per_channel: list[dict[str, dict[str, Any]]],
    channel_ids: list[str],
    workers: int,
    latency: float,
    interval: float,
    calls: dict[str, int],
    violations: list[str],
) -> tuple[dict[str, Any], dict[str, Target]]:
    channels = len(channel_ids)
    announce_ideal = math.ceil(channels / workers) * latency
    # Each channel: an edit, then (paced) a reply: 2 calls, at least 1 s apart. The last
    # batch of edits ends after ceil(channels / workers) calls; its replies come 1 s later.
    update_ideal = max(
        math.ceil(2 * channels / workers) * latency,
        math.ceil(channels / workers) * latency + interval + latency,
    )
    announce_wall = median(run["wall_s"] for run in announced)
    update_wall = median(run["wall_s"] for run in updated) if updated else math.nan

    wrong_alerts = 0  # channels without exactly one top-level alert, over all releases
    wrong_replies = 0  # channels without exactly one thread reply after the release grew
    for index, summary in enumerate(per_channel):
        for channel in channel_ids:
            entry = summary.get(channel, {"top_level": 0, "replies": 0})
            wrong_alerts += entry["top_level"] != 1
            wrong_replies += entry["replies"] != (1 if index < len(updated) else 0)
    gaps = [pacing(summary) for summary in per_channel]
    min_gap = min(gap for gap, _short in gaps)

    figures: dict[str, Any] = {
        "channels": channels,
        "workers": workers,
        "latency_ms": latency * 1000,
        "announce": {
            "wall_s": round(announce_wall, 3),
            "wall_s_each": [round(run["wall_s"], 3) for run in announced],
            "ideal_s": round(announce_ideal, 3),
            "db_writes": [run["writes"] for run in announced],
            "posted": [run["posted"] for run in announced],
            "deferred_or_dropped": [run["deferred"] + run["dropped"] for run in announced],
        },
        "release_grows": {
            "wall_s": round(update_wall, 3),
            "wall_s_each": [round(run["wall_s"], 3) for run in updated],
            "ideal_s": round(update_ideal, 3),
            "wall_vs_ideal": round(update_wall / update_ideal, 2),
            "db_writes": [run["writes"] for run in updated],
            "updated": [run["updated"] for run in updated],
        },
        "min_gap_between_posts_to_one_channel_s": round(min_gap, 3),
        "slack_calls_last_release": calls,
        "slack_violations": violations[:5],
    }
    targets = {
        "channels_without_exactly_one_alert": Target(wrong_alerts, 0, "=="),
        "posts_closer_than_1s_in_a_channel": Target(sum(short for _gap, short in gaps), 0, "=="),
        "announce_wall_vs_ideal": Target(round(announce_wall / announce_ideal, 2), 2.0, "<=", "x"),
        "channels_without_exactly_one_update_reply": Target(wrong_replies, 0, "=="),
    }
    if updated:
        targets["release_grows_wall_vs_ideal"] = Target(
            round(update_wall / update_ideal, 2), 2.0, "<=", "x"
        )
    return figures, targets


if __name__ == "__main__":
    run_main(main)
