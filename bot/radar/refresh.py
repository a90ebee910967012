"""Known repos only refresh their facts: a poll's listings, and the periodic count refresh.

New commits, downloads or likes never make a release. `refresh_counts` asks each tracked
lab's most downloaded repos on its own schedule; `RefreshMixin` is part of `Tracker`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.radar.facts import record_from_repo
from bot.radar.labs import LabRegistry
from bot.radar.listings import Fetched, warn_failed_listings
from bot.radar.models import HubRepo, ModelRecord
from bot.radar.poll_status import read_poll_status, write_poll_status
from bot.radar.ports import HubSource, SourceError, Store

if TYPE_CHECKING:
    from bot.radar.tracker import CycleReport

log = logging.getLogger(__name__)


class RefreshMixin:
    """The refresh half of `Tracker`: known repos' facts, never a release."""

    hub: HubSource
    store: Store
    registry: LabRegistry
    clock: Callable[[], datetime]
    concurrency: int
    refresh_limit: int
    _cycle_lock: threading.Lock
    _last_refresh: dict[str, tuple[tuple[int, str | None], ModelRecord]]

    def _refresh_known(self, fetched: Fetched, report: CycleReport) -> None:
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

    def refresh_counts(self) -> int:
        """Refresh downloads and likes of tracked labs' most used models (one request a lab).

        A repo found here that the store does not know is left to the poll: it either
        turned public since the poll's last look (news, whatever its creation date) or
        belongs to a namespace the poll has not looked at yet (history, recorded there).
        """
        with self._cycle_lock:
            namespaces = self.registry.namespaces_to_list()
            errors: dict[str, str] = {}

            def most_downloaded(namespace: str) -> list[HubRepo]:
                try:
                    return self.hub.list_lab_repos(
                        namespace, limit=self.refresh_limit, sort="downloads"
                    )
                except SourceError as exc:
                    log.debug("refresh of %s failed: %s", namespace, exc)
                    errors[namespace] = str(exc) or type(exc).__name__
                    return []

            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                listings = list(pool.map(most_downloaded, namespaces))
            warn_failed_listings("The count refresh's listings", errors, len(namespaces))
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
