"""Background jobs (APScheduler): poll the Hub, deliver alerts, send due digests.

Jobs never overlap themselves (`max_instances=1`) and a missed run is run once, not once
per missed interval (`coalesce=True`). An exception is logged and the next run goes on.
`shutdown(wait=True)` lets a running job finish, so SIGTERM never cuts a write short.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.runtime import Core
from bot.slack.context import SlackRadar
from bot.store import StoreError

log = logging.getLogger(__name__)

DRAIN_SECONDS = 5
DIGEST_CHECK_SECONDS = 60


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except StoreError as exc:  # already a full sentence; a traceback adds nothing
            log.error("%s job could not save: %s", name, exc)
        except Exception:
            log.exception("%s job failed; it runs again at its next interval", name)

    run.__name__ = f"{name}_job"
    return run


def poll_and_deliver(core: Core, radar: SlackRadar) -> None:
    """One poll cycle, a periodic count refresh when due, then deliver what is queued."""
    core.tracker.poll_cycle()
    refresh = timedelta(seconds=core.settings.refresh_interval_seconds)
    if core.tracker.refresh_due(refresh):
        core.tracker.refresh_counts()
    radar.deliverer.drain()


def build_scheduler(core: Core, radar: SlackRadar) -> BackgroundScheduler:
    settings = core.settings
    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    )
    now = datetime.now(UTC)
    scheduler.add_job(
        _guarded("poll", lambda: poll_and_deliver(core, radar)),
        "interval",
        seconds=settings.poll_interval_seconds,
        next_run_time=now,
        id="poll",
    )
    scheduler.add_job(
        _guarded("deliver", radar.deliverer.drain),
        "interval",
        seconds=DRAIN_SECONDS,
        next_run_time=now + timedelta(seconds=1),
        id="deliver",
    )
    scheduler.add_job(
        _guarded("digests", radar.digests.send_due),
        "interval",
        seconds=min(DIGEST_CHECK_SECONDS, settings.poll_interval_seconds),
        next_run_time=now + timedelta(seconds=1),
        id="digests",
    )
    return scheduler
