"""Short lab listings in quiet cycles, longer ones when a launch may have been cut short.

A poll lists each lab's newest `list_limit` repos. These tests publish launches larger
than that, created days before they went public (so they interleave with known repos),
and check what a user would see: every new repo of the launch is found and judged, old
repos the first poll never saw stay silent history, and a quiet cycle costs one request
a lab. The real `HubClient` talks HTTP to the Hub stand-in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.hub.client import HubClient
from bot.radar.tracker import LAB_STATE
from bot.runtime import Core, build_core
from bot.store import MemoryStore
from tests.conftest import ManualClock, settings_for, track_only
from tests.doubles.hub_fixtures import B, model_json
from tests.doubles.hub_server import HubStandIn

LAB = "Qwen"


@pytest.fixture
def core(hub: HubStandIn, tmp_path: Path, clock: ManualClock) -> Iterator[Core]:
    client = HubClient(hub.url, timeout=2.0, max_retries=1, sleep=lambda _s: None)
    core = build_core(settings_for(hub.url, tmp_path), store=MemoryStore(), hub=client, clock=clock)
    track_only(core.registry, core.store, {LAB})
    yield core
    core.close()


def repo(name: str, created_at: datetime) -> dict:
    return model_json(f"{LAB}/{name}", created_at=created_at, params=8 * B, license="apache-2.0")


def lab_listings(hub: HubStandIn) -> list[str]:
    """The `limit` of each listing request for the lab, in order."""
    return [
        r.query["limit"][0]
        for r in hub.requests
        if r.path == "/api/models" and r.query.get("author") == [LAB]
    ]


def settle(core: Core, hub: HubStandIn, clock: ManualClock) -> None:
    clock.advance(minutes=5)
    hub.reset_log()


def test_quiet_cycle_lists_twenty_repos_in_one_request(
    hub: HubStandIn, core: Core, clock: ManualClock, now: datetime
) -> None:
    hub.add_many(repo(f"Old-{i}", now - timedelta(days=10 + i)) for i in range(60))
    core.tracker.poll_cycle()
    settle(core, hub, clock)

    report = core.tracker.poll_cycle()

    assert report.events == [] and report.new_repos == 0
    assert lab_listings(hub) == ["20"]
    assert hub.request_count == 2  # the lab and the trending list


def test_launch_larger_than_the_listing_is_found_whole(
    hub: HubStandIn, core: Core, clock: ManualClock, now: datetime
) -> None:
    hub.add_many(repo(f"Old-{i}", now - timedelta(days=10 + i)) for i in range(60))
    core.tracker.poll_cycle()
    settle(core, hub, clock)
    launch = [f"{LAB}/Qwen9-{i}B" for i in range(1, 41)]
    hub.add_many(
        repo(name.split("/")[1], clock() - timedelta(minutes=i)) for i, name in enumerate(launch)
    )

    report = core.tracker.poll_cycle()

    assert report.new_repos == 40
    assert all(core.store.models.get(name.lower()) is not None for name in launch)
    assert lab_listings(hub) == ["20", "100"]
    announced = {m for event in report.events for m in event.new_members}
    assert announced == set(launch)
    settle(core, hub, clock)
    core.tracker.poll_cycle()
    assert lab_listings(hub) == ["20"]  # quiet again: back to one short listing


def test_backdated_launch_interleaved_with_known_repos_is_found(
    hub: HubStandIn, core: Core, clock: ManualClock, now: datetime
) -> None:
    """Repos created privately over the last days and made public at once sit between
    repos the radar knows; no listing of only new repos ever shows up."""
    hub.add_many(repo(f"Old-{i}", now - timedelta(hours=10 * i + 5)) for i in range(60))
    core.tracker.poll_cycle()
    settle(core, hub, clock)
    # 15 new repos, each created between two known ones among the newest 20.
    launch = [f"{LAB}/Qwen9-{i}B" for i in range(15)]
    hub.add_many(
        repo(name.split("/")[1], now - timedelta(hours=10 * i + 10))
        for i, name in enumerate(launch)
    )

    report = core.tracker.poll_cycle()

    assert all(core.store.models.get(name.lower()) is not None for name in launch)
    assert {m for event in report.events for m in event.new_members} == set(launch)
    assert lab_listings(hub) == ["20", "100"]


def test_first_look_lists_the_whole_lab_so_old_repos_stay_silent_history(
    hub: HubStandIn, core: Core, clock: ManualClock, now: datetime
) -> None:
    """The first poll of a lab lists it in full (page by page): everything public then is
    history, so a later launch's longer listing reveals no old repo as news."""
    old = [f"{LAB}/Old-{i}" for i in range(1200)]
    hub.add_many(
        repo(name.split("/")[1], now - timedelta(days=10 + i)) for i, name in enumerate(old)
    )
    first = core.tracker.poll_cycle()
    assert first.events == []
    assert all(core.store.models.get(name.lower()) is not None for name in old)
    assert lab_listings(hub) == ["500", "500", "500"]  # three pages
    settle(core, hub, clock)
    launch = [f"{LAB}/Qwen9-{i}B" for i in range(25)]
    hub.add_many(
        repo(name.split("/")[1], clock() - timedelta(minutes=i)) for i, name in enumerate(launch)
    )

    report = core.tracker.poll_cycle()

    announced = {m for event in report.events for m in event.new_members}
    assert announced == set(launch)
    assert report.new_repos == 25
    assert lab_listings(hub) == ["20", "100"]
    for name in old[:100]:
        history = core.store.models.get(name.lower())
        assert history is not None and history.first_seen == history.created_at


def test_database_from_before_full_listings_is_listed_in_full_once(
    hub: HubStandIn, core: Core, clock: ManualClock, now: datetime
) -> None:
    """A database written by an older version knew only each lab's newest repos and has
    no `complete` flag: its next poll lists the lab in full, records the repos created
    before its last poll as history, and still announces a launch made since."""
    hub.add_many(repo(f"Old-{i}", now - timedelta(days=10 + i)) for i in range(60))
    core.tracker.poll_cycle()
    state = core.store.state.get(LAB_STATE)
    assert state is not None
    core.store.state.put(
        state.model_copy(
            update={
                "value": {k: {"last_success": v["last_success"]} for k, v in state.value.items()}
            }
        )
    )
    for name in [f"{LAB}/Old-{i}" for i in range(20, 60)]:  # the old version never saw these
        core.store.models.delete(name.lower())
    settle(core, hub, clock)
    launch = [f"{LAB}/Qwen9-{i}B" for i in range(1, 31)]
    hub.add_many(
        repo(name.split("/")[1], clock() - timedelta(seconds=i)) for i, name in enumerate(launch)
    )

    report = core.tracker.poll_cycle()

    assert {m for event in report.events for m in event.new_members} == set(launch)
    assert core.store.models.get(f"{LAB}/Old-59".lower()) is not None  # history, silently
    assert lab_listings(hub) == ["500"]
    settle(core, hub, clock)
    assert core.tracker.poll_cycle().events == []
    assert lab_listings(hub) == ["20"]  # complete now: short listings again


def test_database_from_before_full_listings_announces_a_new_repo_among_the_newest(
    hub: HubStandIn, core: Core, clock: ManualClock, now: datetime
) -> None:
    """An older database's first full listing files as history only what its old
    newest-repos listing could not have shown: a build created minutes before the last
    poll, appearing now among the lab's newest repos, is still announced."""
    hub.add_many(repo(f"Old-{i}", now - timedelta(days=10 + i)) for i in range(60))
    core.tracker.poll_cycle()
    state = core.store.state.get(LAB_STATE)
    assert state is not None
    core.store.state.put(
        state.model_copy(
            update={
                "value": {k: {"last_success": v["last_success"]} for k, v in state.value.items()}
            }
        )
    )
    settle(core, hub, clock)
    late = f"{LAB}/Qwen9-8B-Instruct-FP8"
    hub.add(repo(late.split("/")[1], clock() - timedelta(minutes=10)))  # before the last poll

    report = core.tracker.poll_cycle()

    assert late in {m for event in report.events for m in event.new_members}
    assert lab_listings(hub) == ["500"]
