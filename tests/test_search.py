"""The model search on its own: what `/model <words>` finds among the models the radar knows.

An exact id wins; otherwise every word of the query must be in the id (numbers exactly,
longer words allowing a typo), and among equal matches the notable, tracked and widely
downloaded model leads.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.radar.models import ModelRecord
from bot.radar.search import ModelIndex, near_spellings, normalise

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def model(repo_id: str, **extra: object) -> ModelRecord:
    return ModelRecord(id=repo_id, author=repo_id.split("/")[0], first_seen=NOW, **extra)


MODELS = [
    model("Qwen/Qwen3-32B", lab="Qwen", notable=True, downloads=900_000),
    model("Qwen/Qwen3-8B", lab="Qwen", notable=True, downloads=2_000_000),
    model("someone/Qwen3-32B-abliterated-GGUF", downloads=40_000),
    model("deepseek-ai/DeepSeek-R1", lab="DeepSeek", notable=True, downloads=1_500_000),
    model("zai-org/GLM-4.5", lab="Z.ai", notable=True, downloads=300_000),
    model("lumen-research/Lumen-R1", downloads=100),
]


def search(query: str, models: list[ModelRecord] = MODELS) -> list[str]:
    by_key = {m.id.lower(): m for m in models}
    index = ModelIndex(lambda: list(by_key), lambda: len(by_key))  # the index takes ids
    return [match.record.id for match in index.search(query, by_key.get)]


def test_normalise_splits_ids_into_lower_case_words() -> None:
    assert normalise("Qwen/Qwen3-32B") == "qwen qwen3 32b"
    assert normalise("  zai-org/GLM-4.5_FP8 ") == "zai org glm 4 5 fp8"


def test_an_exact_id_in_any_case_wins_with_a_perfect_score() -> None:
    by_key = {m.id.lower(): m for m in MODELS}
    index = ModelIndex(lambda: [m.id for m in MODELS], lambda: len(MODELS))
    [first, *_] = index.search("qwen/QWEN3-8b", by_key.get)
    assert first.record.id == "Qwen/Qwen3-8B" and first.score == 100.0


def test_free_words_find_the_labs_own_repo_before_a_popular_derivative() -> None:
    assert search("qwen3 32b")[:2] == ["Qwen/Qwen3-32B", "someone/Qwen3-32B-abliterated-GGUF"]
    assert search("deepseek r1")[0] == "deepseek-ai/DeepSeek-R1"


def test_every_word_must_match_and_numbers_must_match_exactly() -> None:
    assert "deepseek-ai/DeepSeek-R1" not in search("lumen r1")
    assert search("lumen r1") == ["lumen-research/Lumen-R1"]
    assert search("glm 4.6") == [], "GLM-4.5 is another model, not a near miss"
    assert search("qwen3 14b") == []


def test_a_typo_in_a_longer_word_is_forgiven_but_not_in_a_number() -> None:
    assert search("deepsek r1") == ["deepseek-ai/DeepSeek-R1"]
    near = near_spellings(["deepsek", "r1"], ["deepseek", "r1", "qwen3"])
    assert "deepseek" in near["deepsek"] and near.get("r1", frozenset()) <= {"r1"}


def test_nothing_to_search_finds_nothing_and_the_index_follows_new_models() -> None:
    assert search("   ") == []
    grown = [*MODELS, model("Qwen/Qwen3-14B", lab="Qwen", notable=True)]
    assert search("qwen3 14b", grown) == ["Qwen/Qwen3-14B"]
