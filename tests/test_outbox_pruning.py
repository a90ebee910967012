"""The outbox does not grow with history: finished rows of old releases are pruned, and a
drain looks only at open rows. Pruning must never cost a repeated alert, even after a
restart: a release whose rows are gone is not announced again.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from bot.radar.channels import subscription_id
from bot.radar.models import (
    Delivery,
    Filters,
    Release,
    ReleaseEvent,
    Subscription,
)
from bot.radar.outbox import FOLLOW_UP_KEEP, RETENTION, Outbox
from bot.radar.releases import family_stem, release_id, release_title
from bot.store.memory import MemoryCollection, MemoryStore
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import SlackStandIn
from tests.harness import FakeClock, RadarHarness, notable_record

GENERAL = "C_GENERAL"


def announce(bot: RadarHarness, *, seen: datetime | None = None, name: str = "Prune") -> Release:
    """What a poll cycle does for a new release: store it and its rows in one commit."""
    now = seen or bot.clock.now
    members = [notable_record(f"Qwen/{name}-{size}B-Instruct", size, now) for size in (8, 32)]
    release = Release(
        id=release_id("Qwen", family_stem(members[0].name), now),
        lab="Qwen",
        lab_name="Qwen",
        title=release_title("Qwen", [m.id for m in members]),
        stem=family_stem(members[0].name),
        members=[m.id for m in members],
        first_seen=now,
        updated_at=bot.clock.now,
        reasons=["Qwen is a tracked lab"],
    )
    store = bot.core.store
    with store.lock:
        if not store.subscriptions.values():
            store.subscriptions.put(
                Subscription(
                    id=subscription_id(GENERAL, Filters()), channel_id=GENERAL, created_at=now
                )
            )
        for member in members:
            store.models.put(member.model_copy(update={"release_id": release.id}))
        store.releases.put(release)
        bot.core.outbox.enqueue([ReleaseEvent(kind="new_release", release=release)])
        store.commit()
    return release


def grow(bot: RadarHarness, release_key: str) -> None:
    """A new size joins the release, as the tracker records it."""
    store = bot.core.store
    release = store.releases.get(release_key)
    assert release is not None
    member = notable_record(release.members[0].replace("-8B-", "-235B-"), 235, bot.clock.now)
    grown = release.model_copy(
        update={"members": [*release.members, member.id], "updated_at": bot.clock.now}
    )
    with store.lock:
        store.models.put(member.model_copy(update={"release_id": release.id}))
        store.releases.put(grown)
        bot.core.outbox.enqueue(
            [ReleaseEvent(kind="release_updated", release=grown, new_members=[member.id])]
        )
        store.commit()


def top_level(slack: SlackStandIn) -> list[dict]:
    return [m for m in slack.messages(GENERAL) if m["thread_ts"] is None]


def test_an_old_release_loses_its_rows_and_a_late_member_after_a_restart_repeats_nothing(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock: FakeClock
) -> None:
    db_path = tmp_path / "radar.json"
    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as bot:
        release = announce(bot)
        assert bot.drain().posted == 1
        fake_clock.advance(days=RETENTION.days + 1)
        bot.drain()
        rows = {row.release_id for row in bot.core.store.deliveries.values()}
        assert release.id in rows, "kept while adoption follow-ups may still reply to it"
        fake_clock.advance(days=FOLLOW_UP_KEEP.days - RETENTION.days)
        announce(bot)  # a newer release keeps its row
        bot.drain()
        rows = {row.release_id for row in bot.core.store.deliveries.values()}
        assert release.id not in rows and len(rows) == 1
    [first, second] = top_level(slack)

    with RadarHarness(hub.url, slack.url, db_path, clock=fake_clock) as restarted:
        assert len(restarted.core.store.deliveries) == 1, "the pruning was saved"
        grow(restarted, release.key)
        report = restarted.drain()
    assert (report.posted, report.updated) == (0, 0)
    assert [m["ts"] for m in top_level(slack)] == [first["ts"], second["ts"]], (
        "no second alert for the pruned release"
    )
    assert slack.calls_to("chat.update") == []


def test_a_recent_release_keeps_its_row_so_a_late_member_edits_the_alert(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock: FakeClock
) -> None:
    with RadarHarness(hub.url, slack.url, tmp_path / "radar.json", clock=fake_clock) as bot:
        release = announce(bot)
        bot.drain()
        fake_clock.advance(days=RETENTION.days - 1)
        bot.drain()  # prunes nothing of it
        grow(bot, release.key)
        assert bot.drain().updated == 1
    [alert] = top_level(slack)
    assert alert["edited"] is not None and "235B" in alert["text"]
    assert len([m for m in slack.messages(GENERAL) if m["thread_ts"] == alert["ts"]]) == 1


def test_a_new_release_of_a_repo_created_long_ago_is_still_announced_after_a_prune(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock: FakeClock
) -> None:
    with RadarHarness(hub.url, slack.url, tmp_path / "radar.json", clock=fake_clock) as bot:
        announce(bot)
        bot.drain()  # the first drain prunes and records the horizon
        fake_clock.advance(hours=1)
        # A repo made public today after months as a private repo keeps its creation date.
        announce(bot, seen=fake_clock.now - 2 * RETENTION, name="Private")
        assert bot.drain().posted == 1
    assert len(top_level(slack)) == 2


class CountingCollection(MemoryCollection[Delivery]):
    """Counts whole-collection reads: the cost that grew with every release ever sent."""

    def __init__(self, lock: threading.RLock) -> None:
        super().__init__("deliveries", Delivery, lock)
        self.scans = 0

    def values(self) -> list[Delivery]:
        self.scans += 1
        return super().values()


def test_due_reads_the_open_rows_not_the_whole_history() -> None:
    store = MemoryStore()
    store.deliveries = CountingCollection(store.lock)
    now = FakeClock().now
    for index in range(5_000):
        store.deliveries.put(
            Delivery(channel_id=f"C{index % 50}", release_id=f"r{index}", status="sent", ts="1.0")
        )
    store.deliveries.put(Delivery(channel_id="C1", release_id="new", status="posting"))
    outbox = Outbox(store, clock=lambda: now)

    assert [row.release_id for row in outbox.due()] == ["new"]
    scans = store.deliveries.scans
    for _drain in range(20):
        assert [row.release_id for row in outbox.due()] == ["new"]
    assert store.deliveries.scans == scans, "each drain re-read every row ever delivered"

    outbox.put(store.deliveries.get("C1|new").model_copy(update={"status": "sent"}))
    outbox.put(Delivery(channel_id="C2", release_id="newer", status="posting"))
    assert [row.release_id for row in outbox.due()] == ["newer"]
    assert store.deliveries.scans == scans
