"""One poll cycle: fetch what is new on the Hub, judge it, group it into releases.

The path of a release: `poll_cycle()` lists each tracked namespace's newest repos (one
request a namespace; a longer listing when new repos pushed known ones out of it, see
`_list_lab`), a rotating share of the namespaces in full (every page, so each namespace is
listed whole at least every `full_listing_interval`), and the trending listing (one
request); it diffs the ids against the store, asks the policy which new repos deserve a
detail call, judges them, groups the notable ones into releases and hands the resulting
events to `on_events` inside the same store transaction that records them. Nothing is
written until the end, in one `commit()`: a crash mid-cycle leaves the store as it was,
and the next cycle sees the same repos as new again.

What is news, whatever `createdAt` says (labs upload privately days or weeks before a
launch turns public, issue 9):
- the first look at a namespace lists it in full and records everything public then as
  history, silently; after that, any repo of that namespace the radar has not seen is new,
  whichever listing shows it first (the newest repos, the full rotation, trending) and
  however old its creation date. It is dated by when the radar first saw it public;
- a repo the Hub moved (a renamed organisation: new id, same `_id`) is the same repo, not
  news (`bot.radar.moves`);
- a tracked lab's repo under a namespace the radar does not list is history when older
  than the breakout window; so is an untracked repo on the trending list's first look;
- a repo already known never creates a release, it only refreshes its facts;
- a repo whose detail call failed is not recorded, so the next cycle tries it again.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.radar.facts import RepoFacts, facts_of, record_from_repo
from bot.radar.labs import LabRegistry
from bot.radar.models import (
    HubRepo,
    Lab,
    ModelRecord,
    Release,
    ReleaseEvent,
    StateEntry,
    as_utc,
    utcnow,
)
from bot.radar.moves import follow_move
from bot.radar.policy import NotabilityPolicy, Verdict
from bot.radar.poll_status import POLL_STATE as POLL_STATE  # re-exported for callers
from bot.radar.poll_status import read_poll_status, write_poll_status
from bot.radar.ports import HubSource, SourceError, SourceNotFound, Store
from bot.radar.releases import RELEASE_WINDOW, assign_release, place_in_release

log = logging.getLogger(__name__)

TRENDING_KEY = "_trending"
LAB_STATE = "labs"
SHUTTING_DOWN = "skipped: shutting down"
LIST_GROWTH = 5
FULL_LISTING_ERROR = "full listing "


@dataclass
class CycleReport:
    """What one cycle did, for logs, the CLI and `/healthz`."""

    started_at: datetime
    finished_at: datetime | None = None
    events: list[ReleaseEvent] = field(default_factory=list)
    new_repos: int = 0
    updated_repos: int = 0
    bootstrapped: list[str] = field(default_factory=list)
    # Why a source failed: a namespace (or `TRENDING_KEY`) whose listing failed, a
    # namespace whose full listing failed (its newest repos were still listed), and a new
    # repo whose detail call failed (retried next cycle). Kept apart so the status needs
    # no key prefixes; `errors` words them as one list for people.
    source_errors: dict[str, str] = field(default_factory=dict)
    full_listing_errors: dict[str, str] = field(default_factory=dict)
    detail_errors: dict[str, str] = field(default_factory=dict)
    detail_calls: int = 0
    sources: int = 0
    moved_repos: int = 0

    @property
    def errors(self) -> dict[str, str]:
        """Every failure of the cycle by what failed, as logs, the CLI and `/healthz` show it."""
        return {
            **self.source_errors,
            **{FULL_LISTING_ERROR + ns: why for ns, why in self.full_listing_errors.items()},
            **{f"detail {repo_id}": why for repo_id, why in self.detail_errors.items()},
        }

    @property
    def status(self) -> str:
        """ok; degraded when some sources or detail calls failed; failed when most sources did.

        A degraded cycle still counts as a successful poll for `/healthz`: one lab that keeps
        failing must not make the whole bot look down.
        """
        if not (self.source_errors or self.full_listing_errors or self.detail_errors):
            return "ok"
        return "failed" if 2 * len(self.source_errors) > self.sources else "degraded"


@dataclass
class CheckReport:
    """What `Tracker.check_repos` did with a webhook's hints."""

    started_at: datetime
    events: list[ReleaseEvent] = field(default_factory=list)
    new_repos: int = 0
    detail_calls: int = 0
    known: list[str] = field(default_factory=list)  # already recorded: nothing to do
    skipped: list[str] = field(default_factory=list)  # left to the poll
    gone: list[str] = field(default_factory=list)  # not public (yet) or deleted
    waiting: list[str] = field(default_factory=list)  # public but no weights or task yet
    errors: dict[str, str] = field(default_factory=dict)  # detail call failed: retry


def awaiting_content(repo: HubRepo | RepoFacts) -> bool:
    """True for a repo created empty: no weights counted, no task, no library yet."""
    return facts_of(repo).awaiting_content


@dataclass
class _Fetched:
    """The network results of one cycle, gathered before the store is touched."""

    namespaces: set[str] = field(default_factory=set)  # lower namespaces listed this cycle
    listings: dict[str, list[HubRepo]] = field(default_factory=dict)  # namespace -> repos
    full: dict[str, list[HubRepo]] = field(default_factory=dict)  # namespace -> every repo
    limits: dict[str, int] = field(default_factory=dict)  # namespace -> limit of its listing
    listed_ids: set[str] = field(default_factory=set)  # lower ids seen in a lab listing
    moves: dict[str, str] = field(default_factory=dict)  # lower new id -> old id it moved from
    trending: list[HubRepo] | None = None
    facts: dict[str, RepoFacts] = field(default_factory=dict)  # lower id -> new repo's list facts
    details: dict[str, RepoFacts] = field(default_factory=dict)  # lower id -> detailed facts
    failed_details: set[str] = field(default_factory=set)  # lower ids to retry next cycle
    gone: set[str] = field(default_factory=set)  # lower ids deleted or private again
    errors: dict[str, str] = field(default_factory=dict)  # source -> why its listing failed
    full_errors: dict[str, str] = field(default_factory=dict)  # namespace -> why, full listing


class Tracker:
    """Runs poll cycles against a `HubSource`, writing to a `Store`."""

    def __init__(
        self,
        hub: HubSource,
        store: Store,
        registry: LabRegistry,
        policy: NotabilityPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 8,
        list_limit: int = 20,
        max_list_limit: int = 1000,
        poll_interval: timedelta = timedelta(minutes=5),
        full_listing_interval: timedelta = timedelta(minutes=30),
        full_page_size: int = 500,
        full_max_pages: int = 40,
        release_window: timedelta = RELEASE_WINDOW,
        trending_limit: int = 100,
        refresh_limit: int = 100,
        on_events: Callable[[list[ReleaseEvent]], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.hub = hub
        self.store = store
        self.registry = registry
        self.policy = policy or NotabilityPolicy()
        self.clock = clock
        self.concurrency = concurrency
        # A quiet cycle lists `list_limit` repos a lab: each listed repo costs parsing and
        # a refresh check, and a lab rarely publishes more between two polls. A listing a
        # launch cut short is asked again with a limit `LIST_GROWTH` times larger, up to
        # `max_list_limit` (see `_cut_short`).
        self.list_limit = list_limit
        self.max_list_limit = max(list_limit, max_list_limit)
        self.trending_limit = trending_limit
        self.refresh_limit = refresh_limit
        # Each namespace is listed in full at least every `full_listing_interval`, a share
        # of them each cycle (see `_full_due`), so a repo that turns public with an old
        # `createdAt` is seen within that interval even when the newest listing misses it.
        self.poll_interval = poll_interval
        self.full_listing_interval = full_listing_interval
        self.full_page_size = full_page_size
        self.full_max_pages = full_max_pages
        self.release_window = release_window
        self.on_events = on_events
        self.progress = progress
        self._cycle_lock = threading.Lock()
        # lower id -> (how the previous cycle listed it, the record it left behind)
        self._last_refresh: dict[str, tuple[tuple[int, str | None], ModelRecord]] = {}
        # Known repos by Hub `_id` (and legacy ones by name and date), for spotting moves.
        self._move_indexes: tuple[dict[str, str], dict[tuple[str, datetime], str]] | None = None
        self._moves_indexed_at = -1
        self._releases_by_lab: dict[str, dict[str, Release]] | None = None
        # Set on shutdown: requests not yet sent are skipped (their repos are simply seen
        # next time), so SIGTERM does not wait for a whole cycle of Hub retries.
        self.stopping = stopping or threading.Event()

    # ------------------------------------------------------------------ poll

    def poll_cycle(self) -> CycleReport:
        """Fetch, judge, group and record; returns the events of this cycle."""
        with self._cycle_lock:
            report = CycleReport(started_at=self.clock())
            namespaces = self.namespaces_to_list()
            report.sources = len(namespaces) + 1
            fetched = self._fetch_listings(namespaces)
            self._fetch_details(fetched)
            report.source_errors = dict(fetched.errors)
            report.full_listing_errors = dict(fetched.full_errors)
            for repo_id in sorted(fetched.failed_details):
                report.detail_errors[repo_id] = "detail call failed; retried next cycle"
            report.detail_calls = (
                len(fetched.details) + len(fetched.gone) + len(fetched.failed_details)
            )
            with self.store.lock:
                self._apply(fetched, report)
                self._record_status(report)
                if report.events and self.on_events is not None:
                    self.on_events(report.events)
                self.store.commit()
            report.finished_at = self.clock()
            log.info(
                "poll cycle %s: %d new repos, %d events, %d errors",
                report.status,
                report.new_repos,
                len(report.events),
                len(report.errors),
            )
            return report

    def namespaces_to_list(self) -> list[str]:
        """The namespaces a poll lists: see `namespaces_to_list` (module level)."""
        return namespaces_to_list(self.registry)

    def _fetch_listings(self, namespaces: Sequence[str]) -> _Fetched:
        fetched = _Fetched()
        fetched.namespaces = {namespace.lower() for namespace in namespaces}
        done = 0

        lab_state = self._lab_state()
        due = self._full_due(namespaces, lab_state, self.clock())

        def list_lab(
            namespace: str,
        ) -> tuple[str, list[HubRepo] | None, list[HubRepo] | None, str | None]:
            if self.stopping.is_set():
                return namespace, None, None, SHUTTING_DOWN
            entry = lab_state.get(namespace.lower())
            if not _complete(entry):
                # First look (or a database from before full listings): the whole namespace,
                # so everything public now is known, and anything unseen later is news.
                try:
                    full = self._list_full(namespace, light=False)
                except SourceError as exc:
                    return namespace, None, None, str(exc) or type(exc).__name__
                fetched.limits[namespace] = len(full) + 1
                return namespace, full, full, None
            try:
                repos, limit = self._list_lab(namespace, True, _reached(entry))
            except SourceError as exc:
                return namespace, None, None, str(exc) or type(exc).__name__
            fetched.limits[namespace] = limit
            full = None
            if namespace.lower() in due and not self.stopping.is_set():
                try:
                    full = self._list_full(namespace, light=True)
                except SourceError as exc:
                    log.warning("full listing of %s failed: %s", namespace, exc)
                    fetched.full_errors[namespace] = str(exc) or "failed"
            return namespace, repos, full, None

        def list_trending() -> tuple[str, list[HubRepo] | None, None, str | None]:
            if self.stopping.is_set():
                return TRENDING_KEY, None, None, SHUTTING_DOWN
            try:
                repos = self.hub.list_trending(limit=self.trending_limit)
                return TRENDING_KEY, repos, None, None
            except SourceError as exc:
                return TRENDING_KEY, None, None, str(exc) or type(exc).__name__

        total = len(namespaces) + 1
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(list_lab, ns) for ns in namespaces]
            futures.append(pool.submit(list_trending))
            for future in futures:
                key, repos, full, error = future.result()
                done += 1
                if self.progress is not None:
                    self.progress(done, total)
                if error is not None:
                    log.warning("listing %s failed: %s", key, error)
                    fetched.errors[key] = error
                elif key == TRENDING_KEY:
                    fetched.trending = repos
                else:
                    fetched.listings[key] = repos or []
                    fetched.listed_ids.update(repo.id.lower() for repo in repos or [])
                    if full is not None:
                        fetched.full[key] = full
                        fetched.listed_ids.update(repo.id.lower() for repo in full)
        return fetched

    def _list_full(self, namespace: str, *, light: bool) -> list[HubRepo]:
        """Every public repo of a namespace, newest first, page by page.

        A first look needs every field (history is judged from the listing); the
        rotation only spots unseen ids, so it asks for ids and dates (`light`), and the
        few new repos it finds get their facts from a detail call.
        """
        return self.hub.list_all(
            namespace,
            sort="createdAt",
            max_pages=self.full_max_pages,
            page_size=self.full_page_size,
            light=light,
        )

    def rotation_cycles(self) -> int:
        """Poll cycles over which every namespace gets its full listing once."""
        poll = max(self.poll_interval.total_seconds(), 1.0)
        return max(1, math.ceil(self.full_listing_interval.total_seconds() / poll))

    def _full_due(self, namespaces: Sequence[str], lab_state: dict, now: datetime) -> set[str]:
        """The namespaces (lower) to list in full this cycle: those whose turn has come,
        most overdue first, at most a `rotation_cycles()` share of them, so that after an
        outage the catch-up spreads over a rotation instead of one huge cycle."""
        overdue: list[tuple[datetime, str]] = []
        for namespace in namespaces:
            entry = lab_state.get(namespace.lower())
            if not _complete(entry):
                continue  # listed in full anyway, as a first look
            when = _moment(entry.get("full_due")) or now
            if when <= now:
                overdue.append((when, namespace.lower()))
        share = math.ceil(len(namespaces) / self.rotation_cycles())
        return {namespace for _when, namespace in sorted(overdue)[:share]}

    def _list_lab(
        self, namespace: str, polled_before: bool, reached: datetime | None
    ) -> tuple[list[HubRepo], int]:
        """A lab's newest repos, reaching back far enough to show every new one; and the
        limit used.

        A full listing may have cut a launch short, so the lab is listed again,
        `LIST_GROWTH` times longer (at most `max_list_limit` repos), while `_cut_short`
        says so. A lab's first poll only records history, so it never asks for more.
        """
        limit = self.list_limit
        repos = self.hub.list_lab_repos(namespace, limit=limit)
        shown = 0
        while (
            polled_before
            and len(repos) >= limit
            and limit < self.max_list_limit
            and not self.stopping.is_set()
            and self._cut_short(repos, shown, reached)
        ):
            shown = len(repos)
            limit = min(limit * LIST_GROWTH, self.max_list_limit)
            log.info("%s: newest %d repos include new ones; listing %d", namespace, shown, limit)
            repos = self.hub.list_lab_repos(namespace, limit=limit)
        return repos, limit

    def _cut_short(self, repos: list[HubRepo], shown: int, reached: datetime | None) -> bool:
        """True when new repos may lie beyond this full newest-first listing.

        `reached` is the creation date of the oldest of the newest `list_limit` repos the
        lab's last listing showed (kept in the `labs` state). Repos are listed by creation
        date, and a launch's repos are often created days before they go public, so they
        interleave with known ones: as long as the listing does not reach back that far,
        new repos pushed known ones out of it, and more new ones may sit between those.
        Without that date (a database from an older version), a listing of nothing but
        unknown repos asks for more.
        """
        if reached is not None:
            dates = [repo.created_at for repo in repos if repo.created_at is not None]
            return bool(dates) and min(dates) > reached
        models = self.store.models
        return all(models.get(repo.id.lower()) is None for repo in repos[shown:])

    def _fetch_details(self, fetched: _Fetched) -> None:
        """Detail calls only for new repos that pass the cheap filters."""
        wanted: dict[str, str] = {}
        lab_state = self._lab_state()
        now = self.clock()
        new_repos = list(self._new_repos(fetched))
        fetched.moves = self._find_moves([repo for repo, _lab in new_repos], fetched)
        for repo, lab in new_repos:
            if repo.id.lower() in fetched.moves:
                continue  # a moved repo keeps its record: no detail call, no alert
            if self._is_history(repo, lab, fetched, lab_state, now):
                continue  # recorded as history, never judged for alerts
            facts = fetched.facts[repo.id.lower()] = facts_of(repo)
            if self.policy.prefilter(facts, lab, now=now).candidate:
                wanted[repo.id.lower()] = repo.id
        for repo in self._breakout_rechecks(fetched):
            wanted[repo.id.lower()] = repo.id
        if not wanted:
            return

        def detail(repo_id: str) -> tuple[str, HubRepo | None, bool]:
            if self.stopping.is_set():
                return repo_id, None, True
            try:
                return repo_id, self.hub.get_repo(repo_id), False
            except SourceNotFound as exc:
                log.info("skipping %s: not available on the Hub (%s)", repo_id, exc)
                return repo_id, None, False
            except SourceError as exc:
                log.warning("detail call for %s failed, will retry next cycle: %s", repo_id, exc)
                return repo_id, None, True

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for repo_id, repo, retry in pool.map(detail, wanted.values()):
                if repo is not None:
                    fetched.details[repo_id.lower()] = facts_of(repo)
                elif retry:
                    fetched.failed_details.add(repo_id.lower())
                else:
                    fetched.gone.add(repo_id.lower())

    # ----------------------------------------------------------- bookkeeping

    def _lab_state(self) -> dict:
        entry = self.store.state.get(LAB_STATE)
        return dict(entry.value) if entry else {}

    def _is_history(
        self,
        repo: HubRepo,
        lab: Lab | None,
        fetched: _Fetched,
        lab_state: dict,
        now: datetime,
    ) -> bool:
        """True for repos to record silently (see the module docstring).

        A namespace listed this cycle decides by whether the radar had looked at it
        before: on the first look everything is history, afterwards nothing is, whatever
        `createdAt` says. A database from before full listings (no `complete` flag) takes
        its first full listing as history for repos created before its last poll.
        """
        namespace = repo.author.lower()
        if namespace in fetched.namespaces:
            entry = lab_state.get(namespace)
            if not isinstance(entry, dict):
                return True
            if not _complete(entry):
                since = _moment(entry.get("last_success"))
                return since is None or repo.created_at is None or as_utc(repo.created_at) < since
            return False
        if lab is None:
            return TRENDING_KEY not in lab_state
        if repo.created_at is None:
            return False
        return now - repo.created_at > self.policy.config.breakout_window

    def _new_repos(self, fetched: _Fetched) -> Iterable[tuple[HubRepo, Lab | None]]:
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

    def _index_new_records(self, fetched: _Fetched) -> None:
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

    def _find_moves(self, new_repos: list[HubRepo], fetched: _Fetched) -> dict[str, str]:
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

    def _breakout_rechecks(self, fetched: _Fetched) -> Iterable[HubRepo]:
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

    # -------------------------------------------------------------- applying

    def _apply(self, fetched: _Fetched, report: CycleReport) -> None:
        self._releases_by_lab = None  # rebuilt from the store on first use this cycle
        now = self.clock()
        lab_state = self._lab_state()
        new_notable: list[tuple[ModelRecord, Lab | None, Verdict]] = []

        for repo, lab in list(self._new_repos(fetched)):
            key = repo.id.lower()
            moved_from = fetched.moves.get(key)
            if moved_from is not None and follow_move(self.store, moved_from, repo.id):
                self._releases_by_lab = None  # the move renamed members in the store
                known = self.store.models.get(key)
                if known is not None:
                    self.store.models.put(
                        record_from_repo(repo, lab=lab, first_seen=known.first_seen, previous=known)
                    )
                report.moved_repos += 1
                continue
            if self._is_history(repo, lab, fetched, lab_state, now):
                self._record_history(repo, lab)
                continue
            if key in fetched.failed_details:
                continue  # retry next cycle; recording it now would lose the alert
            if key in fetched.gone:
                continue  # deleted or private again: a later listing shows it if it returns
            detail = fetched.details.get(key)
            if detail is not None:
                facts = detail
                verdict = self.policy.judge(facts, lab, first_seen=now, now=now)
            else:  # not worth a detail call: judged and recorded from the listing
                facts = fetched.facts.get(key) or facts_of(repo)
                verdict = self.policy.prefilter(facts, lab, now=now)
            record = record_from_repo(facts, lab=lab, first_seen=now)
            record.reasons = verdict.explanation
            report.new_repos += 1
            if verdict.notable:
                new_notable.append((record, lab, verdict))
            else:
                self.store.models.put(record)

        self._refresh_known(fetched, report)
        self._recheck_breakouts(fetched, new_notable, now)
        self._group(new_notable, report, now)
        self._index_new_records(fetched)

        cycles = self.rotation_cycles()
        for index, (namespace, repos) in enumerate(fetched.listings.items()):
            previous = lab_state.get(namespace.lower())
            if namespace.lower() not in lab_state:
                report.bootstrapped.append(namespace)
            entry: dict = {"last_success": now.isoformat()}
            if namespace in fetched.full:
                entry["complete"] = True
                wait = self.full_listing_interval
                if not _complete(previous):  # stagger first looks over one rotation
                    wait += self.poll_interval * (index % cycles)
                entry["full_due"] = (now + wait).isoformat()
                entry["full_at"] = now.isoformat()
            elif isinstance(previous, dict):
                for kept in ("complete", "full_due", "full_at"):
                    if kept in previous:
                        entry[kept] = previous[kept]
            # How far back a quiet cycle's listing (the newest `list_limit`) reaches now;
            # the next cycle's listing must reach as far back (see `_cut_short`).
            newest = repos[: self.list_limit]
            dates = [repo.created_at for repo in newest if repo.created_at is not None]
            if dates:
                entry["reached"] = min(dates).isoformat()
            lab_state[namespace.lower()] = entry
        if fetched.trending is not None:
            lab_state[TRENDING_KEY] = {"last_success": now.isoformat()}
        self.store.state.put(StateEntry(name=LAB_STATE, value=lab_state))

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

    def _refresh_known(self, fetched: _Fetched, report: CycleReport) -> None:
        """Known repos only refresh their facts: new commits or counts never make a release.

        A repo listed exactly as in the previous cycle, whose record nothing has replaced
        since, would refresh to the record it already has, so it is skipped: rebuilding
        thousands of unchanged records was most of a quiet cycle's own work.
        """
        listed: list[HubRepo] = [repo for repos in fetched.listings.values() for repo in repos]
        listed += fetched.trending or []
        refreshed_now: dict[str, tuple[tuple[int, str | None], ModelRecord]] = {}
        models = self.store.models
        for repo in listed:
            key = repo.id.lower()
            known = models.get(key)
            if known is None:
                continue
            lab = self.registry.resolve(repo.author)
            # A hash, not the repo itself: keeping 3,000 repos' objects alive between cycles
            # made the collector's pass after each cycle cost more than encoding them.
            seen_as = (hash(repo.model_dump_json()), lab.namespace if lab else None)
            previous = self._last_refresh.get(key)
            if previous is None or previous[1] is not known or previous[0] != seen_as:
                refreshed = record_from_repo(
                    repo, lab=lab, first_seen=known.first_seen, previous=known
                )
                if refreshed != known:
                    self.store.models.put(refreshed)
                    report.updated_repos += 1
                    known = refreshed
            refreshed_now[key] = (seen_as, known)
        self._last_refresh = refreshed_now

    def _recheck_breakouts(
        self,
        fetched: _Fetched,
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

    def _releases_of(self, lab_namespace: str) -> list[Release]:
        """A lab's releases, from a per-cycle index: a first look records hundreds of
        repos a lab, and scanning every release for each of them was quadratic."""
        if self._releases_by_lab is None:
            self._releases_by_lab = {}
            for release in self.store.releases.values():
                self._releases_by_lab.setdefault(release.lab.lower(), {})[release.id] = release
        return list(self._releases_by_lab.get(lab_namespace.lower(), {}).values())

    def _put_release(self, release: Release) -> None:
        self.store.releases.put(release)
        if self._releases_by_lab is not None:
            self._releases_by_lab.setdefault(release.lab.lower(), {})[release.id] = release

    def _group(
        self,
        new_notable: list[tuple[ModelRecord, Lab | None, Verdict]],
        report: CycleReport,
        now: datetime,
    ) -> None:
        """Group notable repos into releases; one event per release per cycle."""
        created: dict[str, Release] = {}
        updated: dict[str, tuple[Release, list[str]]] = {}
        for record, lab, verdict in sorted(new_notable, key=lambda item: item[0].id.lower()):
            placed = place_in_release(
                record,
                lab,
                self._releases_of(lab.namespace if lab else record.author),
                now=now,
                window=self.release_window,
                reasons=verdict.reasons,
            )
            release, is_new = placed.release, placed.created
            record.reasons = [*record.reasons, f"release: {placed.reason}"]
            record.notable = True
            record.release_id = release.id
            self.store.models.put(record)
            self._put_release(release)
            if is_new or release.id in created:
                created[release.id] = release
            else:
                _release, members = updated.get(release.id, (release, []))
                members.append(record.id)
                updated[release.id] = (release, members)
        for release in created.values():
            report.events.append(
                ReleaseEvent(kind="new_release", release=release, new_members=list(release.members))
            )
        for release, members in updated.values():
            report.events.append(
                ReleaseEvent(kind="release_updated", release=release, new_members=members)
            )
        self._releases_by_lab = None  # the index lives for one grouping (webhooks group too)

    def _record_status(self, report: CycleReport) -> None:
        status = read_poll_status(self.store).after_cycle(
            self.clock(), report.status, report.errors, report.new_repos, len(report.events)
        )
        write_poll_status(self.store, status)

    # ------------------------------------------------------------- webhooks

    def check_repos(self, repo_ids: Iterable[str]) -> CheckReport:
        """Judge repos a Hub webhook named, exactly as a poll would judge them if new.

        A webhook is a hint, not a fact: each unknown repo of a tracked, already polled lab
        gets one detail call, then the same policy, grouping and outbox path as a poll, in
        the same lock and one commit. Known repos cost nothing (a repo both paths see is
        announced once); a repo with no weights and no task yet is left unrecorded and
        reported as `waiting`, so the caller can look again once content arrives.
        """
        with self._cycle_lock:
            report = CheckReport(started_at=self.clock())
            now = report.started_at
            lab_state = self._lab_state()
            wanted: dict[str, tuple[str, Lab]] = {}
            for repo_id in repo_ids:
                key = repo_id.lower()
                lab = self.registry.resolve(repo_id.split("/", 1)[0])
                if key in wanted or lab is None or "/" not in repo_id:
                    continue
                if lab.namespace.lower() not in lab_state:
                    report.skipped.append(repo_id)  # its first poll records history
                    continue
                if self.store.models.get(key) is not None:
                    report.known.append(repo_id)
                    continue
                hint = HubRepo(id=repo_id, author=repo_id.split("/", 1)[0])
                if not self.policy.prefilter(hint, lab, now=now).candidate:
                    report.skipped.append(repo_id)  # the poll records it with list data
                    continue
                wanted[key] = (repo_id, lab)
            details: dict[str, HubRepo] = {}

            def detail(repo_id: str) -> tuple[str, HubRepo | None]:
                if self.stopping.is_set():
                    report.errors[repo_id] = SHUTTING_DOWN
                    return repo_id, None
                try:
                    return repo_id, self.hub.get_repo(repo_id)
                except SourceNotFound:
                    report.gone.append(repo_id)  # private or deleted: a later event says
                except SourceError as exc:
                    log.warning("webhook check of %s failed: %s", repo_id, exc)
                    report.errors[repo_id] = str(exc) or type(exc).__name__
                return repo_id, None

            if wanted:
                with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                    for repo_id, repo in pool.map(detail, [v[0] for v in wanted.values()]):
                        if repo is not None:
                            details[repo_id.lower()] = repo
            report.detail_calls = len(wanted)
            with self.store.lock:
                new_notable: list[tuple[ModelRecord, Lab | None, Verdict]] = []
                for key, repo in details.items():
                    _repo_id, lab = wanted[key]
                    if self.store.models.get(key) is not None:
                        continue
                    facts = facts_of(repo)
                    if facts.awaiting_content:
                        report.waiting.append(repo.id)
                        continue
                    verdict = self.policy.judge(facts, lab, first_seen=now, now=now)
                    record = record_from_repo(facts, lab=lab, first_seen=now)
                    record.reasons = verdict.explanation
                    report.new_repos += 1
                    if verdict.notable:
                        new_notable.append((record, lab, verdict))
                    else:
                        self.store.models.put(record)
                grouped = CycleReport(started_at=now)
                self._group(new_notable, grouped, now)
                report.events = grouped.events
                if report.events and self.on_events is not None:
                    self.on_events(report.events)
                if report.new_repos:
                    self.store.commit()
            log.info(
                "webhook check: %d repos, %d detail calls, %d new, %d events, %d waiting",
                len(report.known) + len(report.skipped) + len(wanted),
                report.detail_calls,
                report.new_repos,
                len(report.events),
                len(report.waiting),
            )
            return report

    def apply_move(self, old_id: str, new_id: str) -> bool:
        """Follow a repo rename between polls (never a new release); False if `old_id` is
        unknown. Runs under the cycle lock so a poll never judges the new id half-moved."""
        with self._cycle_lock, self.store.lock:
            moved = follow_move(self.store, old_id, new_id)
            if moved:
                self._last_refresh.pop(old_id.lower(), None)
                self.store.commit()
            return moved

    # --------------------------------------------------------------- refresh

    def refresh_counts(self) -> int:
        """Refresh downloads and likes of tracked labs' most used models (one request a lab).

        A repo found here that the store does not know is left to the poll: it either
        turned public since the poll's last look (news, whatever its creation date) or
        belongs to a namespace the poll has not looked at yet (history, recorded there).
        """
        with self._cycle_lock:
            namespaces = self.namespaces_to_list()

            def most_downloaded(namespace: str) -> list[HubRepo]:
                try:
                    return self.hub.list_lab_repos(
                        namespace, limit=self.refresh_limit, sort="downloads"
                    )
                except SourceError as exc:
                    log.warning("refresh of %s failed: %s", namespace, exc)
                    return []

            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                listings = list(pool.map(most_downloaded, namespaces))
            changed = 0
            with self.store.lock:
                for repos in listings:
                    for repo in repos:
                        lab = self.registry.resolve(repo.author)
                        known = self.store.models.get(repo.id.lower())
                        if known is None:
                            continue
                        refreshed = record_from_repo(
                            repo, lab=lab, first_seen=known.first_seen, previous=known
                        )
                        if refreshed != known:
                            self.store.models.put(refreshed)
                            changed += 1
                status = read_poll_status(self.store)
                write_poll_status(self.store, replace(status, last_refresh_at=self.clock()))
                self.store.commit()
            return changed

    def refresh_due(self, interval: timedelta) -> bool:
        """True when the last count refresh is `interval` old, or there was none."""
        last = read_poll_status(self.store).last_refresh_at
        return last is None or self.clock() - last >= interval


def namespaces_to_list(registry: LabRegistry) -> list[str]:
    """The namespaces a poll lists: each tracked lab's, and its aliases that still publish.

    An alias says "same lab", not "stopped publishing": ATOM's snapshot still adds repos
    under `THUDM`, `AIDC-AI` and `rednote-hilab` (`LabRegistry.namespaces_to_list`).
    """
    return registry.namespaces_to_list()


def _reached(entry: dict | None) -> datetime | None:
    """How far back the last poll's short listing of a lab reached, if recorded."""
    value = entry.get("reached") if isinstance(entry, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _moment(value: object) -> datetime | None:
    """An ISO timestamp from the state, as aware UTC; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _complete(entry: object) -> bool:
    """True once a namespace has been listed in full: its unseen repos are news from then."""
    return isinstance(entry, dict) and entry.get("complete") is True
