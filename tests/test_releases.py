"""Grouping repos into releases: stems, ids, titles, windows, late members, breakouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.radar.labs import LabRegistry
from bot.radar.models import ModelRecord, Region, Release
from bot.radar.releases import assign_release, family_stem, release_id, release_title

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
REGISTRY = LabRegistry.builtin()
REASONS = ("tracked lab Qwen (CN)", "tier-1 lab")


def record(repo_id: str, first_seen: datetime = T0) -> ModelRecord:
    return ModelRecord(id=repo_id, author=repo_id.split("/")[0], first_seen=first_seen)


def place(records: list[ModelRecord], *, lab_namespace: str | None = "Qwen") -> list[Release]:
    """Run records through assign_release like the tracker does, storing each result."""
    lab = REGISTRY.resolve(lab_namespace) if lab_namespace else None
    releases: dict[str, Release] = {}
    for item in records:
        release, _created = assign_release(
            item, lab, releases.values(), now=item.first_seen, reasons=REASONS
        )
        releases[release.id] = release
    return list(releases.values())


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("Qwen3-235B-A22B-Instruct-2507-FP8", "qwen3-2507"),
        ("Qwen3-30B-A3B-Thinking-2507", "qwen3-2507"),
        ("Qwen/Qwen3-4B-Instruct-2507", "qwen3-2507"),
        ("Qwen3-8B", "qwen3"),
        ("Qwen3-0.6B-Base", "qwen3"),
        ("DeepSeek-V3.2-Exp", "deepseek-v3.2-exp"),
        ("DeepSeek-V3.2-Exp-Base", "deepseek-v3.2-exp"),
        ("gemma-4-27b-it", "gemma-4"),
        ("gemma-3n-E4B-it", "gemma-3n"),
        ("Kimi-K2-Instruct", "kimi-k2"),
        ("Kimi-K2-Instruct-0905", "kimi-k2-0905"),
        ("gpt-oss-120b", "gpt-oss"),
        ("Mixtral-8x7B-Instruct-v0.1", "mixtral-v0.1"),
        ("Llama-4-Maverick-17B-128E-Instruct-FP8", "llama-4"),
        ("GLM-4.5-Air", "glm-4.5"),
        ("Qwen3-VL-235B-A22B-Instruct", "qwen3-vl"),
        ("Qwen3-Next-80B-A3B-Instruct-preview", "qwen3-next-preview"),
        ("8B", "8b"),
    ],
)
def test_family_stem(name, stem):
    assert family_stem(name) == stem


def test_release_id_is_deterministic_and_utc_dated():
    evening_in_california = datetime(2026, 11, 20, 20, 0, tzinfo=timezone(timedelta(hours=-8)))
    assert release_id("Qwen", "qwen3-2507", T0) == "qwen/qwen3-2507@2026-11-20"
    assert release_id("Qwen", "qwen3-2507", T0) == release_id("qwen", "qwen3-2507", T0)
    assert release_id("Qwen", "qwen3-2507", evening_in_california) == "qwen/qwen3-2507@2026-11-21"


@pytest.mark.parametrize(
    ("members", "title"),
    [
        (["Qwen/Qwen3-235B-A22B-Instruct-2507", "Qwen/Qwen3-4B-Instruct-2507-FP8"], "Qwen3 2507"),
        (["openai/gpt-oss-120b", "openai/gpt-oss-20b"], "gpt-oss"),
        (["deepseek-ai/DeepSeek-V3.2-Exp"], "DeepSeek-V3.2-Exp"),
        (["moonshotai/Kimi-K2-Instruct", "moonshotai/Kimi-K2-Base"], "Kimi-K2"),
        (["acme/70B"], "Acme Labs"),
    ],
)  # fmt: skip
def test_release_title(members, title):
    assert release_title("Acme Labs", members) == title


def test_family_of_sizes_first_seen_within_72h_is_one_release():
    releases = place(
        [
            record("Qwen/Qwen3-235B-A22B-Instruct-2507", T0),
            record("Qwen/Qwen3-30B-A3B-Instruct-2507", T0 + timedelta(hours=5)),
            record("Qwen/Qwen3-4B-Instruct-2507-FP8", T0 + timedelta(hours=71)),
        ]
    )
    assert len(releases) == 1
    release = releases[0]
    assert release.id == "qwen/qwen3-2507@2026-11-20"
    assert release.title == "Qwen3 2507"
    assert release.members == [
        "Qwen/Qwen3-235B-A22B-Instruct-2507",
        "Qwen/Qwen3-30B-A3B-Instruct-2507",
        "Qwen/Qwen3-4B-Instruct-2507-FP8",
    ]
    assert (release.lab, release.lab_name, release.country, release.region) == (
        "Qwen",
        "Qwen",
        "CN",
        Region.CHINA,
    )
    assert release.reasons == list(REASONS)
    assert release.breakout is False
    assert release.updated_at == T0 + timedelta(hours=71)


def test_same_stem_after_the_window_is_a_new_release():
    releases = place(
        [
            record("Qwen/Qwen3-235B-A22B-Instruct-2507", T0),
            record("Qwen/Qwen3-30B-A3B-Instruct-2507", T0 + timedelta(days=8)),
        ]
    )
    assert sorted(r.id for r in releases) == [
        "qwen/qwen3-2507@2026-11-20",
        "qwen/qwen3-2507@2026-11-28",
    ]


def test_a_later_variant_or_sibling_joins_the_existing_release():
    releases = place(
        [
            record("Qwen/Qwen3-235B-A22B-Instruct-2507", T0),
            record("Qwen/Qwen3-235B-A22B-Thinking-2507", T0 + timedelta(days=6)),
            record("Qwen/Qwen3-235B-A22B-Instruct-2507-FP8", T0 + timedelta(days=20)),
        ]
    )
    assert len(releases) == 1
    assert len(releases[0].members) == 3
    assert releases[0].first_seen == T0
    assert releases[0].updated_at == T0 + timedelta(days=20)


def test_another_labs_same_stem_is_a_separate_release():
    qwen = place([record("Qwen/Qwen3-8B", T0)])[0]
    other_lab = REGISTRY.resolve("deepseek-ai")
    release, created = assign_release(
        record("deepseek-ai/Qwen3-8B", T0), other_lab, [qwen], now=T0, reasons=["r"]
    )
    assert created
    assert release.id == "deepseek-ai/qwen3@2026-11-20"
    assert release.members == ["deepseek-ai/Qwen3-8B"]


def test_a_member_is_never_added_twice_and_inputs_are_not_modified():
    first, created = assign_release(
        record("Qwen/Qwen3-8B"), REGISTRY.resolve("Qwen"), [], now=T0, reasons=REASONS
    )
    assert created
    again, created_again = assign_release(
        record("qwen/qwen3-8b"), REGISTRY.resolve("Qwen"), [first], now=T0, reasons=REASONS
    )
    assert not created_again
    assert again.members == ["Qwen/Qwen3-8B"]
    joined, _ = assign_release(
        record("Qwen/Qwen3-14B", T0 + timedelta(hours=1)),
        REGISTRY.resolve("Qwen"),
        [first],
        now=T0 + timedelta(hours=1),
        reasons=REASONS,
    )
    assert joined.members == ["Qwen/Qwen3-8B", "Qwen/Qwen3-14B"]
    assert first.members == ["Qwen/Qwen3-8B"]


def test_alias_namespace_members_join_the_canonical_labs_release():
    releases = place(
        [record("zai-org/GLM-5", T0), record("THUDM/GLM-5-FP8", T0 + timedelta(hours=2))],
        lab_namespace="zai-org",
    )
    assert len(releases) == 1
    assert releases[0].lab == "zai-org"
    assert releases[0].title == "GLM-5"


def test_untracked_breakout_release():
    releases = place(
        [
            record("newlab/Breakout-32B-Instruct", T0),
            record("newlab/Breakout-8B-Instruct", T0 + timedelta(hours=3)),
        ],
        lab_namespace=None,
    )
    assert len(releases) == 1
    release = releases[0]
    assert release.breakout is True
    assert (release.lab, release.lab_name, release.country, release.region) == (
        "newlab",
        "newlab",
        None,
        None,
    )
    assert release.id == "newlab/breakout@2026-11-20"
    assert release.title == "Breakout"
