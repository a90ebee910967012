"""Taking the adoption snapshots: after every poll, and the day's Hub snapshot when due.

`Snapshots.after_poll()` runs after each poll cycle (`bot.runtime.poll_once`):
1. every release without a series gets one, with no request: its members' records were just
   refreshed by the poll that found it, so their `downloadsAllTime` is the day-0 baseline;
2. once per UTC day (`due()`), one listing a tracked lab of its `top_limit` most downloaded
   models (their 30-day and all-time downloads: the regional race), and the all-time
   downloads of the members of every release whose snapshot is due (daily while it may still
   get a follow-up, weekly to a year, then every 28 days), from those listings or, for
   members outside them, one detail call each. One poll spends at most `SNAPSHOT_BUDGET`
   requests on it; the following polls finish the day (youngest releases first);
3. the follow-ups that became due are queued in the outbox (`bot.radar.followups`).
Everything is written in one commit. A Hub failure leaves a gap (interpolated when read,
and marked): a release whose members could not be read waits for the next day, and the
lab listings are tried again at the next poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.radar.adoption import FOLLOW_UP_WINDOW_END
from bot.radar.adoption_series import (
    MONTH_BLOCK,
    WEEK_BLOCK,
    WEEKLY_DAYS,
    add_point,
    epoch_day,
    lab_series_id,
    release_series_id,
    thin,
)
from bot.radar.followups import queue_follow_ups
from bot.radar.labs import LabRegistry
from bot.radar.models import AdoptionSeries, HubRepo, Lab, Release, StateEntry, as_utc, utcnow
from bot.radar.ports import HubSource, SourceError, SourceNotFound

if TYPE_CHECKING:
    from bot.radar.outbox import Outbox
    from bot.radar.ports import Store

log = logging.getLogger(__name__)

STATE = "adoption"
LAUNCH_SEEN_WITHIN = timedelta(days=1)  # a release younger than this when its series starts
# Hub requests one poll may spend on the day's snapshot: with the poll's own (a listing a
# lab + trending) it stays far inside the Hub's 500 requests per 5 minutes (anonymous).
SNAPSHOT_BUDGET = 150


@dataclass
class SnapshotReport:
    started: int = 0  # new series
    taken: bool = False  # the day's snapshot was taken
    lab_points: int = 0
    release_points: int = 0
    requests: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    follow_ups: int = 0
    dropped_points: int = 0


class Snapshots:
    """Owns the `adoption` collection's writes."""

    def __init__(
        self,
        hub: HubSource,
        store: Store,
        registry: LabRegistry,
        *,
        outbox: Outbox | None = None,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 8,
        top_limit: int = 100,
        budget: int = SNAPSHOT_BUDGET,
        stopping: threading.Event | None = None,
    ) -> None:
        self.hub = hub
        self.store = store
        self.registry = registry
        self.outbox = outbox
        self.clock = clock
        self.concurrency = concurrency
        self.top_limit = top_limit
        self.budget = budget
        # all-time downloads the day's lab listings showed (lower id -> count), so the
        # polls finishing the day's snapshot need no detail call for those repos
        self._seen_day: int | None = None
        self._seen: dict[str, int] = {}
        self._failed: set[str] = set()  # releases whose members could not be read today
        self.stopping = stopping or threading.Event()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ entry point

    def after_poll(self) -> SnapshotReport:
        """Start new series; take the day's snapshot when due; queue due follow-ups."""
        with self._lock:
            report = SnapshotReport()
            now = self.clock()
            with self.store.lock:
                report.started = self._start_series(now)
            if self.due(now):
                self._take(now, report)
            with self.store.lock:
                if self.outbox is not None:
                    report.follow_ups = queue_follow_ups(self.store, self.outbox, now)
                if report.started or report.taken or report.follow_ups:
                    self.store.commit()
            if report.taken:
                log.info(
                    "adoption snapshot: %d labs, %d releases, %d Hub requests, %d errors",
                    report.lab_points,
                    report.release_points,
                    report.requests,
                    len(report.errors),
                )
            return report

    def due(self, now: datetime | None = None) -> bool:
        entry = self.store.state.get(STATE)
        last = entry.value.get("last_day") if entry else None
        return not isinstance(last, int) or last < epoch_day(now or self.clock())

    # --------------------------------------------------------------------- series

    def _start_series(self, now: datetime) -> int:
        """A series for every release that has none; the baseline is what its members had."""
        started = 0
        today = epoch_day(now)
        for release in self.store.releases.values():
            if self.store.adoption.get(release_series_id(release.id)) is not None:
                continue
            members = dict.fromkeys(member.lower() for member in release.members)
            baseline = 0
            for key in members:
                record = self.store.models.get(key)
                if record is not None and record.downloads_all_time:
                    baseline += record.downloads_all_time
            series = AdoptionSeries(
                id=release_series_id(release.id),
                kind="release",
                region=release.region,
                start_day=epoch_day(release.first_seen),
                from_launch=now - as_utc(release.first_seen) <= LAUNCH_SEEN_WITHIN,
                offset=baseline,
                members=list(members),
            )
            add_point(series, today, baseline)
            self.store.adoption.put(series)
            started += 1
        return started

    def _release_due(self, series: AdoptionSeries, today: int) -> bool:
        if not series.days:
            return True
        age = today - series.start_day
        last = series.days[-1]
        if age <= FOLLOW_UP_WINDOW_END:
            return last < today
        if age <= WEEKLY_DAYS:
            return last <= today - WEEK_BLOCK
        return last <= today - MONTH_BLOCK

    # ---------------------------------------------------------------- the day's snapshot

    def _take(self, now: datetime, report: SnapshotReport) -> None:
        """As much of the day's snapshot as `budget` requests allow; the rest next poll.

        The first poll of a day lists the labs; every poll then reads the members of the
        releases still due (the youngest first: their follow-ups come soonest) until the
        budget is spent. The day is done when no release is due any more.
        """
        today = epoch_day(now)
        if self._seen_day != today:
            self._seen_day, self._seen, self._failed = today, {}, set()
        budget = self.budget
        entry = self.store.state.get(STATE)
        state = dict(entry.value) if entry else {}
        labs = self.registry.labs()
        listings: dict[str, list[HubRepo] | None] = {}
        if state.get("labs_day") != today:
            listings = self._list_labs(labs, report)
            budget -= report.requests
            for repos in listings.values():
                for repo in repos or []:
                    if repo.downloads_all_time is not None:
                        self._seen[repo.id.lower()] = repo.downloads_all_time

        with self.store.lock:
            due = self._due_releases(today)
        chosen: list[Release] = []
        wanted: list[str] = []
        for release in due:
            missing = [
                member
                for member in dict.fromkeys(m.lower() for m in release.members)
                if member not in self._seen and member not in wanted
            ]
            if missing and len(missing) > budget - len(wanted):
                break
            chosen.append(release)
            wanted += missing
        failed: set[str] = set()
        gone: set[str] = set()
        for repo_key, value, error in self._details(wanted):
            if error == "gone":
                gone.add(repo_key)
            elif error is not None or value is None:
                failed.add(repo_key)
                report.errors[f"detail {repo_key}"] = error or "no downloadsAllTime"
            else:
                self._seen[repo_key] = value
        report.requests += len(wanted)

        with self.store.lock:
            for lab in labs:
                repos = listings.get(lab.namespace)
                if repos is None:
                    continue
                for alias in self.registry.listed_namespaces(lab)[1:]:  # still publishing
                    repos = repos + (listings.get(alias) or [])
                self._lab_point(lab.namespace, lab.region, repos, today)
                report.lab_points += 1
            for release in chosen:
                if self._release_point(release, self._seen, gone, failed, today):
                    report.release_points += 1
                else:
                    self._failed.add(release.id)  # a gap today, not a retry every poll
            for series in self.store.adoption.values():
                before = len(series.days)
                if thin(series, today):
                    report.dropped_points += before - len(series.days)
                    self.store.adoption.put(series)
            if report.lab_points:
                state["labs_day"] = today
            remaining = len(self._due_releases(today))
            if state.get("labs_day") == today and (remaining == 0 or not chosen):
                # done; or nothing could be read this round (the Hub is failing): the gaps
                # are interpolated later, instead of retrying every poll all day
                state["last_day"] = today
                state["taken_at"] = now.isoformat()
            state["requests_today"] = report.requests + (
                state.get("requests_today", 0) if state.get("requests_day") == today else 0
            )
            state["requests_day"] = today
            self.store.state.put(StateEntry(name=STATE, value=state))
            report.taken = bool(report.lab_points or report.release_points or report.requests)

    def _list_labs(
        self, labs: list[Lab], report: SnapshotReport
    ) -> dict[str, list[HubRepo] | None]:
        def top(namespace: str) -> tuple[str, list[HubRepo] | None]:
            if self.stopping.is_set():
                return namespace, None
            try:
                repos = self.hub.list_lab_repos(namespace, limit=self.top_limit, sort="downloads")
                return namespace, repos
            except SourceError as exc:
                report.errors[f"lab {namespace}"] = str(exc) or type(exc).__name__
                return namespace, None

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            namespaces = [ns for lab in labs for ns in self.registry.listed_namespaces(lab)]
            listings = dict(pool.map(top, namespaces))
        report.requests += len(namespaces)
        return listings

    def _due_releases(self, today: int) -> list[Release]:
        """Releases whose snapshot is due today, the youngest first."""
        due = [
            release
            for release in self.store.releases.values()
            if (series := self.store.adoption.get(release_series_id(release.id))) is not None
            and self._release_due(series, today)
            and release.id not in self._failed
        ]
        due.sort(key=lambda r: (as_utc(r.first_seen), r.id), reverse=True)
        return due

    def _details(self, wanted: list[str]) -> list[tuple[str, int | None, str | None]]:
        def detail(repo_key: str) -> tuple[str, int | None, str | None]:
            if self.stopping.is_set():
                return repo_key, None, "shutting down"
            record = self.store.models.get(repo_key)
            try:
                repo = self.hub.get_repo(record.id if record is not None else repo_key)
            except SourceNotFound:
                return repo_key, None, "gone"
            except SourceError as exc:
                return repo_key, None, str(exc) or type(exc).__name__
            return repo_key, repo.downloads_all_time, None

        if not wanted:
            return []
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(detail, wanted))

    def _lab_point(self, namespace: str, region, repos: list[HubRepo], today: int) -> None:
        key = lab_series_id(namespace)
        series = self.store.adoption.get(key)
        if series is None:
            series = AdoptionSeries(id=key, kind="lab", region=region, start_day=today)
        else:
            series = series.model_copy(deep=True)
            series.region = region
        recent = sum(max(repo.downloads or 0, 0) for repo in repos)
        total = sum(max(repo.downloads_all_time or 0, 0) for repo in repos)
        if len(series.recent) != len(series.days):  # never mixed; repair a hand-edited file
            series.days, series.totals, series.recent = [], [], []
        add_point(series, today, total, recent)
        self.store.adoption.put(series)

    def _release_point(
        self,
        release: Release,
        seen: dict[str, int],
        gone: set[str],
        failed: set[str],
        today: int,
    ) -> bool:
        """One point for a release, or a gap when a member could not be read."""
        members = list(dict.fromkeys(member.lower() for member in release.members))
        if any(member in failed for member in members):
            return False
        series = self.store.adoption.get(release_series_id(release.id))
        if series is None:
            return False
        series = series.model_copy(deep=True)
        total = 0
        for member in members:
            if member in seen:
                total += seen[member]
            elif member in gone:  # deleted or private again: its last known count stays
                record = self.store.models.get(member)
                total += (record.downloads_all_time or 0) if record is not None else 0
        for member in members:
            if member not in series.members:
                series.members.append(member)  # joined later: counted in full
        add_point(series, today, total)
        self.store.adoption.put(series)
        return True
