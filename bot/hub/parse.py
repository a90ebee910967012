"""Raw Hub JSON -> `HubRepo`, tolerating whatever the server (or a hostile mirror) sends.

The Hub's JSON has no published schema, fields come and go with `expand`, and a single odd
item must not cost us a whole listing. So every field is checked on its own: a mistyped value
becomes None (or empty) with a debug log, and only items without a usable id are dropped.
Strings are cut to sane sizes so nothing downstream has to guard against megabyte names.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import UTC, datetime

from bot.hub.errors import BadResponse
from bot.radar.models import HubRepo

log = logging.getLogger(__name__)

MAX_ID_CHARS = 200
MAX_CARD_STRING_CHARS = 500
MAX_SHORT_STRING_CHARS = 100
MAX_TAG_CHARS = 200
MAX_TAGS = 300
MAX_CARD_LIST_ITEMS = 100
MAX_CHILD_RELATIONS = 20

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_TRUE_GATING = {"auto", "manual"}


def repos_from_list(raw: object) -> list[HubRepo]:
    """Parse a `GET /api/models` page; items without a string id are skipped and counted."""
    if not isinstance(raw, list):
        raise BadResponse(f"expected a JSON list of models, got {type(raw).__name__}")
    repos: list[HubRepo] = []
    skipped = 0
    for item in raw:
        if not isinstance(item, dict) or _text(item.get("id"), MAX_ID_CHARS) is None:
            skipped += 1
            continue
        repos.append(_build(item, detailed=False))
    if skipped:
        log.warning("skipped %d of %d Hub list items without a usable id", skipped, len(raw))
    return repos


def repo_from_json(raw: object, *, detailed: bool) -> HubRepo:
    """Parse one repo object; a non-object or a missing id is a `BadResponse`."""
    if not isinstance(raw, dict):
        raise BadResponse(f"expected a JSON object for a model, got {type(raw).__name__}")
    if _text(raw.get("id"), MAX_ID_CHARS) is None:
        raise BadResponse("model object has no string 'id'")
    return _build(raw, detailed=detailed)


def _build(raw: dict, *, detailed: bool) -> HubRepo:
    """Every field below is already checked and of its declared type, so the model is
    built without pydantic validating it a second time (a quarter of a listing's parse)."""
    repo_id = _text(raw.get("id"), MAX_ID_CHARS) or ""
    namespace = repo_id.split("/", 1)[0] if "/" in repo_id else ""
    base_models, relation = _base_models(raw.get("baseModels"), repo_id)
    return HubRepo.model_construct(
        id=repo_id,
        author=_field_text(raw, "author", repo_id, MAX_ID_CHARS) or namespace,
        hub_oid=_field_text(raw, "_id", repo_id, MAX_SHORT_STRING_CHARS),
        created_at=_datetime(raw, "createdAt", repo_id),
        last_modified=_datetime(raw, "lastModified", repo_id),
        sha=_field_text(raw, "sha", repo_id, MAX_SHORT_STRING_CHARS),
        private=_flag(raw, "private", repo_id),
        disabled=_flag(raw, "disabled", repo_id),
        gated=_gated(raw.get("gated"), repo_id),
        pipeline_tag=_field_text(raw, "pipeline_tag", repo_id, MAX_SHORT_STRING_CHARS),
        library_name=_field_text(raw, "library_name", repo_id, MAX_SHORT_STRING_CHARS),
        tags=_string_list(raw.get("tags"), "tags", repo_id, MAX_TAGS, MAX_TAG_CHARS),
        downloads=_count(raw, "downloads", repo_id),
        downloads_all_time=_count(raw, "downloadsAllTime", repo_id),
        likes=_count(raw, "likes", repo_id),
        trending_score=_score(raw.get("trendingScore"), repo_id),
        card_data=_card_data(raw.get("cardData"), repo_id),
        safetensors_total=_safetensors_total(raw.get("safetensors"), repo_id),
        base_models=base_models,
        base_model_relation=relation,
        children=_children(raw.get("childrenModelCount"), repo_id),
        detailed=detailed,
    )


def _mistyped(repo_id: str, field: str, value: object) -> None:
    log.debug("Hub repo %s: ignoring %s of type %s", repo_id, field, type(value).__name__)


def _text(value: object, limit: int) -> str | None:
    """A clean, bounded string, or None for anything that is not a non-empty string."""
    if not isinstance(value, str):
        return None
    if not value.isprintable():  # the regex only when there may be control characters
        value = _CONTROL_CHARS.sub("", value)
    return value.strip()[:limit] or None


def _field_text(raw: dict, field: str, repo_id: str, limit: int) -> str | None:
    value = raw.get(field)
    if value is not None and not isinstance(value, str):
        _mistyped(repo_id, field, value)
    return _text(value, limit)


def _flag(raw: dict, field: str, repo_id: str) -> bool:
    value = raw.get(field)
    if isinstance(value, bool):
        return value
    if value is not None:
        _mistyped(repo_id, field, value)
    return False


def _gated(value: object, repo_id: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE_GATING:
        return True
    if value is not None:
        _mistyped(repo_id, "gated", value)
    return False


def _count(raw: dict, field: str, repo_id: str) -> int | None:
    value = raw.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        _mistyped(repo_id, field, value)
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        _mistyped(repo_id, field, value)
        return None
    count = int(value)
    return count if count >= 0 else None


def _score(value: object, repo_id: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        _mistyped(repo_id, "trendingScore", value)
        return None
    score = float(value)
    return score if math.isfinite(score) else None


def _datetime(raw: dict, field: str, repo_id: str) -> datetime | None:
    value = raw.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        _mistyped(repo_id, field, value)
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        log.debug("Hub repo %s: unparseable %s %r", repo_id, field, value)
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _string_list(
    value: object, field: str, repo_id: str, max_items: int, max_chars: int
) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        _mistyped(repo_id, field, value)
        return []
    # Inlined `_text`: tag lists are most of a listing's strings (a hot loop per poll).
    items: list[str] = []
    for item in value:
        if not isinstance(item, str):
            continue
        if not item.isprintable():
            item = _CONTROL_CHARS.sub("", item)
        text = item.strip()[:max_chars]
        if text:
            items.append(text)
            if len(items) >= max_items:
                break
    return items


def _text_or_list(value: object, field: str, repo_id: str) -> str | list[str] | None:
    """Card fields such as `base_model` or `language` may be one string or a list of them."""
    if isinstance(value, list):
        items = _string_list(value, field, repo_id, MAX_CARD_LIST_ITEMS, MAX_CARD_STRING_CHARS)
        return items or None
    if value is not None and not isinstance(value, str):
        _mistyped(repo_id, f"cardData.{field}", value)
    return _text(value, MAX_CARD_STRING_CHARS)


_CARD_TEXT_KEYS = ("license", "license_name", "license_link", "base_model_relation",
                   "pipeline_tag", "model_name")  # fmt: skip
_CARD_TEXT_OR_LIST_KEYS = ("base_model", "language")
_CARD_LIST_KEYS = ("tags", "datasets")


def _card_data(value: object, repo_id: str) -> dict:
    """Keep only the card keys the domain reads; everything else is someone's free text."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        _mistyped(repo_id, "cardData", value)
        return {}
    card: dict[str, object] = {}
    for key in _CARD_TEXT_KEYS:
        raw_value = value.get(key)
        if raw_value is None:
            continue
        if key == "license" and isinstance(raw_value, list):
            raw_value = next((item for item in raw_value if isinstance(item, str)), None)
        elif not isinstance(raw_value, str):
            _mistyped(repo_id, f"cardData.{key}", raw_value)
        text = _text(raw_value, MAX_CARD_STRING_CHARS)
        if text is not None:
            card[key] = text
    for key in _CARD_TEXT_OR_LIST_KEYS:
        raw_value = value.get(key)
        if raw_value is None:
            continue
        text_or_list = _text_or_list(raw_value, key, repo_id)
        if text_or_list is not None:
            card[key] = text_or_list
    for key in _CARD_LIST_KEYS:
        raw_value = value.get(key)
        if raw_value is None:
            continue
        limit = MAX_TAGS if key == "tags" else MAX_CARD_LIST_ITEMS
        items = _string_list(raw_value, f"cardData.{key}", repo_id, limit, MAX_TAG_CHARS)
        if items:
            card[key] = items
    return card


def _safetensors_total(value: object, repo_id: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        _mistyped(repo_id, "safetensors", value)
        return None
    return _count(value, "total", repo_id)


def _base_models(value: object, repo_id: str) -> tuple[list[str], str | None]:
    """The detail call's `baseModels`: `{"relation": ..., "models": [{"id": ...}]}`."""
    if value is None:
        return [], None
    if not isinstance(value, dict):
        _mistyped(repo_id, "baseModels", value)
        return [], None
    relation = _text(value.get("relation"), MAX_SHORT_STRING_CHARS)
    models = value.get("models")
    if not isinstance(models, list):
        if models is not None:
            _mistyped(repo_id, "baseModels.models", models)
        return [], relation
    ids: list[str] = []
    for model in models[:MAX_CARD_LIST_ITEMS]:
        base_id = _text(model.get("id"), MAX_ID_CHARS) if isinstance(model, dict) else None
        if base_id is not None and base_id not in ids:
            ids.append(base_id)
    return ids, relation


def _children(value: object, repo_id: str) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        _mistyped(repo_id, "childrenModelCount", value)
        return None
    counts: dict[str, int] = {}
    for relation, count in list(value.items())[:MAX_CHILD_RELATIONS]:
        name = _text(relation, MAX_SHORT_STRING_CHARS)
        if name is None or isinstance(count, bool) or not isinstance(count, int) or count < 0:
            _mistyped(repo_id, f"childrenModelCount.{relation!s:.40}", count)
            continue
        counts[name] = count
    return counts
