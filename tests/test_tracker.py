"""The poll cycle end to end: the real `HubClient` over HTTP to the Hub stand-in, the real
stores, `build_core` wiring, and a clock the tests move by hand.

What a user would see is asserted: which releases get announced (event kinds, titles,
members, reasons), what the radar remembers, and how many Hub requests a cycle costs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.hub.client import HubClient
from bot.radar.models import ReleaseEvent, Subscription
from bot.radar.ports import Store
from bot.radar.tracker import POLL_STATE, CycleReport
from bot.runtime import Core, build_core
from bot.store import MemoryStore, open_store
from tests.conftest import NOW, ManualClock, settings_for, track_only
from tests.doubles.hub_fixtures import (
    B,
    background,
    breakout,
    derivative_flood,
    family_launch,
    model_json,
    private_turning_public,
    renamed_namespace,
    tracked_lab_noise,
)
from tests.doubles.hub_server import HubStandIn

FAMILY_IDS = sorted(record["id"] for record in family_launch(NOW))
QWEN_LISTING = "author=Qwen&"
# The namespaces the scenarios publish under. Most tests poll only these to stay fast;
# the cost tests keep the whole built-in list.
SCENARIO_LABS = frozenset(
    {
        "Qwen", "moonshotai", "zai-org", "google", "openai", "deepseek-ai", "meta-llama",
        "mistralai", "nvidia", "allenai",
    }
)  # fmt: skip

BuildCore = Callable[..., Core]


@pytest.fixture
def build(hub: HubStandIn, tmp_path: Path, clock: ManualClock) -> Iterator[BuildCore]:
    """Cores wired by `build_core` around a client with no real backoff; all closed after."""
    opened: list[tuple[Core, bool]] = []

    def make(
        store: Store | None = None,
        *,
        timeout: float = 2.0,
        close_store: bool = True,
        every_lab: bool = False,
    ) -> Core:
        client = HubClient(hub.url, timeout=timeout, max_retries=1, sleep=lambda _s: None)
        core = build_core(
            settings_for(hub.url, tmp_path),
            store=store if store is not None else MemoryStore(),
            hub=client,
            clock=clock,
        )
        opened.append((core, close_store))
        if not every_lab:
            track_only(core.registry, core.store, SCENARIO_LABS)
        return core

    yield make
    for core, close_store in opened:
        if close_store:
            core.close()
        else:
            core.hub.close()  # type: ignore[attr-defined]


def lab_count(core: Core) -> int:
    """Namespaces a cycle lists: the tracked labs and their alias namespaces."""
    return len(core.registry.namespaces_to_list())


def detail_paths(hub: HubStandIn) -> list[str]:
    """The repos the cycle asked details of (everything that is not a listing)."""
    return sorted(
        r.path.removeprefix("/api/models/") for r in hub.requests if r.path != "/api/models"
    )


def summary(events: list[ReleaseEvent]) -> list[tuple[str, str, list[str]]]:
    return [(e.kind, e.release.title, sorted(e.new_members)) for e in events]


def bootstrap(core: Core, hub: HubStandIn, clock: ManualClock) -> CycleReport:
    """The first cycle, then the clock moves on by one poll interval."""
    report = core.tracker.poll_cycle()
    assert report.events == []
    clock.advance(minutes=5)
    hub.reset_log()
    return report


def family_members(*suffixes: str) -> list[str]:
    return sorted(f"Qwen/Qwen3.7-{suffix}" for suffix in suffixes)


# ----------------------------------------------------------------------- first runs


def test_first_cycle_records_existing_repos_silently(
    hub: HubStandIn, build: BuildCore, now: datetime
) -> None:
    hub.add_many(background(now, 20))
    hub.add_many(renamed_namespace(now))
    core = build(every_lab=True)

    report = core.tracker.poll_cycle()

    assert report.status == "ok"
    assert report.events == []
    assert report.detail_calls == 0
    assert sorted(report.bootstrapped) == sorted(core.registry.namespaces_to_list())
    assert hub.request_count == lab_count(core) + 1
    assert len(core.store.models) == 22
    history = core.store.models.get("deepseek-ai/deepseek-v3.1")
    assert history is not None and history.notable
    assert history.first_seen == history.created_at  # dated by the Hub, not by the radar
    # The legacy namespace resolves to the lab it was renamed to.
    legacy = core.store.models.get("thudm/glm-4-9b-chat")
    assert legacy is not None and legacy.lab == "zai-org"


def test_family_launch_is_one_release_and_derivatives_cost_no_detail_calls(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, now: datetime
) -> None:
    hub.add_many(background(now, 20))
    core = build(every_lab=True)
    assert lab_count(core) > 60
    bootstrap(core, hub, clock)
    family = family_launch(clock())
    flood = derivative_flood(
        clock(), family_members("122B-A10B", "35B-A3B", "27B-Instruct", "8B-Instruct")
    )
    assert len(flood) >= 40
    hub.add_many(family)
    hub.add_many(flood)
    hub.add_many(tracked_lab_noise(clock()))

    report = core.tracker.poll_cycle()

    assert report.status == "ok"
    assert summary(report.events) == [("new_release", "Qwen3.7", FAMILY_IDS)]
    release = report.events[0].release
    assert (release.lab, release.lab_name, release.country) == ("Qwen", "Qwen", "CN")
    assert release.reasons[:2] == ["tracked lab Qwen (CN)", "tier-1 lab"]
    assert len(release.members) == 13
    # Detail calls only for the family; listings are one a lab plus the trending one.
    assert detail_paths(hub) == FAMILY_IDS
    assert hub.request_count == lab_count(core) + 1 + 13
    # Derivatives and noise are remembered with the reason they were passed over.
    derivatives = [core.store.models.get(r["id"].lower()) for r in flood]
    assert all(d is not None and not d.notable and d.release_id is None for d in derivatives)
    gguf = core.store.models.get("unsloth/qwen3.7-122b-a10b-gguf")
    assert gguf is not None
    assert gguf.reasons == ["third-party quantization of Qwen/Qwen3.7-122B-A10B"]
    finetune = core.store.models.get("huihui-ai/qwen3.7-8b-instruct-abliterated")
    assert finetune is not None
    assert finetune.reasons == ["derivative of Qwen/Qwen3.7-8B-Instruct (fine-tune)"]
    adapter = core.store.models.get("kalomaze-lab/qwen3.7-27b-instruct-medical-lora")
    assert adapter is not None
    assert adapter.reasons == ["LoRA/adapter, not full model weights"]
    noise_reasons = {
        repo_id: core.store.models.get(repo_id.lower()).reasons  # type: ignore[union-attr]
        for repo_id in (
            "Qwen/Qwen3.7-Guard-4B",
            "Qwen/Qwen3.7-Embedding-4B",
            "Qwen/Qwen3.7-Reranker-4B",
            "nvidia/tiny-random-test-model",
        )
    }
    assert noise_reasons == {
        "Qwen/Qwen3.7-Guard-4B": ["guard/safety model"],
        "Qwen/Qwen3.7-Embedding-4B": ["embedding model"],
        "Qwen/Qwen3.7-Reranker-4B": ["reranker model"],
        "nvidia/tiny-random-test-model": ["test/dummy repo"],
    }
    assert [r.title for r in core.store.releases.values() if r.stem == "qwen3.7"] == ["Qwen3.7"]

    # Steady state: nothing new, one request a lab plus trending, no detail calls.
    clock.advance(minutes=5)
    hub.reset_log()
    quiet = core.tracker.poll_cycle()
    assert quiet.events == []
    assert quiet.new_repos == 0
    assert hub.request_count == lab_count(core) + 1
    assert detail_paths(hub) == []


def test_members_published_later_join_the_existing_release(
    hub: HubStandIn, build: BuildCore, clock: ManualClock
) -> None:
    core = build()
    bootstrap(core, hub, clock)
    family = family_launch(clock())
    late_suffixes = ("122B-A10B-FP8", "35B-A3B-GGUF", "27B-Thinking")
    late_ids = family_members(*late_suffixes)
    hub.add_many(r for r in family if r["id"] not in late_ids)

    first = core.tracker.poll_cycle()
    assert [e.kind for e in first.events] == ["new_release"]
    assert len(first.events[0].release.members) == 10
    release_id = first.events[0].release.id

    clock.advance(hours=20)
    hub.add_many(r for r in family if r["id"] in late_ids)
    later = core.tracker.poll_cycle()

    assert summary(later.events) == [("release_updated", "Qwen3.7", late_ids)]
    updated = later.events[0].release
    assert updated.id == release_id
    assert sorted(updated.members) == FAMILY_IDS
    assert updated.updated_at == clock()
    assert len(core.store.releases) == 1


def test_repo_made_public_days_after_creation_is_announced_when_first_seen(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, now: datetime
) -> None:
    hub.add_many(private_turning_public(now))
    core = build()
    bootstrap(core, hub, clock)
    assert core.store.models.get("moonshotai/kimi-k3-instruct") is None

    clock.advance(days=1)
    hub.set_private("moonshotai/Kimi-K3-Instruct", False)
    report = core.tracker.poll_cycle()

    assert summary(report.events) == [("new_release", "Kimi-K3", ["moonshotai/Kimi-K3-Instruct"])]
    release = report.events[0].release
    assert release.first_seen == clock()  # when the radar saw it, not createdAt (11 days ago)
    assert "flagship family Kimi-K3" in release.reasons
    assert "1.1T params" in release.reasons

    clock.advance(hours=3)
    hub.set_private("moonshotai/Kimi-K3-Base", False)
    joined = core.tracker.poll_cycle()
    assert summary(joined.events) == [("release_updated", "Kimi-K3", ["moonshotai/Kimi-K3-Base"])]
    assert joined.events[0].release.id == release.id


def test_breakout_from_untracked_namespace_is_one_release_and_quiet_originals_none(
    hub: HubStandIn, build: BuildCore, clock: ManualClock
) -> None:
    core = build()
    bootstrap(core, hub, clock)
    hub.add_many(breakout(clock()))
    hub.add(model_json("quiet-lab/Quiet-LM-7B", created_at=clock(), params=7 * B, likes=4))
    hub.add(
        model_json(
            "oldie-lab/Old-Chat-7B",
            created_at=clock().replace(month=7),
            params=7 * B,
            likes=900,
            trending=150,
        )
    )

    report = core.tracker.poll_cycle()

    assert summary(report.events) == [("new_release", "Lumen-R1", ["lumen-research/Lumen-R1-32B"])]
    release = report.events[0].release
    assert release.breakout
    assert release.reasons == [
        "breakout from untracked namespace lumen-research",
        "original model, not a derivative",
        "trending: 2.4k likes in 1 h, trending score 980",  # dated by first sight
        "32B params",
    ]
    # Only the breakout was worth a detail call: the old trending repo is judged by age
    # from the listing alone.
    assert detail_paths(hub) == ["lumen-research/Lumen-R1-32B"]
    quiet = core.store.models.get("quiet-lab/quiet-lm-7b")
    assert quiet is not None and not quiet.notable
    assert "untracked namespace quiet-lab and not trending" in quiet.reasons[0]
    old = core.store.models.get("oldie-lab/old-chat-7b")
    assert old is not None
    assert old.reasons == [
        "created 62 days ago, long before it was first seen: an old model trending again, "
        "not a launch"
    ]

    clock.advance(minutes=5)
    assert core.tracker.poll_cycle().events == []


def test_renamed_namespace_is_one_lab_and_its_old_repos_are_not_news(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, now: datetime
) -> None:
    legacy_repo, fresh = renamed_namespace(clock())
    hub.add_many(background(now, 20))
    hub.add(legacy_repo)  # public under the legacy THUDM name since long before
    core = build()
    bootstrap(core, hub, clock)
    hub.add(fresh)

    report = core.tracker.poll_cycle()

    assert summary(report.events) == [("new_release", "GLM-5.3-Air", ["zai-org/GLM-5.3-Air"])]
    release = report.events[0].release
    assert (release.lab, release.lab_name) == ("zai-org", "Z.ai")
    assert detail_paths(hub) == ["zai-org/GLM-5.3-Air"]
    legacy = core.store.models.get("thudm/glm-4-9b-chat")
    assert legacy is not None and legacy.lab == "zai-org"
    assert legacy.first_seen == legacy.created_at  # history, not news
    zai_releases = {r.lab for r in core.store.releases.values() if r.lab_name == "Z.ai"}
    assert zai_releases == {"zai-org"}


def test_alias_namespace_that_still_publishes_is_listed_and_alerts_as_its_lab(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, now: datetime
) -> None:
    """An alias says "same lab", not "stopped publishing": a new repo under THUDM, off
    every trending list, is found by THUDM's own listing and alerted as Z.ai's."""
    core = build()
    assert "THUDM" in core.registry.namespaces_to_list()
    bootstrap(core, hub, clock)
    hub.add(model_json("THUDM/GLM-4.1V-9B-Base", created_at=clock(), params=9 * B, license="mit"))

    report = core.tracker.poll_cycle()

    assert summary(report.events) == [("new_release", "GLM-4.1V", ["THUDM/GLM-4.1V-9B-Base"])]
    assert (report.events[0].release.lab, report.events[0].release.lab_name) == ("zai-org", "Z.ai")


def test_lab_tracked_later_is_bootstrapped_silently_then_alerts(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, now: datetime
) -> None:
    hub.add(model_json("acme-ai/Acme-LM-70B", created_at=now.replace(month=3), params=70 * B))
    core = build()
    bootstrap(core, hub, clock)
    hub.add(model_json("acme-ai/Acme-LM-2-8B", created_at=clock(), params=8 * B, likes=3))
    assert core.tracker.poll_cycle().events == []  # untracked and not trending

    core.registry.track(core.store, "acme-ai", "France")
    core.store.commit()
    clock.advance(minutes=5)
    hub.reset_log()
    first = core.tracker.poll_cycle()

    assert first.bootstrapped == ["acme-ai"]
    assert first.events == []
    assert hub.request_count == lab_count(core) + 1
    assert core.store.models.get("acme-ai/acme-lm-2-8b").lab == "acme-ai"  # type: ignore[union-attr]

    clock.advance(hours=1)
    hub.add(model_json("acme-ai/Acme-LM-3-32B", created_at=clock(), params=32 * B))
    report = core.tracker.poll_cycle()
    assert summary(report.events) == [("new_release", "Acme-LM-3", ["acme-ai/Acme-LM-3-32B"])]
    release = report.events[0].release
    assert (release.country, release.region.value) == ("FR", "eu")  # type: ignore[union-attr]


def test_updates_to_known_repos_refresh_facts_and_never_make_a_release(
    hub: HubStandIn, build: BuildCore, clock: ManualClock
) -> None:
    core = build()
    bootstrap(core, hub, clock)
    hub.add_many(family_launch(clock()))
    assert len(core.tracker.poll_cycle().events) == 1

    clock.advance(hours=2)
    hub.update("Qwen/Qwen3.7-8B-Instruct", sha="f" * 40, downloads=987_654, likes=4_321)
    report = core.tracker.poll_cycle()

    assert report.events == []
    assert report.new_repos == 0
    assert report.updated_repos == 1
    refreshed = core.store.models.get("qwen/qwen3.7-8b-instruct")
    assert refreshed is not None
    assert (refreshed.sha, refreshed.downloads, refreshed.likes) == ("f" * 40, 987_654, 4_321)
    assert refreshed.release_id is not None and refreshed.notable
    assert len(core.store.releases) == 1


def test_refresh_counts_costs_one_request_a_lab_and_leaves_unseen_repos_to_the_poll(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, now: datetime
) -> None:
    """A repo the count refresh meets first, created long ago but public only now, is news:
    the refresh leaves it to the poll, whose full rotation finds and alerts it."""
    hub.add_many(background(now, 20))
    core = build()
    core.tracker.list_limit = 2  # google's two gemma-3 repos fill its newest-first listing
    bootstrap(core, hub, clock)
    hub.update("openai/gpt-oss-20b", downloads=5_000_000, likes=9_000)
    hub.add(
        model_json(
            "google/gemma-2-9b-it",
            created_at=now.replace(year=2024),
            params=9 * B,
            license="gemma",
            downloads=3_000_000,
        )
    )

    changed = core.tracker.refresh_counts()

    assert changed == 1
    assert hub.request_count == lab_count(core)
    assert {r.query["sort"][0] for r in hub.requests} == {"downloads"}
    refreshed = core.store.models.get("openai/gpt-oss-20b")
    assert refreshed is not None and refreshed.downloads == 5_000_000
    assert core.store.models.get("google/gemma-2-9b-it") is None
    state = core.store.state.get(POLL_STATE)
    assert state is not None and state.value["last_refresh_at"] == clock().isoformat()
    seen_at = None
    for _ in range(core.tracker.rotation_cycles() * 2 + 1):  # at most one rotation late
        clock.advance(minutes=5)
        events = core.tracker.poll_cycle().events
        if events:
            seen_at = clock()
            break
    assert summary(events) == [("new_release", "gemma-2", ["google/gemma-2-9b-it"])]
    record = core.store.models.get("google/gemma-2-9b-it")
    assert record is not None and record.first_seen == seen_at  # dated by first sight


def test_a_release_published_between_a_poll_and_the_count_refresh_is_still_announced(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, now: datetime
) -> None:
    """The refresh lists labs by downloads; a hot new family can show up there first."""
    hub.add_many(background(now, 20))
    core = build()
    bootstrap(core, hub, clock)
    hub.add_many(family_launch(clock()))

    core.tracker.refresh_counts()

    assert core.store.models.get(FAMILY_IDS[0].lower()) is None, "left for the poll to judge"
    report = core.tracker.poll_cycle()
    assert summary(report.events) == [("new_release", "Qwen3.7", FAMILY_IDS)]


# --------------------------------------------------------------------------- faults

# (fault, how many attempts it costs: the client retries once what may be transient)
LISTING_FAULTS = [
    ("500", 2),
    ("503", 2),
    ("429", 2),
    ("timeout", 2),
    ("malformed", 1),
    ("truncated", 1),
]


@pytest.mark.parametrize(("fault", "attempts"), LISTING_FAULTS)
def test_failed_lab_listing_degrades_the_cycle_and_is_caught_up_next_time(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, fault: str, attempts: int
) -> None:
    core = build(timeout=0.25)
    bootstrap(core, hub, clock)
    hub.add_many(family_launch(clock()))
    hub.add(renamed_namespace(clock())[1])
    hub.inject(fault, times=attempts, path_contains=QWEN_LISTING, retry_after=1)

    degraded = core.tracker.poll_cycle()

    assert degraded.status == "degraded"
    assert list(degraded.errors) == ["Qwen"]
    assert "/api/models" in degraded.errors["Qwen"]
    # The other labs were still processed in the same cycle.
    assert summary(degraded.events) == [("new_release", "GLM-5.3-Air", ["zai-org/GLM-5.3-Air"])]
    assert core.store.models.get("qwen/qwen3.7-8b-instruct") is None

    clock.advance(minutes=5)
    recovered = core.tracker.poll_cycle()
    assert recovered.status == "ok"
    assert summary(recovered.events) == [("new_release", "Qwen3.7", FAMILY_IDS)]
    clock.advance(minutes=5)
    assert core.tracker.poll_cycle().events == []


def test_a_hub_outage_is_one_warning_a_cycle_not_one_per_lab_and_retry(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """What an operator reads while the Hub is down: one line a cycle naming how many
    sources failed and why, not a screenful of retries for each tracked lab."""
    core = build()
    bootstrap(core, hub, clock)
    hub.set_failure_rate(1.0, kinds=("503",))
    clock.advance(minutes=5)
    with caplog.at_level(logging.INFO, logger="bot"):
        report = core.tracker.poll_cycle()
        core.tracker.refresh_counts()

    assert report.status == "failed" and len(report.errors) >= 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, warnings
    sources = len(report.errors)
    assert warnings[0].startswith(f"Hub listings failed for {sources} of {sources} sources (")
    assert "HTTP 503" in warnings[0] and "listed again next time" in warnings[0]
    assert warnings[1].startswith("The count refresh's listings failed for ")


def test_mistyped_lab_listing_loses_nothing_and_invents_nothing(
    hub: HubStandIn, build: BuildCore, clock: ManualClock
) -> None:
    """The client drops unusable items and blanks mistyped fields, so the cycle is ok; the
    detail call restores the facts the listing spoiled."""
    core = build()
    bootstrap(core, hub, clock)
    hub.add_many(family_launch(clock()))
    hub.inject("wrong-type", times=1, path_contains=QWEN_LISTING)

    report = core.tracker.poll_cycle()

    assert report.status == "ok"
    assert summary(report.events) == [("new_release", "Qwen3.7", FAMILY_IDS)]
    spoiled = core.store.models.get("qwen/qwen3.7-8b-instruct-gguf")  # newest = first item
    assert spoiled is not None
    assert (spoiled.downloads, spoiled.params_total) == (4_000, 8 * B)


def test_failed_detail_call_is_retried_next_cycle_without_duplicates(
    hub: HubStandIn, build: BuildCore, clock: ManualClock
) -> None:
    core = build()
    bootstrap(core, hub, clock)
    hub.add_many(family_launch(clock()))
    hub.add_many(breakout(clock()))
    hub.inject("503", times=2, path_contains="/api/models/Qwen/Qwen3.7-27B-Thinking")
    hub.inject("500", times=2, path_contains="/api/models/lumen-research/")

    first = core.tracker.poll_cycle()

    thinking = "Qwen/Qwen3.7-27B-Thinking"
    assert summary(first.events) == [
        ("new_release", "Qwen3.7", [m for m in FAMILY_IDS if m != thinking])
    ]
    assert core.store.models.get(thinking.lower()) is None
    assert core.store.models.get("lumen-research/lumen-r1-32b") is None
    # A failed detail call degrades the cycle, never fails it: no source failed.
    assert first.status == "degraded" and first.source_errors == {}
    assert sorted(first.detail_errors) == ["lumen-research/lumen-r1-32b", thinking.lower()]
    assert f"detail {thinking.lower()}" in first.errors

    clock.advance(minutes=5)
    second = core.tracker.poll_cycle()
    assert sorted(summary(second.events)) == [
        ("new_release", "Lumen-R1", ["lumen-research/Lumen-R1-32B"]),
        ("release_updated", "Qwen3.7", [thinking]),
    ]
    clock.advance(minutes=5)
    assert core.tracker.poll_cycle().events == []


def test_every_request_failing_is_a_failed_cycle_that_loses_nothing(
    hub: HubStandIn, build: BuildCore, clock: ManualClock
) -> None:
    core = build()
    bootstrap(core, hub, clock)
    known = len(core.store.models)
    last_success = core.store.state.get(POLL_STATE).value["last_success_at"]  # type: ignore[union-attr]
    hub.add_many(family_launch(clock()))
    hub.set_failure_rate(1.0, kinds=("500", "503"))

    failed = core.tracker.poll_cycle()

    assert failed.status == "failed"
    assert len(failed.errors) == lab_count(core) + 1
    assert failed.events == []
    assert len(core.store.models) == known
    state = core.store.state.get(POLL_STATE).value  # type: ignore[union-attr]
    assert state["status"] == "failed"
    assert state["last_poll_at"] == clock().isoformat()
    assert state["last_success_at"] == last_success

    hub.clear_faults()
    clock.advance(minutes=5)
    recovered = core.tracker.poll_cycle()
    assert summary(recovered.events) == [("new_release", "Qwen3.7", FAMILY_IDS)]


def test_poll_state_records_status_times_and_errors(
    hub: HubStandIn, build: BuildCore, clock: ManualClock
) -> None:
    core = build()
    core.tracker.poll_cycle()
    ok_at = clock().isoformat()

    def state() -> dict[str, Any]:
        entry = core.store.state.get(POLL_STATE)
        assert entry is not None
        return entry.value

    assert state()["status"] == "ok"
    assert state()["last_poll_at"] == ok_at
    assert state()["last_success_at"] == ok_at
    assert state()["errors"] == {}

    clock.advance(minutes=5)
    hub.inject("500", times=2, path_contains="author=google&")
    core.tracker.poll_cycle()

    # One lab failing is degraded, and still a successful poll for /healthz.
    degraded_at = clock().isoformat()
    assert state()["status"] == "degraded"
    assert state()["last_poll_at"] == degraded_at
    assert state()["last_success_at"] == degraded_at
    assert list(state()["errors"]) == ["google"]
    assert "HTTP 500" in state()["errors"]["google"]

    clock.advance(minutes=5)
    hub.set_failure_rate(1.0, ["500"], seed=1)
    core.tracker.poll_cycle()
    hub.set_failure_rate(0.0, ["500"], seed=1)

    assert state()["status"] == "failed"
    assert state()["last_poll_at"] == clock().isoformat()
    assert state()["last_success_at"] == degraded_at


# ------------------------------------------------------------------ crash and restart


def test_crash_before_commit_stores_nothing_and_the_release_comes_back_once(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, tmp_path: Path
) -> None:
    db = tmp_path / "radar.json"
    store = open_store(db)
    store.subscriptions.put(Subscription(id="everything", channel_id="C0RADAR"))
    store.commit()
    crashing = build(store, close_store=False)
    bootstrap(crashing, hub, clock)
    hub.add_many(family_launch(clock()))

    def power_cut(events: list[ReleaseEvent]) -> None:
        raise RuntimeError("process killed while enqueueing")

    crashing.tracker.on_events = power_cut
    with pytest.raises(RuntimeError, match="process killed"):
        crashing.tracker.poll_cycle()

    reopened = open_store(db)
    assert reopened.models.get("qwen/qwen3.7-8b-instruct") is None
    assert len(reopened.deliveries) == 0
    restarted = build(reopened)
    clock.advance(minutes=5)
    report = restarted.tracker.poll_cycle()

    assert summary(report.events) == [("new_release", "Qwen3.7", FAMILY_IDS)]
    assert [d.key for d in reopened.deliveries.values()] == [
        f"C0RADAR|{report.events[0].release.id}"
    ]
    clock.advance(minutes=5)
    assert restarted.tracker.poll_cycle().events == []


def test_restart_after_downtime_catches_up_without_duplicates(
    hub: HubStandIn, build: BuildCore, clock: ManualClock, tmp_path: Path, now: datetime
) -> None:
    db = tmp_path / "radar.json"
    hub.add_many(background(now, 20))
    before = build(open_store(db))
    bootstrap(before, hub, clock)
    hub.add_many(family_launch(clock()))
    announced = before.tracker.poll_cycle()
    assert [e.kind for e in announced.events] == ["new_release"]
    before.close()

    clock.advance(days=2)  # the bot was down; the Hub moved on
    hub.add_many(breakout(clock()))
    hub.add(renamed_namespace(clock())[1])
    hub.add(
        model_json(
            "Qwen/Qwen3.7-27B-Instruct-FP8",
            created_at=clock(),
            params=27 * B,
            base_model="Qwen/Qwen3.7-27B-Instruct",
            relation="quantized",
        )
    )
    after = build(open_store(db))
    report = after.tracker.poll_cycle()

    assert sorted(summary(report.events)) == [
        ("new_release", "GLM-5.3-Air", ["zai-org/GLM-5.3-Air"]),
        ("new_release", "Lumen-R1", ["lumen-research/Lumen-R1-32B"]),
        ("release_updated", "Qwen3.7", ["Qwen/Qwen3.7-27B-Instruct-FP8"]),
    ]
    release_ids = [e.release.id for e in report.events]
    assert len(set(release_ids)) == len(release_ids)
    assert announced.events[0].release.id in release_ids  # updated, not announced again
    clock.advance(minutes=5)
    assert after.tracker.poll_cycle().events == []
