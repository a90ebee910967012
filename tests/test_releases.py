"""Grouping repos into releases: stems, ids, titles, windows, late members, breakouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.radar.labs import LabRegistry
from bot.radar.models import ModelRecord, Region, Release
from bot.radar.releases import (
    assign_release,
    family_stem,
    place_in_release,
    release_id,
    release_title,
    same_family,
)

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


def test_a_later_format_build_joins_but_a_later_new_model_is_a_new_release():
    """After the launch window only the lab's own FP8/GGUF/AWQ build of a member joins; a
    Thinking model six days later is a new model, announced on its own."""
    releases = place(
        [
            record("Qwen/Qwen3-235B-A22B-Instruct-2507", T0),
            record("Qwen/Qwen3-235B-A22B-Thinking-2507", T0 + timedelta(days=6)),
            record("Qwen/Qwen3-235B-A22B-Instruct-2507-FP8", T0 + timedelta(days=20)),
            record("Qwen/Qwen3-235B-A22B-Thinking-2507-GGUF", T0 + timedelta(days=40)),
        ]
    )
    by_start = {r.first_seen: r for r in releases}
    assert sorted(by_start) == [T0, T0 + timedelta(days=6)]
    launch, thinking = by_start[T0], by_start[T0 + timedelta(days=6)]
    assert launch.members == [
        "Qwen/Qwen3-235B-A22B-Instruct-2507",
        "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8",
    ]
    assert launch.updated_at == T0 + timedelta(days=20)
    assert thinking.members == [
        "Qwen/Qwen3-235B-A22B-Thinking-2507",
        "Qwen/Qwen3-235B-A22B-Thinking-2507-GGUF",
    ]
    assert thinking.title == "Qwen3 Thinking 2507"


@pytest.mark.parametrize(
    "late",
    [
        "Qwen/Qwen3-235B-A22B-Thinking-2507",  # a reasoning model
        "Qwen/Qwen3-235B-A22B-Reasoning-2507",
        "Qwen/Qwen3-2B-Instruct-2507",  # a new size
        "Qwen/Qwen3-235B-A22B-Base-2507",  # a new stage
    ],
)
def test_new_weights_after_the_window_are_a_new_release(late):
    releases = place(
        [
            record("Qwen/Qwen3-235B-A22B-Instruct-2507", T0),
            record(late, T0 + timedelta(hours=73)),
        ]
    )
    assert len(releases) == 2


def test_window_is_configurable():
    lab = REGISTRY.resolve("Qwen")
    first, _ = assign_release(record("Qwen/Qwen3-8B", T0), lab, [], now=T0, reasons=REASONS)
    later = record("Qwen/Qwen3-14B", T0 + timedelta(hours=30))
    _, created = assign_release(
        later, lab, [first], now=later.first_seen, window=timedelta(hours=24), reasons=REASONS
    )
    assert created
    _, created = assign_release(
        later, lab, [first], now=later.first_seen, window=timedelta(hours=48), reasons=REASONS
    )
    assert not created


@pytest.mark.parametrize(
    ("lab_namespace", "names", "title"),
    [
        (
            "mistralai",
            [
                "Mistral-Large-3-675B-Instruct-2512",
                "Ministral-3-14B-Instruct-2512",
                "Ministral-3-8B-Reasoning-2512",
                "Ministral-3-3B-Base-2512",
                "Mistral-Large-3-675B-Instruct-2512-NVFP4",
            ],
            "Mistral-Large-3 / Ministral-3",
        ),
        ("tencent", ["Hunyuan-A13B-Instruct", "Hunyuan-A13B-Pretrain"], "Hunyuan"),
        ("inclusionAI", ["GroveMoE-Base", "GroveMoE-Inst"], "GroveMoE"),
        (
            "microsoft",
            ["Phi-3.5-mini-instruct", "Phi-3.5-MoE-instruct", "Phi-3.5-vision-instruct"],
            "Phi-3.5",
        ),
        ("microsoft", ["Phi-4-mini-instruct", "Phi-4-multimodal-instruct"], "Phi-4"),
        ("google", ["medgemma-4b-it", "medgemma-27b-text-it", "medgemma-4b-pt"], "medgemma"),
        ("microsoft", ["Phi-3-mini-4k-instruct", "Phi-3-mini-128k-instruct"], "Phi-3-mini"),
        ("meta-llama", ["Llama-3.1-8B-Instruct", "Llama-3.1-8B-Original"], "Llama-3.1"),
        (
            "meta-llama",
            ["Llama-3.2-1B-Instruct", "Llama-3.2-11B-Vision-Instruct", "Llama-3.2-90B-Vision"],
            "Llama-3.2",
        ),
    ],
)
def test_one_launch_with_size_modality_and_stage_words_is_one_release(
    lab_namespace, names, title
):
    records = [
        record(f"{lab_namespace}/{name}", T0 + timedelta(hours=index * 7))
        for index, name in enumerate(names)
    ]
    lab = REGISTRY.resolve(lab_namespace) or REGISTRY.resolve("Qwen")
    releases: dict[str, Release] = {}
    for item in records:
        placed = place_in_release(item, lab, releases.values(), now=item.first_seen, reasons=["r"])
        releases[placed.release.id] = placed.release
        assert placed.reason  # every placement says which rule applied
    assert [r.title for r in releases.values()] == [title], [r.members for r in releases.values()]


def test_a_join_and_a_late_new_model_say_why():
    lab = REGISTRY.resolve("Qwen")
    first = place_in_release(record("Qwen/Qwen3-8B", T0), lab, [], now=T0, reasons=REASONS)
    joined = place_in_release(
        record("Qwen/Qwen3-8B-FP8", T0 + timedelta(days=30)), lab, [first.release],
        now=T0, reasons=REASONS,
    )
    assert "official precision/format build" in joined.reason
    late = place_in_release(
        record("Qwen/Qwen3-8B-Thinking", T0 + timedelta(days=30)), lab, [first.release],
        now=T0, reasons=REASONS,
    )
    assert late.created and "more than 72 h earlier" in late.reason


@pytest.mark.parametrize(
    ("members", "title"),
    [
        (["mistralai/Mistral-Small-4-119B-2603"], "Mistral-Small-4"),
        (["meta-llama/Llama-4.1-Scout-17B-16E-Instruct"], "Llama-4.1-Scout"),
        (["nvidia/NVIDIA-Nemotron-3-Ultra-500B-A50B-BF16"], "NVIDIA-Nemotron-3-Ultra"),
        (["CohereLabs/command-a-reasoning-08-2025"], "command-a-reasoning 08-2025"),
        (["deepseek-ai/DeepSeek-V3-0324"], "DeepSeek-V3 0324"),
        (["mistralai/Mistral-Small-3.2-24B-Instruct-2506"], "Mistral-Small-3.2"),
        (["mistralai/Magistral-Small-2509"], "Magistral-Small 2509"),
        (["meta-llama/Llama-4.1-Scout-17B", "meta-llama/Llama-4.1-Maverick-17B"], "Llama-4.1"),
    ],
)  # fmt: skip
def test_titles_keep_the_words_users_know(members, title):
    assert release_title("Lab", members) == title


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("mistral-3-2512", "ministral-3-2512", True),
        ("mistral-3-2512", "ministral-3-2509", False),  # another date
        ("qwen3", "qwen3-coder", False),
        ("glm-4.5", "glm-4.6", False),
        ("ministral-3", "magistral-3", False),
        ("phi-4", "phi-3", False),
    ],
)
def test_family_names_a_letter_or_two_apart_are_one_family(a, b, same):
    assert same_family(a, b) is same


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
