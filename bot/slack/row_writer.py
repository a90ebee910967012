"""The commits of the delivery protocol: when an outbox row's new state becomes durable.

The deliverer (`bot.slack.delivery`) and one try of a row (`bot.slack.alert_posts`,
`bot.slack.followups`) record every row change here. Step 1 (`posting`, before the post)
is always committed before the post goes out; step 3 (the `sent` of a post Slack accepted)
may share a group commit with the rows saved after it (at most one such commit every
`GROUP_COMMIT_SECONDS`, and at the latest when the drain ends): a `sent` lost in a crash
leaves the row `posting`, and the next drain adopts the message from the channel's history
instead of repeating it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from bot.radar.models import Delivery, Release
from bot.radar.outbox import Outbox
from bot.radar.ports import Store

GROUP_COMMIT_SECONDS = 2.0  # how long the `sent` of an accepted post may wait to be written


class RowWriter:
    """Saves outbox rows, committing now or by a group commit (see the module docstring)."""

    def __init__(self, store: Store, outbox: Outbox, *, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self._last_commit = 0.0

    def mark_posting(self, rows: list[Delivery]) -> None:
        """Step 1 of the protocol for every new alert of a drain, in at most one commit.

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

    def hold_group_commit(self) -> None:
        """Let the first `sent` of a drain wait its group-commit interval too, rather than
        stall every worker behind a whole-database write right after the first post."""
        self._last_commit = max(self._last_commit, time.monotonic())

    def flush(self) -> None:
        """Commit what the group commits have not written yet (the end of a drain)."""
        with self.store.lock:
            self.store.commit()

    def save_shown(self, row: Delivery, shown: Release, **changes) -> Delivery:
        """Step 3: the message Slack accepted shows `shown`'s members.

        A poll that grew the release meanwhile found this row not yet `sent` and left it to
        us, so a release that moved on leaves the row `pending`: the next drain edits the
        alert and threads a reply, as for any later member.
        """
        posted = list(shown.members)
        with self.store.lock:
            current = self.store.releases.get(shown.id)
            grew = current is not None and set(current.members) != set(posted)
            return self.save(
                row,
                status="pending" if grew else "sent",
                posted_members=posted,
                last_error=None,
                durable_soon=True,
                **changes,
            )

    def save(self, row: Delivery, *, durable_soon: bool = False, **changes) -> Delivery:
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
