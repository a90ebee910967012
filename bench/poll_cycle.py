"""Poll-cycle cost: Hub requests, wall time and database writes of one `poll_cycle()`.

The Hub stand-in runs in its own process with 150 tracked labs' worth of repos (30,000 in
all) and 20 ms of added latency per request, like a distant Hub. The tracker runs here,
wired by `build_core` over a TinyDB database that already knows every one of those repos,
as a bot that has been running for a while does.

Two kinds of cycle are timed, each several times (medians reported):
- steady state: nothing new on the Hub, over a whole rotation of full listings (each cycle
  lists every lab's newest repos and a share of the labs in full, so that every lab is
  listed whole once per `FULL_LISTING_INTERVAL_SECONDS`); requests per cycle are averaged
  over the rotation and turned into Hub calls per hour at the default poll interval,
  against the anonymous budget (500 calls per 5 minutes);
- a release burst: a tracked lab publishes a 12-repo family while 100 third-party
  quantizations and fine-tunes of it flood the trending list.

The ideal wall time is `ceil(labs / concurrency) x latency` (plus one latency for each
round of detail calls); as a same-run baseline, the same listing requests are also fired without
any of the tracker's work (`fetch_only`), which shows what the stand-in and HTTP cost.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/poll_cycle.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    BENCH_NOW,
    Child,
    Target,
    bench_labs,
    median,
    parse_options,
    report,
    run_main,
    synthetic_hub_models,
)
from bot.config import Settings
from bot.hub.client import HubClient
from bot.hub.parse import repo_from_json
from bot.radar.facts import record_from_repo
from bot.radar.labs import LabRegistry
from bot.radar.models import Lab, StateEntry
from bot.radar.tracker import LAB_STATE, TRENDING_KEY
from bot.runtime import Core, build_core
from bot.store import open_store
from tests.doubles.hub_fixtures import (
    FAMILY_LAB,
    FAMILY_STEM,
    derivative_flood,
    family_launch,
)
from tests.harness import FakeClock

BENCH = "poll_cycle"
ANONYMOUS_CALLS_PER_HOUR = 500 * 12  # the Hub's API bucket: 500 per 5-minute window
BUDGET_SHARE = 0.40  # the poll's share; lookups and count refreshes keep the rest
DERIVATIVES = 100
FAMILY_SIZE = 12


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labs", type=int, default=150, help="tracked labs")
    parser.add_argument("--models", type=int, default=30_000, help="repos on the Hub")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds per Hub request")
    parser.add_argument("--repeats", type=int, default=5, help="steady-state cycles timed")
    parser.add_argument("--bursts", type=int, default=3, help="release-burst cycles timed")


def prepare_database(path: Path, labs: list[Lab], per_lab: int, settings: Settings) -> None:
    """A database that tracks exactly `labs`, already knows every repo they have, and has
    listed each in full, its next full listing staggered over a rotation as a running bot
    leaves it."""
    store = open_store(path)
    chosen = {lab.key for lab in labs}
    with store.lock:
        for builtin in LabRegistry.builtin().labs():
            if builtin.key not in chosen:  # untracked, as `/radar untrack` leaves it
                store.labs.put(builtin.model_copy(update={"removed": True, "source": "user"}))
        for lab in labs:
            if lab.source == "user":
                store.labs.put(lab)
        registry = LabRegistry.from_store(store)
        namespaces = [lab.namespace for lab in labs]
        for raw in synthetic_hub_models(namespaces, per_lab, BENCH_NOW):
            repo = repo_from_json(raw, detailed=False)
            lab = registry.resolve(repo.author)
            first_seen = repo.created_at or BENCH_NOW
            store.models.put(record_from_repo(repo, lab=lab, first_seen=first_seen))
        poll = timedelta(seconds=settings.poll_interval_seconds)
        cycles = max(1, math.ceil(settings.full_listing_interval_seconds / poll.total_seconds()))
        polled = {"last_success": BENCH_NOW.isoformat()}
        state = {
            namespace.lower(): {
                **polled,
                "complete": True,
                "full_due": (BENCH_NOW + poll * (1 + index % cycles)).isoformat(),
            }
            for index, namespace in enumerate(namespaces)
        }
        state[TRENDING_KEY] = dict(polled)
        store.state.put(StateEntry(name=LAB_STATE, value=state))
        store.commit()
    store.close()


def burst_records(index: int, now: Any) -> tuple[list[dict[str, Any]], set[str]]:
    """A 12-repo family (renamed per burst so each is new) and 100 derivatives of it that
    trend above everything else; returns the records and the family's repo ids."""
    family = family_launch(now)[:FAMILY_SIZE]
    derivatives = derivative_flood(now, [record["id"] for record in family])[:DERIVATIVES]
    for rank, record in enumerate(derivatives):
        record["trendingScore"] = 1_000 - rank  # all of them make the trending list
    stem = f"Qwen3.{7 + index}"
    records = json.loads(json.dumps(family + derivatives).replace(FAMILY_STEM, stem))
    family_ids = {record["id"] for record in records[: len(family)]}
    return records, family_ids


def fetch_only(core: Core, client: HubClient, namespaces: list[str], concurrency: int) -> float:
    """The cycle's listing requests (a rotation's share of full listings included) with
    none of the tracker's work: the same-run floor."""
    tracker = core.tracker
    limit, trending = tracker.list_limit, tracker.trending_limit
    share = math.ceil(len(namespaces) / tracker.rotation_cycles())  # the rotation's full listings
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(client.list_lab_repos, ns, limit=limit) for ns in namespaces]
        futures.append(pool.submit(client.list_trending, limit=trending))
        futures += [
            pool.submit(client.list_all, ns, page_size=tracker.full_page_size, light=True)
            for ns in namespaces[:share]
        ]
        for future in futures:
            future.result()
    return time.perf_counter() - started


def timed_cycle(core: Core, hub: Child) -> dict[str, Any]:
    store = core.store
    hub.call("reset_log")
    writes_before = store.writes  # type: ignore[attr-defined]
    cpu_before = time.process_time()
    started = time.perf_counter()
    cycle = core.tracker.poll_cycle()
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "cpu_s": time.process_time() - cpu_before,
        "requests": hub.call("request_count"),
        "detail_paths": hub.call("detail_paths"),
        "writes": store.writes - writes_before,  # type: ignore[attr-defined]
        "events": [
            {"kind": e.kind, "title": e.release.title, "members": len(e.release.members)}
            for e in cycle.events
        ],
        "new_repos": cycle.new_repos,
        "updated_repos": cycle.updated_repos,
        "errors": dict(cycle.errors),
    }


def main() -> None:
    options = parse_options(__doc__.splitlines()[0], configure)
    quick = options.quick
    lab_count = 6 if quick else options.labs
    per_lab = 20 if quick else max(1, options.models // lab_count)
    repeats = 1 if quick else max(1, options.repeats)
    bursts = 1 if quick else max(1, options.bursts)
    latency = options.latency

    labs = bench_labs(lab_count, first=[FAMILY_LAB])
    namespaces = [lab.namespace for lab in labs]
    hub = Child(
        "bench.common:host_hub",
        latency=latency,
        namespaces=namespaces,
        per_lab=per_lab,
        now=BENCH_NOW.isoformat(),
    )
    with tempfile.TemporaryDirectory(prefix="radar-bench-") as scratch, hub:
        path = Path(scratch) / "radar.json"
        settings = Settings(_env_file=None, hf_endpoint=hub.info["url"], radar_db_path=path)
        prepare_database(path, labs, per_lab, settings)
        clock = FakeClock(now=BENCH_NOW)
        core = build_core(settings, store=open_store(path), clock=clock)
        probe = HubClient(hub.info["url"])
        try:
            concurrency = settings.hub_concurrency
            rotation = core.tracker.rotation_cycles()
            listed = len(core.registry.namespaces_to_list())  # labs and alias namespaces
            poll_seconds = settings.poll_interval_seconds
            clock.advance(minutes=5)
            warm = core.tracker.poll_cycle()  # settles any fact the prefill stored differently
            steady: list[dict[str, Any]] = []
            floors: list[float] = []
            for _ in range(rotation if quick else max(repeats, rotation)):
                floors.append(fetch_only(core, probe, namespaces, concurrency))
                clock.advance(minutes=5)
                steady.append(timed_cycle(core, hub))
            burst: list[dict[str, Any]] = []
            family_ids: list[set[str]] = []
            for index in range(bursts):
                clock.advance(minutes=5)
                records, family = burst_records(index, clock.now)
                hub.call("add_many", records=records)
                family_ids.append(family)
                burst.append(timed_cycle(core, hub))
        finally:
            probe.close()
            core.close()

    figures, targets = summarise(
        steady, burst, family_ids, floors, lab_count, latency, concurrency, warm.updated_repos
    )
    figures["rotation"], rotation_targets = rotation_cost(steady, rotation, poll_seconds, listed)
    targets.update(rotation_targets)
    figures["hub_models"] = lab_count * per_lab
    report(
        BENCH,
        quick=quick,
        figures=figures,
        targets=targets,
        notes=[
            f"{lab_count} labs, {lab_count * per_lab} Hub repos, {latency * 1000:.0f} ms "
            f"per request, {concurrency} concurrent requests; medians of {repeats} steady "
            f"and {bursts} burst cycle(s)",
        ],
    )


def rotation_cost(
    steady: list[dict[str, Any]], rotation: int, poll_seconds: int, namespaces: int
) -> tuple[dict[str, Any], dict[str, Target]]:
    """Requests per cycle averaged over one whole rotation of full listings, and what
    that costs per hour at the default poll interval against the anonymous budget.

    The bound: each listed namespace's newest repos, trending, and a rotation's share of
    namespaces listed in full (one page each: the bench's labs hold 200 repos)."""
    cycles = steady[:rotation]
    per_cycle = [c["requests"] for c in cycles]
    average = sum(per_cycle) / max(1, len(per_cycle))
    per_hour = average * 3600 / poll_seconds
    share = per_hour / ANONYMOUS_CALLS_PER_HOUR
    figures = {
        "cycles": len(cycles),
        "requests_each": per_cycle,
        "requests_per_cycle_avg": round(average, 1),
        "namespaces": namespaces,
        "full_listings_per_cycle": math.ceil(namespaces / rotation),
        "hub_calls_per_hour": round(per_hour),
        "share_of_anonymous_budget": round(share, 3),
        "poll_interval_s": poll_seconds,
    }
    targets = {
        "rotation_requests_per_cycle_avg": Target(
            round(average, 1), namespaces + 1 + math.ceil(namespaces / rotation), "<="
        ),
        "hub_calls_per_hour_share_of_anonymous_budget": Target(
            round(share, 3), BUDGET_SHARE, "<="
        ),
    }
    return figures, targets


def summarise(
    steady: list[dict[str, Any]],
    burst: list[dict[str, Any]],
    family_ids: list[set[str]],
    floors: list[float],
    labs: int,
    latency: float,
    concurrency: int,
    settled: int,
) -> tuple[dict[str, Any], dict[str, Target]]:
    # Rounds of concurrent listing requests: every lab's newest repos, plus the round a
    # rotation's share of full listings adds.
    ideal = (math.ceil(labs / concurrency) + 1) * latency
    steady_wall = median(c["wall_s"] for c in steady)
    floor = median(floors)

    detail_counts = [len(c["detail_paths"]) for c in burst]
    outside = []
    for cycle, family in zip(burst, family_ids, strict=True):
        asked = {path.removeprefix("/api/models/") for path in cycle["detail_paths"]}
        outside.append(len(asked - family))
    burst_ideal = [ideal + math.ceil(n / concurrency) * latency for n in detail_counts]
    burst_ratio = median(c["wall_s"] / i for c, i in zip(burst, burst_ideal, strict=True))
    release_events = [sum(1 for e in c["events"] if e["kind"] == "new_release") for c in burst]

    figures: dict[str, Any] = {
        "labs": labs,
        "latency_ms": latency * 1000,
        "concurrency": concurrency,
        "ideal_s": round(ideal, 3),
        "steady": {
            "wall_s": round(steady_wall, 3),
            "wall_s_each": [round(c["wall_s"], 3) for c in steady],
            "cpu_s": round(median(c["cpu_s"] for c in steady), 3),
            "requests": max(c["requests"] for c in steady),
            "writes": max(c["writes"] for c in steady),
            "new_repos": sum(c["new_repos"] for c in steady),
            "updated_repos": sum(c["updated_repos"] for c in steady),
            "events": sum(len(c["events"]) for c in steady),
            "errors": [c["errors"] for c in steady if c["errors"]][:3],
            "fetch_only_s": round(floor, 3),
            "wall_vs_fetch_only": round(steady_wall / floor, 2),
        },
        "burst": {
            "wall_s": round(median(c["wall_s"] for c in burst), 3),
            "wall_s_each": [round(c["wall_s"], 3) for c in burst],
            "cpu_s": round(median(c["cpu_s"] for c in burst), 3),
            "ideal_s": [round(i, 3) for i in burst_ideal],
            "requests": [c["requests"] for c in burst],
            "detail_calls": detail_counts,
            "detail_calls_outside_family": outside,
            "writes": [c["writes"] for c in burst],
            "new_repos": [c["new_repos"] for c in burst],
            "events": [c["events"] for c in burst],
            "errors": [c["errors"] for c in burst if c["errors"]][:3],
        },
        "prefill_repos_settled_by_first_cycle": settled,
    }
    family_size = len(family_ids[0]) if family_ids else 0
    targets = {
        "steady_requests": Target(figures["steady"]["requests"], 2 * labs + 2, "<="),
        "steady_wall_vs_ideal": Target(round(steady_wall / ideal, 2), 2.0, "<=", "x"),
        "steady_db_writes": Target(figures["steady"]["writes"], 1, "=="),
        "burst_requests": Target(max(c["requests"] for c in burst), 2 * labs + 2 + family_size),
        "burst_detail_calls_for_non_candidates": Target(max(outside), 0, "=="),
        "burst_wall_vs_ideal": Target(round(burst_ratio, 2), 2.0, "<=", "x"),
        "burst_db_writes": Target(max(c["writes"] for c in burst), 1, "=="),
        "bursts_with_exactly_one_release_event": Target(
            sum(1 for count in release_events if count == 1), len(burst), "=="
        ),
    }
    return figures, targets


if __name__ == "__main__":
    run_main(main)
