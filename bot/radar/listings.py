"""How each tracked namespace is listed, and the poll state each listing leaves behind.

A poll lists each namespace's newest repos (one request; a longer listing when new repos
pushed known ones out of it, see `_list_lab` and `_cut_short`), a rotating share of the
namespaces in full (every page, so each is listed whole at least every
`full_listing_interval`, see `_full_due` and `rotation_cycles`), and the trending listing.
The `labs` state entry remembers, a namespace, when it was listed, whether it was ever
listed in full (from then on its unseen repos are news), when its next full listing is due
and how far back its newest listing reached. `ListingMixin` is part of `Tracker`.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.radar.facts import RepoFacts
from bot.radar.models import HubRepo, StateEntry, as_utc
from bot.radar.ports import HubSource, SourceError, Store

log = logging.getLogger(__name__)

TRENDING_KEY = "_trending"
LAB_STATE = "labs"
SHUTTING_DOWN = "skipped: shutting down"
LIST_GROWTH = 5


@dataclass
class Fetched:
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


class ListingMixin:
    """The listing half of `Tracker`: what to ask the Hub for, and the state it leaves."""

    hub: HubSource
    store: Store
    clock: Callable[[], datetime]
    concurrency: int
    list_limit: int
    max_list_limit: int
    trending_limit: int
    poll_interval: timedelta
    pace: Callable[[], timedelta]
    full_listing_interval: timedelta
    full_page_size: int
    full_max_pages: int
    progress: Callable[[int, int], None] | None
    stopping: threading.Event

    def _fetch_listings(self, namespaces: Sequence[str]) -> Fetched:
        fetched = Fetched()
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
            if not listed_in_full(entry):
                # First look (or a database from before full listings): the whole namespace,
                # so everything public now is known, and anything unseen later is news.
                try:
                    full = self._list_full(namespace, light=False)
                except SourceError as exc:
                    return namespace, None, None, str(exc) or type(exc).__name__
                fetched.limits[namespace] = len(full) + 1
                return namespace, full, full, None
            try:
                reached = state_time(entry.get("reached") if isinstance(entry, dict) else None)
                repos, limit = self._list_lab(namespace, True, reached)
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
                    log.debug("listing %s failed: %s", key, error)
                    fetched.errors[key] = error
                elif key == TRENDING_KEY:
                    fetched.trending = repos
                else:
                    fetched.listings[key] = repos or []
                    fetched.listed_ids.update(repo.id.lower() for repo in repos or [])
                    if full is not None:
                        fetched.full[key] = full
                        fetched.listed_ids.update(repo.id.lower() for repo in full)
        warn_failed_listings("Hub listings", fetched.errors, total)
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
        """Poll cycles over which every namespace gets its full listing once, at the pace
        cycles run now (so a reconcile-only poll lists every namespace each interval)."""
        poll = max(self.pace().total_seconds(), self.poll_interval.total_seconds(), 1.0)
        return max(1, math.ceil(self.full_listing_interval.total_seconds() / poll))

    def _full_due(self, namespaces: Sequence[str], lab_state: dict, now: datetime) -> set[str]:
        """The namespaces (lower) to list in full this cycle: those whose turn has come (or
        comes before the next cycle is halfway), most overdue first, at most a
        `rotation_cycles()` share of them, so that after an outage the catch-up spreads
        over a rotation instead of one huge cycle."""
        overdue: list[tuple[datetime, str]] = []
        # A turn that comes before the middle of the gap to the next cycle is taken now:
        # a cycle that runs a moment early must not push a listing a whole cycle late.
        horizon = now + max(self.pace(), self.poll_interval) / 2
        for namespace in namespaces:
            entry = lab_state.get(namespace.lower())
            if not listed_in_full(entry):
                continue  # listed in full anyway, as a first look
            when = state_time(entry.get("full_due")) or now
            if when <= horizon:
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

    def _lab_state(self) -> dict:
        entry = self.store.state.get(LAB_STATE)
        return dict(entry.value) if entry else {}

    def _record_lab_state(self, fetched: Fetched, lab_state: dict, now: datetime) -> list[str]:
        """Write each listed namespace's poll state: when it was last listed, whether and when
        it was listed in full, when its next full listing is due, how far back its newest
        listing reached. Returns the namespaces looked at for the first time."""
        bootstrapped: list[str] = []
        cycles = self.rotation_cycles()
        for index, (namespace, repos) in enumerate(fetched.listings.items()):
            previous = lab_state.get(namespace.lower())
            if namespace.lower() not in lab_state:
                bootstrapped.append(namespace)
            entry: dict = {"last_success": now.isoformat()}
            if namespace in fetched.full:
                entry["complete"] = True
                wait = self.full_listing_interval
                if not listed_in_full(previous):  # stagger first looks over one rotation
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
        return bootstrapped


def warn_failed_listings(what: str, errors: dict[str, str], total: int) -> None:
    """One line a run for the listings that failed (a Hub outage fails them all), with
    the first reason; each source's own reason is logged at debug level."""
    failed = {key: why for key, why in errors.items() if why != SHUTTING_DOWN}
    if not failed:
        return
    first, why = next(iter(failed.items()))
    log.warning(
        "%s failed for %d of %d sources (%s: %s); they are listed again next time",
        what,
        len(failed),
        total,
        first,
        why,
    )


def state_time(value: object) -> datetime | None:
    """An ISO timestamp from the state, as aware UTC; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def listed_in_full(entry: object) -> bool:
    """True once a namespace has been listed in full: its unseen repos are news from then."""
    return isinstance(entry, dict) and entry.get("complete") is True
