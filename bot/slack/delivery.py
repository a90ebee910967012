"""Drain the outbox into Slack: one top-level message per (channel, release), exactly once.

Every workspace's rows go out in one drain, each through that workspace's client
(`Workspaces.client_for(row.team_id)`), paced per workspace (`bot.slack.pacing`). A row
whose workspace has no client any more (uninstalled) ends `dropped`, its reason saying so.

The protocol for one row:
1. mark it `posting` with the members about to be shown, and commit (so a crash from
   here on is detectable, and an adopted message can still be brought up to date);
   `Outbox.enqueue` writes new rows this way inside the poll cycle's own commit;
2. post (or, for an announced release that grew, edit the message and thread a reply);
3. record the message `ts`, mark it `sent` and commit (group commits: see `_save`).

After a crash between 1 and 3 the row is still `posting`; before posting again the
deliverer looks for the alert in the channel's recent history by its message metadata
(`radar_release` / release id), so a message Slack already has is adopted, not repeated.
Only a row this process queued and has not tried yet (`Outbox.claim`) skips that look.
What one try of a row does (post, adopt, edit) is `bot.slack.alert_posts`; this module is
the drain around it: which rows, in what order, the retries and the commits.

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
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.radar.channels import ChannelSettings
from bot.radar.models import Delivery, ModelRecord, Release, utcnow
from bot.radar.outbox import Outbox
from bot.radar.ports import Store
from bot.slack import errors
from bot.slack.alert_posts import post_new, post_update
from bot.slack.followups import post_follow_up
from bot.slack.pacing import MethodPaused, Pacer, run_paced
from bot.slack.render import release_alert
from bot.slack.workspace_clients import (
    NOT_INSTALLED,
    NOT_INSTALLED_REASON,
    NotInstalled,
    as_workspaces,
    client_in,
)
from bot.slack.workspaces import Workspaces

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
GIVE_UP_AFTER = MAX_ATTEMPTS * 4  # deferrals (each after up to three tries) before `failed`
GROUP_COMMIT_SECONDS = 2.0  # how long the `sent` of an accepted post may wait to be written


class _Retry(Exception):
    """Try the row again after `delay` seconds.

    `paused`: the method is paused for the workspace (a 429), and the next call waits for it
    in `_paced_call` rather than in a sleeping worker. `attempted`: False when the row was
    not even tried (another channel's 429 paused the method), so it does not count toward
    giving up.
    """

    def __init__(
        self, delay: float, reason: str, *, paused: bool = False, attempted: bool = True
    ) -> None:
        super().__init__(reason)
        self.delay = delay
        self.paused = paused
        self.attempted = attempted


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
        self.max_inline_wait = max_inline_wait
        self.hub_url = hub_url
        self._drain_lock = threading.Lock()
        # Per drain: who may still get each release, and each alert's rendered payload.
        self._cache_lock = threading.Lock()
        self._recipients: dict[tuple, frozenset[tuple[str, str]]] = {}
        self._payloads: dict[tuple, dict] = {}
        self._last_commit = 0.0

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
            self._make_durable([row for rows in by_channel.values() for row in rows])
            # The first `sent` may wait its group-commit interval too, rather than stall
            # every worker behind a whole-database write right after the first post.
            self._last_commit = max(self._last_commit, time.monotonic())
            try:
                run_paced(
                    [self._drain_channel(rows, report) for rows in by_channel.values()],
                    workers=self.workers,
                    sleep=self.sleep,
                )
            finally:
                with self.store.lock:
                    self.store.commit()  # what the group commits have not written yet
            return report

    def _make_durable(self, rows: list[Delivery]) -> None:
        """Step 1 of the protocol for every new alert of this drain, in at most one commit.

        `Outbox.enqueue` writes new rows `posting` inside the poll cycle's commit, so usually
        there is nothing left to write and the first post goes out at once (a commit is a
        whole-database write). A `pending` row without a message (an older version queued it)
        is marked here. A row marked but then not posted (an error on an earlier row of its
        channel) is `posting` at the next drain, which checks the channel's history first,
        exactly as after a crash.
        """
        with self.store.lock:
            now = self.clock()
            marked = False
            for row in rows:
                if row.status != "pending" or row.ts is not None:
                    continue
                marked = True
                release = self.store.releases.get(row.release_id)
                current = self.store.deliveries.get(row.key) or row
                shown = list(release.members) if release else list(current.posted_members)
                self.outbox.put(
                    current.model_copy(
                        update={"status": "posting", "posted_members": shown, "updated_at": now}
                    ),
                    fresh=True,
                )
            if marked:  # every other open row was committed by whoever wrote it
                self.store.commit()
                self._last_commit = time.monotonic()

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
            self._save(row, status="dropped", last_error="no longer wanted")
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
                self._save(row, status="dropped", last_error=NOT_INSTALLED)
                log.warning(
                    "dropping alert %s for %s: %s",
                    row.release_id,
                    row.channel_id,
                    NOT_INSTALLED_REASON,
                )
                report.dropped += 1
                return "next"
            except _Retry as retry:
                # A timed-out post may still have reached Slack: look before posting again.
                fresh = fresh and not retry.attempted
                if retry.delay <= self.max_inline_wait:
                    if not retry.paused:  # a paused method is waited for in `_paced_call`
                        self.sleep(retry.delay)
                    row = self.store.deliveries.get(row.key) or row
                    continue
                return self._defer(
                    row, retry.delay, str(retry), report, counts=retry.attempted
                )
            except SlackApiError as exc:
                error = errors.error_code(exc)
                if error == "not_in_channel" and self._join(row):
                    continue
                if error in errors.CHANNEL_UNUSABLE:
                    self._pause(row, error, report)
                    return "next"
                self._save(row, status="dropped", last_error=error)
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

    def client_for(self, row: Delivery) -> WebClient:
        """The client of the row's workspace (`NotInstalled` when it has none any more)."""
        return client_in(self.workspaces, row.team_id)

    def _alert(self, release: Release, members: list[ModelRecord]) -> dict:
        """The alert's payload, rendered once a drain for all the channels that get it."""
        key = (release.id, release.updated_at, *(m.id for m in members))
        with self._cache_lock:
            payload = self._payloads.get(key)
        if payload is None:
            payload = release_alert(release, members, hub_url=self.hub_url)
            with self._cache_lock:
                self._payloads[key] = payload
        return payload

    def _call(self, method: Callable, team: str, **kwargs):
        """One Web API call in workspace `team`, translating transient failures into
        `_Retry` (a 429 pauses the method in that workspace only)."""
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            if errors.is_rate_limited(exc):
                delay = errors.retry_after(exc)
                self.pacer.pause_method(_method_name(method), delay, team)
                raise _Retry(delay, "rate limited", paused=True) from None
            if errors.is_transient(exc):
                reason = f"Slack {errors.http_status(exc) or errors.error_code(exc)}"
                raise _Retry(1.0 + random.random(), reason) from None
            raise
        except (OSError, TimeoutError) as exc:
            raise _Retry(1.0 + random.random(), f"network: {type(exc).__name__}") from None

    def _join(self, row: Delivery) -> bool:
        channel_id = row.channel_id
        try:
            self.client_for(row).conversations_join(channel=channel_id)
            log.info("joined %s to deliver alerts", channel_id)
            return True
        except NotInstalled:
            return False
        except SlackApiError as exc:
            log.warning("cannot join %s: %s", channel_id, errors.error_code(exc))
            return False

    def _paced_call(
        self, row: Delivery, method_name: str, **kwargs
    ) -> Generator[float, None, Any]:
        """A message call (`method_name` of the row's workspace's client) to one channel
        when `Pacer` allows it: one message a second per channel, and never while the
        method waits out a `Retry-After` (Slack's limits are per method and workspace, so
        each workspace has its own pauses). Waiting is the scheduler's job (`run_paced`): this
        yields the time the call may start. A pause longer than `max_inline_wait` defers
        the row instead (`_Retry`, not counted as an attempt).
        """
        channel_id, team = kwargs["channel"], row.team_id
        method = getattr(self.client_for(row), method_name)
        try:
            yield from self.pacer.turn(
                method_name, channel_id, max_wait=self.max_inline_wait, team=team
            )
        except MethodPaused as paused:
            raise _Retry(
                paused.seconds, "rate limited (method paused)", paused=True, attempted=False
            ) from None
        try:
            return self._call(method, team, **kwargs)
        finally:
            self.pacer.called(channel_id, team)

    def _save_shown(self, row: Delivery, shown: Release, **changes) -> Delivery:
        """Step 3: the message Slack accepted shows `shown`'s members.

        A poll that grew the release meanwhile found this row not yet `sent` and left it to
        us, so a release that moved on leaves the row `pending`: the next drain edits the
        alert and threads a reply, as for any later member.
        """
        posted = list(shown.members)
        with self.store.lock:
            current = self.store.releases.get(shown.id)
            grew = current is not None and set(current.members) != set(posted)
            return self._save(
                row,
                status="pending" if grew else "sent",
                posted_members=posted,
                last_error=None,
                durable_soon=True,
                **changes,
            )

    def _save(self, row: Delivery, *, durable_soon: bool = False, **changes) -> Delivery:
        """Record a row's new state: committed now, or with `durable_soon` (the `sent` of a
        post Slack accepted) by a commit shared with the rows saved after it (at most one
        such commit every `GROUP_COMMIT_SECONDS`), and at the latest when the drain ends.

        Only step 3 may wait: a `sent` lost in a crash leaves the row `posting`, and the
        next drain adopts the message from the channel's history instead of repeating it.
        """
        with self.store.lock:
            current = self.store.deliveries.get(row.key) or row
            updated = current.model_copy(update={**changes, "updated_at": self.clock()})
            self.outbox.put(updated)
            if not durable_soon or time.monotonic() - self._last_commit >= GROUP_COMMIT_SECONDS:
                self.store.commit()
                self._last_commit = time.monotonic()
            return updated

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
            self._save(
                row,
                status="failed",
                attempts=attempts,
                next_attempt_at=None,
                last_error=f"gave up after {attempts} attempts: {reason}",
            )
            report.failed += 1
            report.errors.append(reason)
            return "next"
        self._save(
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
            self._save(row, status="paused", last_error=error)
        report.paused += 1


def _method_name(method: Callable) -> str:
    return getattr(method, "__name__", str(method))
