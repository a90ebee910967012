"""`/model` and `/radar latest` answers from `RadarService`, over the real wiring.

The store is filled by real poll cycles against the Hub stand-in; lookups that miss go to
the same stand-in over HTTP. What is asserted is what a user would read: which model was
found, its release and siblings, alternatives, and errors in words.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.hub.client import HubClient
from bot.radar.models import Filters, Region
from bot.runtime import Core, build_core
from bot.store import MemoryStore
from tests.conftest import ManualClock, settings_for, track_only
from tests.doubles.hub_fixtures import (
    B,
    background,
    breakout,
    family_launch,
    model_json,
    renamed_namespace,
)
from tests.doubles.hub_server import HubStandIn

HISTORY = 20  # older releases across the labs below (one round: no "-r1" name suffixes)
HISTORY_LABS = frozenset(
    {
        "Qwen", "moonshotai", "zai-org", "google", "openai", "deepseek-ai", "meta-llama",
        "mistralai", "nvidia", "allenai",
    }
)  # fmt: skip


@pytest.fixture
def core(hub: HubStandIn, tmp_path: Path, clock: ManualClock, now: datetime) -> Iterator[Core]:
    """A radar that bootstrapped on older releases, then saw Qwen3.7 and, later, Lumen-R1.

    GLM-5.3-Air is published on the Hub after the last poll: only a Hub lookup can see it.
    """
    hub.add_many(background(now, HISTORY))
    client = HubClient(hub.url, timeout=2.0, max_retries=1, sleep=lambda _s: None)
    radar = build_core(
        settings_for(hub.url, tmp_path), store=MemoryStore(), hub=client, clock=clock
    )
    track_only(radar.registry, radar.store, HISTORY_LABS)
    hub.add(renamed_namespace(clock())[0])  # public under THUDM since long before
    radar.tracker.poll_cycle()
    clock.advance(minutes=5)
    hub.add_many(family_launch(clock()))
    radar.tracker.poll_cycle()
    clock.advance(hours=2)
    hub.add_many(breakout(clock()))
    radar.tracker.poll_cycle()
    clock.advance(hours=1)
    hub.add(renamed_namespace(clock())[1])
    hub.reset_log()
    yield radar
    radar.close()


def stored_ids(core: Core) -> set[str]:
    return {record.id for record in core.store.models.values()}


# -------------------------------------------------------------------------- lookups


def test_exact_repo_id_in_any_case_is_answered_from_the_store(core: Core, hub: HubStandIn) -> None:
    lookup = core.service.lookup_model("qwen/QWEN3.7-122b-a10b")

    assert lookup.found and not lookup.from_hub
    assert lookup.record is not None and lookup.record.id == "Qwen/Qwen3.7-122B-A10B"
    assert lookup.lab is not None and lookup.lab.name == "Qwen"
    assert lookup.release is not None and lookup.release.title == "Qwen3.7"
    assert len(lookup.siblings) == 12
    assert "Qwen/Qwen3.7-122B-A10B-FP8" in {s.id for s in lookup.siblings}
    assert hub.request_count == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("qwen3.7 122b", "Qwen/Qwen3.7-122B-A10B"),
        ("Qwen3.7 8B instruct", "Qwen/Qwen3.7-8B-Instruct"),
        ("lumen r1", "lumen-research/Lumen-R1-32B"),
        ("deepsek r1", "deepseek-ai/DeepSeek-R1-0528"),  # a typo in a word is forgiven
        ("gpt oss 120b", "openai/gpt-oss-120b"),
    ],
)
def test_free_text_finds_the_model_a_person_means(
    core: Core, hub: HubStandIn, query: str, expected: str
) -> None:
    lookup = core.service.lookup_model(query)

    assert lookup.record is not None and lookup.record.id == expected
    assert not lookup.from_hub
    assert hub.request_count == 0


def test_breakout_lookup_shows_its_release_and_reasons(core: Core) -> None:
    lookup = core.service.lookup_model("lumen r1")

    assert lookup.release is not None and lookup.release.breakout
    assert lookup.lab is None  # an untracked namespace
    assert lookup.record is not None
    assert lookup.record.reasons[0] == "breakout from untracked namespace lumen-research"


def test_repo_id_missing_locally_is_fetched_from_the_hub_and_not_stored(
    core: Core, hub: HubStandIn, clock: ManualClock
) -> None:
    before = stored_ids(core)

    lookup = core.service.lookup_model("zai-org/GLM-5.3-Air")

    assert lookup.found and lookup.from_hub
    assert lookup.record is not None and lookup.record.params_total == 110 * B
    assert lookup.lab is not None and lookup.lab.name == "Z.ai"
    assert lookup.record.reasons[:2] == ["tracked lab Z.ai (CN)", "tier-1 lab"]
    assert [r.path for r in hub.requests] == ["/api/models/zai-org/GLM-5.3-Air"]
    assert stored_ids(core) == before
    # The lookup did not swallow the alert: the next poll still announces the release.
    clock.advance(minutes=5)
    report = core.tracker.poll_cycle()
    assert [(e.kind, e.release.title) for e in report.events] == [("new_release", "GLM-5.3-Air")]


def test_a_packed_build_from_the_hub_takes_its_known_siblings_size(
    core: Core, hub: HubStandIn, clock: ManualClock
) -> None:
    sibling = core.store.models.get("deepseek-ai/deepseek-v3.2-exp")
    assert sibling is not None and sibling.params_total == 671 * B
    # NVFP4 stores two weights a byte: the Hub counts 380B for a 671B model.
    hub.add(model_json("deepseek-ai/DeepSeek-V3.2-Exp-NVFP4", created_at=clock(), params=380 * B))

    lookup = core.service.lookup_model("deepseek-ai/DeepSeek-V3.2-Exp-NVFP4")

    assert lookup.found and lookup.from_hub and lookup.record is not None
    assert lookup.record.params_total == 671 * B  # the sibling's, not 380B nor unknown


@pytest.mark.parametrize(
    ("query", "searched", "expected"),
    [
        ("glm 5.3 air", "glm-5.3-air", "zai-org/GLM-5.3-Air"),
        ("GLM 5.3", "glm-5.3", "zai-org/GLM-5.3-Air"),
    ],
)
def test_free_text_miss_searches_the_hub_without_storing(
    core: Core, hub: HubStandIn, query: str, searched: str, expected: str
) -> None:
    before = stored_ids(core)

    lookup = core.service.lookup_model(query)

    assert lookup.from_hub
    assert lookup.record is not None and lookup.record.id == expected
    assert hub.requests[0].query["search"] == [searched]
    assert hub.requests[1].path == f"/api/models/{expected}"
    assert stored_ids(core) == before


def test_free_text_sharing_words_with_a_known_model_still_asks_the_hub(
    core: Core, hub: HubStandIn, clock: ManualClock
) -> None:
    """ "kimi k3" is not Kimi-K2 (stored) with a typo: the Hub has the real thing."""
    hub.add(model_json("moonshotai/Kimi-K3-Instruct", created_at=clock(), params=1_100 * B))
    before = stored_ids(core)

    lookup = core.service.lookup_model("kimi k3")

    assert lookup.from_hub
    assert lookup.record is not None and lookup.record.id == "moonshotai/Kimi-K3-Instruct"
    assert "flagship family Kimi-K3" in lookup.record.reasons
    assert stored_ids(core) == before


def test_hub_search_prefers_the_original_over_popular_reuploads(
    core: Core, hub: HubStandIn, clock: ManualClock
) -> None:
    hub.add(model_json("acme-ai/Nova-9B", created_at=clock(), params=9 * B, downloads=1_000))
    hub.add(
        model_json(
            "quantfolk/Nova-9B-GGUF",
            created_at=clock(),
            base_model="acme-ai/Nova-9B",
            relation="quantized",
            library_name="gguf",
            downloads=250_000,
        )
    )

    lookup = core.service.lookup_model("nova 9b")

    assert lookup.record is not None and lookup.record.id == "acme-ai/Nova-9B"


def test_a_version_we_do_not_know_is_not_answered_with_a_neighbour(
    core: Core, hub: HubStandIn
) -> None:
    """ "GLM-4.6" must not come back as GLM-4.5 (it is not on the Hub in this scenario)."""
    lookup = core.service.lookup_model("zai-org/GLM-4.6")

    assert not lookup.found
    assert lookup.hub_error is None
    assert [r.path for r in hub.requests] == ["/api/models/zai-org/GLM-4.6"]
    assert "zai-org/GLM-4.5" in lookup.alternatives


def test_unknown_everywhere_offers_suggestions(core: Core) -> None:
    lookup = core.service.lookup_model("nobody/Nothing-Here-7B")

    assert not lookup.found
    assert lookup.hub_error is None
    assert len(lookup.alternatives) == 3


def test_hub_down_during_lookup_is_reported_not_raised(core: Core, hub: HubStandIn) -> None:
    hub.set_failure_rate(1.0, kinds=("503",))

    by_id = core.service.lookup_model("zai-org/GLM-5.3-Air")
    by_text = core.service.lookup_model("glm 5.3 air")

    for lookup in (by_id, by_text):
        assert not lookup.found
        assert lookup.hub_error is not None and "HTTP 503" in lookup.hub_error
    # A local answer still comes back, with the Hub trouble noted alongside.
    nearby = core.service.lookup_model("Qwen/Qwen3.7-122B-A10B-Instruct")
    assert nearby.record is not None and nearby.record.id == "Qwen/Qwen3.7-122B-A10B"
    assert nearby.hub_error is not None and "HTTP 503" in nearby.hub_error


# -------------------------------------------------------------------- latest & co.


def test_latest_lists_newest_releases_first(core: Core, clock: ManualClock) -> None:
    clock.advance(minutes=5)
    core.tracker.poll_cycle()  # GLM-5.3-Air

    titles = [release.title for release in core.service.latest(3)]

    assert titles == ["GLM-5.3-Air", "Lumen-R1", "Qwen3.7"]
    assert [r.title for r in core.service.latest(0)] == ["GLM-5.3-Air"]


def test_latest_never_lists_more_than_a_message_can_hold(
    core: Core, hub: HubStandIn, clock: ManualClock
) -> None:
    for version in range(5, 15):
        hub.add(model_json(f"allenai/Tulu-{version}-8B", created_at=clock(), params=8 * B))
    clock.advance(minutes=5)
    core.tracker.poll_cycle()
    assert len(core.store.releases) > 25

    assert len(core.service.latest(500)) == 25


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(countries=["CN"]), [("zai-org", "GLM-5.3-Air"), ("Qwen", "Qwen3.7")]),
        (Filters(min_params_b=100), [("zai-org", "GLM-5.3-Air"), ("Qwen", "Qwen3.7")]),
        (Filters(orgs=["zai-org"]), [("zai-org", "GLM-5.3-Air"), ("zai-org", "GLM-4.5")]),
        (Filters(orgs=["lumen-research"]), [("lumen-research", "Lumen-R1")]),
        (Filters(regions=[Region.US]), [("nvidia", None), ("nvidia", None)]),
        (Filters(regions=[Region.EU]), [("mistralai", None), ("mistralai", None)]),
    ],
)
def test_latest_applies_filters_newest_first(
    core: Core, clock: ManualClock, filters: Filters, expected: list[tuple[str, str | None]]
) -> None:
    clock.advance(minutes=5)
    core.tracker.poll_cycle()  # GLM-5.3-Air

    chosen = core.service.latest(2, filters)

    assert [r.lab for r in chosen] == [lab for lab, _title in expected]
    assert [r.title for r, (_lab, title) in zip(chosen, expected, strict=True) if title] == [
        title for _lab, title in expected if title
    ]
    assert [r.first_seen for r in chosen] == sorted((r.first_seen for r in chosen), reverse=True)


def test_suggestions_prefer_matching_notable_models(core: Core) -> None:
    matching = core.service.suggestions("qwen3.7 coder")
    fallback = core.service.suggestions("zzzz")

    assert len(matching) == 3
    assert all("qwen3" in repo_id.lower() for repo_id in matching)
    assert len(fallback) == 3
    assert all(core.store.models.get(repo_id.lower()).notable for repo_id in fallback)  # type: ignore[union-attr]
