"""Post, adopt or edit one release alert in one channel (steps 2 and 3 of the protocol).

`bot.slack.delivery` drains the outbox and decides when a row is tried; this module is what
one try does: a new alert is first looked for in the channel's history (a crash may have
left it posted but not recorded) and adopted if found, else posted; an announced release
that grew gets its message edited and a threaded reply naming the new members, unless the
reply is already there. Slack is called through `deliverer.slack` (`PacedCalls`), the row
saved through `deliverer.rows` (`RowWriter`).
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.radar.models import Delivery, ModelRecord, Release
from bot.slack import ids
from bot.slack.history import find_posted, find_reply
from bot.slack.render import release_metadata, release_update_reply

if TYPE_CHECKING:
    from bot.slack.delivery import Deliverer, DrainReport

METADATA_TYPE = ids.RELEASE_EVENT
UPDATE_METADATA_TYPE = ids.RELEASE_UPDATE_EVENT


def post_new(
    deliverer: Deliverer,
    row: Delivery,
    release: Release,
    members: list[ModelRecord],
    report: DrainReport,
    *,
    fresh: bool,
) -> Generator[float, None, None]:
    """Step 2 and 3 for a new alert. A `fresh` row (queued by this process, never
    tried) cannot be in Slack yet; any other `posting` row is looked up first."""
    if row.status == "posting" and not fresh:
        found = find_posted_alert(deliverer, row, release.id, since=row.created_at)
        if found is not None:
            # The row remembers which members the message was rendered with (rows
            # written before it did fall back to today's members).
            shown = row.posted_members or list(release.members)
            # Members joined between the crash and now: the row stays open (`pending`, its
            # message known) until the edit is done. `sent` here would bury the update: the
            # poll that added them left it to this row, and no later poll brings it back
            # if a crash or a failing Slack stops the edit below.
            grew = set(shown) != set(release.members)
            row = deliverer.rows.save(
                row, status="pending" if grew else "sent", ts=found, posted_members=shown
            )
            report.adopted += 1
            if grew:
                yield from post_update(deliverer, row, release, members, report, fresh=False)
            return
    if row.status != "posting" or set(row.posted_members) != set(release.members):
        row = deliverer.rows.save(row, status="posting", posted_members=list(release.members))
    payload = deliverer.alert(release, members)
    response = yield from deliverer.slack.post(row, payload, release_metadata(release))
    deliverer.rows.save_shown(row, release, ts=response["ts"])
    report.posted += 1


def post_update(
    deliverer: Deliverer,
    row: Delivery,
    release: Release,
    members: list[ModelRecord],
    report: DrainReport,
    *,
    fresh: bool,
) -> Generator[float, None, None]:
    """Edit the alert, then thread a reply naming the new members. The reply is looked
    for first unless the row is `fresh` (no earlier try can have posted it)."""
    assert row.ts is not None
    new_ids = [m for m in release.members if m not in set(row.posted_members)]
    payload = deliverer.alert(release, members)
    yield from deliverer.slack.call(
        row,
        "chat_update",
        channel=row.channel_id,
        ts=row.ts,
        text=payload["text"],
        blocks=payload["blocks"],
        metadata=release_metadata(release),
    )
    update_key = f"{release.id}#{len(release.members)}"
    if new_ids and (fresh or not reply_posted(deliverer, row, update_key)):
        wanted = {m.lower() for m in new_ids}
        reply = release_update_reply(
            release,
            [m for m in members if m.id.lower() in wanted],
            hub_url=deliverer.hub_url,
        )
        yield from deliverer.slack.post(
            row,
            reply,
            {"event_type": UPDATE_METADATA_TYPE, "event_payload": {"update": update_key}},
            thread_ts=row.ts,
        )
    deliverer.rows.save_shown(row, release)
    report.updated += 1


def reply_posted(deliverer: Deliverer, row: Delivery, update_key: str) -> bool:
    """Whether this update's thread reply is already there (a crash came before the save).

    Updates are rare, so one `conversations.replies` call each is a fair price for never
    repeating a reply.
    """
    assert row.ts is not None
    found = find_reply(
        deliverer.slack.client_for(row),
        row.channel_id,
        row.ts,
        event_type=UPDATE_METADATA_TYPE,
        key="update",
        value=update_key,
    )
    return found is not None


def find_posted_alert(
    deliverer: Deliverer, row: Delivery, release_id: str, *, since: datetime
) -> str | None:
    """The ts of our alert for this release if Slack already has it (crash recovery)."""
    return find_posted(
        deliverer.slack.client_for(row),
        row.channel_id,
        event_type=METADATA_TYPE,
        key="release_id",
        value=release_id,
        since=since - timedelta(minutes=1),
    )
