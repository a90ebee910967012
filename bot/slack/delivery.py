"""Drain the outbox into Slack: one top-level message per (channel, release), exactly once.

The protocol for one row:
1. mark it `posting` with the members about to be shown, and commit (so a crash from
   here on is detectable, and an adopted message can still be brought up to date);
2. post (or, for an announced release that grew, edit the message and thread a reply);
3. record the message `ts`, mark it `sent` and commit.

After a crash between 1 and 3 the row is still `posting`; before posting again the
deliverer looks for the alert in the channel's recent history by its message metadata
(`radar_release` / release id), so a message Slack already has is adopted, not repeated.

Errors: 429 and `ratelimited` wait for `Retry-After`; 5xx retry with backoff; the channel
errors that retrying cannot fix pause that channel's subscriptions with a log line. A
channel's rows go out strictly in release order and at most one message per second.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.radar.channels import ChannelSettings
from bot.radar.models import Delivery, ModelRecord, Release, utcnow
from bot.radar.outbox import Outbox
from bot.slack.history import find_posted, find_reply
from bot.slack.render import release_alert, release_metadata, release_update_reply
from bot.store.base import Store

log = logging.getLogger(__name__)

PAUSE_ERRORS = {
    "channel_not_found": "the channel no longer exists or the bot cannot see it",
    "is_archived": "the channel is archived",
    "invalid_auth": "Slack rejected the bot token (invalid_auth)",
    "account_inactive": "the bot's Slack account is inactive",
    "token_revoked": "the bot token was revoked",
    "not_in_channel": "the bot is not in this private channel: /invite @Open Model Radar",
    "restricted_action": "posting is restricted in this channel",
    "channel_is_archived": "the channel is archived",
}
RETRY_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
MAX_ATTEMPTS = 8
GROUP_COMMIT_SECONDS = 2.0  # how long the `sent` of an accepted post may wait to be written
METADATA_TYPE = "radar_release"
UPDATE_METADATA_TYPE = "radar_release_update"


class _Retry(Exception):
    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


@dataclass
class DrainReport:
    posted: int = 0
    updated: int = 0
    adopted: int = 0  # found already posted after a crash
    deferred: int = 0
    paused: int = 0
    dropped: int = 0
    errors: list[str] = field(default_factory=list)


class Deliverer:
    def __init__(
        self,
        client: WebClient,
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
        self.client = client
        self.store = store
        self.outbox = outbox
        self.channels = channels
        self.clock = clock
        self.sleep = sleep
        self.per_channel_interval = per_channel_interval
        self.workers = workers
        self.max_inline_wait = max_inline_wait
        self.hub_url = hub_url
        self._drain_lock = threading.Lock()
        self._last_post: dict[str, float] = {}
        self._pace_lock = threading.Lock()
        self._marked: set[str] = set()  # rows this drain marked `posting` up front
        self._last_commit = 0.0

    # ------------------------------------------------------------------ drain

    def drain(self) -> DrainReport:
        """Deliver every due row; channels in parallel, each channel's rows in order."""
        with self._drain_lock:
            report = DrainReport()
            by_channel: dict[str, list[Delivery]] = defaultdict(list)
            for row in self.outbox.due():
                by_channel[row.channel_id].append(row)
            if not by_channel:
                return report
            self._mark_posting([row for rows in by_channel.values() for row in rows])
            try:
                with ThreadPoolExecutor(max_workers=min(self.workers, len(by_channel))) as pool:
                    for future in [
                        pool.submit(self._drain_channel, rows, report)
                        for rows in by_channel.values()
                    ]:
                        future.result()
            finally:
                self._marked = set()
                with self.store.lock:
                    self.store.commit()  # what the group commits have not written yet
            return report

    def _mark_posting(self, rows: list[Delivery]) -> None:
        """Step 1 of the protocol for every new alert of this drain, in one commit.

        Committed row by row, step 1 cost a whole database write per channel before its
        message could go out. A row marked here but then not posted (an error on an earlier
        row of its channel) is `posting` at the next drain, which checks the channel's
        history first, exactly as after a crash.
        """
        fresh = [row for row in rows if row.status == "pending" and row.ts is None]
        if not fresh:
            return
        with self.store.lock:
            now = self.clock()
            for row in fresh:
                release = self.store.releases.get(row.release_id)
                current = self.store.deliveries.get(row.key) or row
                shown = list(release.members) if release else list(current.posted_members)
                self.store.deliveries.put(
                    current.model_copy(
                        update={"status": "posting", "posted_members": shown, "updated_at": now}
                    )
                )
            self.store.commit()
            self._last_commit = time.monotonic()
        self._marked = {row.key for row in fresh}

    def _drain_channel(self, rows: list[Delivery], report: DrainReport) -> None:
        for row in rows:
            outcome = self._deliver(row, report)
            if outcome == "stop":
                break  # keep release order: later rows wait for this one

    # ------------------------------------------------------------- one row

    def _deliver(self, row: Delivery, report: DrainReport) -> str:
        release = self.store.releases.get(row.release_id)
        if release is None or not self.outbox.still_wanted(row):
            self._save(row, status="dropped", last_error="no longer wanted")
            report.dropped += 1
            return "next"
        members = self.outbox.members(release)
        for _attempt in range(3):
            try:
                if row.ts is None:
                    self._post_new(row, release, members, report)
                else:
                    self._post_update(row, release, members, report)
                return "next"
            except _Retry as retry:
                if retry.delay <= self.max_inline_wait:
                    self.sleep(retry.delay)
                    row = self.store.deliveries.get(row.key) or row
                    continue
                self._defer(row, retry.delay, str(retry), report)
                return "stop"
            except SlackApiError as exc:
                error = _error_code(exc)
                if error == "not_in_channel" and self._join(row.channel_id):
                    continue
                if error in PAUSE_ERRORS:
                    self._pause(row, error, report)
                    return "next"
                self._save(row, status="dropped", last_error=error)
                log.error(
                    "dropping alert %s for %s: Slack said %s", row.release_id, row.channel_id, error
                )
                report.dropped += 1
                report.errors.append(error)
                return "next"
        self._defer(row, self._backoff(row), "still failing after retries", report)
        return "stop"

    def _post_new(
        self, row: Delivery, release: Release, members: list[ModelRecord], report: DrainReport
    ) -> None:
        marked = self.store.deliveries.get(row.key) if row.key in self._marked else None
        if marked is not None and set(marked.posted_members) == set(release.members):
            row = marked  # step 1 was done by `_mark_posting`, with these very members
        else:
            if row.status == "posting":
                found = self._find_posted(row.channel_id, release.id, since=row.created_at)
                if found is not None:
                    # The row remembers which members the message was rendered with (rows
                    # written before it did fall back to today's members).
                    shown = row.posted_members or list(release.members)
                    row = self._save(row, status="sent", ts=found, posted_members=shown)
                    report.adopted += 1
                    if set(shown) != set(release.members):
                        # Members joined between the crash and now: edit the adopted message.
                        self._post_update(row, release, members, report)
                    return
            row = self._save(row, status="posting", posted_members=list(release.members))
        payload = release_alert(release, members, hub_url=self.hub_url)
        response = self._paced_call(
            self.client.chat_postMessage,
            channel=row.channel_id,
            text=payload["text"],
            blocks=payload["blocks"],
            unfurl_links=False,
            unfurl_media=False,
            metadata=release_metadata(release),
        )
        self._save(
            row,
            status="sent",
            ts=response["ts"],
            posted_members=list(release.members),
            last_error=None,
            durable_soon=True,
        )
        report.posted += 1

    def _post_update(
        self, row: Delivery, release: Release, members: list[ModelRecord], report: DrainReport
    ) -> None:
        assert row.ts is not None
        new_ids = [m for m in release.members if m not in set(row.posted_members)]
        payload = release_alert(release, members, hub_url=self.hub_url)
        self._paced_call(
            self.client.chat_update,
            channel=row.channel_id,
            ts=row.ts,
            text=payload["text"],
            blocks=payload["blocks"],
            metadata=release_metadata(release),
        )
        update_key = f"{release.id}#{len(release.members)}"
        if new_ids and not self._reply_posted(row, update_key):
            wanted = {m.lower() for m in new_ids}
            reply = release_update_reply(
                release,
                [m for m in members if m.id.lower() in wanted],
                hub_url=self.hub_url,
            )
            self._paced_call(
                self.client.chat_postMessage,
                channel=row.channel_id,
                thread_ts=row.ts,
                text=reply["text"],
                blocks=reply["blocks"],
                unfurl_links=False,
                unfurl_media=False,
                metadata={
                    "event_type": UPDATE_METADATA_TYPE,
                    "event_payload": {"update": update_key},
                },
            )
        self._save(
            row,
            status="sent",
            posted_members=list(release.members),
            last_error=None,
            durable_soon=True,
        )
        report.updated += 1

    # ---------------------------------------------------------------- helpers

    def _call(self, method: Callable, **kwargs):
        """One Web API call, translating transient failures into `_Retry`."""
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            error = _error_code(exc)
            if status == 429 or error == "ratelimited":
                raise _Retry(_retry_after(exc), "rate limited") from None
            if status >= 500 or error in RETRY_ERRORS:
                raise _Retry(1.0 + random.random(), f"Slack {status or error}") from None
            raise
        except (OSError, TimeoutError) as exc:
            raise _Retry(1.0 + random.random(), f"network: {type(exc).__name__}") from None

    def _reply_posted(self, row: Delivery, update_key: str) -> bool:
        """Whether this update's thread reply is already there (a crash came before the save).

        Updates are rare, so one `conversations.replies` call each is a fair price for never
        repeating a reply.
        """
        assert row.ts is not None
        found = find_reply(
            self.client,
            row.channel_id,
            row.ts,
            event_type=UPDATE_METADATA_TYPE,
            key="update",
            value=update_key,
        )
        return found is not None

    def _find_posted(self, channel_id: str, release_id: str, *, since: datetime) -> str | None:
        """The ts of our alert for this release if Slack already has it (crash recovery)."""
        return find_posted(
            self.client,
            channel_id,
            event_type=METADATA_TYPE,
            key="release_id",
            value=release_id,
            since=since - timedelta(minutes=1),
        )

    def _join(self, channel_id: str) -> bool:
        try:
            self.client.conversations_join(channel=channel_id)
            log.info("joined %s to deliver alerts", channel_id)
            return True
        except SlackApiError as exc:
            log.warning("cannot join %s: %s", channel_id, _error_code(exc))
            return False

    def _paced_call(self, method: Callable, **kwargs):
        """A message call to one channel, at most one per `per_channel_interval` (Slack asks
        for one message a second per channel).

        The interval counts from when the previous call to the channel came back, not from
        when it started: however slow a request or a store commit between two posts was,
        Slack sees them at least one interval apart. A failed call counts too, so a retry
        is paced like any other post.
        """
        channel_id = kwargs["channel"]
        with self._pace_lock:
            last = self._last_post.get(channel_id)
        if last is not None:
            wait = last + self.per_channel_interval - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        try:
            return self._call(method, **kwargs)
        finally:
            with self._pace_lock:
                self._last_post[channel_id] = time.monotonic()

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
            self.store.deliveries.put(updated)
            if not durable_soon or time.monotonic() - self._last_commit >= GROUP_COMMIT_SECONDS:
                self.store.commit()
                self._last_commit = time.monotonic()
            return updated

    def _defer(self, row: Delivery, delay: float, reason: str, report: DrainReport) -> None:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS * 4:
            log.error(
                "giving up on %s in %s after %d attempts: %s",
                row.release_id,
                row.channel_id,
                attempts,
                reason,
            )
        self._save(
            row,
            attempts=attempts,
            next_attempt_at=self.clock() + timedelta(seconds=delay),
            last_error=reason,
        )
        report.deferred += 1

    def _backoff(self, row: Delivery) -> float:
        return min(300.0, 2.0 ** min(row.attempts + 1, 8)) * (0.5 + random.random() / 2)

    def _pause(self, row: Delivery, error: str, report: DrainReport) -> None:
        reason = PAUSE_ERRORS[error]
        log.warning("pausing alerts to %s: %s (%s)", row.channel_id, reason, error)
        with self.store.lock:
            self.channels.pause_channel(row.channel_id, f"{error}: {reason}")
            self._save(row, status="paused", last_error=error)
        report.paused += 1


def _error_code(exc: SlackApiError) -> str:
    response = exc.response
    try:
        return str(response.get("error", "")) if response is not None else ""
    except Exception:  # a non-JSON body
        return ""


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers if exc.response is not None else {}
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value if not isinstance(value, list) else value[0]))
            except (TypeError, ValueError):
                break
    return 1.0
