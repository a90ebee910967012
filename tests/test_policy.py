"""Notability verdicts and the words users see for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.radar.labs import LabRegistry
from bot.radar.models import HubRepo, Lab
from bot.radar.policy import NotabilityPolicy, PolicyConfig, Verdict

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
REGISTRY = LabRegistry.builtin()
POLICY = NotabilityPolicy()


def repo(repo_id: str, **fields) -> HubRepo:
    fields.setdefault("pipeline_tag", "text-generation")
    fields.setdefault("tags", ["safetensors"])
    return HubRepo(id=repo_id, author=repo_id.split("/")[0], **fields)


def judge(hub_repo: HubRepo, *, hours_ago: float = 2) -> Verdict:
    lab = REGISTRY.resolve(hub_repo.author)
    first_seen = NOW - timedelta(hours=hours_ago)
    return POLICY.judge(hub_repo, lab, first_seen=first_seen, now=NOW)


def test_official_family_member_is_notable_with_reasons():
    verdict = judge(repo("Qwen/Qwen3-235B-A22B-Instruct-2507", safetensors_total=235 * 10**9))
    assert verdict.notable and verdict.candidate and verdict.rejected is None
    assert verdict.reasons == (
        "tracked lab Qwen (CN)",
        "tier-1 lab",
        "original model, not a derivative",
        "flagship family Qwen3",
        "235B total / 22B active",
    )


@pytest.mark.parametrize(
    ("repo_id", "base", "build"),
    [
        ("Qwen/Qwen3-8B-FP8", "Qwen/Qwen3-8B", "official FP8 build by the lab"),
        ("Qwen/Qwen3-8B-GGUF", "Qwen/Qwen3-8B", "official GGUF build by the lab"),
        ("THUDM/GLM-4.5-Air-FP8", "zai-org/GLM-4.5-Air", "official FP8 build by the lab"),
    ],
)
def test_lab_precision_variants_are_part_of_the_release(repo_id, base, build):
    verdict = judge(repo(repo_id, tags=[f"base_model:quantized:{base}", "gguf"]))
    assert verdict.notable, verdict.rejected
    assert f"original model (built on the lab's own {base})" in verdict.reasons
    assert build in verdict.reasons


def test_instruct_built_on_the_labs_own_base_is_original():
    verdict = judge(
        repo(
            "deepseek-ai/DeepSeek-V4-Instruct",
            card_data={"base_model": "deepseek-ai/DeepSeek-V4-Base"},
            base_models=["deepseek-ai/DeepSeek-V4-Base"],
            base_model_relation="finetune",
        )
    )
    assert verdict.notable
    assert "flagship family DeepSeek-V4" in verdict.reasons


@pytest.mark.parametrize(
    ("hub_repo", "rejected"),
    [
        (
            repo("unsloth/Qwen3-8B-GGUF", tags=["gguf", "base_model:quantized:Qwen/Qwen3-8B"]),
            "third-party quantization of Qwen/Qwen3-8B",
        ),
        (
            repo("mlx-community/Qwen3-8B-4bit", tags=["mlx", "base_model:Qwen/Qwen3-8B"]),
            "third-party quantization of Qwen/Qwen3-8B",
        ),
        (
            repo("someone/Qwen3-32B-AWQ", tags=["base_model:Qwen/Qwen3-32B"]),
            "third-party quantization of Qwen/Qwen3-32B",
        ),
        (
            repo("someone/Qwen3-8B-GGUF", tags=["gguf"], likes=900),
            "third-party GGUF reupload",
        ),
        (
            # a tracked lab quantizing another lab's model is still third-party
            repo(
                "nvidia/DeepSeek-R1-FP4",
                tags=["base_model:quantized:deepseek-ai/DeepSeek-R1"],
            ),
            "third-party quantization of deepseek-ai/DeepSeek-R1",
        ),
        (
            repo(
                "NousResearch/Hermes-4-70B",
                tags=["base_model:finetune:meta-llama/Llama-3.1-70B"],
            ),
            "derivative of meta-llama/Llama-3.1-70B (fine-tune)",
        ),
        (
            repo("acme/Reasoner-7B", card_data={"base_model": "deepseek-ai/DeepSeek-R1"}),
            "derivative of deepseek-ai/DeepSeek-R1",
        ),
        (
            repo(
                "OrionLLM/GRM-2.6-Opus",
                pipeline_tag="image-text-to-text",
                tags=[
                    "base_model:merge:OrionLLM/GRM-2.6-Plus",
                    "base_model:merge:rico03/Qwen3.6-27B-Claude-Opus-Reasoning-Distilled",
                ],
                likes=5000,
            ),
            "merge of rico03/Qwen3.6-27B-Claude-Opus-Reasoning-Distilled (derivative)",
        ),
        (repo("meta-llama/Llama-Guard-4-12B"), "guard/safety model"),
        (repo("google/shieldgemma-2-4b-it"), "guard/safety model"),
        (repo("Qwen/Qwen3Guard-Gen-8B"), "guard/safety model"),
        (repo("Qwen/Qwen3-Embedding-8B", pipeline_tag="feature-extraction"), "embedding model"),
        (repo("google/embeddinggemma-300m"), "embedding model"),
        (repo("Qwen/Qwen3-Reranker-4B", pipeline_tag="text-ranking"), "reranker model"),
        (repo("Skywork/Skywork-Reward-V2-Llama-3.1-8B"), "reward model"),
        (repo("Qwen/Qwen2.5-Math-PRM-72B"), "reward model"),
        (repo("Qwen/Qwen3-8B-test"), "test/dummy repo"),
        (repo("deepseek-ai/dummy-model"), "test/dummy repo"),
        (repo("openai/tiny-random-gpt-oss"), "test/dummy repo"),
        (repo("microsoft/Phi-4-mini-lora"), "LoRA/adapter, not full model weights"),
        (repo("allenai/OLMo-3-7B-step1000"), "intermediate training checkpoint"),
        (repo("openai/whisper-large-v4"), "speech model"),
        (
            repo("Qwen/Qwen3-TTS-1.7B", pipeline_tag="text-to-speech"),
            "speech model",
        ),
        (
            repo("Qwen/Qwen-Image-2", pipeline_tag="text-to-image"),
            "task text-to-image is out of scope",
        ),
        (
            repo("moonshotai/Kimi-Audio-7B", pipeline_tag="audio-text-to-text"),
            "task audio-text-to-text is out of scope",
        ),
        (repo("Qwen/Qwen3-9B", private=True), "private repo"),
    ],
)
def test_rejections_say_why(hub_repo, rejected):
    verdict = judge(hub_repo)
    assert not verdict.notable
    assert verdict.reasons == ()
    assert verdict.rejected == rejected


NO_WEIGHTS = (
    "no weights in the repo (no safetensors, PyTorch or GGUF files): a tokenizer or config, "
    "not a model"
)


@pytest.mark.parametrize(
    ("hub_repo", "rejected"),
    [
        # Tier-1 labs included: a tokenizer, a reward model or a checkpoint is no release.
        (repo("allenai/dolma2-tokenizer-U10F0F0"), "tokenizer, not a model"),
        (repo("zai-org/glm-4-voice-tokenizer", pipeline_tag=None), "tokenizer, not a model"),
        (repo("allenai/OLMo-2-1124-7B-RM"), "reward model"),
        (repo("allenai/OLMo-2-1124-7B-RM-Preview"), "reward model"),
        (repo("Qwen/Qwen2.5-Math-RM-72B"), "reward model"),
        (repo("nvidia/Llama-3_3-Nemotron-Super-49B-GenRM"), "reward model"),
        (repo("nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-GenRM-FP8"), "reward model"),
        (repo("internlm/internlm2-7b-reward"), "reward model"),
        (repo("TinyLlama/TinyLlama-1.1B-step-50K-105b"), "intermediate training checkpoint"),
        (repo("allenai/OLMo-1B-0724-954000steps-unsharded"), "intermediate training checkpoint"),
        (repo("HuggingFaceTB/SmolLM2-nanotron-ckpt"), "intermediate training checkpoint"),
        (repo("nvidia/Nemotron-Cascade-8B-Intermediate-ckpts"), "intermediate training checkpoint"),
        (
            repo("allenai/Olmo-3-Config", tags=["transformers", "license:apache-2.0", "region:us"]),
            NO_WEIGHTS,
        ),
        (repo("deepseek-ai/DeepSeek-V4-Tok", tags=["region:us"]), NO_WEIGHTS),
        (repo("openai/gpt-oss-tools", pipeline_tag=None), "no pipeline task declared yet"),
    ],
)
def test_non_models_are_never_notable_whoever_publishes_them(hub_repo, rejected):
    verdict = judge(hub_repo)
    assert (verdict.notable, verdict.rejected) == (False, rejected)
    untracked = POLICY.judge(
        hub_repo.model_copy(
            update={"id": f"newlab/x-{hub_repo.name}", "author": "newlab", "likes": 9000}
        ),
        None,
        first_seen=NOW,
        now=NOW,
    )
    assert not untracked.notable


@pytest.mark.parametrize(
    "tags",
    [["safetensors"], ["pytorch"], ["gguf"], ["mlx", "region:us"], []],
)
def test_any_weight_file_counts_and_no_tags_is_no_evidence(tags):
    verdict = judge(repo("deepseek-ai/DeepSeek-V4", tags=tags))
    assert verdict.notable, verdict.rejected
    counted = judge(
        repo("deepseek-ai/DeepSeek-V4", tags=["region:us"], safetensors_total=7 * 10**9)
    )
    assert counted.notable, counted.rejected


def test_words_inside_other_words_do_not_reject():
    for name in (
        "google/gemma-4-latest-it",
        "stepfun-ai/step3",
        "stepfun-ai/Step-3.5-Flash",
        "internlm/internlm2-step-prover",
        "Qwen/Qwen3-Next-80B-A3B",
        "allenai/OLMo-2-1124-7B-Instruct",
        "ibm-granite/granite-4.0-h-small",
    ):
        verdict = judge(repo(name))
        assert verdict.notable, (name, verdict.rejected)


def test_untracked_and_not_trending_is_not_notable():
    verdict = judge(repo("smalllab/Great-7B", likes=12, trending_score=3.0))
    assert not verdict.notable
    assert verdict.rejected == (
        "untracked namespace smalllab and not trending (12 likes, trending score 3; "
        "a breakout needs 300 likes or a score of 100)"
    )
    assert not POLICY.prefilter(repo("smalllab/Great-7B", likes=12), None).candidate


def test_untracked_trending_breakout_is_notable():
    breakout = repo(
        "newlab/Breakout-32B",
        likes=1200,
        trending_score=450.0,
        created_at=NOW - timedelta(hours=24),
    )
    assert POLICY.prefilter(breakout, None, now=NOW).candidate
    verdict = judge(breakout, hours_ago=3)
    assert verdict.notable
    assert verdict.reasons == (
        "breakout from untracked namespace newlab",
        "original model, not a derivative",
        "trending: 1.2k likes in 3 h, trending score 450",  # dated by first sight
        "32B params",
    )


def test_old_trending_repo_is_not_a_breakout():
    old = repo("newlab/Old-32B", likes=5000, trending_score=900.0)
    verdict = judge(old, hours_ago=80)
    assert not verdict.notable
    assert verdict.rejected == "first published 3 days ago; a breakout must be under 72 h old"
    # created two months before it was first seen: an old model trending again
    created_long_ago = old.model_copy(update={"created_at": NOW - timedelta(days=60)})
    verdict = judge(created_long_ago, hours_ago=1)
    assert verdict.rejected == (
        "created 60 days ago, long before it was first seen: an old model trending again, "
        "not a launch"
    )
    assert not POLICY.prefilter(created_long_ago, None, now=NOW).candidate


def test_backdated_launch_is_a_breakout_dated_by_first_sight():
    """Labs upload privately weeks before a launch (Gemma 4: 22-31 days): first seen
    public an hour ago is an hour old, whatever `createdAt` says."""
    backdated = repo(
        "newlab/Launch-32B", likes=5000, trending_score=900.0, created_at=NOW - timedelta(days=30)
    )
    assert POLICY.prefilter(backdated, None, now=NOW).candidate
    verdict = judge(backdated, hours_ago=1)
    assert verdict.notable, verdict.rejected
    assert "trending: 5k likes in 1 h, trending score 900" in verdict.reasons


def test_tracked_labs_have_no_age_limit():
    # made public long after the repo was created: still a release
    late = repo("moonshotai/Kimi-K3-Instruct", created_at=NOW - timedelta(days=60))
    assert judge(late, hours_ago=1).notable


def test_tier_two_lab_original_is_notable_without_tier_one_reason():
    verdict = judge(repo("ibm-granite/granite-5.0-2b-instruct"))
    assert verdict.notable
    assert verdict.reasons[0] == "tracked lab IBM Granite (US)"
    assert "tier-1 lab" not in verdict.reasons
    assert "flagship family granite-5.0" in verdict.reasons


@pytest.mark.parametrize(
    ("hub_repo", "extra_reason"),
    [
        (repo("Skywork/Skywork-Big-72B"), "large model (≥ 30B params)"),
        (repo("01-ai/Yi-2-9B"), "flagship family Yi-2"),
        (repo("Skywork/Skywork-Chat-7B", likes=2000), "traction: 2k likes"),
    ],
)
def test_tier_three_lab_needs_flagship_size_or_traction(hub_repo, extra_reason):
    verdict = judge(hub_repo)
    assert verdict.notable, verdict.rejected
    assert extra_reason in verdict.reasons


def test_tier_three_small_release_is_not_notable_but_stays_a_candidate_before_details():
    small = repo("Skywork/Skywork-Chat-7B", likes=3)
    verdict = judge(small)
    assert not verdict.notable
    assert verdict.rejected == (
        "minor lab Skywork (tier 3): not a flagship family, under 30B params and not trending"
    )
    assert not verdict.candidate
    assert POLICY.prefilter(small, REGISTRY.resolve("Skywork")).candidate


def test_every_lab_needs_an_in_scope_task_tier_one_included():
    no_task = repo("deepseek-ai/DeepSeek-V4", pipeline_tag=None, tags=["safetensors"])
    listed = POLICY.prefilter(no_task, REGISTRY.resolve("deepseek-ai"))
    assert listed.candidate and listed.rejected == "no pipeline task declared yet"
    assert not judge(no_task).notable and not judge(no_task).candidate
    tier_two = repo("tencent/Mystery-7B", pipeline_tag=None, tags=["safetensors"])
    listed = POLICY.prefilter(tier_two, REGISTRY.resolve("tencent"))
    assert listed.candidate and not listed.notable
    assert listed.rejected == "no pipeline task declared yet"
    assert not judge(tier_two).candidate
    conversational = repo(
        "tencent/Mystery-7B", pipeline_tag=None, tags=["conversational", "safetensors"]
    )
    assert judge(conversational).notable
    from_card = repo(
        "tencent/Mystery-7B", pipeline_tag=None, card_data={"pipeline_tag": "any-to-any"}
    )
    assert judge(from_card).notable


def test_prefilter_on_list_data_for_tracked_and_untracked():
    qwen = REGISTRY.resolve("Qwen")
    listed = POLICY.prefilter(repo("Qwen/Qwen3.5-27B"), qwen)
    assert listed.candidate and listed.notable
    rejected = POLICY.prefilter(repo("bartowski/Qwen3.5-27B-GGUF", tags=["gguf"]), None)
    assert not rejected.candidate
    assert rejected.rejected == "third-party GGUF reupload"


def test_thresholds_are_configurable():
    strict = NotabilityPolicy(PolicyConfig(breakout_min_likes=5000, breakout_min_trending=1000))
    hyped = repo("newlab/Hyped-7B", likes=1200, trending_score=450.0)
    assert not strict.judge(hyped, None, first_seen=NOW, now=NOW).notable
    assert POLICY.judge(hyped, None, first_seen=NOW, now=NOW).notable


def test_user_tracked_lab_counts_as_tier_two():
    lab = Lab(namespace="garage-lab", name="garage-lab", country="DE", source="user")
    verdict = POLICY.judge(repo("garage-lab/Garage-3B"), lab, first_seen=NOW, now=NOW)
    assert verdict.notable
    assert verdict.reasons[:2] == (
        "tracked lab garage-lab (DE)",
        "original model, not a derivative",
    )
