"""A repo's facts: license class, openness, lineage, task, and the record we store.

Everything here reads a `HubRepo` (already parsed by the Hub client) and returns plain
values, so the Slack layer, the CLI and the policy all describe a model the same way.
Sizes have their own module (`bot.radar.sizes`); `facts_of` gathers a repo's facts once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from bot.radar.models import HubRepo, Lab, LicenseClass, ModelRecord, Openness
from bot.radar.sizes import Size, name_tokens, size_of

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
