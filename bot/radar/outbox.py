"""Who should hear about which release: the durable outbox of channel deliveries.

`Outbox.enqueue` runs inside the poll cycle's transaction, so a release and the rows that
promise to deliver it are committed together: a crash either loses both (and the next
cycle finds the release again) or keeps both (and the deliverer resumes). One row per
(channel, release) is what makes delivery exactly-once: the row, not the event, is the
unit of work, and a row already sent only ever turns into an update.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.radar.filters import matches
from bot.radar.models import Delivery, ModelRecord, Release, ReleaseEvent, utcnow
from bot.store.base import Store


class Outbox:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    def members(self, release: Release) -> list[ModelRecord]:
        found = (self.store.models.get(member.lower()) for member in release.members)
        return [record for record in found if record is not None]

    def recipients(self, release: Release, members: Sequence[ModelRecord]) -> list[str]:
        """Channels with an active subscription matching the release and no mute of its lab."""
        now = self.clock()
        channels: set[str] = set()
        for sub in self.store.subscriptions.values():
            if sub.paused_reason is not None or sub.channel_id in channels:
                continue
            if matches(sub.filters, release, members):
                channels.add(sub.channel_id)
        muted = {
            m.channel_id
            for m in self.store.mutes.values()
            if m.lab.lower() == release.lab.lower() and m.active(now)
        }
        return sorted(channels - muted)

    def enqueue(self, events: Sequence[ReleaseEvent]) -> int:
        """Write delivery rows for these events; returns how many rows became due."""
        now = self.clock()
        due = 0
        with self.store.lock:
            for event in events:
                release = event.release
                for channel in self.recipients(release, self.members(release)):
                    key = f"{channel}|{release.id}"
                    existing = self.store.deliveries.get(key)
                    if existing is None:
                        self.store.deliveries.put(
                            Delivery(channel_id=channel, release_id=release.id, created_at=now)
                        )
                        due += 1
                    elif existing.status == "sent" and set(existing.posted_members) != set(
                        release.members
                    ):
                        # Already announced: the deliverer edits the message and threads a reply.
                        self.store.deliveries.put(
                            existing.model_copy(update={"status": "pending", "updated_at": now})
                        )
                        due += 1
        return due

    def due(self) -> list[Delivery]:
        """Work to do now, in release order (oldest release first) within each channel.

        A row waiting out a `Retry-After` holds back the later rows of its channel, so a
        channel never sees a newer release announced before an older one.
        """
        now = self.clock()
        rows = [d for d in self.store.deliveries.values() if d.status in ("pending", "posting")]
        first_seen = {}
        for row in rows:
            release = self.store.releases.get(row.release_id)
            first_seen[row.key] = release.first_seen if release else row.created_at
        rows.sort(key=lambda d: (first_seen[d.key], d.release_id, d.channel_id))
        blocked: set[str] = set()
        due: list[Delivery] = []
        for row in rows:
            if row.channel_id in blocked:
                continue
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                blocked.add(row.channel_id)
                continue
            due.append(row)
        return due

    def still_wanted(self, delivery: Delivery) -> bool:
        """A mute or unsubscribe after enqueueing wins over the queued row."""
        release = self.store.releases.get(delivery.release_id)
        if release is None:
            return False
        if delivery.ts is not None:
            return True  # updating a message people already saw is always fine
        return delivery.channel_id in self.recipients(release, self.members(release))
