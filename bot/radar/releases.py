"""Grouping repos into releases: a family of sizes and builds is one release, one alert.

Two repos belong to the same release when they come from the same lab, share a family
stem (the name without size, variant and precision words) and were first seen within a
72 h window of the release's start. A Base/Instruct/Thinking sibling or a precision build
(FP8, GGUF …) of an existing member joins that member's release even later, because it
is the same model in another form; anything else after the window is a new release.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from bot.radar.facts import PRECISION_TOKENS, is_size_token, name_tokens
from bot.radar.models import Lab, ModelRecord, Release, as_utc

RELEASE_WINDOW = timedelta(hours=72)
_SEPARATED = re.compile(r"([-_\s]*)([^-_\s]+)")

# Post-training variants of one model. "preview" is NOT here: a preview and the final
# model are separate announcements.
VARIANT_TOKENS = frozenset(
    {
        "base", "instruct", "chat", "thinking", "think", "it", "reasoning", "pt", "hf",
        "sft", "dpo", "rl", "rlhf", "rlvr",
    }
)  # fmt: skip
# Size-class words: Llama 4 Scout/Maverick, GLM-4.5/Air, Nemotron Nano/Super/Ultra are
# sizes of one family, like 8B/70B.
SIZE_CLASS_TOKENS = frozenset(
    {
        "nano", "micro", "mini", "tiny", "small", "medium", "large", "lite", "air", "flash",
        "plus", "pro", "max", "super", "ultra", "scout", "maverick",
    }
)  # fmt: skip
# Weight-format words besides the precision tokens (ERNIE ships -PT and -Paddle builds).
FORMAT_TOKENS = PRECISION_TOKENS | {"paddle", "pytorch", "safetensors"}


def _is_family_word(token: str) -> bool:
    """False for sizes, variants, formats and size classes: words that vary in a family."""
    lowered = token.lower()
    return not (
        is_size_token(token)
        or lowered in VARIANT_TOKENS
        or lowered in FORMAT_TOKENS
        or lowered in SIZE_CLASS_TOKENS
    )


def _family_tokens(repo_name: str) -> list[str]:
    """Name tokens (original casing) without sizes, variants, formats and size classes."""
    return [token for token in name_tokens(repo_name) if _is_family_word(token)]


def _family_title(repo_name: str) -> str:
    """Family words in original casing; neighbours keep their separator ("gpt-oss"),
    words that had something removed between them get a space ("Qwen3 2507")."""
    pieces = _SEPARATED.findall(repo_name.split("/", 1)[-1])
    title = ""
    previous_kept = False
    for separator, token in pieces:
        if not _is_family_word(token):
            previous_kept = False
            continue
        if title:
            title += separator if previous_kept and separator else " "
        title += token
        previous_kept = True
    return title


def family_stem(repo_name: str) -> str:
    """`Qwen3-235B-A22B-Instruct-2507-FP8` -> `qwen3-2507`; versions and dates are kept."""
    tokens = _family_tokens(repo_name)
    if not tokens:
        return repo_name.split("/", 1)[-1].lower()
    return "-".join(tokens).lower()


def sibling_key(repo_name: str) -> str:
    """The name without variant and precision words: same key = same model, other build."""
    tokens = [
        token.lower()
        for token in name_tokens(repo_name)
        if token.lower() not in VARIANT_TOKENS and token.lower() not in FORMAT_TOKENS
    ]
    return "-".join(tokens) or repo_name.split("/", 1)[-1].lower()


def release_id(lab: str, stem: str, first_seen: datetime) -> str:
    """Stable id from lab, stem and the UTC start date: `qwen/qwen3-2507@2026-11-20`."""
    day = first_seen.astimezone(UTC).date() if first_seen.tzinfo else first_seen.date()
    return f"{lab.lower()}/{stem}@{day.isoformat()}"


def release_title(lab_name: str, members: Sequence[str]) -> str:
    """A human title from the shortest member name, sizes/variants/formats removed.

    Falls back to the lab's name when nothing is left (a repo named only "8B").
    """
    titles = [_family_title(member) for member in members]
    titles = [title for title in titles if title]
    if not titles:
        return lab_name
    return min(titles, key=lambda title: (len(title), title))


def assign_release(
    record: ModelRecord,
    lab: Lab | None,
    existing: Iterable[Release],
    *,
    now: datetime,
    window: timedelta = RELEASE_WINDOW,
    reasons: Sequence[str],
) -> tuple[Release, bool]:
    """Put a notable repo in its release; returns (release with the member, created?).

    Inputs are not modified: the release returned is a new object for the caller to
    store. A repo already in a release is returned with that release, unchanged.
    """
    owner = lab.namespace if lab else record.author
    stem = family_stem(record.name)
    releases = list(existing)
    for release in releases:
        if record.id.lower() in (member.lower() for member in release.members):
            return release, False

    same_family = [r for r in releases if r.lab.lower() == owner.lower() and r.stem == stem]
    started = as_utc(record.first_seen)
    in_window = [r for r in same_family if abs(started - as_utc(r.first_seen)) <= window]
    target: Release | None = None
    if in_window:
        target = min(in_window, key=lambda r: abs(started - as_utc(r.first_seen)))
    else:
        key = sibling_key(record.name)
        siblings = [
            r for r in same_family if any(sibling_key(member) == key for member in r.members)
        ]
        if siblings:
            target = max(siblings, key=lambda r: as_utc(r.first_seen))

    if target is not None:
        members = [*target.members, record.id]
        joined = target.model_copy(
            update={
                "members": members,
                "title": release_title(target.lab_name, members),
                "updated_at": now,
                # A release keeps the reasons of the repo that opened it.
                "reasons": list(target.reasons) or list(reasons),
            }
        )
        return joined, False

    created = Release(
        id=release_id(owner, stem, record.first_seen),
        lab=owner,
        lab_name=lab.name if lab else record.author,
        country=lab.country if lab else None,
        region=lab.region if lab else None,
        title=release_title(lab.name if lab else record.author, [record.id]),
        stem=stem,
        members=[record.id],
        first_seen=record.first_seen,
        updated_at=now,
        reasons=list(reasons),
        breakout=lab is None,
    )
    return created, True
