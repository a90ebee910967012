"""Hub-shaped model records and release scenarios for tests, demos and benchmarks.

Every record has the shapes the real Hub returns (lineage tags in both `base_model:<id>` and
`base_model:<relation>:<id>` form, `license:` and `region:us` tags, `cardData`, `safetensors`
totals, ISO `Z` timestamps). Scenario builders date everything relative to a `now` argument
so tests stay stable whatever day they run. Model names of future releases are fictional.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

B = 1_000_000_000


def iso(moment: datetime) -> str:
    """The Hub's timestamp format: UTC, milliseconds, `Z`."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def model_json(
    repo_id: str,
    *,
    created_at: datetime,
    pipeline_tag: str | None = "text-generation",
    license: str | None = "apache-2.0",
    params: int | None = None,
    downloads: int = 0,
    likes: int = 0,
    trending: float = 0,
    base_model: str | Sequence[str] | None = None,
    relation: str | None = None,
    gated: bool | str = False,
    extra_tags: Iterable[str] = (),
    library_name: str | None = "transformers",
    card_extra: dict[str, Any] | None = None,
    children: dict[str, int] | None = None,
) -> dict[str, Any]:
    """One repo as `GET /api/models/{id}` returns it (the stand-in projects list items)."""
    digest = hashlib.sha1(repo_id.encode()).hexdigest()
    bases = [base_model] if isinstance(base_model, str) else list(base_model or [])
    tags: list[str] = []
    if library_name:
        tags.append(library_name)
    if params is not None:
        tags.append("safetensors")
    if pipeline_tag:
        tags.append(pipeline_tag)
    tags.extend(extra_tags)
    if pipeline_tag in ("text-generation", "image-text-to-text"):
        tags.append("conversational")
    for base in bases:
        tags.append(f"base_model:{base}")
        if relation:
            tags.append(f"base_model:{relation}:{base}")
    if license:
        tags.append(f"license:{license}")
    tags.extend(["endpoints_compatible", "region:us"])

    card: dict[str, Any] = {}
    if license:
        card["license"] = license
    if bases:
        card["base_model"] = bases[0] if len(bases) == 1 else bases
    if relation and bases:
        card["base_model_relation"] = relation
    if pipeline_tag:
        card["pipeline_tag"] = pipeline_tag
    if library_name:
        card["library_name"] = library_name
    card.update(card_extra or {})

    record: dict[str, Any] = {
        "_id": digest[:24],
        "id": repo_id,
        "modelId": repo_id,
        "author": repo_id.split("/", 1)[0],
        "sha": digest,
        "private": False,
        "disabled": False,
        "gated": "auto" if gated is True else gated,
        "tags": tags,
        "downloads": downloads,
        "downloadsAllTime": downloads * 3,
        "likes": likes,
        "trendingScore": trending,
        "createdAt": iso(created_at),
        "lastModified": iso(created_at + timedelta(minutes=7)),
        "cardData": card,
        "siblings": [{"rfilename": ".gitattributes"}, {"rfilename": "README.md"}],
        "spaces": [],
    }
    if pipeline_tag:
        record["pipeline_tag"] = pipeline_tag
    if library_name:
        record["library_name"] = library_name
    if params is not None:
        record["safetensors"] = {"parameters": {"BF16": params}, "total": params}
        record["siblings"].append({"rfilename": "model.safetensors.index.json"})
    if children is not None:
        record["childrenModelCount"] = dict(children)
    return record


# -- scenarios --------------------------------------------------------------------------

FAMILY_LAB = "Qwen"
FAMILY_STEM = "Qwen3.7"


def family_launch(now: datetime) -> list[dict[str, Any]]:
    """A tracked Chinese lab launches a family: sizes, MoE, Base/Instruct/Thinking, FP8/GGUF."""
    start = now - timedelta(hours=6)
    ns, stem = FAMILY_LAB, FAMILY_STEM
    records: list[dict[str, Any]] = []

    def add(suffix: str, minutes: int, params: int, **kwargs: Any) -> str:
        repo_id = f"{ns}/{stem}-{suffix}"
        records.append(
            model_json(
                repo_id,
                created_at=start + timedelta(minutes=minutes),
                params=params,
                downloads=kwargs.pop("downloads", 4_000),
                likes=kwargs.pop("likes", 120),
                trending=kwargs.pop("trending", 40),
                **kwargs,
            )
        )
        return repo_id

    moe_base = add("122B-A10B-Base", 0, 122 * B, likes=90)
    moe = add(
        "122B-A10B",
        2,
        122 * B,
        base_model=moe_base,
        relation="finetune",
        likes=600,
        trending=310,
        downloads=21_000,
    )
    add("122B-A10B-FP8", 4, 122 * B, base_model=moe, relation="quantized")
    small_moe_base = add("35B-A3B-Base", 6, 35 * B)
    small_moe = add(
        "35B-A3B",
        8,
        35 * B,
        base_model=small_moe_base,
        relation="finetune",
        likes=380,
        trending=220,
        downloads=18_000,
    )
    add("35B-A3B-FP8", 10, 35 * B, base_model=small_moe, relation="quantized")
    add(
        "35B-A3B-GGUF",
        12,
        35 * B,
        base_model=small_moe,
        relation="quantized",
        library_name="gguf",
        extra_tags=("gguf",),
    )
    dense_base = add("27B-Base", 14, 27 * B)
    add("27B-Instruct", 16, 27 * B, base_model=dense_base, relation="finetune", likes=250)
    add("27B-Thinking", 18, 27 * B, base_model=dense_base, relation="finetune", likes=210)
    small_base = add("8B-Base", 20, 8 * B)
    small = add("8B-Instruct", 22, 8 * B, base_model=small_base, relation="finetune", likes=300)
    add(
        "8B-Instruct-GGUF",
        24,
        8 * B,
        base_model=small,
        relation="quantized",
        library_name="gguf",
        extra_tags=("gguf",),
    )
    return records


_QUANTIZERS: tuple[tuple[str, str, str, str], ...] = (
    # (namespace, suffix, library, extra tag)
    ("unsloth", "GGUF", "gguf", "gguf"),
    ("bartowski", "GGUF", "gguf", "gguf"),
    ("lmstudio-community", "GGUF", "gguf", "gguf"),
    ("mlx-community", "4bit", "mlx", "mlx"),
    ("mlx-community", "8bit", "mlx", "mlx"),
    ("cyankiwi", "AWQ-4bit", "transformers", "awq"),
    ("RedHatAI", "GPTQ-Int4", "transformers", "gptq"),
)
_FINETUNERS: tuple[tuple[str, str, str, str | None], ...] = (
    # (namespace, suffix, relation, library)
    ("huihui-ai", "abliterated", "finetune", "transformers"),
    ("NousResearch-fan", "Roleplay-SFT", "finetune", "transformers"),
    ("kalomaze-lab", "medical-lora", "adapter", "peft"),
)


def derivative_flood(now: datetime, base_ids: Sequence[str]) -> list[dict[str, Any]]:
    """At least 40 third-party quantizations, fine-tunes, adapters and merges of `base_ids`."""
    bases = list(base_ids) or [f"{FAMILY_LAB}/{FAMILY_STEM}-8B-Instruct"]
    records: list[dict[str, Any]] = []
    seen: set[str] = set()

    def emit(repo_id: str, **kwargs: Any) -> None:
        if repo_id in seen:
            return
        seen.add(repo_id)
        minutes = 5 + 3 * len(records)
        records.append(
            model_json(repo_id, created_at=now - timedelta(minutes=minutes % 300), **kwargs)
        )

    for index, base in enumerate(bases):
        name = base.split("/", 1)[1]
        for ns, suffix, library, tag in _QUANTIZERS:
            repo_stem = base.replace("/", "_") if ns == "bartowski" else name
            repo_name = f"{repo_stem}-{suffix}"
            emit(
                f"{ns}/{repo_name}",
                base_model=base,
                relation="quantized",
                library_name=library,
                extra_tags=(tag,),
                downloads=900 + 37 * index,
                likes=3 + index % 5,
            )
        for ns, suffix, relation, library in _FINETUNERS:
            emit(
                f"{ns}/{name}-{suffix}",
                base_model=base,
                relation=relation,
                library_name=library,
                downloads=40,
                likes=1,
            )
    for index in range(len(bases) - 1):
        first, second = bases[index], bases[index + 1]
        emit(
            f"merge-lab/{first.split('/', 1)[1]}-x-{second.split('/', 1)[1]}-slerp",
            base_model=[first, second],
            relation="merge",
            downloads=12,
        )
    user = 0
    while len(records) < 40:
        base = bases[user % len(bases)]
        emit(
            f"user{user:03d}/{base.split('/', 1)[1]}-ft-v{user}",
            base_model=base,
            relation="finetune",
            downloads=user,
            likes=0,
        )
        user += 1
    return records


def tracked_lab_noise(now: datetime) -> list[dict[str, Any]]:
    """Tracked labs' repos that are not releases anyone wants alerted: guards, embedders, tests."""
    day = now - timedelta(hours=20)
    return [
        model_json(
            f"{FAMILY_LAB}/{FAMILY_STEM}-Guard-4B",
            created_at=day,
            params=4 * B,
            pipeline_tag="text-classification",
            extra_tags=("safety", "guard"),
        ),
        model_json(
            f"{FAMILY_LAB}/{FAMILY_STEM}-Embedding-4B",
            created_at=day,
            params=4 * B,
            pipeline_tag="feature-extraction",
            library_name="sentence-transformers",
            extra_tags=("sentence-similarity", "embeddings"),
        ),
        model_json(
            f"{FAMILY_LAB}/{FAMILY_STEM}-Reranker-4B",
            created_at=day,
            params=4 * B,
            pipeline_tag="text-ranking",
            library_name="sentence-transformers",
            extra_tags=("reranker",),
        ),
        model_json(
            "meta-llama/Llama-Guard-5-8B",
            created_at=day + timedelta(hours=1),
            params=8 * B,
            license="llama4",
            gated="manual",
            extra_tags=("facebook", "meta", "llama", "safety"),
        ),
        model_json(
            "google/embeddinggemma-2-300m",
            created_at=day + timedelta(hours=2),
            params=300_000_000,
            pipeline_tag="sentence-similarity",
            license="gemma",
            library_name="sentence-transformers",
            gated="manual",
        ),
        model_json(
            "nvidia/tiny-random-test-model",
            created_at=day + timedelta(hours=3),
            params=1_000_000,
            license=None,
            extra_tags=("test",),
        ),
    ]


def private_turning_public(now: datetime) -> list[dict[str, Any]]:
    """A tracked lab's repo made 10 days ago and still private: flip it public in the test."""
    created = now - timedelta(days=10)
    records = [
        model_json(
            "moonshotai/Kimi-K3-Instruct",
            created_at=created,
            params=1_100 * B,
            license="other",
            card_extra={"license_name": "modified-mit"},
            likes=0,
        ),
        model_json(
            "moonshotai/Kimi-K3-Base",
            created_at=created - timedelta(hours=2),
            params=1_100 * B,
            license="other",
            card_extra={"license_name": "modified-mit"},
        ),
    ]
    for record in records:
        record["private"] = True
    return records


def breakout(now: datetime) -> list[dict[str, Any]]:
    """An original model from a namespace nobody tracks, rocketing up the trending list."""
    return [
        model_json(
            "lumen-research/Lumen-R1-32B",
            created_at=now - timedelta(hours=30),
            params=32 * B,
            license="mit",
            downloads=185_000,
            likes=2_400,
            trending=980,
            extra_tags=("reasoning",),
            card_extra={"model_name": "Lumen-R1-32B"},
        )
    ]


def renamed_namespace(now: datetime) -> list[dict[str, Any]]:
    """Zhipu's old `THUDM` namespace and a new release under its current `zai-org` one."""
    return [
        model_json(
            "THUDM/glm-4-9b-chat",
            created_at=now - timedelta(days=800),
            params=9 * B,
            license="other",
            card_extra={"license_name": "glm-4"},
            downloads=120_000,
            likes=680,
        ),
        model_json(
            "zai-org/GLM-5.3-Air",
            created_at=now - timedelta(hours=3),
            params=110 * B,
            license="mit",
            downloads=2_500,
            likes=190,
            trending=150,
        ),
    ]


_BACKGROUND_NAMES: dict[str, tuple[tuple[str, int, str], ...]] = {
    # namespace: (repo name, parameters in billions, license)
    "deepseek-ai": (
        ("DeepSeek-V3.1", 671, "mit"),
        ("DeepSeek-R1-0528", 671, "mit"),
        ("DeepSeek-V3.2-Exp", 671, "mit"),
    ),
    "moonshotai": (("Kimi-K2-Instruct", 1000, "other"), ("Kimi-K2-Thinking", 1000, "other")),
    "meta-llama": (
        ("Llama-4-Scout-17B-16E-Instruct", 109, "llama4"),
        ("Llama-4-Maverick-17B-128E-Instruct", 400, "llama4"),
    ),
    "google": (("gemma-3-27b-it", 27, "gemma"), ("gemma-3-4b-it", 4, "gemma")),
    "mistralai": (
        ("Mistral-Small-3.2-24B-Instruct-2506", 24, "apache-2.0"),
        ("Magistral-Small-2509", 24, "apache-2.0"),
    ),
    "nvidia": (
        ("NVIDIA-Nemotron-Nano-9B-v2", 9, "other"),
        ("Llama-3_3-Nemotron-Super-49B-v1_5", 49, "other"),
    ),
    "openai": (("gpt-oss-120b", 117, "apache-2.0"), ("gpt-oss-20b", 21, "apache-2.0")),
    "allenai": (
        ("OLMo-2-0325-32B-Instruct", 32, "apache-2.0"),
        ("Olmo-3-7B-Think", 7, "apache-2.0"),
    ),
    "Qwen": (
        ("Qwen3-235B-A22B-Instruct-2507", 235, "apache-2.0"),
        ("Qwen3-Coder-30B-A3B-Instruct", 30, "apache-2.0"),
    ),
    "zai-org": (("GLM-4.5", 355, "mit"), ("GLM-4.6", 355, "mit")),
}


def background(now: datetime, n: int) -> list[dict[str, Any]]:
    """`n` older releases across tracked labs (8 to 400 days old) for bootstraps to record."""
    catalogue = [
        (ns, name, params, license)
        for ns, entries in _BACKGROUND_NAMES.items()
        for name, params, license in entries
    ]
    records: list[dict[str, Any]] = []
    for index in range(n):
        ns, name, params, license = catalogue[index % len(catalogue)]
        round_ = index // len(catalogue)
        repo_name = name if round_ == 0 else f"{name}-r{round_}"
        age = timedelta(days=8 + (index * 37) % 392, hours=index % 24)
        records.append(
            model_json(
                f"{ns}/{repo_name}",
                created_at=now - age,
                params=params * B,
                license=license,
                downloads=50_000 + 7_919 * index % 900_000,
                likes=100 + (index * 53) % 4_000,
                trending=(index * 13) % 60,
                gated="manual" if ns == "meta-llama" else False,
            )
        )
    return records
