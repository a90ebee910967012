"""What we say about a model: size, license class, openness, lineage, display numbers.

Everything here reads a `HubRepo` (already parsed by the Hub client) or a repo name and
returns plain values, so the Slack layer, the CLI and the policy all describe a model
the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from bot.radar.models import HubRepo, Lab, LicenseClass, ModelRecord, Openness

# --------------------------------------------------------------------------- sizes

_UNIT = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_NUMBER = r"(\d+(?:\.\d+)?)"
_PLAIN_SIZE = re.compile(rf"^{_NUMBER}([mbt])$")  # 8b, 0.6b, 270m, 1t  (k is context length)
_ACTIVE_SIZE = re.compile(rf"^a{_NUMBER}([mbt])$")  # a22b, a2.7b
_EFFECTIVE_SIZE = re.compile(rf"^e{_NUMBER}([mbt])$")  # gemma-3n e4b
_MOE_PRODUCT = re.compile(rf"^(\d+)x{_NUMBER}([mbt])$")  # 8x7b
_EXPERT_COUNT = re.compile(r"^\d+e$")  # llama-4 "17B-16E": the size is then per-token
_NAME_SPLIT = re.compile(r"[-_\s]+")

# Name tokens that mark a precision or file format build rather than a different model.
PRECISION_TOKENS: frozenset[str] = frozenset(
    {
        "fp8", "fp4", "nvfp4", "mxfp4", "bf16", "fp16", "fp32", "f16", "f32",
        "int4", "int8", "w4a16", "w8a8", "w4a8", "w8a16", "a16w4",
        "gguf", "mlx", "awq", "gptq", "exl2", "exl3", "bnb", "onnx", "openvino",
        "4bit", "8bit", "3bit", "6bit", "nf4", "dynamic", "quantized", "fp8dynamic",
    }
)  # fmt: skip
# Quantizations below 8 bits pack several weights per stored value, so the safetensors
# count underestimates the model; trust the name for those.
_PACKED_TOKENS = frozenset(
    {"fp4", "nvfp4", "mxfp4", "int4", "w4a16", "w4a8", "a16w4", "awq", "gptq", "4bit", "3bit",
     "nf4", "bnb", "exl2", "exl3"}
)  # fmt: skip


def name_tokens(name: str) -> list[str]:
    """A repo name (without its namespace) split on dashes, underscores and spaces."""
    return [token for token in _NAME_SPLIT.split(name.split("/", 1)[-1]) if token]


def _amount(number: str, unit: str) -> int:
    return round(float(number) * _UNIT[unit])


def is_size_token(token: str) -> bool:
    """True for tokens that only state a size: 235B, A22B, 8x7B, E4B, 270m, 16E."""
    lowered = token.lower()
    return any(
        pattern.match(lowered)
        for pattern in (_PLAIN_SIZE, _ACTIVE_SIZE, _EFFECTIVE_SIZE, _MOE_PRODUCT, _EXPERT_COUNT)
    )


def parse_params(name: str) -> tuple[int | None, int | None]:
    """Total and active parameter counts as the repo name states them.

    Versions (3.1), dates (2507) and context lengths (32k) carry no unit we accept, so
    they are ignored. "8x7B" is the product of experts and size; "E4B" (Gemma's
    "effective" size) counts as the total; in "Llama-4-Scout-17B-16E" the 17B is the
    per-token (active) size, so the total stays unknown.
    """
    total: int | None = None
    active: int | None = None
    has_expert_count = False
    for token in name_tokens(name):
        lowered = token.lower()
        if _EXPERT_COUNT.match(lowered):
            has_expert_count = True
        elif match := _ACTIVE_SIZE.match(lowered):
            active = active or _amount(match.group(1), match.group(2))
        elif match := _MOE_PRODUCT.match(lowered):
            total = total or int(match.group(1)) * _amount(match.group(2), match.group(3))
        elif match := (_EFFECTIVE_SIZE.match(lowered) or _PLAIN_SIZE.match(lowered)):
            total = total or _amount(match.group(1), match.group(2))
    if has_expert_count and total is not None and active is None:
        return None, total
    return total, active


def params_of(repo: HubRepo) -> tuple[int | None, int | None]:
    """Total params from the safetensors count (else the name), active from the name."""
    named_total, named_active = parse_params(repo.name)
    counted = (
        repo.safetensors_total if repo.safetensors_total and repo.safetensors_total > 0 else None
    )
    if counted is None:
        return named_total, named_active
    packed = any(token.lower() in _PACKED_TOKENS for token in name_tokens(repo.name))
    if named_total is not None and (packed or counted < named_total / 2):
        return named_total, named_active  # packed low-bit weights: the count is too low
    return counted, named_active


def _format_number(value: float, one_decimal_below: float) -> str:
    if value < one_decimal_below:
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.0f}"


def _compact(value: float, units: list[tuple[str, int]], one_decimal_below: float) -> str:
    """Scale to the largest unit that fits; move up a unit when rounding reaches 1000."""
    for index, (suffix, size) in enumerate(units):
        if value >= size or index == len(units) - 1:
            text = _format_number(value / size, one_decimal_below)
            if float(text) >= 1000 and index > 0:
                suffix, size = units[index - 1]
                text = _format_number(value / size, one_decimal_below)
            return text + suffix
    return str(value)  # pragma: no cover - the loop always returns


def human_params(n: int | float | None) -> str:
    """235B / 27.8B / 1.5B / 270M / 1T: the way model cards write sizes."""
    if n is None or n <= 0:
        return "unknown"
    units = [("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3), ("", 1)]
    return _compact(float(n), units, one_decimal_below=100)


def human_count(n: int | float | None) -> str:
    """1.2k / 34k / 3.4M: compact counts for downloads and likes."""
    if n is None or n <= 0:
        return "0"
    units = [("B", 10**9), ("M", 10**6), ("k", 10**3), ("", 1)]
    return _compact(float(n), units, one_decimal_below=10)


# ------------------------------------------------------------------------- license

# License table (Hub license ids, or the `license_name` of an `other` license):
#   permissive      OSI-style licenses and CC-BY/CC0: commercial use with attribution at
#                   most (apache-2.0, mit, bsd*, isc, cc-by-4.0, cc0, gpl/lgpl/agpl, mpl …)
#   restricted      usable commercially but with use policies, user caps or custom terms:
#                   llama*, gemma, OpenRAIL family (use-based restrictions travel with the
#                   weights), DeepSeek, Qwen/Tongyi-Qianwen, modified MIT (Kimi), NVIDIA
#                   open model license, Falcon, Hunyuan, MiniMax, Yi, Baichuan, GLM …
#   non-commercial  cc-by-nc*, research-only licenses (Qwen research, Mistral MRL/MNPL,
#                   Apple AMLR, EXAONE NC)
#   unknown         no license, or a custom one we have not classified
_PERMISSIVE_IDS = frozenset(
    {
        "apache-2.0", "mit", "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear",
        "isc", "unlicense", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0",
        "cc-by-sa-3.0", "cc-by-sa-4.0", "gpl", "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1",
        "lgpl-3.0", "lgpl-lr", "agpl-3.0", "mpl-2.0", "epl-1.0", "epl-2.0", "afl-3.0",
        "artistic-2.0", "ecl-2.0", "ms-pl", "osl-3.0", "postgresql", "wtfpl", "zlib",
        "bsl-1.0", "pddl", "odc-by", "odbl", "cdla-permissive-1.0", "cdla-permissive-2.0",
        "cdla-sharing-1.0", "ofl-1.1", "gfdl", "eupl-1.1", "eupl-1.2", "upl-1.0",
    }
)  # fmt: skip
_NON_COMMERCIAL_MARKERS = (
    "-nc", "noncommercial", "non-commercial", "research", "mnpl", "mrl", "amlr", "exaone",
)  # fmt: skip
_RESTRICTED_MARKERS = (
    "llama", "gemma", "openrail", "bigscience", "rail", "deepseek", "qwen", "tongyi",
    "modified-mit", "modified mit", "nvidia", "falcon", "hunyuan", "tencent", "minimax",
    "yi-license", "baichuan", "glm", "internlm", "stabilityai", "community", "deepfloyd",
    "health-ai-developer-foundations", "jamba", "ai21", "aya", "c4ai", "apple-ascl",
)  # fmt: skip


def _normalise_license(text: str | None) -> str:
    return " ".join((text or "").split()).lower()


def license_class(license: str | None, license_name: str | None = None) -> LicenseClass:
    """Put a Hub license id (or a custom license's name) in one of four classes."""
    lid = _normalise_license(license)
    name = _normalise_license(license_name)
    key = name if lid in {"", "other", "unknown"} else lid
    if not key:
        return LicenseClass.UNKNOWN
    if any(marker in key for marker in _NON_COMMERCIAL_MARKERS):
        return LicenseClass.NON_COMMERCIAL
    if key in _PERMISSIVE_IDS:
        return LicenseClass.PERMISSIVE
    if any(marker in key for marker in _RESTRICTED_MARKERS):
        return LicenseClass.RESTRICTED
    return LicenseClass.UNKNOWN


def _first_text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str) and item.strip():
                return item.strip()
    return None


def license_of(repo: HubRepo) -> tuple[str | None, str | None]:
    """The license id (card data first, then the `license:` tag) and a custom name."""
    license_id = _first_text(repo.card_data.get("license"))
    if license_id is None:
        license_id = next(
            (tag.split(":", 1)[1] for tag in repo.tags if tag.lower().startswith("license:")),
            None,
        )
    return license_id, _first_text(repo.card_data.get("license_name"))


# ------------------------------------------------------------------------ openness

# Namespaces that publish their training code alongside their models; together with the
# training data declared on the card, that is ATOM's "open source" bar.
OPEN_CODE_NAMESPACES = frozenset({"allenai", "swiss-ai", "llm360", "huggingfacetb", "eleutherai"})
_OPEN_CODE_TAGS = frozenset({"fully-open", "open-source", "open-science", "truly-open"})
_CODE_URL = re.compile(r"https?://(www\.)?(github\.com|gitlab\.com|codeberg\.org)/", re.I)
_WEIGHT_TAGS = frozenset(
    {"safetensors", "gguf", "pytorch", "tf", "jax", "onnx", "mlx", "transformers", "diffusers"}
)


def _declares_training_data(repo: HubRepo) -> bool:
    datasets = repo.card_data.get("datasets")
    if isinstance(datasets, str | list) and datasets:
        return True
    return any(tag.lower().startswith("dataset:") for tag in repo.tags)


def _declares_code(repo: HubRepo) -> bool:
    if repo.author.lower() in OPEN_CODE_NAMESPACES:
        return True
    tags = {tag.lower() for tag in repo.tags}
    card_tags = repo.card_data.get("tags")
    if isinstance(card_tags, list):
        tags |= {str(tag).lower() for tag in card_tags}
    if tags & _OPEN_CODE_TAGS:
        return True
    return any(isinstance(v, str) and _CODE_URL.search(v) for v in repo.card_data.values())


def openness(repo: HubRepo) -> Openness:
    """Open source (weights + data + code) only on clear evidence; else open weights.

    Conservative on purpose: the card must declare its training datasets *and* the lab
    must point at code (a code-hosting link or tag, or a lab known to publish it).
    """
    has_weights = (
        bool(repo.safetensors_total)
        or bool(repo.library_name)
        or any(tag.lower() in _WEIGHT_TAGS for tag in repo.tags)
    )
    if not has_weights:
        return Openness.UNKNOWN
    if _declares_training_data(repo) and _declares_code(repo):
        return Openness.OPEN_SOURCE
    return Openness.WEIGHTS


# ------------------------------------------------------------------------- lineage

BASE_MODEL_RELATIONS = frozenset({"adapter", "merge", "quantized", "finetune"})


def base_model_relations(repo: HubRepo) -> dict[str, str | None]:
    """Declared parents of a repo -> relation (None when not stated), first casing wins.

    Sources: the detail call's `baseModels`, card data `base_model`, and the Hub's
    `base_model:<id>` / `base_model:<relation>:<id>` tags. A repo naming itself is ignored.
    """
    found: dict[str, tuple[str, str | None]] = {}

    def add(model_id: object, relation: str | None) -> None:
        if not isinstance(model_id, str) or "/" not in model_id.strip():
            return
        model_id = model_id.strip()
        key = model_id.lower()
        if key == repo.id.lower():
            return
        known = found.get(key)
        if known is None:
            found[key] = (model_id, relation)
        elif known[1] is None and relation is not None:
            found[key] = (known[0], relation)

    for tag in repo.tags:
        if not tag.lower().startswith("base_model:"):
            continue
        rest = tag.split(":", 1)[1]
        head, _, tail = rest.partition(":")
        if tail and head.lower() in BASE_MODEL_RELATIONS:
            add(tail, head.lower())
        else:
            add(rest, None)
    card_relation = _first_text(repo.card_data.get("base_model_relation"))
    relation = (repo.base_model_relation or card_relation or "").lower() or None
    relation = relation if relation in BASE_MODEL_RELATIONS else None
    for model_id in repo.base_models:
        add(model_id, relation)
    card_base = repo.card_data.get("base_model")
    for model_id in card_base if isinstance(card_base, list) else [card_base]:
        add(model_id, relation)
    return {model_id: rel for model_id, rel in found.values()}


T = TypeVar("T")


def _keep(new: T | None, old: T) -> T:
    """The newly reported value, or the previous one when the call did not report it."""
    return new if new is not None else old


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            unique.append(item)
    return unique


def task_of(repo: HubRepo) -> str | None:
    """The pipeline tag, from the repo itself or, failing that, its card data."""
    return repo.pipeline_tag or _first_text(repo.card_data.get("pipeline_tag"))


# -------------------------------------------------------------------------- record


def record_from_repo(
    repo: HubRepo,
    *,
    lab: Lab | None,
    first_seen: datetime,
    previous: ModelRecord | None = None,
) -> ModelRecord:
    """Build (or refresh) the stored record for a repo.

    A list call reports fewer fields than a detail call, so anything the new call did
    not report keeps its previous value; `first_seen`, the verdict and the release
    membership always come from `previous`.
    """
    old = previous
    total, active = params_of(repo)
    license_id, license_name = license_of(repo)
    if license_id is None and old is not None:
        license_id, license_name = old.license, old.license_name
    bases = list(base_model_relations(repo))
    detail_openness = openness(repo)
    gated = repo.gated if repo.detailed or old is None else (repo.gated or old.gated)

    return ModelRecord(
        id=repo.id,
        author=repo.author,
        lab=lab.namespace if lab else None,
        first_seen=old.first_seen if old else first_seen,
        created_at=_keep(repo.created_at, old.created_at if old else None),
        last_modified=_keep(repo.last_modified, old.last_modified if old else None),
        sha=_keep(repo.sha, old.sha if old else None),
        private=repo.private,
        pipeline_tag=_keep(task_of(repo), old.pipeline_tag if old else None),
        library_name=_keep(repo.library_name, old.library_name if old else None),
        tags=list(repo.tags) if repo.tags or old is None else list(old.tags),
        base_models=_dedupe(bases) if bases or old is None else list(old.base_models),
        license=license_id,
        license_name=license_name,
        license_class=license_class(license_id, license_name),
        gated=gated,
        openness=(
            old.openness
            if detail_openness is Openness.UNKNOWN and old is not None
            else detail_openness
        ),
        params_total=_keep(total, old.params_total if old else None),
        params_active=_keep(active, old.params_active if old else None),
        downloads=_keep(repo.downloads, old.downloads if old else 0),
        downloads_all_time=_keep(repo.downloads_all_time, old.downloads_all_time if old else None),
        likes=_keep(repo.likes, old.likes if old else 0),
        trending_score=_keep(repo.trending_score, old.trending_score if old else None),
        children=dict(repo.children)
        if repo.children is not None
        else dict(old.children)
        if old
        else {},
        detailed=repo.detailed or (old.detailed if old else False),
        notable=old.notable if old else False,
        reasons=list(old.reasons) if old else [],
        release_id=old.release_id if old else None,
    )
