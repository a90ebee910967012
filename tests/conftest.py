"""Shared fixtures: a running Hub stand-in, a fixed "now", a hand-driven clock, settings.

Kept generic on purpose: scenario data belongs to each test file, so a change here never
shifts what another suite is asserting.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.radar.labs import LabRegistry
from bot.radar.ports import Store
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import SlackStandIn
from tests.harness import FakeClock, make_settings

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


ManualClock = FakeClock  # the one test clock; the old name stays for the suites using it


def settings_for(hub_url: str, tmp_path: Path, **overrides: object) -> Settings:
    """`make_settings` for the core alone: no Slack, the database under `tmp_path`."""
    values: dict[str, object] = {"hub_timeout_seconds": 2.0, "hub_max_retries": 1, **overrides}
    return make_settings(hub_url, None, tmp_path / "radar.json", **values)


def track_only(registry: LabRegistry, store: Store, namespaces: Collection[str]) -> None:
    """Untrack every other lab, as a user would, so a poll lists only these namespaces.

    A cycle then costs a handful of requests instead of one per built-in lab, which keeps
    suites that poll many times fast; suites measuring cost keep the full list.
    """
    for namespace in registry.poll_namespaces():
        if namespace not in namespaces:
            registry.untrack(store, namespace)
    store.commit()


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def clock(now: datetime) -> ManualClock:
    return ManualClock(now)


@pytest.fixture
def hub() -> Iterator[HubStandIn]:
    """An empty, started Hub stand-in; a timeout fault holds a request for 0.5 s."""
    with HubStandIn(timeout_sleep=0.5) as server:
        yield server


@pytest.fixture
def fake_clock() -> FakeClock:
    """The bot's clock for end-to-end suites (a file may override it with another start)."""
    return FakeClock()


@pytest.fixture
def slack(fake_clock: FakeClock) -> Iterator[SlackStandIn]:
    """A started Slack stand-in whose message timestamps follow the bot's clock."""
    with SlackStandIn(wall_clock=lambda: fake_clock.now.timestamp()) as server:
        yield server


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema; the test is skipped (with the reason) without one."""
    from tests.pg import fresh_schema

    with fresh_schema() as url:
        yield url


@pytest.fixture(autouse=True)
def _suite_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """With RADAR_TEST_BACKEND=postgres, every test that opens the database through the
    settings (`build_core`, the harness, `serve`) gets DATABASE_URL on a fresh schema.
    Tests of the TinyDB file itself are marked `tinydb_only` and keep the file."""
    from tests.pg import fresh_schema, suite_on_postgres

    if not suite_on_postgres() or request.node.get_closest_marker("tinydb_only"):
        monkeypatch.delenv("DATABASE_URL", raising=False)
        yield
        return
    with fresh_schema() as url:
        monkeypatch.setenv("DATABASE_URL", url)
        yield
