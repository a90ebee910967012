"""Posting an adoption follow-up: a reply in the alert's thread, through the deliverer.

The deliverer (`bot.slack.delivery`) runs this for outbox rows with a `follow_up_day`, with
its own pacing, retries and step 1 (the row is `posting` and committed before the call).
Here: a row not `fresh` (an earlier process, or an earlier try, may have posted it) is
looked for in the thread by its metadata first, so it is adopted, never posted twice; the
reply carries `radar_follow_up` metadata; Slack's ts is recorded as `sent` (calls through
`deliverer.slack`, saves through `deliverer.rows`, as in `bot.slack.alert_posts`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Generator
from typing import TYPE_CHECKING

from bot.radar.adoption import book_from_store
from bot.radar.adoption_series import epoch_day, release_series_id
from bot.radar.followups import METADATA_TYPE, follow_up_key
from bot.radar.models import Delivery, Release
from bot.slack.adoption_view import follow_up_reply
from bot.slack.history import find_reply

if TYPE_CHECKING:
    from bot.slack.delivery import Deliverer, DrainReport

# Every channel gets the same line on a given day: rendered once per (release, day, UTC
# day) and deliverer, not once per channel (ranking reads every release's series).
_rendered: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_rendered_lock = threading.Lock()


def post_follow_up(
    deliverer: Deliverer,
    row: Delivery,
    release: Release,
    report: DrainReport,
    *,
    fresh: bool,
) -> Generator[float, None, None]:
    assert row.follow_up_day is not None
    key = follow_up_key(release.id, row.follow_up_day)
    if row.thread_ts is None:
        deliverer.rows.save(row, status="dropped", last_error="no alert to reply to")
        report.dropped += 1
        return
    if not fresh:
        found = find_reply(
            deliverer.slack.client_for(row),
            row.channel_id,
            row.thread_ts,
            event_type=METADATA_TYPE,
            key="follow_up",
            value=key,
        )
        if found is not None:
            deliverer.rows.save(row, status="sent", ts=found, last_error=None)
            report.adopted += 1
            return
    payload = _reply(deliverer, release, row.follow_up_day)
    if row.status != "posting":
        row = deliverer.rows.save(row, status="posting")
    response = yield from deliverer.slack.post(
        row,
        payload,
        {"event_type": METADATA_TYPE, "event_payload": {"follow_up": key}},
        thread_ts=row.thread_ts,
    )
    deliverer.rows.save(row, status="sent", ts=response["ts"], last_error=None, durable_soon=True)
    report.posted += 1


def _reply(deliverer: Deliverer, release: Release, milestone: int) -> dict:
    store = deliverer.store
    today = epoch_day(deliverer.clock())
    key = (release.id, milestone, today)
    with _rendered_lock:
        cache = _rendered.setdefault(deliverer, {})
        if key in cache:
            return cache[key]
    with store.lock:
        book = book_from_store(store)
        series = store.adoption.get(release_series_id(release.id))
        last = series.days[-1] if series is not None and series.days else today
        age = min(today, last) - (series.start_day if series is not None else today)
        standing = book.standing(release.id, max(age, milestone))
        members = len(deliverer.outbox.members(release)) or len(release.members)
    payload = follow_up_reply(release, standing, milestone, members)
    with _rendered_lock:
        if len(cache) > 1_000:
            cache.clear()
        cache[key] = payload
    return payload
