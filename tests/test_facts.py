"""Model facts: sizes, licenses, openness, lineage and the stored record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.radar.facts import (
    base_model_relations,
    human_count,
    human_params,
    license_class,
    openness,
    params_of,
    parse_params,
    record_from_repo,
)
from bot.radar.labs import LabRegistry
from bot.radar.models import HubRepo, LicenseClass, Openness

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
        ("Mixtral-8x7B-v0.1", 56 * B, None),
        ("Mixtral-7x22B", 154 * B, None),
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
def test_parse_params(name, total, active):
    assert parse_params(name) == (total, active)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (235 * B, "235B"), (1_500 * M, "1.5B"), (270 * M, "270M"), (27_781_427_952, "27.8B"),
        (8 * B, "8B"), (10**12, "1T"), (999_960_000, "1B"), (0, "unknown"), (None, "unknown"),
    ],
)  # fmt: skip
def test_human_params(n, text):
    assert human_params(n) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0"), (7, "7"), (999, "999"), (1234, "1.2k"), (12_345, "12k"),
        (999_999, "1M"), (3_400_000, "3.4M"), (60_478_923, "60M"), (1_200_000_000, "1.2B"),
    ],
)  # fmt: skip
def test_human_count(n, text):
    assert human_count(n) == text


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


def test_params_prefer_safetensors_except_for_packed_low_bit_weights():
    assert params_of(repo("Qwen/Qwen3-30B-A3B", safetensors_total=30_532_122_624)) == (
        30_532_122_624,
        3 * B,
    )
    assert params_of(repo("Qwen/Qwen3-32B-AWQ", safetensors_total=5_700_000_000)) == (32 * B, None)
    assert params_of(repo("acme/Big-70B-NVFP4", safetensors_total=38 * B)) == (70 * B, None)
    assert params_of(repo("deepseek-ai/DeepSeek-V3.2", safetensors_total=685 * B)) == (
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
    assert record.derivative_count == 4
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
