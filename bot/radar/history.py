"""What is news and what is history: the rules for a repo the radar has not seen.

Labs upload privately days or weeks before a launch turns public (issue 9), so
`createdAt` does not decide:
- the first look at a namespace lists it in full and records everything public then as
  history, silently; after that, any repo of that namespace the radar has not seen is new,
  whichever listing shows it first (the newest repos, the full rotation, trending) and
  however old its creation date. It is dated by when the radar first saw it public;
- a repo the Hub moved (a renamed organisation: new id, same `_id`) is the same repo, not
  news (`bot.radar.moves`);
- a tracked lab's repo under a namespace the radar does not list is history when older
  than the breakout window; so is an untracked repo on the trending list's first look;
- a repo already known never creates a release, it only refreshes its facts
  (`bot.radar.refresh`); a known untracked repo that starts trending within the breakout
  window is judged again;
- a repo whose detail call failed is not recorded, so the next cycle tries it again.
`HistoryMixin` is part of `Tracker`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from bot.radar.facts import facts_of, record_from_repo
from bot.radar.labs import LabRegistry
from bot.radar.listings import TRENDING_KEY, Fetched, listed_in_full, state_time
from bot.radar.models import HubRepo, Lab, ModelRecord, Release, as_utc
from bot.radar.policy import NotabilityPolicy, Verdict
from bot.radar.ports import Store
from bot.radar.releases import assign_release


class HistoryMixin:
    """The news-or-history half of `Tracker`: new ids, moves, history, breakouts."""

    store: Store
    registry: LabRegistry
    policy: NotabilityPolicy
    clock: Callable[[], datetime]
    release_window: timedelta
    list_limit: int
    _move_indexes: tuple[dict[str, str], dict[tuple[str, datetime], str]] | None
    _moves_indexed_at: int
    _releases_of: Callable[[str], list[Release]]
    _put_release: Callable[[Release], None]

    def _is_history(
        self,
        repo: HubRepo,
        lab: Lab | None,
        fetched: Fetched,
        lab_state: dict,
        now: datetime,
    ) -> bool:
        """True for repos to record silently (see the module docstring).

        A namespace listed this cycle decides by whether the radar had looked at it
        before: on the first look everything is history, afterwards nothing is, whatever
        `createdAt` says. A database from before full listings (no `complete` flag) takes
        its first full listing as history for repos created before its last poll, except
        those among the namespace's newest repos, which were news under the old rule too.
        """
        namespace = repo.author.lower()
        if namespace in fetched.namespaces:
            entry = lab_state.get(namespace)
            if not isinstance(entry, dict):
                return True
            if not listed_in_full(entry):
                newest = _newest(fetched, namespace)[: self.list_limit]  # newest first
                if any(seen.id.lower() == repo.id.lower() for seen in newest):
                    return False  # what the old newest-repos listing showed was news then too
                since = state_time(entry.get("last_success"))
                return since is None or repo.created_at is None or as_utc(repo.created_at) < since
            return False
        if lab is None:
            return TRENDING_KEY not in lab_state
        if repo.created_at is None:
            return False
        return now - repo.created_at > self.policy.config.breakout_window

    def _new_repos(self, fetched: Fetched) -> Iterable[tuple[HubRepo, Lab | None]]:
        """New ids across the lab listings, the full listings and trending, each once."""
        seen: set[str] = set()
        listed = [*fetched.listings.values(), *fetched.full.values()]
        for repos in listed:
            for repo in repos:
                key = repo.id.lower()
                if key in seen or self.store.models.get(key) is not None:
                    continue
                seen.add(key)
                yield repo, self.registry.resolve(repo.author)
        listed_now = {namespace.lower() for namespace in fetched.listings}
        for repo in fetched.trending or []:
            key = repo.id.lower()
            lab = self.registry.resolve(repo.author)
            if key in seen or self.store.models.get(key) is not None:
                continue
            namespace = repo.author.lower()
            if namespace in fetched.namespaces and namespace not in listed_now:
                # Its namespace's listing failed this cycle: whether this is a first look
                # or news is decided with that listing, next cycle.
                continue
            seen.add(key)
            yield repo, lab

    def _move_index(self) -> tuple[dict[str, str], dict[tuple[str, datetime], str]]:
        """Known repos by Hub `_id`, and those stored without one by (name, createdAt).

        Built from the whole store, so it is kept between cycles and rebuilt only when the
        number of records changed (new repos were recorded) or a lookup found it stale.
        """
        size = len(self.store.models)
        if self._move_indexes is None or self._moves_indexed_at != size:
            by_oid: dict[str, str] = {}
            legacy: list[ModelRecord] = []  # records from before the radar kept `_id`
            for record in self.store.models.values():
                if record.hub_oid:
                    by_oid[record.hub_oid] = record.id
                elif record.created_at is not None:
                    legacy.append(record)
            by_name = {
                (r.name.lower(), as_utc(r.created_at)): r.id for r in legacy if r.created_at
            }
            self._move_indexes = (by_oid, by_name)
            self._moves_indexed_at = size
        return self._move_indexes

    def _index_new_records(self, fetched: Fetched) -> None:
        """Keep the move index current with what this cycle recorded (no store scan)."""
        if self._move_indexes is None:
            return
        by_oid, _by_name = self._move_indexes
        models = self.store.models
        for repos in [*fetched.listings.values(), *fetched.full.values(), fetched.trending or []]:
            for repo in repos:
                if repo.hub_oid and repo.hub_oid not in by_oid:
                    known = models.get(repo.id.lower())
                    if known is not None:
                        by_oid[repo.hub_oid] = known.id
        for new_key in fetched.moves:
            moved = models.get(new_key)
            if moved is not None and moved.hub_oid:
                by_oid[moved.hub_oid] = moved.id
        self._moves_indexed_at = len(models)

    def _find_moves(self, new_repos: list[HubRepo], fetched: Fetched) -> dict[str, str]:
        """New ids that are known repos the Hub moved: lower new id -> old id.

        The Hub keeps a moved repo's `_id`; records written before the radar kept `_id`
        are matched by name and exact creation time under another namespace. An old id
        still listed this cycle was copied, not moved.
        """
        if not new_repos:
            return {}
        by_oid, by_name = self._move_index()
        moves: dict[str, str] = {}
        for repo in new_repos:
            old = by_oid.get(repo.hub_oid) if repo.hub_oid else None
            if old is not None and self.store.models.get(old.lower()) is None:
                self._moves_indexed_at = -1  # moved by someone else since: rebuild
                by_oid, by_name = self._move_index()
                old = by_oid.get(repo.hub_oid) if repo.hub_oid else None
                if old is not None and self.store.models.get(old.lower()) is None:
                    old = None
            if old is None and repo.created_at is not None:
                candidate = by_name.get((repo.name.lower(), as_utc(repo.created_at)))
                known = self.store.models.get(candidate.lower()) if candidate else None
                if known is not None and (
                    not known.hub_oid or not repo.hub_oid or known.hub_oid == repo.hub_oid
                ):
                    old = candidate
            if old is None or old.lower() == repo.id.lower() or old.lower() in fetched.listed_ids:
                continue
            moves[repo.id.lower()] = old
        return moves

    def _breakout_rechecks(self, fetched: Fetched) -> Iterable[HubRepo]:
        """Known untracked repos that may have started trending since we first saw them."""
        now = self.clock()
        for repo in fetched.trending or []:
            known = self.store.models.get(repo.id.lower())
            if known is None or known.notable or known.lab is not None:
                continue
            if now - known.first_seen > self.policy.config.breakout_window:
                continue
            if self.policy.prefilter(repo, None, now=now).candidate:
                yield repo

    def _record_history(self, repo: HubRepo, lab: Lab | None) -> None:
        """Bootstrap: remember what already exists, dated by the Hub, with no alert."""
        first_seen = repo.created_at or self.clock()
        facts = facts_of(repo)
        record = record_from_repo(facts, lab=lab, first_seen=first_seen)
        verdict = self.policy.prefilter(facts, lab)
        if lab is not None and verdict.candidate:
            history = self.policy.judge(facts, lab, first_seen=first_seen, now=first_seen)
            if history.notable:
                record.notable = True
                record.reasons = list(history.reasons)
                release, _created = assign_release(
                    record,
                    lab,
                    self._releases_of(lab.namespace),
                    now=first_seen,
                    window=self.release_window,
                    reasons=history.reasons,
                )
                record.release_id = release.id
                self._put_release(release)
        self.store.models.put(record)

    def _recheck_breakouts(
        self,
        fetched: Fetched,
        new_notable: list[tuple[ModelRecord, Lab | None, Verdict]],
        now: datetime,
    ) -> None:
        for repo in self._breakout_rechecks(fetched):
            detail = fetched.details.get(repo.id.lower())
            if detail is None:
                continue
            known = self.store.models.get(repo.id.lower())
            if known is None:
                continue
            verdict = self.policy.judge(detail, None, first_seen=known.first_seen, now=now)
            if verdict.notable:
                record = record_from_repo(
                    detail, lab=None, first_seen=known.first_seen, previous=known
                )
                record.reasons = list(verdict.reasons)
                new_notable.append((record, None, verdict))


def _newest(fetched: Fetched, namespace: str) -> list[HubRepo]:
    """The namespace's newest-repos listing this cycle (`namespace` lower-cased)."""
    for listed, repos in fetched.listings.items():
        if listed.lower() == namespace:
            return repos
    return []
