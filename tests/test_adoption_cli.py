"""`radar poll` takes the day's adoption snapshot (as `serve`'s scheduler does), and
`radar adoption --json` prints the documented shape: one object per release per line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.store import open_store
from tests.doubles.hub_server import HubStandIn
from tests.test_cli import NOW, background, hub_env, release_week, run_cli, use_env

KEYS = {
    "release_id", "lab", "region", "size_class", "first_seen", "days",
    "downloads_since_first_seen", "rank_in_class", "class_size", "adoption_score",
}  # fmt: skip


def test_poll_snapshots_and_adoption_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with HubStandIn() as hub:
        hub.add_many(background(NOW, 12))
        db = tmp_path / "radar.json"
        use_env(monkeypatch, hub_env(hub, db))
        assert run_cli("adoption").out.startswith("No releases recorded yet")
        assert run_cli("poll").code == 0
        bootstrap = list(hub.requests)
        # the first poll took the day's snapshot: one `sort=downloads` listing a lab
        assert sum(1 for r in bootstrap if r.query.get("sort") == ["downloads"]) > 50
        release_week(hub)
        hub.reset_log()
        assert run_cli("poll").code == 0
        # a second poll the same UTC day takes no second snapshot
        assert not any(r.query.get("sort") == ["downloads"] for r in hub.requests)
        ran = run_cli("adoption", "--json")
        digest = json.loads(run_cli("digest", "--json").out)
    assert ran.code == 0, ran.err
    # `digest --json` carries the race from the first poll's snapshot
    race = digest["race"]
    assert [r["region"] for r in race["regions"]] == ["us", "china", "eu", "other"]
    assert sum(r["downloads_30d"] for r in race["regions"]) > 0
    assert all(r["week_before"] is None for r in race["regions"])  # no week-old snapshot
    rows = [json.loads(line) for line in ran.out.splitlines()]
    assert rows and all(set(row) == KEYS for row in rows)
    launched = [row for row in rows if row["lab"] == "Qwen" and row["days"] == 0]
    assert launched, "the week's Qwen launch has a row from its first day"
    first = launched[0]
    # first seen today, so nothing is downloaded "since" yet: a known 0, and a score that
    # is unknown (0 against a class median of 0), printed as null
    assert first["downloads_since_first_seen"] == 0 and first["adoption_score"] is None
    history = [row for row in rows if row["days"] is not None and row["days"] > 0]
    assert all(row["adoption_score"] is None for row in history), "launch not seen: no score"
    store = open_store(db)
    labs = [s for s in store.adoption.values() if s.kind == "lab"]
    store.close()
    assert labs and all(len(series.days) == 1 for series in labs)
