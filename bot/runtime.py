"""Wiring: build the long-lived objects once, from settings, and hand them around.

Nothing here runs at import time; `build_core` is called by the CLI and by `serve`, and by
tests with stand-in URLs in the settings, so the same wiring is exercised everywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import __version__
from bot.config import Settings
from bot.hub.client import HubClient
from bot.hub.errors import HubUnavailable
from bot.radar.channels import ChannelSettings
from bot.radar.labs import LabRegistry
from bot.radar.models import utcnow
from bot.radar.outbox import Outbox
from bot.radar.policy import NotabilityPolicy
from bot.radar.ports import HubSource, Store
from bot.radar.service import RadarService
from bot.radar.snapshots import Snapshots
from bot.radar.tracker import CycleReport, Tracker
from bot.store import open_database
from bot.webhooks.health import PushHealth


@dataclass
class Core:
    """Everything but the Slack surface."""

    settings: Settings
    store: Store
    registry: LabRegistry
    hub: HubSource
    policy: NotabilityPolicy
    service: RadarService
    channels: ChannelSettings
    outbox: Outbox
    tracker: Tracker
    clock: Callable[[], datetime]
    stopping: threading.Event = field(default_factory=threading.Event)
    push: PushHealth | None = None  # webhook health: which poll interval applies
    snapshots: Snapshots | None = None  # adoption snapshots, taken after each poll

    def stop(self) -> None:
        """Begin shutdown: the poll in progress skips requests it has not sent yet."""
        self.stopping.set()

    def close(self) -> None:
        close_hub = getattr(self.hub, "close", None)
        if close_hub is not None:
            close_hub()
        self.store.close()


def poll_once(core: Core, deliver: Callable[[], object] | None = None) -> CycleReport:
    """One poll step, the same for `serve`'s scheduler, `serve` without Slack and `radar
    poll`: a poll cycle, the periodic count refresh when due, `deliver` (the Slack app
    sends what the cycle queued), then the day's adoption snapshot when due (after the
    alerts: it may take a few seconds of Hub requests; the follow-ups it queues go out
    with the next delivery)."""
    report = core.tracker.poll_cycle()
    if core.tracker.refresh_due(timedelta(seconds=core.settings.refresh_interval_seconds)):
        core.tracker.refresh_counts()
    if deliver is not None:
        deliver()
    if core.snapshots is not None:
        core.snapshots.after_poll()
    return report


def build_hub(settings: Settings, stopping: threading.Event | None = None) -> HubClient:
    token = settings.hf_token.get_secret_value() if settings.hf_token else None
    stopping = stopping or threading.Event()

    def backoff(seconds: float) -> None:
        """Retry waits end early, with an error, when the bot is shutting down."""
        if stopping.wait(seconds):
            raise HubUnavailable("shutting down")

    return HubClient(
        settings.hf_endpoint,
        token,
        timeout=settings.hub_timeout_seconds,
        max_retries=settings.hub_max_retries,
        user_agent=f"open-model-radar/{__version__}",
        sleep=backoff,
    )


def build_core(
    settings: Settings,
    *,
    store: Store | None = None,
    hub: HubSource | None = None,
    clock: Callable[[], datetime] = utcnow,
    progress: Callable[[int, int], None] | None = None,
) -> Core:
    stopping = threading.Event()
    store = (
        store
        if store is not None
        else open_database(settings.radar_db_path, settings.postgres_url)
    )
    hub = hub if hub is not None else build_hub(settings, stopping)
    registry = LabRegistry.from_store(store)
    policy = NotabilityPolicy()
    outbox = Outbox(store, clock=clock)
    push = PushHealth(
        # Socket Mode installs have no public URL for the Hub to call: they keep polling.
        enabled=settings.webhooks_enabled and not settings.socket_mode,
        poll_interval=settings.poll_interval_seconds,
        reconcile_interval=settings.reconcile_interval_seconds,
        clock=clock,
    )
    tracker = Tracker(
        hub,
        store,
        registry,
        policy,
        clock=clock,
        concurrency=settings.hub_concurrency,
        poll_interval=timedelta(seconds=settings.poll_interval_seconds),
        full_listing_interval=timedelta(seconds=settings.full_listing_interval_seconds),
        full_page_size=settings.full_listing_page_size,
        release_window=timedelta(hours=settings.release_window_hours),
        on_events=outbox.enqueue,
        progress=progress,
        stopping=stopping,
        pace=lambda: timedelta(seconds=push.interval()),
    )
    return Core(
        settings=settings,
        store=store,
        registry=registry,
        hub=hub,
        policy=policy,
        service=RadarService(store, registry, hub, policy, clock=clock),
        channels=ChannelSettings(store, default_timezone=settings.radar_timezone, clock=clock),
        outbox=outbox,
        tracker=tracker,
        clock=clock,
        stopping=stopping,
        push=push,
        snapshots=Snapshots(
            hub,
            store,
            registry,
            outbox=outbox,
            clock=clock,
            concurrency=settings.hub_concurrency,
            stopping=stopping,
        ),
    )
