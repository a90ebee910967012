"""Drain the outbox into Slack: one top-level message per (channel, release), exactly once.

Every workspace's rows go out in one drain, each through that workspace's client
(`Workspaces.client_for(row.team_id)`), paced per workspace (`bot.slack.pacing`). A row
whose workspace has no client any more (uninstalled) ends `dropped`, its reason saying so.

The protocol for one row:
1. mark it `posting` with the members about to be shown, and commit (so a crash from
   here on is detectable, and an adopted message can still be brought up to date);
   `Outbox.enqueue` writes new rows this way inside the poll cycle's own commit;
2. post (or, for an announced release that grew, edit the message and thread a reply);
3. record the message `ts`, mark it `sent` and commit (group commits: `bot.slack.row_writer`).

After a crash between 1 and 3 the row is still `posting`; before posting again the
deliverer looks for the alert in the channel's recent history by its message metadata
(`radar_release` / release id), so a message Slack already has is adopted, not repeated.
Only a row this process queued and has not tried yet (`Outbox.claim`) skips that look.
What one try of a row does (post, adopt, edit) is `bot.slack.alert_posts`; this module is
the drain around it: which rows, in what order, the retries and the commits. A try talks to
Slack through `bot.slack.paced_calls` (the row's workspace's client, paced, transient
failures as `RetryLater`) and records the row through `RowWriter`.

Errors: 429 and `ratelimited` wait for `Retry-After`; 5xx retry with backoff; the channel
errors that retrying cannot fix pause that channel's subscriptions with a log line. A row
still failing after `GIVE_UP_AFTER` deferrals ends `failed` (with the reason, a log line,
and a note in `/radar subscriptions` and App Home), and the channel's later rows go on. A
channel's rows go out strictly in release order and at most one message per second; a
worker whose channel must wait out its second serves other channels meanwhile (pacing and
the scheduler: `bot.slack.pacing`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.radar.channels import ChannelSettings
from bot.radar.models import Delivery, ModelRecord, Release, utcnow
from bot.radar.outbox import Outbox
from bot.radar.ports import Store
from bot.slack import errors
from bot.slack.alert_posts import post_new, post_update
from bot.slack.followups import post_follow_up
from bot.slack.paced_calls import PacedCalls, RetryLater
from bot.slack.pacing import Pacer, run_paced
from bot.slack.render import release_alert
from bot.slack.row_writer import RowWriter
from bot.slack.workspace_clients import (
    NOT_INSTALLED,
    NOT_INSTALLED_REASON,
    NotInstalled,
    as_workspaces,
)
from bot.slack.workspaces import Workspaces

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
GIVE_UP_AFTER = MAX_ATTEMPTS * 4  # deferrals (each after up to three tries) before `failed`


@dataclass
class DrainReport:
    posted: int = 0
    updated: int = 0
    adopted: int = 0  # found already posted after a crash
    deferred: int = 0
    paused: int = 0
    dropped: int = 0
    failed: int = 0  # gave up after `GIVE_UP_AFTER` deferrals
    errors: list[str] = field(default_factory=list)


class Deliverer:
    """The outbox's drain. One try of a row (`alert_posts`, `followups`) uses its public
    parts: `slack` (paced calls), `rows` (saves and commits), `alert` (the payload, rendered
    once a drain), `store`, `outbox`, `clock` and `hub_url`."""

    def __init__(
        self,
        client: WebClient | Workspaces,
        store: Store,
        outbox: Outbox,
        channels: ChannelSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        per_channel_interval: float = 1.0,
        workers: int = 8,
        max_inline_wait: float = 5.0,
        hub_url: str = "https://huggingface.co",
    ) -> None:
        self.workspaces = as_workspaces(client)  # a plain client: one workspace
        self.store = store
        self.outbox = outbox
        self.channels = channels
        self.clock = clock
        self.sleep = sleep
        self.pacer = Pacer(interval=per_channel_interval, clock=clock)
        self.workers = workers
        self.hub_url = hub_url
        # What one try of a row uses (`alert_posts`, `followups`): its Slack calls, its saves.
        self.slack = PacedCalls(self.workspaces, self.pacer, max_inline_wait=max_inline_wait)
        self.rows = RowWriter(store, outbox, clock=clock)
        self._drain_lock = threading.Lock()
        # Per drain: who may still get each release, and each alert's rendered payload.
        self._cache_lock = threading.Lock()
        self._recipients: dict[tuple, frozenset[tuple[str, str]]] = {}
        self._payloads: dict[tuple, dict] = {}

    @property
    def per_channel_interval(self) -> float:
        """Seconds between two messages to one channel (Slack asks for one a second)."""
        return self.pacer.interval

    @per_channel_interval.setter
    def per_channel_interval(self, seconds: float) -> None:
        self.pacer.interval = seconds

    # ------------------------------------------------------------------ drain

    def drain(self) -> DrainReport:
        """Deliver every due row; channels in parallel, each channel's rows in order."""
        with self._drain_lock:
            report = DrainReport()
            self._recipients, self._payloads = {}, {}
            self.outbox.prune()
            by_channel: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
            for row in self.outbox.due():
                by_channel[(row.team_id, row.channel_id)].append(row)
            if not by_channel:
                return report
            self.rows.mark_posting([row for rows in by_channel.values() for row in rows])
            self.rows.hold_group_commit()
            try:
                run_paced(
                    [self._drain_channel(rows, report) for rows in by_channel.values()],
                    workers=self.workers,
                    sleep=self.sleep,
                )
            finally:
                self.rows.flush()
            return report

    def _drain_channel(self, rows: list[Delivery], report: DrainReport) -> Iterator[float]:
        for row in rows:
            outcome = yield from self._deliver(row, report)
            if outcome == "stop":
                break  # keep release order: later rows wait for this one

    # ------------------------------------------------------------- one row

    def _deliver(self, row: Delivery, report: DrainReport) -> Generator[float, None, str]:
        fresh = self.outbox.claim(row.key)
        release = self.store.releases.get(row.release_id)
        if release is None or not self._still_wanted(row, release):
            self.rows.save(row, status="dropped", last_error="no longer wanted")
            report.dropped += 1
            return "next"
        members = self.outbox.members(release)
        for _attempt in range(3):
            try:
                if row.follow_up_day is not None:  # an adoption follow-up in the thread
                    yield from post_follow_up(self, row, release, report, fresh=fresh)
                elif row.ts is None:
                    yield from post_new(self, row, release, members, report, fresh=fresh)
                else:
                    yield from post_update(self, row, release, members, report, fresh=fresh)
                return "next"
            except NotInstalled:
                self.rows.save(row, status="dropped", last_error=NOT_INSTALLED)
                log.warning(
                    "dropping alert %s for %s: %s",
                    row.release_id,
                    row.channel_id,
                    NOT_INSTALLED_REASON,
                )
                report.dropped += 1
                return "next"
            except RetryLater as retry:
                # A timed-out post may still have reached Slack: look before posting again.
                fresh = fresh and not retry.attempted
                if retry.delay <= self.slack.max_inline_wait:
                    if not retry.paused:  # a paused method is waited for in `PacedCalls.call`
                        self.sleep(retry.delay)
                    row = self.store.deliveries.get(row.key) or row
                    continue
                return self._defer(
                    row, retry.delay, str(retry), report, counts=retry.attempted
                )
            except SlackApiError as exc:
                error = errors.error_code(exc)
                if error == "not_in_channel" and self.slack.join(row):
                    continue
                if error in errors.CHANNEL_UNUSABLE:
                    self._pause(row, error, report)
                    return "next"
                self.rows.save(row, status="dropped", last_error=error)
                log.error(
                    "dropping alert %s for %s: Slack said %s", row.release_id, row.channel_id, error
                )
                report.dropped += 1
                report.errors.append(error)
                return "next"
        return self._defer(row, self._backoff(row), "still failing after retries", report)

    # ---------------------------------------------------------------- helpers

    def _still_wanted(self, row: Delivery, release: Release) -> bool:
        """A mute or unsubscribe after enqueueing wins over the queued row (recipients are
        worked out once a drain).

        Matching every subscription against the release for each of its 200 rows cost more
        CPU than anything else the workers do between two posts.
        """
        if row.ts is not None:
            return True  # updating a message people already saw is always fine
        key = (release.id, *release.members)
        with self._cache_lock:
            recipients = self._recipients.get(key)
        if recipients is None:
            recipients = frozenset(self.outbox.recipients(release, self.outbox.members(release)))
            with self._cache_lock:
                self._recipients[key] = recipients
        return (row.team_id, row.channel_id) in recipients

    def alert(self, release: Release, members: list[ModelRecord]) -> dict:
        """The alert's payload, rendered once a drain for all the channels that get it."""
        key = (release.id, release.updated_at, *(m.id for m in members))
        with self._cache_lock:
            payload = self._payloads.get(key)
        if payload is None:
            payload = release_alert(release, members, hub_url=self.hub_url)
            with self._cache_lock:
                self._payloads[key] = payload
        return payload

    def _defer(
        self, row: Delivery, delay: float, reason: str, report: DrainReport, *, counts: bool = True
    ) -> str:
        """Try the row again after `delay` ("stop": the channel's later rows wait for it), or,
        after `GIVE_UP_AFTER` deferrals, end it `failed` ("next": later rows go on). A row
        that was not even tried (`counts` False) never gives up for it."""
        attempts = row.attempts + (1 if counts else 0)
        if attempts >= GIVE_UP_AFTER:
            log.error(
                "giving up on %s in %s after %d attempts: %s",
                row.release_id,
                row.channel_id,
                attempts,
                reason,
            )
            self.rows.save(
                row,
                status="failed",
                attempts=attempts,
                next_attempt_at=None,
                last_error=f"gave up after {attempts} attempts: {reason}",
            )
            report.failed += 1
            report.errors.append(reason)
            return "next"
        self.rows.save(
            row,
            attempts=attempts,
            next_attempt_at=self.clock() + timedelta(seconds=delay),
            last_error=reason,
        )
        report.deferred += 1
        return "stop"

    def _backoff(self, row: Delivery) -> float:
        return min(300.0, 2.0 ** min(row.attempts + 1, 8)) * (0.5 + random.random() / 2)

    def _pause(self, row: Delivery, error: str, report: DrainReport) -> None:
        reason = errors.CHANNEL_UNUSABLE[error]
        log.warning("pausing alerts to %s: %s (%s)", row.channel_id, reason, error)
        with self.store.lock:
            self.channels.pause_channel(
                row.channel_id, f"{error}: {reason}", team_id=row.team_id
            )
            self.rows.save(row, status="paused", last_error=error)
        report.paused += 1

