"""Shared fixtures: a running Hub stand-in, a fixed "now", a hand-driven clock, settings.

Kept generic on purpose: scenario data belongs to each test file, so a change here never
shifts what another suite is asserting.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.radar.labs import LabRegistry
from bot.store.base import Store
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import SlackStandIn
from tests.harness import FakeClock

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


class ManualClock:
    """A clock that only moves when a test says so: polls are dated deterministically."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


def settings_for(hub_url: str, tmp_path: Path, **overrides: object) -> Settings:
    """Settings pointing at a stand-in, with the database under `tmp_path`.

    `_env_file=None` keeps a developer's `.env` out of the tests; explicit values win
    over environment variables, so the stand-in URL is what the bot talks to.
    """
    values: dict[str, object] = {
        "hf_endpoint": hub_url,
        "radar_db_path": tmp_path / "radar.json",
        "hub_timeout_seconds": 2.0,
        "hub_max_retries": 1,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


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
