"""What we say about a model: size, license class, openness, lineage, display numbers.

Everything here reads a `HubRepo` (already parsed by the Hub client) or a repo name and
returns plain values, so the Slack layer, the CLI and the policy all describe a model
the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol, TypeVar

from bot.radar.models import HubRepo, Lab, LicenseClass, ModelRecord, Openness
from bot.radar.vocabulary import count_text, params_text, record_size_text, size_text

# --------------------------------------------------------------------------- sizes

_UNIT = {"k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_NUMBER = r"(\d+(?:\.\d+)?)"
_PLAIN_SIZE = re.compile(rf"^{_NUMBER}([mbt])$")  # 8b, 0.6b, 270m, 1t  (k is context length)
_ACTIVE_SIZE = re.compile(rf"^a{_NUMBER}([mbt])$")  # a22b, a2.7b
_EFFECTIVE_SIZE = re.compile(rf"^e{_NUMBER}([mbt])$")  # gemma-3n e4b
_MOE_PRODUCT = re.compile(rf"^(\d+)x{_NUMBER}([mbt])$")  # 8x7b
_EXPERT_COUNT = re.compile(r"^\d+e$")  # llama-4 "17B-16E": the size is then per-token
_NAME_SPLIT = re.compile(r"[-_\s]+")
# InternLM writes 1.8B as "1_8b": an underscore between digits before a unit is a point.
_UNDERSCORE_POINT = re.compile(r"(?<=\d)_(?=\d+(?:\.\d+)?[mbtMBT](?:$|[-_\s]))")
# Size-class words: a model called "mini" or "lite" is never a trillion parameters, so a
# trailing "-5T" in its name counts training tokens (Ling-mini-base-2.0-5T).
_SIZE_CLASS_WORDS = frozenset({"nano", "micro", "tiny", "mini", "small", "lite", "flash", "medium"})

# Name tokens that mark a precision or file format build rather than a different model.
PRECISION_TOKENS: frozenset[str] = frozenset(
    {
        "fp8", "fp4", "nvfp4", "mxfp4", "bf16", "fp16", "fp32", "f16", "f32",
        "int4", "int8", "w4a16", "w8a8", "w4a8", "w8a16", "a16w4",
        "gguf", "mlx", "awq", "gptq", "exl2", "exl3", "bnb", "onnx", "openvino",
        "4bit", "8bit", "3bit", "6bit", "nf4", "dynamic", "quantized", "fp8dynamic",
    }
)  # fmt: skip
# Builds that pack several weights into one stored value (below 8 bits, or MLX's packed
# layout), so their safetensors count is far below the model's size: NVFP4, AWQ, INT4,
# W4A16, MLX, GPTQ, bnb-4bit … Their size comes from the unpacked sibling or the name.
PACKED_TOKENS: frozenset[str] = frozenset(
    {"fp4", "nvfp4", "mxfp4", "int4", "w4a16", "w4a8", "a16w4", "w4a4", "awq", "gptq",
     "4bit", "3bit", "2bit", "nf4", "bnb", "exl2", "exl3", "mlx"}
)  # fmt: skip
# Tags the Hub derives from a quantization config that packs weights.
_PACKED_TAGS = frozenset({"4-bit", "3-bit", "2-bit", "awq", "gptq", "exl2", "mlx"})


class Size(NamedTuple):
    """What is known of a model's size. `experts`×`expert_params` is how a name such as
    Mixtral-8x22B states it: never multiplied (shared layers make the product wrong), only
    worded, and only when no total is known."""

    total: int | None = None
    active: int | None = None
    experts: int | None = None
    expert_params: int | None = None

    def words(self) -> str:
        """This size as `size_words` says it."""
        return size_words(
            self.total, self.active, experts=self.experts, expert_params=self.expert_params
        )


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


def is_packed(name: str, tags: Iterable[str] = ()) -> bool:
    """True for a packed-precision build (NVFP4, AWQ, INT4, MLX …), by name or Hub tag."""
    tokens = {token.lower() for token in name_tokens(name)}
    return bool(tokens & PACKED_TOKENS) or any(tag.lower() in _PACKED_TAGS for tag in tags)


def name_size(name: str) -> Size:
    """The size a repo name states, read the way people write model names.

    - "235B-A22B": total and active; "A3B" alone: the active size only.
    - "8x22B": experts × expert size, never multiplied into a total.
    - "OLMoE-1B-7B": two sizes in a row, the smaller first, are active then total.
    - "-5T", "2B-4T", "8b-3t": a trillion count next to another size, or in a model named
      mini/lite/small…, counts training tokens, not parameters ("Ling-1T" is a size).
    - "E4B" (Gemma's "effective" size) counts as the total; in "Llama-4-Scout-17B-16E"
      the 17B is the per-token (active) size, so the total stays unknown.
    - versions (3.1), dates (2507) and context lengths (32k) carry no unit we accept.
    """
    tokens = [t.lower() for t in name_tokens(_UNDERSCORE_POINT.sub(".", name.split("/")[-1]))]
    plain: list[tuple[int, int, str]] = []  # (position, amount, unit)
    active: int | None = None
    product: tuple[int, int] | None = None
    effective: int | None = None
    has_expert_count = False
    for position, token in enumerate(tokens):
        if _EXPERT_COUNT.match(token):
            has_expert_count = True
        elif match := _ACTIVE_SIZE.match(token):
            active = active or _amount(match.group(1), match.group(2))
        elif match := _MOE_PRODUCT.match(token):
            product = product or (int(match.group(1)), _amount(match.group(2), match.group(3)))
        elif match := _EFFECTIVE_SIZE.match(token):
            effective = effective or _amount(match.group(1), match.group(2))
        elif match := _PLAIN_SIZE.match(token):
            plain.append((position, _amount(match.group(1), match.group(2)), match.group(2)))

    small_plain = [entry for entry in plain if entry[2] != "t"]
    if small_plain or product or effective or _SIZE_CLASS_WORDS & set(tokens):
        plain = small_plain  # the trillions are training tokens
    experts, expert_params = product or (None, None)
    total = plain[0][1] if plain else effective
    if len(plain) >= 2 and plain[1][0] == plain[0][0] + 1 and plain[0][1] < plain[1][1]:
        active, total = active or plain[0][1], plain[1][1]  # OLMoE-1B-7B: active first
    if has_expert_count and total is not None and active is None:
        return Size(None, total, experts, expert_params)
    return Size(total, active, experts, expert_params)


def parse_params(name: str) -> tuple[int | None, int | None]:
    """Total and active parameter counts as the repo name states them (see `name_size`)."""
    size = name_size(name)
    return size.total, size.active


def _stem(name: str) -> tuple[str, ...]:
    """A name without its precision/format tokens: what an unpacked sibling is called."""
    return tuple(
        token.lower()
        for token in name_tokens(name)
        if token.lower() not in PRECISION_TOKENS and token.lower() not in PACKED_TOKENS
    )


class _Sized(Protocol):
    id: str
    params_total: int | None


def unpacked_sibling_total(repo_id: str, siblings: Iterable[_Sized]) -> int | None:
    """The exact size of a packed build's unpacked sibling, when the caller knows one.

    A packed build (`Qwen/Qwen3-32B-AWQ`, `acme/Big-NVFP4`) stores several weights per
    value, so its own safetensors count is too low. Its sibling in the same namespace whose
    name is the same without precision/format tokens (`Qwen/Qwen3-32B`, or a `-BF16`
    build) and that is not packed itself has the real count. `siblings` are records the
    caller already holds (e.g. the lab's stored `ModelRecord`s); nothing is fetched.
    Returns None when no such sibling with a known total is among them.
    """
    namespace = repo_id.split("/", 1)[0].lower()
    stem = _stem(repo_id)
    for sibling in siblings:
        if sibling.id.lower() == repo_id.lower() or not sibling.params_total:
            continue
        if sibling.id.split("/", 1)[0].lower() != namespace or is_packed(sibling.id):
            continue
        if _stem(sibling.id) == stem:
            return sibling.params_total
    return None


def size_of(repo: HubRepo, siblings: Iterable[_Sized] = ()) -> Size:
    """The size to show: the exact safetensors count when there is one, else the name.

    A packed build's count is far too low, so there the unpacked sibling's count (when the
    caller passes siblings) wins, then the name; with neither, the size is unknown rather
    than a count off by a factor of four. The active size always comes from the name.
    """
    named = name_size(repo.name)
    counted = repo.safetensors_total if (repo.safetensors_total or 0) > 0 else None
    if is_packed(repo.name, repo.tags):
        counted = unpacked_sibling_total(repo.id, siblings)
    if counted is None:
        return named
    return named._replace(total=counted)


def params_of(repo: HubRepo) -> tuple[int | None, int | None]:
    """Total and active params as `size_of` reads them (no siblings)."""
    size = size_of(repo)
    return size.total, size.active


def human_params(n: int | float | None) -> str:
    """235B / 27.8B / 1.5B / 270M / 1T: `vocabulary.params_text`, the one wording of a size."""
    return params_text(n)


def size_words(
    total: int | None,
    active: int | None = None,
    *,
    experts: int | None = None,
    expert_params: int | None = None,
) -> str:
    """`vocabulary.size_text`, the one wording of a model's size."""
    return size_text(total, active, experts=experts, expert_params=expert_params)


def record_size_words(record: ModelRecord) -> str:
    """`vocabulary.record_size_text`: `size_words` for a stored record."""
    return record_size_text(record)


def human_count(n: int | float | None) -> str:
    """1.2k / 35k / 3.4M: `vocabulary.count_text`, the one wording of a count."""
    return count_text(n)


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


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class RepoFacts:
    """One repo's facts, derived once: what the policy judges and the record keeps.

    A poll cycle reads each new repo's task, size and lineage here, then hands this one
    object to the policy (`NotabilityPolicy.judge`/`prefilter`) and to `record_from_repo`,
    so the same listing is never parsed twice.
    """

    repo: HubRepo
    task: str | None
    size: Size
    lineage: Mapping[str, str | None]  # declared base model -> relation (None: unstated)
    tags: frozenset[str]  # lower-cased Hub tags
    tokens: frozenset[str]  # lower-cased name tokens

    @property
    def awaiting_content(self) -> bool:
        """True for a repo created empty: no weights counted, no task, no library yet."""
        repo = self.repo
        return repo.safetensors_total is None and self.task is None and not repo.library_name


def facts_of(repo: HubRepo | RepoFacts) -> RepoFacts:
    """The facts of a repo (a `RepoFacts` passes through unchanged)."""
    if isinstance(repo, RepoFacts):
        return repo
    return RepoFacts(
        repo=repo,
        task=task_of(repo),
        size=size_of(repo),
        lineage=base_model_relations(repo),
        tags=frozenset(tag.lower() for tag in repo.tags),
        tokens=frozenset(token.lower() for token in name_tokens(repo.name)),
    )


# -------------------------------------------------------------------------- record


def record_from_repo(
    repo: HubRepo | RepoFacts,
    *,
    lab: Lab | None,
    first_seen: datetime,
    previous: ModelRecord | None = None,
    siblings: Iterable[ModelRecord] = (),
) -> ModelRecord:
    """Build (or refresh) the stored record for a repo.

    A list call reports fewer fields than a detail call, so anything the new call did
    not report keeps its previous value; `first_seen`, the verdict and the release
    membership always come from `previous`. `siblings` (records the caller holds) give a
    packed build the exact size of its unpacked sibling (see `unpacked_sibling_total`).
    """
    facts = facts_of(repo)
    repo = facts.repo
    old = previous
    siblings = list(siblings)
    size = size_of(repo, siblings) if siblings else facts.size
    license_id, license_name = license_of(repo)
    if license_id is None and old is not None:
        license_id, license_name = old.license, old.license_name
    bases = list(facts.lineage)
    detail_openness = openness(repo)
    gated = repo.gated if repo.detailed or old is None else (repo.gated or old.gated)

    return ModelRecord(
        id=repo.id,
        author=repo.author,
        hub_oid=_keep(repo.hub_oid, old.hub_oid if old else None),
        lab=lab.namespace if lab else None,
        first_seen=old.first_seen if old else first_seen,
        created_at=_keep(repo.created_at, old.created_at if old else None),
        last_modified=_keep(repo.last_modified, old.last_modified if old else None),
        sha=_keep(repo.sha, old.sha if old else None),
        private=repo.private,
        pipeline_tag=_keep(facts.task, old.pipeline_tag if old else None),
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
        params_total=_keep(size.total, old.params_total if old else None),
        params_active=_keep(size.active, old.params_active if old else None),
        params_experts=_keep(size.experts, old.params_experts if old else None),
        params_expert_size=_keep(size.expert_params, old.params_expert_size if old else None),
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
