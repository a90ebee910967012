"""Answers to the questions users ask, shared by the Slack commands and the CLI.

`RadarService` reads the store and, on a miss, the Hub. It never writes models it looked
up on demand into the store: the poller's diff treats every stored id as "already seen",
so storing a looked-up repo of a tracked lab would swallow its release alert.
"""

from __future__ import annotations

import heapq
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.radar.facts import base_model_relations, facts_of, record_from_repo
from bot.radar.filters import matches
from bot.radar.labs import LabRegistry
from bot.radar.models import Filters, HubRepo, Lab, ModelRecord, Release, utcnow
from bot.radar.policy import NotabilityPolicy
from bot.radar.ports import HubSource, SourceError, SourceNotFound, Store
from bot.radar.search import ModelIndex, normalise
from bot.radar.sizes import is_packed

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
MAX_LATEST = 25


@dataclass
class ModelLookup:
    """The outcome of `/model <query>`: the best match, its release, and alternatives."""

    query: str
    record: ModelRecord | None
    lab: Lab | None = None
    release: Release | None = None
    siblings: list[ModelRecord] = field(default_factory=list)
    alternatives: list[str] = field(default_factory=list)
    from_hub: bool = False
    hub_error: str | None = None
    # Set by `RadarService.lookup_local` when only the Hub can answer; `candidates` are
    # the local matches, best first, for `finish_on_hub`.
    needs_hub: bool = False
    candidates: list[ModelRecord] = field(default_factory=list, repr=False)

    @property
    def found(self) -> bool:
        return self.record is not None


class _TTLCache:
    """A small LRU with expiry for on-demand Hub lookups (not stored, see module doc)."""

    def __init__(self, size: int = 256, ttl: float = 600.0) -> None:
        self._items: OrderedDict[str, tuple[float, ModelRecord]] = OrderedDict()
        self._size = size
        self._ttl = ttl
        self._lock = threading.Lock()

    def get(self, key: str) -> ModelRecord | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, record: ModelRecord) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self._ttl, record)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class RadarService:
    def __init__(
        self,
        store: Store,
        registry: LabRegistry,
        hub: HubSource | None = None,
        policy: NotabilityPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.registry = registry
        self.hub = hub
        self.policy = policy or NotabilityPolicy()
        self.clock = clock
        # Keys are lower-cased ids: all the index needs, without building 100k records.
        self.index = ModelIndex(store.models.keys, lambda: len(store.models))
        self._hub_cache = _TTLCache()

    # ---------------------------------------------------------------- models

    def lookup_model(self, query: str, *, use_hub: bool = True) -> ModelLookup:
        """Best match wins: exact id, fuzzy over known models, then the Hub."""
        lookup = self.lookup_local(query, use_hub=use_hub)
        return self.finish_on_hub(lookup) if lookup.needs_hub else lookup

    def lookup_local(self, query: str, *, use_hub: bool = True) -> ModelLookup:
        """`lookup_model` as far as local data goes: the store, the index and the Hub
        lookups cached earlier. When only the Hub can answer, the result says
        `needs_hub` and `finish_on_hub` completes it, so a caller can do that part where
        waiting on the network holds up nothing else."""
        query = query.strip()
        models = self.store.models
        matches_ = self.index.search(query, models.get, limit=4, lookup_many=models.get_many)
        best = matches_[0] if matches_ else None
        # Fuzzy scores plus the popularity bonus can pass 100: compare ids for "exact".
        exact = best is not None and best.record.id.lower() == query.lower()
        if best is not None and (exact or not _looks_like_repo_id(query)):
            return self._complete(query, best.record, [m.record.id for m in matches_[1:4]])
        if use_hub and self.hub is not None:
            cached = self._cached_hub_lookup(query)
            if cached is not None:
                cached.alternatives = [m.record.id for m in matches_[:3]]
                return cached
            return ModelLookup(
                query=query, record=None, needs_hub=True, candidates=[m.record for m in matches_]
            )
        if best is not None:
            return self._complete(query, best.record, [m.record.id for m in matches_[1:4]])
        return ModelLookup(query=query, record=None, alternatives=self.suggestions(query))

    def finish_on_hub(self, lookup: ModelLookup) -> ModelLookup:
        """Complete a `lookup_local` that `needs_hub`: ask the Hub, else the closest local."""
        if not lookup.needs_hub:
            return lookup
        query, candidates = lookup.query, lookup.candidates
        hub_lookup = self._lookup_on_hub(query)
        if hub_lookup.found:
            hub_lookup.alternatives = [record.id for record in candidates[:3]]
            return hub_lookup
        if candidates:
            closest = self._complete(query, candidates[0], [r.id for r in candidates[1:4]])
            closest.hub_error = hub_lookup.hub_error
            return closest
        hub_lookup.alternatives = self.suggestions(query)
        return hub_lookup

    def _complete(self, query: str, record: ModelRecord, alternatives: list[str]) -> ModelLookup:
        release = self.store.releases.get(record.release_id) if record.release_id else None
        siblings = [m for m in self.members(release) if m.id != record.id] if release else []
        return ModelLookup(
            query=query,
            record=record,
            lab=self.registry.resolve(record.lab or record.author),
            release=release,
            siblings=siblings,
            alternatives=alternatives,
        )

    def _cached_hub_lookup(self, query: str) -> ModelLookup | None:
        """The answer an earlier Hub lookup of this query gave, while it is fresh."""
        cached = self._hub_cache.get(query.lower())
        if cached is None:
            return None
        lab = self.registry.resolve(cached.author)
        return ModelLookup(query=query, record=cached, lab=lab, from_hub=True)

    def _lookup_on_hub(self, query: str) -> ModelLookup:
        assert self.hub is not None
        cached = self._cached_hub_lookup(query)
        if cached is not None:
            return cached
        try:
            if _looks_like_repo_id(query):
                repo = self.hub.get_repo(query)
            else:
                hits = self.hub.search(_hub_search_text(query), limit=5)
                if not hits:
                    return ModelLookup(query=query, record=None)
                hits.sort(key=lambda r: (_is_derivative(r), -(r.downloads or 0)))
                repo = self.hub.get_repo(hits[0].id)
        except SourceNotFound:
            return ModelLookup(query=query, record=None)
        except SourceError as exc:
            return ModelLookup(query=query, record=None, hub_error=str(exc) or "Hub unavailable")
        lab = self.registry.resolve(repo.author)
        now = self.clock()
        first_seen = repo.created_at or now
        # A packed build's own count is far too low: its unpacked sibling, if we know it,
        # has the real one (`facts.unpacked_sibling_total`).
        siblings = (
            [m for m in self.store.models.values() if m.author.lower() == repo.author.lower()]
            if is_packed(repo.name, repo.tags)
            else []
        )
        facts = facts_of(repo)
        record = record_from_repo(facts, lab=lab, first_seen=first_seen, siblings=siblings)
        verdict = self.policy.judge(facts, lab, first_seen=first_seen, now=now)
        record.reasons = verdict.explanation
        self._hub_cache.put(query.lower(), record)
        self._hub_cache.put(record.id.lower(), record)
        return ModelLookup(query=query, record=record, lab=lab, from_hub=True)

    def suggestions(self, query: str, limit: int = 3) -> list[str]:
        """Looser matches for a "did you mean", else the most downloaded notable models."""
        needle = normalise(query)
        words = [w for w in needle.split() if len(w) >= 3]
        scored: list[tuple[int, str]] = []
        if words:  # keys, then only the matching records: a database need not load them all
            ids = self.store.models.keys()
            hits = [key for key in ids if any(word in normalise(key) for word in words)]
            for start in range(0, len(hits), 1000):  # a common word may match most models
                chunk = self.store.models.get_many(hits[start : start + 1000]).values()
                best = [(r.downloads + (10**9 if r.notable else 0), r.id) for r in chunk]
                scored = heapq.nlargest(limit, scored + best)
        if not scored:
            scored = [(r.downloads, r.id) for r in self.store.models.find(notable=True)]
        scored.sort(reverse=True)
        return [repo_id for _score, repo_id in scored[:limit]]

    # -------------------------------------------------------------- releases

    def members(self, release: Release | None) -> list[ModelRecord]:
        if release is None:
            return []
        found = (self.store.models.get(member.lower()) for member in release.members)
        return [record for record in found if record is not None]

    def latest(self, count: int = 10, filters: Filters | None = None) -> list[Release]:
        """The newest notable releases (by when the radar first saw them), filtered."""
        count = max(1, min(count, MAX_LATEST))
        releases = sorted(self.store.releases.values(), key=lambda r: r.first_seen, reverse=True)
        if filters is None or filters.is_empty:
            return releases[:count]
        chosen: list[Release] = []
        for release in releases:
            if matches(filters, release, self.members(release)):
                chosen.append(release)
                if len(chosen) == count:
                    break
        return chosen

    def compare(self, queries: Sequence[str]) -> list[ModelLookup]:
        return [self.lookup_model(query) for query in queries]

    # ------------------------------------------------------------------ labs

    def track_lab(self, namespace: str, country: str | None) -> Lab:
        """Follow a lab (or move a built-in one) and commit it: one step under the lock.

        Raises ValueError for a malformed namespace or an unknown country (nothing stored).
        """
        with self.store.lock:
            lab = self.registry.track(self.store, namespace, country)
            self.store.commit()
        return lab

    def untrack_lab(self, namespace: str) -> bool:
        """Stop following a lab and commit it; False (nothing written) when not tracked."""
        with self.store.lock:
            removed = self.registry.untrack(self.store, namespace)
            if removed:
                self.store.commit()
        return removed


def _looks_like_repo_id(text: str) -> bool:
    return REPO_ID.match(text.strip()) is not None


def _hub_search_text(query: str) -> str:
    """The Hub matches a substring of the id: "qwen3.7 122b" -> "qwen3.7-122b".

    Dots stay (they are part of versions); spaces become the dashes repo names use.
    """
    return "-".join(query.lower().split())


def _is_derivative(repo: HubRepo) -> bool:
    """A declared base model in another namespace: a reupload or fine-tune, not the model."""
    owner = repo.author.lower()
    return any(base.split("/", 1)[0].lower() != owner for base in base_model_relations(repo))
