"""Webhook hints: judge the repos a Hub webhook named, and follow its renames.

A webhook is a hint, not a fact: `check_repos` gives each unknown repo of a tracked, already
polled lab one detail call and the same policy, grouping and outbox path as a poll;
`apply_move` follows a rename between polls. `HintsMixin` is part of `Tracker`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from bot.radar.facts import RepoFacts, facts_of
from bot.radar.labs import LabRegistry
from bot.radar.listings import SHUTTING_DOWN
from bot.radar.models import HubRepo, Lab, ModelRecord, ReleaseEvent
from bot.radar.moves import follow_move
from bot.radar.policy import NotabilityPolicy, Verdict
from bot.radar.ports import HubSource, SourceError, SourceNotFound, Store

log = logging.getLogger(__name__)


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


class HintsMixin:
    """The webhook half of `Tracker`; runs under its cycle lock like a poll."""

    hub: HubSource
    store: Store
    registry: LabRegistry
    policy: NotabilityPolicy
    clock: Callable[[], datetime]
    concurrency: int
    stopping: threading.Event
    on_events: Callable[[list[ReleaseEvent]], None] | None
    _cycle_lock: threading.Lock
    _last_refresh: dict[str, tuple[tuple[int, str | None], ModelRecord]]
    _lab_state: Callable[[], dict]
    _file_new: Callable[
        [RepoFacts, Lab | None, Verdict, datetime, list[tuple[ModelRecord, Lab | None, Verdict]]],
        None,
    ]
    _group: Callable[[list[tuple[ModelRecord, Lab | None, Verdict]], datetime], list[ReleaseEvent]]

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
                    report.new_repos += 1
                    self._file_new(facts, lab, verdict, now, new_notable)
                report.events = self._group(new_notable, now)
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
