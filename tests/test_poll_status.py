"""The poll status `/healthz` and the count refresh read: one typed record in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.radar.models import StateEntry
from bot.radar.poll_status import (
    MAX_ERRORS,
    POLL_STATE,
    PollStatus,
    read_poll_status,
    write_poll_status,
)
from bot.store import open_database

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_cycle_and_a_refresh_survive_a_reopen_as_iso_times(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    store = open_database(path)
    assert read_poll_status(store) == PollStatus()  # before the first poll
    errors = {f"lab{n}": "HTTP 500" for n in range(MAX_ERRORS + 5)}
    write_poll_status(store, read_poll_status(store).after_cycle(NOW, "degraded", errors, 3, 1))
    store.commit()
    store.close()

    store = open_database(path)
    status = read_poll_status(store)
    assert (status.last_poll_at, status.last_success_at, status.status) == (NOW, NOW, "degraded")
    assert len(status.errors) == MAX_ERRORS and (status.new_repos, status.events) == (3, 1)
    value = store.state.get(POLL_STATE).value  # type: ignore[union-attr]
    assert value["last_poll_at"] == NOW.isoformat()  # what older versions wrote and read

    later = NOW + timedelta(minutes=5)
    write_poll_status(store, status.after_cycle(later, "failed", {"Qwen": "HTTP 503"}, 0, 0))
    failed = read_poll_status(store)
    assert (failed.last_poll_at, failed.last_success_at) == (later, NOW)  # no success
    store.close()


def test_unknown_keys_are_kept_and_unreadable_values_read_as_unknown(tmp_path: Path) -> None:
    store = open_database(tmp_path / "radar.json")
    value = {"last_refresh_at": "yesterday", "status": 3, "errors": [], "cycles": 7}
    store.state.put(StateEntry(name=POLL_STATE, value=value))
    status = read_poll_status(store)
    assert status == PollStatus()
    write_poll_status(store, PollStatus(last_refresh_at=NOW))
    stored = store.state.get(POLL_STATE).value  # type: ignore[union-attr]
    assert stored["cycles"] == 7 and stored["last_refresh_at"] == NOW.isoformat()
    store.close()
