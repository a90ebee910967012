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

What is news and what is history is decided in `bot.radar.history`; how namespaces are
listed in `bot.radar.listings`; known repos' refresh in `bot.radar.refresh`; webhook hints
in `bot.radar.hints`. `Tracker` mixes those in and keeps the cycle's order and its lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.radar.facts import RepoFacts, facts_of, record_from_repo
from bot.radar.hints import CheckReport as CheckReport  # re-exported for callers
from bot.radar.hints import HintsMixin
from bot.radar.history import HistoryMixin
from bot.radar.labs import LabRegistry
from bot.radar.listings import LAB_STATE as LAB_STATE  # re-exported for callers
from bot.radar.listings import TRENDING_KEY as TRENDING_KEY  # re-exported for callers
from bot.radar.listings import Fetched, ListingMixin
from bot.radar.models import HubRepo, Lab, ModelRecord, Release, ReleaseEvent, utcnow
from bot.radar.moves import follow_move
from bot.radar.policy import NotabilityPolicy, Verdict
from bot.radar.poll_status import POLL_STATE as POLL_STATE  # re-exported for callers
from bot.radar.poll_status import read_poll_status, write_poll_status
from bot.radar.ports import HubSource, SourceError, SourceNotFound, Store
from bot.radar.refresh import RefreshMixin
from bot.radar.releases import RELEASE_WINDOW, place_in_release

log = logging.getLogger(__name__)

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


class Tracker(ListingMixin, HistoryMixin, RefreshMixin, HintsMixin):
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
        pace: Callable[[], timedelta] | None = None,
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
        # How far apart cycles run now: the poll interval, or longer while Hub webhooks
        # carry the news and the poll only reconciles (`bot.webhooks.health`).
        self.pace = pace or (lambda: self.poll_interval)
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
            namespaces = self.registry.namespaces_to_list()
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

    def _fetch_details(self, fetched: Fetched) -> None:
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
    def _apply(self, fetched: Fetched, report: CycleReport) -> None:
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
            report.new_repos += 1
            self._file_new(facts, lab, verdict, now, new_notable)

        self._refresh_known(fetched, report)
        self._recheck_breakouts(fetched, new_notable, now)
        report.events.extend(self._group(new_notable, now))
        self._index_new_records(fetched)
        report.bootstrapped.extend(self._record_lab_state(fetched, lab_state, now))

    def _file_new(
        self,
        facts: RepoFacts,
        lab: Lab | None,
        verdict: Verdict,
        now: datetime,
        new_notable: list[tuple[ModelRecord, Lab | None, Verdict]],
    ) -> None:
        """A judged new repo, seen first `now`: a notable one waits in `new_notable` to be
        grouped into a release; any other is recorded at once, with the verdict's reasons."""
        record = record_from_repo(facts, lab=lab, first_seen=now)
        record.reasons = verdict.explanation
        if verdict.notable:
            new_notable.append((record, lab, verdict))
        else:
            self.store.models.put(record)

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
        now: datetime,
    ) -> list[ReleaseEvent]:
        """Group notable repos into releases; one event per release per cycle."""
        events: list[ReleaseEvent] = []
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
            events.append(
                ReleaseEvent(kind="new_release", release=release, new_members=list(release.members))
            )
        for release, members in updated.values():
            events.append(
                ReleaseEvent(kind="release_updated", release=release, new_members=members)
            )
        self._releases_by_lab = None  # the index lives for one grouping (webhooks group too)
        return events

    def _record_status(self, report: CycleReport) -> None:
        status = read_poll_status(self.store).after_cycle(
            self.clock(), report.status, report.errors, report.new_repos, len(report.events)
        )
        write_poll_status(self.store, status)
