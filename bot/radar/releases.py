"""Grouping repos into releases: a release is one launch, in time, and one alert.

Rules, each general (no model names) and each with the reason shown on the member:
- **Launch window.** A lab's repos first seen within `window` (72 h by default,
  `RELEASE_WINDOW_HOURS`) of a release's first sighting join it when their names share
  family and version: the name without size words (8B, A22B, E4B), stage words (Base,
  Instruct, Inst, it, Pretrain, Original, Thinking, Reasoning…), modality words (Vision,
  Multimodal, Text), context words (128k), architecture words (MoE), size classes (mini,
  Small, Large, Scout, Ultra…) and precision/format words (FP8, GGUF, AWQ…). Family words one
  or two letters apart (Ministral / Mistral) count as one family within a window: a launch
  names its small sizes that way. A launch is one alert, whatever its sizes and stages.
- **After the window** only an official precision/format build of an existing member (the
  same name plus FP8, GGUF, AWQ, MLX… from the same lab) joins, as an update. Anything else
  (a Thinking or Reasoning model, a dated refresh such as -2507, a new size) is a new model,
  so a new release: users want an alert, not a reply under a months-old thread.
- Titles name the release as users know it: the members' shared words with size classes,
  reasoning words and versions kept (Mistral-Small-4, Llama-4.1-Scout, Nemotron-3-Ultra,
  command-a-reasoning), a date kept only when the name has no version number of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from bot.radar.models import Lab, ModelRecord, Release, as_utc
from bot.radar.sizes import PRECISION_TOKENS, is_size_token, name_tokens

RELEASE_WINDOW = timedelta(hours=72)
_SEPARATED = re.compile(r"([-_\s]*)([^-_\s]+)")
_CONTEXT = re.compile(r"^\d+(\.\d+)?k$")  # 128k, 4k: context length, not a model
_DATE = re.compile(r"^\d{4}$")  # 2507, 0528, 2025: a dated refresh or year
_MONTH = re.compile(r"^\d{2}$")  # the 08 of 08-2025
_VERSION = re.compile(r"^\d{1,3}(\.\d+)*$")  # 3, 3.2, 4.1: a version number of its own

# Post-training stages of one model: never part of what a release is called.
STAGE_TOKENS = frozenset(
    {
        "base", "instruct", "inst", "chat", "it", "pt", "hf", "sft", "dpo", "rl", "rlhf",
        "rlvr", "pretrain", "pretrained", "original",
    }
)  # fmt: skip
# Reasoning variants: one launch when first seen together, a new model when later.
REASONING_TOKENS = frozenset({"thinking", "think", "reasoning"})
# Post-training variants of one model. "preview" is NOT here: a preview and the final
# model are separate announcements.
VARIANT_TOKENS = STAGE_TOKENS | REASONING_TOKENS
# Modality and architecture words: the text and vision (or dense and MoE) models of one launch.
MODALITY_TOKENS = frozenset({"vision", "multimodal", "text", "moe"})
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
# Family words this close are one family within a launch window (Ministral / Mistral).
FAMILY_LETTERS_APART = 2
FAMILY_WORD_MIN_CHARS = 6


def _is_family_word(token: str) -> bool:
    """False for sizes, variants, formats, modalities, contexts and size classes."""
    lowered = token.lower()
    return not (
        is_size_token(token)
        or lowered in VARIANT_TOKENS
        or lowered in FORMAT_TOKENS
        or lowered in SIZE_CLASS_TOKENS
        or lowered in MODALITY_TOKENS
        or _CONTEXT.match(lowered) is not None
    )


def _is_title_word(token: str) -> bool:
    """Words a title keeps: all but sizes, stages, formats and context lengths."""
    lowered = token.lower()
    return not (
        is_size_token(token)
        or lowered in STAGE_TOKENS
        or lowered in FORMAT_TOKENS
        or _CONTEXT.match(lowered) is not None
    )


def _family_tokens(repo_name: str) -> list[str]:
    """Name tokens (original casing) without the words that vary within a family."""
    return [token for token in name_tokens(repo_name) if _is_family_word(token)]


@lru_cache(maxsize=65536)
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


@lru_cache(maxsize=65536)
def format_key(repo_name: str) -> str:
    """The name without precision/format words: same key = the same weights, another build."""
    tokens = [
        token.lower() for token in name_tokens(repo_name) if token.lower() not in FORMAT_TOKENS
    ]
    return "-".join(tokens) or repo_name.split("/", 1)[-1].lower()


def _letters_apart(short: str, long: str) -> bool:
    """True when `long` is `short` with at most FAMILY_LETTERS_APART letters inserted."""
    if not short.isalpha() or not long.isalpha():
        return False
    if not 0 < len(long) - len(short) <= FAMILY_LETTERS_APART:
        return False
    if len(short) < FAMILY_WORD_MIN_CHARS:
        return False
    letters = iter(long)
    return all(char in letters for char in short)


@lru_cache(maxsize=65536)
def same_family(stem_a: str, stem_b: str) -> bool:
    """Equal stems, or stems that differ only in one family word a letter or two apart
    (Ministral-3 / Mistral-3), with the same version and date words."""
    if stem_a == stem_b:
        return True
    if stem_a.count("-") != stem_b.count("-"):
        return False
    words_a, words_b = stem_a.split("-"), stem_b.split("-")
    if len(words_a) != len(words_b):
        return False
    different = [(a, b) for a, b in zip(words_a, words_b, strict=True) if a != b]
    if len(different) != 1:
        return False
    a, b = different[0]
    return _letters_apart(a, b) or _letters_apart(b, a)


def release_id(lab: str, stem: str, first_seen: datetime) -> str:
    """Stable id from lab, stem and the UTC start date: `qwen/qwen3-2507@2026-11-20`."""
    day = first_seen.astimezone(UTC).date() if first_seen.tzinfo else first_seen.date()
    return f"{lab.lower()}/{stem}@{day.isoformat()}"


@dataclass(frozen=True)
class _MemberTitle:
    """One member's title words (original casing, with their separators) and its date."""

    pieces: tuple[tuple[str, str], ...]  # (separator before, word)
    date: str

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(word.lower() for _sep, word in self.pieces)


def _join(pieces: Sequence[tuple[str, str]]) -> str:
    return "".join((sep if index else "") + word for index, (sep, word) in enumerate(pieces))


def _member_title(repo_name: str) -> _MemberTitle:
    tokens = _SEPARATED.findall(repo_name.split("/", 1)[-1])
    kept: list[tuple[str, str]] = []
    dates: list[str] = []
    previous_kept = False
    for index, (separator, token) in enumerate(tokens):
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        if _DATE.match(token) or (_MONTH.match(token) and _DATE.match(following)):
            dates.append(token)
            previous_kept = False
            continue
        if not _is_title_word(token):
            previous_kept = False
            continue
        kept.append(((separator or "-") if previous_kept else " ", token))
        previous_kept = True
    has_version = any(_VERSION.match(word) for _sep, word in kept)
    return _MemberTitle(tuple(kept), "" if has_version else "-".join(dates))


def release_title(lab_name: str, members: Sequence[str]) -> str:
    """The release as users name it: the members' shared leading words.

    Sizes, stages and formats are left out; size classes, reasoning words and versions
    stay (Mistral-Small-4, Llama-4.1-Scout, command-a-reasoning). A date stays only when
    the name has no version number (Qwen3 2507, DeepSeek-V3 0324). When the shared words
    would read like another model (nothing shared, or the version lost), the distinct
    member titles are named instead (Mistral-Large-3 / Ministral-3). Falls back to the
    lab's name when nothing is left (a repo named only "8B").
    """
    titles = [_member_title(member) for member in members]
    titles = [title for title in titles if title.pieces]
    if not titles:
        return lab_name
    shared = _shared_title(titles)
    if shared is not None:
        return shared
    groups: dict[str, list[_MemberTitle]] = {}
    for title in titles:  # one group per leading word: Mistral-Large-3 / Ministral-3
        groups.setdefault(title.words[0], []).append(title)
    distinct = [_shared_title(group) or _join(group[0].pieces) for group in groups.values()]
    return " / ".join(distinct[:3]) + (" …" if len(distinct) > 3 else "")


def _shared_title(titles: Sequence[_MemberTitle]) -> str | None:
    """The titles' shared leading words (and shared date), or None when that would lose
    their first word or the version they all have."""
    first = titles[0]
    shared = len(first.words)
    for title in titles[1:]:
        common = 0
        for a, b in zip(first.words, title.words, strict=False):
            if a != b:
                break
            common += 1
        shared = min(shared, common)
    prefix = "".join(first.words[:shared])
    versioned = all(any(ch.isdigit() for ch in "".join(t.words)) for t in titles)
    if not prefix or (versioned and not any(ch.isdigit() for ch in prefix)):
        return None
    dates = {title.date for title in titles}
    date = f" {first.date}" if len(dates) == 1 and first.date else ""
    return _join(first.pieces[:shared]).strip() + date


@dataclass(frozen=True)
class Placement:
    """Where a repo went and why: the release (a new object), whether it was created, and
    the rule that put it there, shown with the member."""

    release: Release
    created: bool
    reason: str


def place_in_release(
    record: ModelRecord,
    lab: Lab | None,
    existing: Iterable[Release],
    *,
    now: datetime,
    window: timedelta = RELEASE_WINDOW,
    reasons: Sequence[str],
) -> Placement:
    """Put a notable repo in its release (see the module docstring for the rules).

    Inputs are not modified: the release returned is a new object for the caller to
    store. A repo already in a release is returned with that release, unchanged.
    """
    owner = lab.namespace if lab else record.author
    stem = family_stem(record.name)
    releases = list(existing)
    mine = [r for r in releases if r.lab.lower() == owner.lower()]
    lowered = record.id.lower()
    for release in mine:  # a repo is only ever a member of its own lab's releases
        if any(lowered == member.lower() for member in release.members):
            return Placement(release, False, "already a member")

    hours = window.total_seconds() / 3600
    started = as_utc(record.first_seen)
    in_window = [
        r
        for r in mine
        if abs(started - as_utc(r.first_seen)) <= window and same_family(r.stem, stem)
    ]
    target: Release | None = None
    reason = ""
    if in_window:
        target = min(
            in_window,
            key=lambda r: (r.stem != stem, abs(started - as_utc(r.first_seen))),
        )
        how = "same family and version" if target.stem == stem else (
            "same version, family names a letter or two apart"
        )
        reason = f"joined {target.title}: {how}, first seen within its {hours:.0f} h launch window"
    else:
        key = format_key(record.name)
        builds = [r for r in mine if any(format_key(m) == key for m in r.members)]
        if builds:
            target = max(builds, key=lambda r: as_utc(r.first_seen))
            reason = (
                f"joined {target.title}: an official precision/format build of a member, "
                f"after its {hours:.0f} h launch window"
            )

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
        return Placement(joined, False, reason)

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
    later = [r for r in mine if same_family(r.stem, stem)]
    reason = "a new launch"
    if later:
        reason = (
            f"a new release: {max(later, key=lambda r: as_utc(r.first_seen)).title} was first "
            f"seen more than {hours:.0f} h earlier and this is not a format build of it"
        )
    return Placement(created, True, reason)


def assign_release(
    record: ModelRecord,
    lab: Lab | None,
    existing: Iterable[Release],
    *,
    now: datetime,
    window: timedelta = RELEASE_WINDOW,
    reasons: Sequence[str],
) -> tuple[Release, bool]:
    """`place_in_release` without the reason: (release with the member, created?)."""
    placed = place_in_release(record, lab, existing, now=now, window=window, reasons=reasons)
    return placed.release, placed.created
