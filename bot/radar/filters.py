"""Subscription filters: one parser and one matcher shared by Slack commands and the CLI.

Syntax (tokens, any order, values may be comma-separated):
`org:<namespace>`  `country:<code or name>`  `region:<us|china|eu|other>`
`min-params:<N>B` (or M/T, decimals allowed)  `task:<pipeline tag>`  `follow-ups:off`.
Values within one criterion are alternatives; different criteria must all match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.radar.countries import parse_country
from bot.radar.labs import LabRegistry
from bot.radar.models import Filters, ModelRecord, Region, Release
from bot.radar.vocabulary import REGION_NAMES, country_label, params_text

VALID_FORMS = (
    "org:<namespace>, country:<code or name>, region:us|china|eu|other, "
    "min-params:<N>B, task:<pipeline tag>, follow-ups:off"
)

# Hub pipeline tags users may filter on (the Hub's task list).
KNOWN_TASKS = frozenset(
    {
        "text-generation", "image-text-to-text", "any-to-any", "text2text-generation",
        "visual-question-answering", "image-to-text", "video-text-to-text",
        "audio-text-to-text", "feature-extraction", "sentence-similarity", "text-ranking",
        "text-classification", "token-classification", "fill-mask", "question-answering",
        "table-question-answering", "document-question-answering", "summarization",
        "translation", "zero-shot-classification", "text-to-image", "image-to-image",
        "image-to-video", "text-to-video", "video-to-video", "unconditional-image-generation",
        "text-to-speech", "text-to-audio", "automatic-speech-recognition", "audio-to-audio",
        "audio-classification", "voice-activity-detection", "image-classification",
        "object-detection", "image-segmentation", "depth-estimation", "mask-generation",
        "zero-shot-image-classification", "zero-shot-object-detection", "keypoint-detection",
        "image-feature-extraction", "video-classification", "visual-document-retrieval",
        "text-to-3d", "image-to-3d", "tabular-classification", "tabular-regression",
        "time-series-forecasting", "reinforcement-learning", "robotics", "graph-ml",
    }
)  # fmt: skip

_REGION_WORDS = {
    "us": Region.US, "usa": Region.US, "america": Region.US,
    "china": Region.CHINA, "cn": Region.CHINA,
    "eu": Region.EU, "europe": Region.EU,
    "other": Region.OTHER, "rest": Region.OTHER,
}  # fmt: skip
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([mbt]?)$", re.IGNORECASE)
_UNIT_IN_BILLIONS = {"m": 1e-3, "b": 1.0, "": 1.0, "t": 1e3}
_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_KEYS = {
    "org": "org", "orgs": "org", "lab": "org",
    "country": "country", "countries": "country",
    "region": "region",
    "min-params": "min-params", "min_params": "min-params", "minparams": "min-params",
    "task": "task", "tasks": "task",
    "follow-ups": "follow-ups", "followups": "follow-ups", "follow_ups": "follow-ups",
}  # fmt: skip


class FilterError(ValueError):
    """A filter token we cannot read; the message names it and lists the valid forms."""


def _fail(token: str, problem: str) -> FilterError:
    return FilterError(f"`{token}`: {problem}. Valid filters: {VALID_FORMS}.")


def _add(values: list, value: object) -> None:
    if value not in values:
        values.append(value)


def parse_filters(tokens: Sequence[str], registry: LabRegistry) -> Filters:
    """Read filter tokens; org aliases become canonical namespaces, unknown orgs stay."""
    orgs: list[str] = []
    countries: list[str] = []
    regions: list[Region] = []
    tasks: list[str] = []
    min_params_b: float | None = None
    follow_ups = True
    for raw in tokens:
        token = raw.strip()
        if not token:
            continue
        key, sep, value = token.partition(":")
        kind = _KEYS.get(key.strip().lower())
        if not sep or kind is None:
            raise _fail(token, "not a filter I know")
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts:
            raise _fail(token, "the value is missing")
        if kind == "follow-ups":
            if len(parts) != 1 or parts[0].lower() not in ("on", "off"):
                raise _fail(token, "follow-ups takes on or off")
            follow_ups = parts[0].lower() == "on"
            continue
        for part in parts:
            if kind == "org":
                if not _NAMESPACE.match(part):
                    raise _fail(token, f"`{part}` is not a Hugging Face namespace")
                lab = registry.resolve(part)
                _add(orgs, lab.namespace if lab else part)
            elif kind == "country":
                code = parse_country(part)
                if code is None:
                    raise _fail(token, f"`{part}` is not a country I know (try CN or china)")
                _add(countries, code)
            elif kind == "region":
                region = _REGION_WORDS.get(part.lower())
                if region is None:
                    raise _fail(token, f"`{part}` is not a region (us, china, eu, other)")
                _add(regions, region)
            elif kind == "min-params":
                if min_params_b is not None:
                    raise _fail(token, "min-params is given more than once")
                match = _SIZE.match(part)
                if not match or float(match.group(1)) <= 0:
                    raise _fail(token, f"`{part}` is not a size like 30B or 500M")
                min_params_b = float(match.group(1)) * _UNIT_IN_BILLIONS[match.group(2).lower()]
            else:
                task = part.lower()
                if task not in KNOWN_TASKS:
                    raise _fail(token, f"`{part}` is not a Hub pipeline tag (e.g. text-generation)")
                _add(tasks, task)
    return Filters(
        orgs=orgs,
        countries=countries,
        regions=regions,
        min_params_b=min_params_b,
        tasks=tasks,
        follow_ups=follow_ups,
    )


def matches(filters: Filters, release: Release, members: Sequence[ModelRecord]) -> bool:
    """True when the release meets every criterion present.

    min-params compares the largest member's total size, so a release of unknown size
    never passes a size filter; task matches when any member has that pipeline tag.
    """
    if filters.orgs and release.lab.lower() not in {org.lower() for org in filters.orgs}:
        return False
    if filters.countries and (release.country or "").upper() not in {
        code.upper() for code in filters.countries
    }:
        return False
    # A lab of unknown country (a breakout) is "other", as in the scoreboard.
    if filters.regions and (release.region or Region.OTHER) not in filters.regions:
        return False
    if filters.min_params_b is not None:
        largest = max((m.params_total or 0 for m in members), default=0)
        if largest < filters.min_params_b * 1e9:
            return False
    return not filters.tasks or any(m.pipeline_tag in filters.tasks for m in members)


def describe(filters: Filters) -> str:
    """Filters in words for confirmations and listings; "everything" when empty."""
    parts = []
    if filters.orgs:
        parts.append("from " + " or ".join(filters.orgs))
    if filters.countries:
        places = [country_label(code) for code in filters.countries]
        parts.append("in " + " or ".join(places))
    if filters.regions:
        parts.append("region " + " or ".join(REGION_NAMES[r] for r in filters.regions))
    if filters.min_params_b is not None:
        parts.append(f"at least {params_text(filters.min_params_b * 1e9)} params")
    if filters.tasks:
        parts.append("task " + " or ".join(filters.tasks))
    described = ", ".join(parts) if parts else "everything"
    return described if filters.follow_ups else f"{described} (no adoption follow-ups)"
