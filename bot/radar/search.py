"""Find the model a user means: exact repo id first, then fuzzy match over known models.

`/model qwen3 32b` should find `Qwen/Qwen3-32B` without the user typing the repo id. The
index normalises ids to lower-case words (`qwen qwen3 32b`) and asks rapidfuzz for the
closest ones; ties are broken in favour of notable and widely downloaded models, which
is what a person asking about "deepseek r1" almost always means.

A candidate must also contain every word of the query (see `_covers`): fuzzy scores alone
rate "lumen r1" close to "DeepSeek-R1" and "glm 4.6" close to "GLM-4.5", and answering
with a different model is worse than asking the Hub. Numbers must match exactly, since
they are what tells versions and sizes apart; longer plain words may carry a typo.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.radar.models import ModelRecord

_SEPARATORS = re.compile(r"[\s/_\-.:]+")
MIN_SCORE = 62.0
TYPO_MIN_RATIO = 80.0
TYPO_MIN_LENGTH = 4
# Words people add to a query that many repo names leave out ("qwen3 32b instruct").
OPTIONAL_WORDS = frozenset({"instruct", "chat", "it", "hf", "model", "base"})


def normalise(text: str) -> str:
    """Lower-case words: `Qwen/Qwen3-32B` -> `qwen qwen3 32b`."""
    return _SEPARATORS.sub(" ", text.lower()).strip()


@dataclass(frozen=True)
class _Words:
    """One id's words, and the same words run together for queries like "llama4"."""

    words: tuple[str, ...]
    joined: str
    starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> _Words:
        return cls.of_normalised(normalise(text))

    @classmethod
    def of_normalised(cls, normalised: str) -> _Words:
        words = tuple(normalised.split())
        starts: list[int] = []
        offset = 0
        for word in words:
            starts.append(offset)
            offset += len(word)
        return cls(words, "".join(words), tuple(starts))


def _may_be_misspelt(word: str) -> bool:
    return word.isalpha() and len(word) >= TYPO_MIN_LENGTH and word not in OPTIONAL_WORDS


def near_spellings(query_words: list[str], vocabulary: Sequence[str]) -> dict[str, frozenset[str]]:
    """For each query word that may carry a typo, the index words close enough to it.

    One rapidfuzz pass over the distinct words of the index replaces a `fuzz.ratio` call
    per word of every candidate: the same answer, at a fraction of the cost.
    """
    return {
        word: frozenset(
            found
            for found, _score, _index in process.extract(
                word, vocabulary, scorer=fuzz.ratio, score_cutoff=TYPO_MIN_RATIO, limit=None
            )
        )
        for word in query_words
        if _may_be_misspelt(word)
    }


def _covers(
    query_words: list[str],
    candidate: _Words,
    near: dict[str, frozenset[str]] | None = None,
) -> bool:
    """Every query word starts at a word boundary of the candidate (possibly running into
    the next words), or, for plain words of 4+ letters, is a near-spelling of one.

    `near` is `near_spellings(query_words, ...)` over words that include the candidate's;
    without it the near-spellings are worked out here, for this candidate alone.
    """
    for word in query_words:
        if word in OPTIONAL_WORDS:
            continue
        if word in candidate.joined and any(
            candidate.joined.startswith(word, start) for start in candidate.starts
        ):
            continue
        if near is not None:
            spellings = near.get(word)
            if spellings and not spellings.isdisjoint(candidate.words):
                continue
        elif _may_be_misspelt(word) and any(
            fuzz.ratio(word, other) >= TYPO_MIN_RATIO for other in candidate.words
        ):
            continue
        return False
    return True


@dataclass(frozen=True)
class _Built:
    """The index: (lower id, normalised id, words) per model, the distinct words, and every
    id's run-together words in one text, so a required word is found at C speed."""

    entries: tuple[tuple[str, str, _Words], ...]
    vocabulary: tuple[str, ...]
    haystack: str  # each entry's `joined`, one per line
    starts: tuple[int, ...]  # where each entry's line starts in `haystack`

    @classmethod
    def of(cls, ids: Iterable[str]) -> _Built:
        """From repo ids (any case): the index needs no more of a record than its id."""
        entries = []
        for repo_id in ids:
            normalised = normalise(repo_id)
            entries.append((repo_id.lower(), normalised, _Words.of_normalised(normalised)))
        starts, offset = [], 0
        for _key, _choice, words in entries:
            starts.append(offset)
            offset += len(words.joined) + 1
        vocabulary = sorted({word for _key, _choice, words in entries for word in words.words})
        haystack = "\n".join(words.joined for _key, _choice, words in entries)
        return cls(tuple(entries), tuple(vocabulary), haystack, tuple(starts))

    def containing(self, query_words: list[str]) -> Iterable[tuple[str, str, _Words]]:
        """The entries that can cover the query: those whose words contain its longest
        word that cannot be a typo (every entry when each word might be one)."""
        required = [w for w in query_words if w not in OPTIONAL_WORDS and not _may_be_misspelt(w)]
        if not required:
            return self.entries
        word = max(required, key=len)
        found: list[int] = []
        at = self.haystack.find(word)
        while at >= 0:
            index = bisect.bisect_right(self.starts, at) - 1
            if not found or found[-1] != index:
                found.append(index)
            at = self.haystack.find(word, at + 1)
        return [self.entries[index] for index in found]


@dataclass(frozen=True)
class Match:
    record: ModelRecord
    score: float


class ModelIndex:
    """A lazily rebuilt search index over the store's models.

    `version` is any cheap value that changes when the set of models changes (the store's
    model count is enough: models are never renamed); the index rebuilds on the next
    query after it changes, so commands never pay for polls they did not see.
    """

    def __init__(
        self,
        ids: Callable[[], Iterable[str]],
        version: Callable[[], object],
    ) -> None:
        self._ids = ids
        self._version = version
        self._lock = threading.Lock()
        # Called after each rebuild; `serve` hands it `gc.freeze` (see `bot.serve`).
        self.after_build: Callable[[], None] | None = None
        self._built_for: object = object()
        # Replaced as a whole, so a rebuild during a search never pairs one model's key
        # with another's words.
        self._built = _Built((), (), "", ())

    def _ensure(self) -> _Built:
        version = self._version()
        if version == self._built_for:
            return self._built
        with self._lock:
            if version != self._built_for:
                self._built = _Built.of(self._ids())
                self._built_for = version
                if self.after_build is not None:
                    self.after_build()
            return self._built

    def search(
        self,
        query: str,
        lookup: Callable[[str], ModelRecord | None],
        *,
        limit: int = 4,
        lookup_many: Callable[[list[str]], dict[str, ModelRecord]] | None = None,
    ) -> list[Match]:
        """Best matches first; an exact id (any case) always wins with score 100."""
        built = self._ensure()
        wanted = query.strip().lower()
        if not wanted:
            return []
        matches: list[Match] = []
        exact = lookup(wanted)
        if exact is not None:
            matches.append(Match(exact, 100.0))
        needle = normalise(query)
        if not needle:
            return matches
        query_words = needle.split()
        near = near_spellings(query_words, built.vocabulary)
        covering = {
            key: choice
            for key, choice, words in built.containing(query_words)
            if _covers(query_words, words, near)
        }
        candidates = process.extract(
            needle,
            covering,
            scorer=fuzz.WRatio,
            limit=None,  # rank every covering id: a flood of equal-scoring copies must not
            score_cutoff=MIN_SCORE,  # push the lab's own repo out before popularity counts
        )
        scored: list[Match] = []
        # A database answers every candidate in one read rather than one read each.
        found = lookup_many([key for _c, _s, key in candidates]) if lookup_many else None
        for _choice, score, key in candidates:
            record = found.get(key) if found is not None else lookup(key)
            if record is None or (exact is not None and record.id == exact.id):
                continue
            scored.append(Match(record, float(score) + _popularity_bonus(record, needle)))
        scored.sort(key=lambda m: (-m.score, m.record.id.lower()))
        matches.extend(scored)
        return matches[:limit]


def _popularity_bonus(record: ModelRecord, needle: str) -> float:
    """Up to ~10 points: a tracked lab's own and notable repos, then downloads, break ties."""
    bonus = 3.0 if record.notable else 0.0
    bonus += 2.0 if record.lab is not None else 0.0
    bonus += min(4.0, math.log10(record.downloads + 1) / 2)
    if normalise(record.name) == needle:
        bonus += 5.0
    return bonus
