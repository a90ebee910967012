"""ATOM's 1,772 mainline model ids against the radar's name rules (real data).

ATOM's curated list is first-party, open-weight LLMs and VLMs. Given the facts of an
original in-scope release (weights, a text-generation task, no foreign base model, some
traction), every one of them must be notable: no name may be mistaken for a derivative, a
third-party format build or a non-model. The exceptions are models outside the radar's
stated scope (reward models, tokenizers, checkpoints by step, embeddings, rerankers,
classifiers, speech, test repos), listed below with the reason the radar gives.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from bot.radar.labs import LabRegistry
from bot.radar.models import HubRepo
from bot.radar.policy import NotabilityPolicy
from tests.realdata.atom_csv import mainline_ids

pytestmark = pytest.mark.realdata

NOW = datetime(2026, 8, 17, 12, tzinfo=UTC)
REGISTRY = LabRegistry.builtin()
POLICY = NotabilityPolicy(registry=REGISTRY)

OUT_OF_SCOPE: dict[str, str] = {
    "ai21labs/Jamba-tiny-random": "test/dummy repo",
    "allenai/dolma2-tokenizer-U10F0F0": "tokenizer, not a model",
    "allenai/Llama-3.1-Tulu-3-8B-RM": "reward model",
    "allenai/OLMo-1B-0724-954000steps-unsharded": "intermediate training checkpoint",
    "allenai/OLMo-2-1124-13B-RM": "reward model",
    "allenai/OLMo-2-1124-7B-RM": "reward model",
    "allenai/OLMo-2-1124-7B-RM-Preview": "reward model",
    "HuggingFaceTB/SmolLM2-nanotron-ckpt": "intermediate training checkpoint",
    "HuggingFaceTB/SmolLM3-3B-checkpoints": "intermediate training checkpoint",
    "HuggingFaceTB/stack-edu-classifier-python": "classifier model",
    "ibm-granite/granite-embedding-107m-multilingual": "embedding model",
    "ibm-granite/granite-embedding-278m-multilingual": "embedding model",
    "ibm-granite/granite-speech-3.2-8b": "speech model",
    "ibm-granite/granite-speech-3.3-2b": "speech model",
    "internlm/internlm2-1_8b-reward": "reward model",
    "internlm/internlm2-20b-reward": "reward model",
    "internlm/internlm2-7b-reward": "reward model",
    "nvidia/Llama-3_3-Nemotron-Super-49B-GenRM": "reward model",
    "nvidia/Nemotron-Cascade-8B-Intermediate-ckpts": "intermediate training checkpoint",
    "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-GenRM": "reward model",
    "openbmb/chattts_tokenizer": "tokenizer, not a model",
    "openbmb/Eurus-RM-7b": "reward model",
    "openbmb/MiniCPM-Embedding": "embedding model",
    "openbmb/MiniCPM-Embedding-Light": "embedding model",
    "openbmb/MiniCPM-Reranker": "reranker model",
    "openbmb/MiniCPM-Reranker-Light": "reranker model",
    "openbmb/Ultra-FineWeb-classifier": "classifier model",
    "Qwen/Qwen2-Math-RM-72B": "reward model",
    "Qwen/Qwen2.5-Math-7B-PRM800K": "reward model",
    "Qwen/Qwen2.5-Math-PRM-72B": "reward model",
    "Qwen/Qwen2.5-Math-PRM-7B": "reward model",
    "Qwen/Qwen2.5-Math-RM-72B": "reward model",
    "Skywork/Skywork-13B-Base-Intermediate": "intermediate training checkpoint",
    "Skywork/Skywork-o1-Open-PRM-Qwen-2.5-1.5B": "reward model",
    "Skywork/Skywork-o1-Open-PRM-Qwen-2.5-7B": "reward model",
    "Skywork/Skywork-VL-Reward-7B": "reward model",
    "THUDM/glm-4-voice-tokenizer": "tokenizer, not a model",
    "THUDM/webrl-orm-llama-3.1-8b": "reward model",
    "zai-org/glm-4-voice-tokenizer": "tokenizer, not a model",
    "zai-org/GLM-ASR-Nano-2512": "speech model",
    "zai-org/webrl-orm-llama-3.1-8b": "reward model",
}


def _release(repo_id: str) -> HubRepo:
    """An original in-scope release with traction, as the Hub would list it."""
    return HubRepo(
        id=repo_id,
        author=repo_id.split("/", 1)[0],
        pipeline_tag="text-generation",
        tags=["transformers", "safetensors", "text-generation", "region:us"],
        likes=1_000,
        trending_score=200.0,
        created_at=NOW,
    )


def test_there_are_1772_mainline_ids():
    ids = mainline_ids()
    assert len(ids) == len(set(ids)) == 1772


def test_every_mainline_id_passes_the_name_rules_except_those_out_of_scope():
    ids = mainline_ids()
    named_out = {i: why for i in ids if (why := POLICY.name_rejection(i)) is not None}
    newly_rejected = {i: why for i, why in named_out.items() if OUT_OF_SCOPE.get(i) != why}
    no_longer_rejected = sorted(set(OUT_OF_SCOPE) - set(named_out))
    not_notable: dict[str, str] = {}
    for repo_id in ids:
        if repo_id in OUT_OF_SCOPE:
            continue
        repo = _release(repo_id)
        verdict = POLICY.judge(repo, REGISTRY.resolve(repo.author), first_seen=NOW, now=NOW)
        if not verdict.notable:
            not_notable[repo_id] = verdict.rejected or "?"
    figures = (
        f"{len(ids)} mainline ids: {len(ids) - len(named_out)} pass the name rules, "
        f"{len(named_out)} are out of scope by name "
        f"{dict(Counter(named_out.values()).most_common())}; newly rejected by name: "
        f"{newly_rejected}; listed but no longer rejected: {no_longer_rejected}; "
        f"{len(not_notable)} not notable as releases: "
        f"{dict(Counter(not_notable.values()).most_common(10))} e.g. {list(not_notable)[:10]}"
    )
    print(figures)
    assert not newly_rejected and not no_longer_rejected, figures
    assert not not_notable, figures
    assert len(named_out) <= 0.03 * len(ids), figures


def test_out_of_scope_ids_are_out_for_every_lab_tier_one_included():
    for repo_id, why in OUT_OF_SCOPE.items():
        repo = _release(repo_id)
        verdict = POLICY.judge(repo, REGISTRY.resolve(repo.author), first_seen=NOW, now=NOW)
        assert (verdict.notable, verdict.rejected) == (False, why), repo_id
