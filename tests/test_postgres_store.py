"""What only the PostgreSQL backend promises: guarantees held by the database itself, the
schema steps, `radar db upgrade` / `radar db migrate`, and the leader election.

Skipped, with the reason, where no PostgreSQL server is available (see tests/pg.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.radar.models import (
    Delivery,
    DigestSchedule,
    Filters,
    Mute,
    Record,
    Release,
    StateEntry,
    Subscription,
)
from bot.radar.ports import COLLECTIONS
from bot.store import StoreError, open_store
from bot.store.leadership import AdvisoryLeader
from bot.store.postgres import PG_SCHEMA_VERSION, open_postgres
from tests.serve_process import wait_until
from tests.test_store_contract import a_model

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def sent_row(ts: str = "1700000000.000100", **changes: object) -> Delivery:
    values: dict[str, object] = {
        "channel_id": "C1",
        "release_id": "acme/acme-7",
        "status": "sent",
        "ts": ts,
        "posted_members": ["acme/Acme-7B"],
    }
    values.update(changes)
    return Delivery.model_validate(values)


def test_a_posted_alert_can_never_lose_its_message_by_any_writer(pg_url: str) -> None:
    """The database refuses to forget a posted message's ts, so no replica, however stale its
    view, can turn an announced alert back into one the deliverer would post again."""
    leader = open_postgres(pg_url)
    stale = open_postgres(pg_url)  # another replica that read the row before it was sent
    leader.deliveries.put(sent_row(status="posting", ts=None))
    leader.commit()
    before = stale.deliveries.get("C1|acme/acme-7")
    assert before is not None and before.ts is None
    leader.deliveries.put(sent_row())
    leader.commit()
    stale.deliveries.put(before.model_copy(update={"status": "posting", "attempts": 1}))
    stale.commit()
    for store in (leader, stale):
        row = store.deliveries.get("C1|acme/acme-7")
        assert row is not None and row.status == "sent" and row.ts == "1700000000.000100"
    leader.close()
    stale.close()


def test_two_rows_cannot_claim_the_same_slack_message(pg_url: str) -> None:
    store = open_postgres(pg_url)
    store.deliveries.put(sent_row())
    store.deliveries.put(sent_row(release_id="other/release"))  # same channel, same ts
    with pytest.raises(StoreError, match="nothing of this change was kept"):
        store.commit()
    store.deliveries.delete("C1|other/release")
    store.commit()
    assert [row.release_id for row in store.deliveries.values()] == ["acme/acme-7"]
    store.close()


def test_schema_steps_run_once_and_a_newer_database_is_refused(pg_url: str) -> None:
    open_postgres(pg_url).close()
    open_postgres(pg_url).close()  # a second start applies nothing twice
    with psycopg.connect(pg_url, autocommit=True) as conn:
        version = conn.execute(
            "SELECT value FROM radar_meta WHERE name = 'schema_version'"
        ).fetchone()[0]
        assert version == PG_SCHEMA_VERSION
        conn.execute(
            "UPDATE radar_meta SET value = %s::jsonb WHERE name = 'schema_version'",
            (str(PG_SCHEMA_VERSION + 1),),
        )
    with pytest.raises(StoreError, match="newer Open Model Radar"):
        open_postgres(pg_url)


class Snapshot(Record):
    """A record kind another feature may add (e.g. adoption snapshots)."""

    release_id: str
    day: str
    downloads: int

    @property
    def key(self) -> str:
        return f"{self.release_id}|{self.day}"


def test_a_new_record_kind_gets_its_table_without_sql(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(COLLECTIONS, "snapshots", Snapshot)
    store = open_postgres(pg_url)
    store.snapshots.put(Snapshot(release_id="acme/acme-7", day="2026-09-01", downloads=10))
    store.commit()
    store.close()
    again = open_postgres(pg_url)
    assert again.snapshots.get("acme/acme-7|2026-09-01").downloads == 10
    assert again.snapshots.find(day="2026-09-01")[0].release_id == "acme/acme-7"
    again.close()


def test_replicas_see_each_others_commits_and_an_index_notices(pg_url: str) -> None:
    first, second = open_postgres(pg_url), open_postgres(pg_url)
    before = second.models.revision()
    first.models.put(a_model(1))
    first.commit()
    assert second.models.revision() != before
    assert second.models.get(a_model(1).key) == a_model(1)
    assert second.models.keys() == [a_model(1).key]
    first.close()
    second.close()


def radar(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_db_migrate_moves_everything_and_refuses_a_non_empty_target(
    pg_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "radar.json"
    with open_store(source) as tiny:
        for number in range(50):
            tiny.models.put(a_model(number))
        tiny.releases.put(
            Release(
                id="acme/acme-7",
                lab="acme",
                lab_name="Acme",
                title="Acme 7",
                stem="acme-7",
                members=["acme/Acme-7B"],
                first_seen=NOW,
                updated_at=NOW,
            )
        )
        tiny.subscriptions.put(
            Subscription(id="s1", channel_id="C1", filters=Filters(countries=["CN"]))
        )
        tiny.mutes.put(Mute(channel_id="C1", lab="meta-llama", until=NOW + timedelta(days=3)))
        tiny.digests.put(DigestSchedule(channel_id="C1", weekday=4, time="17:30"))
        tiny.deliveries.put(sent_row())
        tiny.deliveries.put(sent_row(channel_id="C2", ts=None, status="posting"))
        tiny.state.put(StateEntry(name="outbox", value={"pruned_before": NOW.isoformat()}))
    before = source.read_bytes()

    moved = radar("db", "migrate", "--from", str(source), "--to", pg_url, cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert "50 models" in moved.stdout and "2 deliveries" in moved.stdout
    assert source.read_bytes() == before  # the file is only read

    with open_store(source) as tiny, open_postgres(pg_url) as target:
        for name in COLLECTIONS:
            mine = sorted(getattr(tiny, name).values(), key=lambda r: r.key)
            theirs = sorted(getattr(target, name).values(), key=lambda r: r.key)
            assert theirs == mine, name

    again = radar("db", "migrate", "--from", str(source), "--to", pg_url, cwd=tmp_path)
    assert again.returncode == 1
    assert "already holds Open Model Radar data" in again.stderr
    assert "Traceback" not in again.stderr
    upgrade = radar("db", "upgrade", cwd=tmp_path, DATABASE_URL=pg_url)
    assert upgrade.returncode == 0, upgrade.stderr
    assert f"schema version {PG_SCHEMA_VERSION}" in upgrade.stdout


def test_db_commands_explain_what_they_need(tmp_path: Path) -> None:
    no_url = radar("db", "upgrade", cwd=tmp_path)
    assert no_url.returncode == 2 and "needs DATABASE_URL" in no_url.stderr
    bad = radar("db", "migrate", "--from", "x.json", "--to", "mysql://x", cwd=tmp_path)
    assert bad.returncode == 2 and "postgresql://" in bad.stderr


def test_one_leader_at_a_time_and_a_follower_takes_over_when_it_goes(pg_url: str) -> None:
    gained: list[str] = []
    first = AdvisoryLeader(pg_url, on_gain=lambda: gained.append("first"))
    second = AdvisoryLeader(pg_url, on_gain=lambda: gained.append("second"))
    assert first.check() is True
    assert second.check() is False
    assert first.check() is True and first.is_leader()
    first.close()  # as a killed process: its session ends, and the lock with it
    # The server ends the session (and frees the lock) a moment after the socket closes.
    assert wait_until(second.check, 5, 0.05), "the follower never took over"
    assert first.check() is False
    assert gained == ["first", "second"]
    second.close()


def a_release(number: int) -> Release:
    return Release(
        id=f"acme/acme-{number}",
        lab="acme",
        lab_name="Acme",
        title=f"Acme {number}",
        stem=f"acme-{number}",
        members=[f"acme/Acme-{number}B"],
        first_seen=NOW,
        updated_at=NOW,
    )


def test_cached_reads_catch_up_with_another_replicas_commits(pg_url: str) -> None:
    """Models and releases are read through caches; a commit by another replica is seen
    within the cache's check interval, and never hidden by this replica's own commit."""
    mine, theirs = open_postgres(pg_url), open_postgres(pg_url)
    mine.releases.put(a_release(1))
    mine.models.put(a_model(1))
    mine.commit()
    assert [r.id for r in mine.releases.values()] == ["acme/acme-1"]
    assert mine.models.get(a_model(1).key).downloads == 1
    theirs.releases.put(a_release(2))
    theirs.models.put(a_model(1, downloads=500))
    theirs.commit()
    mine.releases.put(a_release(3))  # my commit lands after theirs
    mine.commit()
    assert sorted(r.id for r in mine.releases.values()) == [
        "acme/acme-1", "acme/acme-2", "acme/acme-3"
    ]
    time.sleep(1.1)  # CACHE_CHECK_SECONDS
    assert mine.models.get(a_model(1).key).downloads == 500
    mine.close()
    theirs.close()


def test_a_lab_tracked_through_one_replica_is_listed_by_another_after_a_refresh(
    pg_url: str,
) -> None:
    """Replicas answer `/radar track` and `/radar labs` alike: what one tracked, another's
    registry lists after its next refresh; with nothing changed a refresh reloads nothing."""
    from bot.radar.labs import LabRegistry

    one, two = open_postgres(pg_url), open_postgres(pg_url)
    first, second = LabRegistry.from_store(one), LabRegistry.from_store(two)
    assert second.refresh(two) is False
    first.track(one, "newlab-ai", "FR")
    one.commit()
    assert second.resolve("newlab-ai") is None
    assert second.refresh(two) is True
    lab = second.resolve("newlab-ai")
    assert lab is not None and lab.country == "FR"
    assert second.refresh(two) is False
    first.untrack(one, "newlab-ai")
    one.commit()
    assert second.refresh(two) is True and second.resolve("newlab-ai") is None
    one.close()
    two.close()
