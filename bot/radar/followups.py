"""Adoption follow-ups: one thread reply per alert at day 7, 30 and 90, exactly once.

A follow-up is an outbox row like an alert (`Delivery` with `follow_up_day`), keyed by
(workspace, channel, release, day), so the deliverer's crash-safe protocol carries it:
written with the snapshot that made it due, marked `posting` before the call, looked up in
the thread by its metadata after a crash. The row's existence is the "already queued" mark;
rows are kept while a follow-up can still come (see `Outbox.prune`), so none is ever queued twice.

Which day: the latest milestone the release has reached, while the next one is not
(`due_milestone`). A bot down over day 7 posts the day-7 follow-up late, once, with its
real age; one down from day 5 to day 31 posts only the day-30 one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.radar.adoption import due_milestone
from bot.radar.adoption_series import epoch_day, release_series_id
from bot.radar.filters import matches
from bot.radar.models import Delivery, Release, delivery_key

if TYPE_CHECKING:
    from bot.radar.outbox import Outbox
    from bot.radar.ports import Store

METADATA_TYPE = "radar_follow_up"


def follow_up_key(release_id: str, day: int) -> str:
    """The value a follow-up's message metadata carries, to find it again after a crash."""
    return f"{release_id}#d{day}"


def wants_follow_ups(
    store: Store, channel_id: str, release: Release, members: list, *, team_id: str = ""
) -> bool:
    """A channel hears follow-ups when one of its subscriptions (in its workspace) that
    matches the release leaves them on (`follow-ups:off` turns them off)."""
    for sub in store.subscriptions.values():
        if sub.channel_id != channel_id or sub.team_id != team_id:
            continue
        if sub.paused_reason is not None:
            continue
        if sub.filters.follow_ups and matches(sub.filters, release, members):
            return True
    return False


def queue_follow_ups(store: Store, outbox: Outbox, now: datetime) -> int:
    """Queue the follow-ups due now; returns how many rows were written.

    A follow-up waits for a real snapshot at or after its day, so its numbers are measured,
    not guessed; it goes only to channels whose alert was posted (it replies in that thread).
    """
    today = epoch_day(now)
    queued = 0
    by_release: dict[str, list[Delivery]] = {}
    for row in store.deliveries.values():
        if row.follow_up_day is None and row.status == "sent" and row.ts:
            by_release.setdefault(row.release_id, []).append(row)
    for release_id, rows in by_release.items():
        series = store.adoption.get(release_series_id(release_id))
        release = store.releases.get(release_id)
        if series is None or release is None or not series.from_launch or not series.days:
            continue
        age = min(today, series.days[-1]) - series.start_day
        milestone = due_milestone(age)
        if milestone is None:
            continue
        members = outbox.members(release)
        for row in rows:
            key = delivery_key(row.channel_id, release_id, milestone, team_id=row.team_id)
            if store.deliveries.get(key):
                continue
            if not wants_follow_ups(store, row.channel_id, release, members, team_id=row.team_id):
                continue
            outbox.put(
                Delivery(
                    channel_id=row.channel_id,
                    team_id=row.team_id,
                    release_id=release_id,
                    status="posting",  # step 1 done by this commit, as for alerts
                    follow_up_day=milestone,
                    thread_ts=row.ts,
                    created_at=now,
                    updated_at=now,
                ),
                fresh=True,
            )
            queued += 1
    return queued
