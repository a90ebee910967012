"""Model facts: sizes, licenses, openness, lineage and the stored record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.radar.facts import (
    RepoFacts,
    base_model_relations,
    facts_of,
    license_class,
    openness,
    record_from_repo,
)
from bot.radar.labs import LabRegistry
from bot.radar.models import HubRepo, LicenseClass, Openness
from bot.radar.sizes import Size, is_packed, name_size, size_of, unpacked_sibling_total
from bot.radar.vocabulary import params_text, record_size_text, size_text

B = 10**9
M = 10**6
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def repo(repo_id: str, **fields) -> HubRepo:
    return HubRepo(id=repo_id, author=repo_id.split("/")[0], **fields)


@pytest.mark.parametrize(
    ("name", "total", "active"),
    [
        ("Qwen3-235B-A22B", 235 * B, 22 * B),
        ("Qwen/Qwen3-30B-A3B-Instruct-2507", 30 * B, 3 * B),
        ("gpt-oss-120b", 120 * B, None),
        ("Llama-3.1-8B", 8 * B, None),
        ("Qwen3-0.6B", 600 * M, None),
        ("Qwen2.5-1.5b-instruct", 1_500 * M, None),
        ("Mixtral-8x7B-v0.1", None, None),  # "8x7B" is never multiplied (46.7B, not 56B)
        ("FlexOlmo-7x7B-1T", None, None),  # nor is 7x7B (33B); 1T counts training tokens
        ("OLMoE-1B-7B-0924-Instruct", 7 * B, 1 * B),  # active first, then total
        ("Ling-mini-base-2.0-5T", None, None),  # 5T training tokens, not 5 trillion params
        ("Ling-mini-base-2.0-20T", None, None),
        ("bitnet-b1.58-2B-4T", 2 * B, None),
        ("OLMo-7B-Twin-2T-hf", 7 * B, None),
        ("mamba2-hybrid-8b-3t-128k", 8 * B, None),
        ("Ring-1T-preview-FP8", 1000 * B, None),  # a trillion alone is a size
        ("Qwen3.8-2.4T-A95B", 2_400 * B, 95 * B),
        ("TinyLlama-1.1B-step-50K-105b", 1_100 * M, None),
        ("internlm2-1_8b-reward", 1_800 * M, None),
        ("internlm2_5-7b-chat", 7 * B, None),
        ("Hunyuan-A13B-Instruct", None, 13 * B),
        ("Kimi-VL-A3B-Thinking-2506", None, 3 * B),
        ("granite-3.0-3b-a800m-instruct", 3 * B, 800 * M),
        ("Qwen3-Coder-480B-A35B-Instruct", 480 * B, 35 * B),
        ("gemma-3n-E4B-it", 4 * B, None),
        ("gemma-3-270m", 270 * M, None),
        ("Ling-1T", 1000 * B, None),
        ("Phi-3-mini-128k-instruct", None, None),
        ("Yi-1.5-34B-Chat-16K", 34 * B, None),
        ("Kimi-K2-Instruct-0905", None, None),
        ("DeepSeek-V3.2", None, None),
        ("Llama-4-Scout-17B-16E-Instruct", None, 17 * B),
        ("Qwen1.5-MoE-A2.7B", None, 2_700 * M),
        ("InternVL3_5-241B-A28B", 241 * B, 28 * B),
        ("OLMo-2-1124-7B", 7 * B, None),
        ("MiniMax-M2", None, None),
    ],
)
def test_name_size(name, total, active):
    size = name_size(name)
    assert (size.total, size.active) == (total, active)


@pytest.mark.parametrize(
    ("license_id", "name", "expected"),
    [
        ("apache-2.0", None, LicenseClass.PERMISSIVE),
        ("MIT", None, LicenseClass.PERMISSIVE),
        ("bsd-3-clause", None, LicenseClass.PERMISSIVE),
        ("cc-by-4.0", None, LicenseClass.PERMISSIVE),
        ("llama3.1", None, LicenseClass.RESTRICTED),
        ("llama4", None, LicenseClass.RESTRICTED),
        ("gemma", None, LicenseClass.RESTRICTED),
        ("openrail", None, LicenseClass.RESTRICTED),
        ("other", "deepseek", LicenseClass.RESTRICTED),
        ("other", "tongyi-qianwen", LicenseClass.RESTRICTED),
        ("other", "modified-mit", LicenseClass.RESTRICTED),
        ("other", "nvidia-open-model-license", LicenseClass.RESTRICTED),
        ("cc-by-nc-4.0", None, LicenseClass.NON_COMMERCIAL),
        ("cc-by-nc-sa-4.0", None, LicenseClass.NON_COMMERCIAL),
        ("other", "qwen-research", LicenseClass.NON_COMMERCIAL),
        ("other", "mrl", LicenseClass.NON_COMMERCIAL),
        ("other", "exaone", LicenseClass.NON_COMMERCIAL),
        ("other", None, LicenseClass.UNKNOWN),
        ("other", "acme-custom-terms", LicenseClass.UNKNOWN),
        (None, None, LicenseClass.UNKNOWN),
    ],
)
def test_license_class(license_id, name, expected):
    assert license_class(license_id, name) is expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # OLMo-style: training data on the card, a lab that publishes its training code
        (
            {"tags": ["safetensors"], "card_data": {"datasets": ["allenai/dolma"]}},
            Openness.OPEN_SOURCE,
        ),
        ({"tags": ["safetensors"]}, Openness.WEIGHTS),
        ({"library_name": "transformers"}, Openness.WEIGHTS),
        ({}, Openness.UNKNOWN),
    ],
)
def test_openness_for_an_allenai_repo(fields, expected):
    assert openness(repo("allenai/Olmo-3-7B", **fields)) is expected


def test_openness_needs_both_data_and_code_elsewhere():
    data_only = repo("acme/Open-7B", tags=["safetensors", "dataset:acme/pile"])
    assert openness(data_only) is Openness.WEIGHTS
    with_code = repo(
        "acme/Open-7B",
        tags=["safetensors", "dataset:acme/pile"],
        card_data={"repository": "https://github.com/acme/train"},
    )
    assert openness(with_code) is Openness.OPEN_SOURCE
    code_only = repo("acme/Open-7B", tags=["safetensors", "fully-open"])
    assert openness(code_only) is Openness.WEIGHTS


def test_base_model_relations_merge_all_sources_and_ignore_self():
    found = base_model_relations(
        repo(
            "someone/Merged-7B",
            tags=[
                "base_model:Qwen/Qwen3-8B",
                "base_model:merge:Qwen/Qwen3-8B",
                "base_model:someone/Merged-7B",
                "license:mit",
            ],
            card_data={"base_model": ["qwen/qwen3-8b", "meta-llama/Llama-3.1-8B"]},
            base_models=["mistralai/Mistral-7B-v0.1"],
            base_model_relation="merge",
        )
    )
    assert found == {
        "Qwen/Qwen3-8B": "merge",
        "mistralai/Mistral-7B-v0.1": "merge",
        "meta-llama/Llama-3.1-8B": "merge",
    }


@pytest.mark.parametrize(
    ("name", "experts", "each"),
    [
        ("Mixtral-8x22B-v0.1", 8, 22 * B),
        ("BAR-2x7B-Code-SFT", 2, 7 * B),
        ("MiniCPM-MoE-8x2B", 8, 2 * B),
    ],
)
def test_experts_by_size_are_kept_apart_not_multiplied(name, experts, each):
    size = name_size(name)
    assert (size.total, size.experts, size.expert_params) == (None, experts, each)
    assert size.words() == f"{experts}×{params_text(each)}"


@pytest.mark.parametrize(
    ("size", "words"),
    [
        (Size(235 * B, 22 * B), "235B total / 22B active"),
        (Size(27_781_427_952), "27.8B"),
        (Size(None, 17 * B), "17B active"),
        (Size(None, None, 8, 22 * B), "8×22B"),
        (Size(None, 39 * B, 8, 22 * B), "8×22B / 39B active"),
        (Size(46_702_792_704, None, 8, 7 * B), "46.7B"),  # a known total wins over "8×7B"
        (Size(8 * B, 8 * B), "8B"),
        (Size(), "size unknown"),
    ],
)
def test_one_wording_for_every_size(size, words):
    assert size.words() == words
    assert size_text(size.total, size.active) == Size(size.total, size.active).words()


def test_a_known_total_wins_and_a_product_is_never_invented():
    mixtral = repo("mistralai/Mixtral-8x7B-v0.1", safetensors_total=46_702_792_704)
    assert size_of(mixtral) == Size(46_702_792_704, None, 8, 7 * B)
    gguf_only = record_from_repo(repo("mistralai/Mixtral-8x22B-v0.1"), lab=None, first_seen=T0)
    assert gguf_only.params_total is None
    assert record_size_text(gguf_only) == "8×22B"
    # A token count in the name never overrides the exact count (it used to read 5T).
    ling = repo("inclusionAI/Ling-mini-base-2.0-5T", safetensors_total=16_255_643_904)
    assert size_of(ling)[:2] == (16_255_643_904, None)


def test_packed_builds_take_the_unpacked_siblings_count_then_the_name():
    assert is_packed("Qwen3-32B-AWQ") and is_packed("Big-70B-NVFP4") and is_packed("x-mlx")
    assert is_packed("Mixtral-8x22B-v0.1-4bit") and is_packed("Foo", tags=["4-bit"])
    assert not is_packed("Qwen3-32B-FP8") and not is_packed("Qwen3-32B")
    siblings = [
        record_from_repo(repo(i, safetensors_total=n), lab=None, first_seen=T0)
        for i, n in [
            ("Qwen/Qwen3-32B", 32_762_123_264),
            ("Qwen/Qwen3-32B-GPTQ-Int8", 9 * B),  # packed itself: never a source
            ("Someone/Qwen3-32B", 31 * B),  # another namespace: not a sibling
            ("Qwen/Qwen3-14B", 14_768_307_200),
        ]
    ]
    awq = repo("Qwen/Qwen3-32B-AWQ", safetensors_total=5_700_000_000)
    assert unpacked_sibling_total(awq.id, siblings) == 32_762_123_264
    assert size_of(awq, siblings).total == 32_762_123_264
    assert size_of(awq).total == 32 * B  # no siblings at hand: the name
    assert record_from_repo(awq, lab=None, first_seen=T0, siblings=siblings).params_total == (
        32_762_123_264
    )
    nameless = repo("moonshotai/Kimi-K2-Instruct-MLX-4bit", safetensors_total=160 * B)
    assert size_of(nameless).total is None  # a count off by 4x is worse than "unknown"
    fp8 = repo("Qwen/Qwen3-32B-FP8", safetensors_total=32_762_123_264)
    assert size_of(fp8).total == 32_762_123_264  # 8-bit is one value per weight: exact


def test_params_prefer_safetensors_except_for_packed_low_bit_weights():
    assert size_of(repo("Qwen/Qwen3-30B-A3B", safetensors_total=30_532_122_624))[:2] == (
        30_532_122_624,
        3 * B,
    )
    awq = repo("Qwen/Qwen3-32B-AWQ", safetensors_total=5_700_000_000)
    assert size_of(awq)[:2] == (32 * B, None)
    assert size_of(repo("acme/Big-70B-NVFP4", safetensors_total=38 * B))[:2] == (70 * B, None)
    assert size_of(repo("deepseek-ai/DeepSeek-V3.2", safetensors_total=685 * B))[:2] == (
        685 * B,
        None,
    )


def test_record_from_a_detail_call():
    qwen = LabRegistry.builtin().resolve("Qwen")
    detail = repo(
        "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8",
        detailed=True,
        pipeline_tag="text-generation",
        tags=["safetensors", "license:apache-2.0", "base_model:Qwen/Qwen3-235B-A22B-Instruct-2507"],
        card_data={"license": "apache-2.0", "base_model": "Qwen/Qwen3-235B-A22B-Instruct-2507"},
        base_models=["Qwen/Qwen3-235B-A22B-Instruct-2507"],
        safetensors_total=235_093_634_560,
        downloads=1200,
        likes=45,
        trending_score=12.0,
        children={"quantized": 3, "finetune": 1},
        gated=False,
    )
    record = record_from_repo(detail, lab=qwen, first_seen=T0)
    assert record.lab == "Qwen"
    assert (record.params_total, record.params_active) == (235_093_634_560, 22 * B)
    assert (record.license, record.license_class) == ("apache-2.0", LicenseClass.PERMISSIVE)
    assert record.openness is Openness.WEIGHTS
    assert record.base_models == ["Qwen/Qwen3-235B-A22B-Instruct-2507"]
    assert sum(record.children.values()) == 4
    assert (record.downloads, record.likes, record.trending_score) == (1200, 45, 12.0)
    assert record.detailed is True and record.first_seen == T0


def test_record_refresh_keeps_what_a_list_call_did_not_report():
    first = record_from_repo(
        repo(
            "deepseek-ai/DeepSeek-V3.2",
            detailed=True,
            gated=True,
            tags=["safetensors", "license:mit"],
            pipeline_tag="text-generation",
            downloads=100,
            likes=10,
            children={"quantized": 7},
            downloads_all_time=150,
            sha="a" * 40,
        ),
        lab=None,
        first_seen=T0,
    )
    first = first.model_copy(update={"notable": True, "reasons": ["x"], "release_id": "r1"})
    later = datetime(2026, 11, 22, tzinfo=UTC)
    listed = repo("deepseek-ai/DeepSeek-V3.2", likes=900, trending_score=300.0)
    refreshed = record_from_repo(listed, lab=None, first_seen=later, previous=first)
    assert refreshed.first_seen == T0
    assert (refreshed.likes, refreshed.trending_score) == (900, 300.0)
    assert (refreshed.downloads, refreshed.downloads_all_time) == (100, 150)
    assert refreshed.children == {"quantized": 7}
    assert (refreshed.license, refreshed.license_class) == ("mit", LicenseClass.PERMISSIVE)
    assert refreshed.tags == ["safetensors", "license:mit"]
    assert refreshed.gated is True and refreshed.detailed is True
    assert refreshed.pipeline_tag == "text-generation" and refreshed.sha == "a" * 40
    assert (refreshed.notable, refreshed.reasons, refreshed.release_id) == (True, ["x"], "r1")


def test_record_license_from_tag_and_custom_name():
    record = record_from_repo(
        repo(
            "moonshotai/Kimi-K2-Instruct",
            tags=["license:other"],
            card_data={"license_name": "modified-mit"},
        ),
        lab=None,
        first_seen=T0,
    )
    assert (record.license, record.license_name) == ("other", "modified-mit")
    assert record.license_class is LicenseClass.RESTRICTED
    assert record.params_total is None and record.downloads == 0


def test_facts_derived_once_are_what_the_policy_judges_and_the_record_keeps():
    from bot.radar.policy import NotabilityPolicy

    detail = repo(
        "Qwen/Qwen3.7-35B-A3B-FP8",
        tags=["safetensors", "base_model:finetune:Qwen/Qwen3.7-35B-A3B", "fp8"],
        card_data={"pipeline_tag": "text-generation"},  # the task only in the card
        safetensors_total=35 * B,
        detailed=True,
    )
    facts = facts_of(detail)
    assert isinstance(facts, RepoFacts) and facts_of(facts) is facts
    assert facts.task == "text-generation"
    assert facts.size == Size(total=35 * B, active=3 * B)
    assert dict(facts.lineage) == {"Qwen/Qwen3.7-35B-A3B": "finetune"}
    assert "fp8" in facts.tokens and "safetensors" in facts.tags
    assert not facts.awaiting_content

    qwen = LabRegistry.builtin().resolve("Qwen")
    assert record_from_repo(facts, lab=qwen, first_seen=T0) == record_from_repo(
        detail, lab=qwen, first_seen=T0
    )
    policy = NotabilityPolicy()
    verdict = policy.judge(facts, qwen, first_seen=T0, now=T0)
    assert verdict == policy.judge(detail, qwen, first_seen=T0, now=T0)
    assert verdict.notable and "official FP8 build by the lab" in verdict.reasons
    assert facts_of(repo("Qwen/empty")).awaiting_content
