"""Find the model a user means: exact repo id first, then fuzzy match over known models.

`/model qwen3 32b` should find `Qwen/Qwen3-32B` without the user typing the repo id. The
index normalises ids to lower-case words (`qwen qwen3 32b`) and asks rapidfuzz for the
closest ones; ties are broken in favour of notable and widely downloaded models, which
is what a person asking about "deepseek r1" almost always means.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.radar.models import ModelRecord

_SEPARATORS = re.compile(r"[\s/_\-.:]+")
MIN_SCORE = 62.0


def normalise(text: str) -> str:
    """Lower-case words: `Qwen/Qwen3-32B` -> `qwen qwen3 32b`."""
    return _SEPARATORS.sub(" ", text.lower()).strip()


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
        records: Callable[[], list[ModelRecord]],
        version: Callable[[], object],
    ) -> None:
        self._records = records
        self._version = version
        self._lock = threading.Lock()
        self._built_for: object = object()
        self._ids: dict[str, str] = {}  # lower id -> id
        self._choices: list[str] = []
        self._keys: list[str] = []

    def _ensure(self) -> None:
        version = self._version()
        if version == self._built_for:
            return
        with self._lock:
            if version == self._built_for:
                return
            records = self._records()
            self._ids = {r.id.lower(): r.id for r in records}
            self._keys = [r.id.lower() for r in records]
            self._choices = [normalise(r.id) for r in records]
            self._built_for = version

    def search(
        self, query: str, lookup: Callable[[str], ModelRecord | None], *, limit: int = 4
    ) -> list[Match]:
        """Best matches first; an exact id (any case) always wins with score 100."""
        self._ensure()
        wanted = query.strip().lower()
        if not wanted:
            return []
        matches: list[Match] = []
        exact = lookup(wanted) if wanted in self._ids else None
        if exact is not None:
            matches.append(Match(exact, 100.0))
        needle = normalise(query)
        if not needle:
            return matches
        candidates = process.extract(
            needle,
            self._choices,
            scorer=fuzz.WRatio,
            limit=max(limit * 5, 20),
            score_cutoff=MIN_SCORE,
        )
        scored: list[Match] = []
        for _choice, score, position in candidates:
            record = lookup(self._keys[position])
            if record is None or (exact is not None and record.id == exact.id):
                continue
            scored.append(Match(record, float(score) + _popularity_bonus(record, needle)))
        scored.sort(key=lambda m: (-m.score, m.record.id.lower()))
        matches.extend(scored)
        return matches[:limit]


def _popularity_bonus(record: ModelRecord, needle: str) -> float:
    """Up to ~8 points: notable releases and downloads break near-ties, never big gaps."""
    bonus = 3.0 if record.notable else 0.0
    bonus += min(4.0, math.log10(record.downloads + 1) / 2)
    if normalise(record.name) == needle:
        bonus += 5.0
    return bonus
