"""Who should hear about which release: the durable outbox of channel deliveries.

`Outbox.enqueue` runs inside the poll cycle's transaction, so a release and the rows that
promise to deliver it are committed together: a crash either loses both (and the next
cycle finds the release again) or keeps both (and the deliverer resumes). One row per
(workspace, channel, release) is what makes delivery exactly-once: the row, not the event,
is the unit of work, and a row already sent only ever turns into an update. One poll serves
every workspace: a release gets a row in each channel of each workspace that subscribed
(the workspace key is "" in single-workspace mode, and the row keys are then unchanged).

A new row is written `posting`, with the members its alert will show: that commit is step 1
of the deliverer's protocol (see `bot.slack.delivery`), so a drain needs no commit of its
own before the first post. The outbox remembers which rows it queued in this process and
nobody has tried yet (`claim`): only those can skip the history check that a `posting` row
left by an earlier process needs.

Rows do not pile up: the open ones (`pending`, `posting`) are indexed, so `due()` costs
what is queued, not the whole history; and finished rows quiet for `RETENTION`, of a
release quiet as long, are deleted (`prune`). Their alert can no longer be edited, so such
a release never alerts again: the prune horizon is kept in the `state` collection, and a
late member of a release first seen before it is not announced to a channel without a
row, since that could repeat a pruned alert.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.radar.adoption import FOLLOW_UP_WINDOW_END
from bot.radar.filters import matches
from bot.radar.models import (
    Delivery,
    ModelRecord,
    Release,
    ReleaseEvent,
    StateEntry,
    as_utc,
    delivery_key,
    utcnow,
)
from bot.radar.ports import Store

OPEN = ("pending", "posting")
FAILED = "failed"
RETENTION = timedelta(days=30)  # finished rows of a release are kept this long after it
# ... and at least this long after it was first seen: its adoption follow-ups reply in the
# alert's thread (they need its ts) and their own rows say they were queued.
FOLLOW_UP_KEEP = timedelta(days=FOLLOW_UP_WINDOW_END + 1)
PRUNE_EVERY = timedelta(hours=6)
PRUNE_STATE = "outbox"


@dataclass(frozen=True)
class FailedAlert:
    """An alert the deliverer gave up on, as people are told about it."""

    channel_id: str
    release_id: str
    lab_name: str
    title: str
    at: datetime
    reason: str
    team_id: str = ""


class Outbox:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock
        self._open: set[str] | None = None  # keys of open rows; built by one scan on first use
        self._fresh: set[str] = set()  # queued by this process, not yet tried
        self._pruned_at: datetime | None = None

    def members(self, release: Release) -> list[ModelRecord]:
        found = (self.store.models.get(member.lower()) for member in release.members)
        return [record for record in found if record is not None]

    def recipients(
        self, release: Release, members: Sequence[ModelRecord]
    ) -> list[tuple[str, str]]:
        """(workspace key, channel) of every channel, in every workspace, with an active
        subscription matching the release and no mute of its lab."""
        now = self.clock()
        channels: set[tuple[str, str]] = set()
        for sub in self.store.subscriptions.values():
            where = (sub.team_id, sub.channel_id)
            if sub.paused_reason is not None or where in channels:
                continue
            if matches(sub.filters, release, members):
                channels.add(where)
        muted = {
            (m.team_id, m.channel_id)
            for m in self.store.mutes.values()
            if m.lab.lower() == release.lab.lower() and m.active(now)
        }
        return sorted(channels - muted)

    def enqueue(self, events: Sequence[ReleaseEvent]) -> int:
        """Write delivery rows for these events; returns how many rows became due."""
        now = self.clock()
        due = 0
        with self.store.lock:
            horizon = self.pruned_before()
            for event in events:
                release = event.release
                for team, channel in self.recipients(release, self.members(release)):
                    key = delivery_key(channel, release.id, team_id=team)
                    existing = self.store.deliveries.get(key)
                    if existing is None:
                        if (
                            event.kind != "new_release"
                            and horizon is not None
                            and as_utc(release.first_seen) < horizon
                        ):
                            continue  # its alert may have been pruned: do not repeat it
                        self.put(
                            Delivery(
                                channel_id=channel,
                                team_id=team,
                                release_id=release.id,
                                status="posting",
                                posted_members=list(release.members),
                                created_at=now,
                                updated_at=now,
                            ),
                            fresh=True,
                        )
                        due += 1
                    elif existing.status == "sent" and set(existing.posted_members) != set(
                        release.members
                    ):
                        # Already announced: the deliverer edits the message and threads a reply.
                        self.put(
                            existing.model_copy(update={"status": "pending", "updated_at": now}),
                            fresh=True,
                        )
                        due += 1
        return due

    def put(self, row: Delivery, *, fresh: bool = False) -> None:
        """Store a row and keep the index of open rows in step (every writer goes here)."""
        with self.store.lock:
            self.store.deliveries.put(row)
            if self._open is not None:
                if row.status in OPEN:
                    self._open.add(row.key)
                else:
                    self._open.discard(row.key)
            if fresh:
                self._fresh.add(row.key)
            elif row.status not in OPEN:
                self._fresh.discard(row.key)

    def forget(self) -> None:
        """Drop what this process remembers of the rows: another replica may have written
        them meanwhile (called when this replica takes over the jobs)."""
        with self.store.lock:
            self._open = None
            self._fresh.clear()

    def claim(self, key: str) -> bool:
        """Whether this row was queued by this process and nobody has tried it since.

        Only then is it certain that Slack has nothing of it yet: a row left `posting` (or
        an update left `pending`) by an earlier process may have reached Slack before the
        crash. Claiming ends the certainty, so a retry checks like a restart would.
        """
        with self.store.lock:
            if key in self._fresh:
                self._fresh.discard(key)
                return True
            return False

    def due(self) -> list[Delivery]:
        """Work to do now, in release order (oldest release first) within each channel (a
        channel is a workspace's: the same id in two workspaces is two channels).

        A row waiting out a `Retry-After` holds back the later rows of its channel, so a
        channel never sees a newer release announced before an older one.
        """
        now = self.clock()
        with self.store.lock:
            if self._open is None:
                find = self.store.deliveries.find  # an index on PostgreSQL
                self._open = {d.key for status in OPEN for d in find(status=status)}
            rows = []
            for key in list(self._open):
                row = self.store.deliveries.get(key)
                if row is None or row.status not in OPEN:
                    self._open.discard(key)  # written or deleted behind the index's back
                    continue
                rows.append(row)
        first_seen = {}
        for row in rows:
            release = self.store.releases.get(row.release_id)
            first_seen[row.key] = release.first_seen if release else row.created_at
        rows.sort(key=lambda d: (first_seen[d.key], d.release_id, d.team_id, d.channel_id))
        blocked: set[tuple[str, str]] = set()
        due: list[Delivery] = []
        for row in rows:
            if (row.team_id, row.channel_id) in blocked:
                continue
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                blocked.add((row.team_id, row.channel_id))
                continue
            due.append(row)
        return due

    def failed(
        self, channel_id: str | None = None, *, team_id: str | None = ""
    ) -> list[FailedAlert]:
        """Alerts given up on (of one channel, or all; of one workspace, or all with
        `team_id=None`), newest first, until pruned.

        Reads every row: for `/radar subscriptions` and App Home, not for a hot path.
        """
        with self.store.lock:
            rows = [
                d
                for d in self.store.deliveries.values()
                if d.status == FAILED
                and channel_id in (None, d.channel_id)
                and team_id in (None, d.team_id)
            ]
            found = []
            for row in rows:
                release = self.store.releases.get(row.release_id)
                found.append(
                    FailedAlert(
                        channel_id=row.channel_id,
                        release_id=row.release_id,
                        lab_name=release.lab_name if release else "",
                        title=release.title if release else row.release_id,
                        at=as_utc(row.updated_at),
                        reason=row.last_error or "",
                        team_id=row.team_id,
                    )
                )
        return sorted(found, key=lambda f: f.at, reverse=True)

    # ------------------------------------------------------------------ pruning

    def pruned_before(self) -> datetime | None:
        """Releases first seen before this have had their finished rows deleted."""
        entry = self.store.state.get(PRUNE_STATE)
        value = entry.value.get("pruned_before") if entry is not None else None
        return as_utc(datetime.fromisoformat(value)) if value else None

    def prune(self, *, force: bool = False) -> int:
        """Delete finished rows that nothing will read again; returns how many.

        A row is finished when it is `sent`, `dropped`, `paused` or `failed`; it is deleted
        once it
        and its release have both been quiet for `RETENTION` (or the release is gone).
        Until then a late member finds the alert to edit. A release whose rows may be gone
        was first seen before the recorded horizon, and `enqueue` never announces a late
        member of such a release anew. Runs at most every `PRUNE_EVERY` (it reads every
        row); the deletions and the horizon are written together by the next commit.
        """
        now = as_utc(self.clock())
        if not force and self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return 0
        self._pruned_at = now
        horizon = now - RETENTION
        removed = 0
        with self.store.lock:
            for row in self.store.deliveries.values():
                if row.status in OPEN or as_utc(row.updated_at) >= horizon:
                    continue
                release = self.store.releases.get(row.release_id)
                if release is None or (
                    as_utc(release.updated_at) < horizon
                    and as_utc(release.first_seen) < now - FOLLOW_UP_KEEP
                ):
                    self.store.deliveries.delete(row.key)
                    self._fresh.discard(row.key)
                    removed += 1
            previous = self.pruned_before()
            if previous is None or previous < horizon:
                entry = self.store.state.get(PRUNE_STATE)
                value = dict(entry.value) if entry is not None else {}
                value["pruned_before"] = horizon.isoformat()
                self.store.state.put(StateEntry(name=PRUNE_STATE, value=value))
        return removed
