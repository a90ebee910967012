"""Hub requests per day at default settings, adoption snapshots included.

One simulated UTC day of what `serve`'s poll job does (`bot.schedule.poll_and_deliver`
without Slack): a poll cycle every `POLL_INTERVAL_SECONDS` (300 s by default), the count
refresh every `REFRESH_INTERVAL_SECONDS` (6 h), and the adoption snapshot (`Snapshots`),
against the Hub stand-in, every built-in lab tracked. The store holds `--releases` releases
first seen evenly over the last two years (three members each, none among its lab's most
downloaded models: every member costs a detail call, the worst case), so the day's
snapshot reads the young ones daily, the others weekly or every 28 days.

Counted per part of the job, and the worst 5-minute window (the Hub's rate-limit window:
500 API requests anonymous, 1,000 with a free token). Nothing is timed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    IndexedHubStandIn,
    Target,
    parse_options,
    report,
    run_main,
    synthetic_hub_models,
)
from bot.config import Settings
from bot.hub.client import HubClient
from bot.radar.adoption_series import epoch_day
from bot.radar.models import ModelRecord, Release
from bot.runtime import build_core
from bot.store.memory import MemoryStore
from tests.doubles.hub_fixtures import model_json

ANONYMOUS_WINDOW_LIMIT = 500
WINDOW_SECONDS = 300


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--releases", type=int, default=1_000, help="releases in the store")
    parser.add_argument("--per-lab", type=int, default=120, help="Hub repos a lab")


def seed_releases(hub: IndexedHubStandIn, store: MemoryStore, count: int, now: datetime) -> None:
    """`count` three-member releases of the built-in labs, first seen over two years."""
    from bot.radar.labs import LabRegistry

    labs = LabRegistry.builtin().labs()
    for index in range(count):
        lab = labs[index % len(labs)]
        seen = now - timedelta(days=730 * index / max(count, 1), hours=1)
        members = [f"{lab.namespace}/Adopt{index}-{size}B" for size in (7, 32, 235)]
        for member in members:
            hub.add(model_json(member, created_at=seen, params=32 * 10**9, downloads=3))
            store.models.put(
                ModelRecord(
                    id=member,
                    author=lab.namespace,
                    lab=lab.namespace,
                    first_seen=seen,
                    created_at=seen,
                    downloads=3,
                    downloads_all_time=10,
                    notable=True,
                    release_id=f"rel-{index}",
                )
            )
        store.releases.put(
            Release(
                id=f"rel-{index}",
                lab=lab.namespace,
                lab_name=lab.name,
                country=lab.country,
                region=lab.region,
                title=f"Adopt{index}",
                stem=f"adopt{index}",
                members=members,
                first_seen=seen,
                updated_at=seen,
            )
        )
    store.commit()


def main() -> None:
    options = parse_options(__doc__.splitlines()[0], configure)
    releases = 40 if options.quick else options.releases
    per_lab = 30 if options.quick else options.per_lab
    defaults = Settings(_env_file=None)
    start = datetime(2026, 11, 23, 0, 0, 30, tzinfo=UTC)
    clock = Clock(start - timedelta(days=1))
    hub = IndexedHubStandIn()
    from bot.radar.labs import LabRegistry

    registry = LabRegistry.builtin()
    namespaces = registry.poll_namespaces()
    listed = len(registry.namespaces_to_list())  # labs plus aliases that still publish
    hub.add_many(synthetic_hub_models(namespaces, per_lab, start))
    hub.start()
    store = MemoryStore()
    seed_releases(hub, store, releases, start - timedelta(days=1))
    settings = Settings(_env_file=None, hf_endpoint=hub.url, radar_db_path=Path("/dev/null"))
    client = HubClient(hub.url, timeout=10.0, max_retries=0, sleep=lambda _s: None)
    core = build_core(settings, store=store, hub=client, clock=clock)
    assert core.snapshots is not None
    try:
        # the day before: first poll (history) and its snapshot, so the day measured is a
        # normal one (series exist, labs bootstrapped)
        core.tracker.poll_cycle()
        core.snapshots.after_poll()
        clock.now = start
        hub.reset_log()
        cycles = 86_400 // defaults.poll_interval_seconds
        if options.quick:
            cycles = 4
        refresh = timedelta(seconds=defaults.refresh_interval_seconds)
        parts = {"poll": 0, "refresh": 0, "snapshot": 0}
        windows: dict[int, int] = {}
        snapshot_polls = 0
        for _cycle in range(cycles):
            before = hub.request_count
            core.tracker.poll_cycle()
            parts["poll"] += hub.request_count - before
            middle = hub.request_count
            if core.tracker.refresh_due(refresh):
                core.tracker.refresh_counts()
            parts["refresh"] += hub.request_count - middle
            middle = hub.request_count
            core.snapshots.after_poll()
            spent = hub.request_count - middle
            parts["snapshot"] += spent
            snapshot_polls += spent > 0
            window = int((clock.now - start).total_seconds()) // WINDOW_SECONDS
            windows[window] = windows.get(window, 0) + hub.request_count - before
            clock.now += timedelta(seconds=defaults.poll_interval_seconds)
        today = epoch_day(start)
        done = (core.store.state.get("adoption").value or {}).get("last_day") == today
        total = sum(parts.values())
        labs = len(namespaces)
        figures = {
            "labs": labs,
            "listed_namespaces": listed,
            "full_listing_rotation_cycles": max(
                1, defaults.full_listing_interval_seconds // defaults.poll_interval_seconds
            ),
            "releases": releases,
            "poll_interval_s": defaults.poll_interval_seconds,
            "refresh_interval_s": defaults.refresh_interval_seconds,
            "snapshot_budget_per_poll": core.snapshots.budget,
            "cycles": cycles,
            "requests_per_day": {**parts, "total": total},
            "snapshot_share": round(parts["snapshot"] / total, 4) if total else None,
            "snapshot_polls": snapshot_polls,
            "snapshot_day_complete": done,
            "worst_5min_window": max(windows.values(), default=0),
        }
        targets = {
            "worst_5min_window": Target(
                figures["worst_5min_window"], ANONYMOUS_WINDOW_LIMIT, "<=", " requests"
            ),
            "snapshot_day_complete": Target(int(done), 1, "==", ""),
        }
        notes = [
            f"{total} Hub requests a day: polls {parts['poll']}, refresh {parts['refresh']}, "
            f"adoption snapshot {parts['snapshot']} ({figures['snapshot_share']:.1%}) over "
            f"{snapshot_polls} polls",
        ]
        report("hub_budget", quick=options.quick, figures=figures, targets=targets, notes=notes)
    finally:
        core.close()
        hub.stop()


if __name__ == "__main__":
    run_main(main)
