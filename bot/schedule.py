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

from bot.hub.webhooks import WebhookAdminError
from bot.runtime import Core, poll_once
from bot.slack.context import SlackRadar
from bot.store import StoreError
from bot.store.leadership import CHECK_SECONDS, Leadership, SoleLeader
from bot.webhooks.health import CHECK_INTERVAL_SECONDS
from bot.webhooks.receiver import HANDOFF_SECONDS, HubWebhookReceiver
from bot.webhooks.sync import admin_for, receiver_url, status, webhooks_managed

log = logging.getLogger(__name__)

DRAIN_SECONDS = 5
DIGEST_CHECK_SECONDS = 60
# Replicas sharing a database read the stored labs' revision this often (one small query)
# and reload them when another replica tracked or untracked one.
LABS_REFRESH_SECONDS = 5


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


class _PollPace:
    """Skips poll runs while Hub webhooks are healthy, so the poll only reconciles every
    RECONCILE_INTERVAL_SECONDS; the first run after a start always polls (hints that a
    restart lost are caught then)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.last_poll_at: datetime | None = None

    def due(self) -> bool:
        push = self.core.push
        if push is None or not push.enabled:
            return True
        return push.poll_due(self.last_poll_at)

    def polled(self) -> None:
        self.last_poll_at = self.core.clock()


def poll_and_deliver(core: Core, radar: SlackRadar, pace: _PollPace | None = None) -> None:
    """`runtime.poll_once` delivering to Slack, when the pace says a poll is due."""
    if pace is not None:
        if not pace.due():
            return
        pace.polled()
    poll_once(core, deliver=radar.deliverer.drain)


def _led(leadership: Leadership, job: Callable[[], object]) -> Callable[[], object]:
    """Only the leading replica runs the jobs that poll and post (see bot.store.leadership)."""

    def run() -> object:
        return job() if leadership.is_leader() else None

    return run


def build_scheduler(
    core: Core,
    radar: SlackRadar,
    leadership: Leadership | None = None,
    hub_webhook: HubWebhookReceiver | None = None,
) -> BackgroundScheduler:
    settings = core.settings
    leadership = leadership or SoleLeader()
    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    )
    now = datetime.now(UTC)
    pace = _PollPace(core)
    shared = leadership.shared

    def poll() -> None:
        if shared:  # a `/radar track` may have been answered by another replica
            core.registry.refresh(core.store)
        poll_and_deliver(core, radar, pace)

    if shared:  # every replica, leader or not, lists the labs any replica tracked
        scheduler.add_job(
            _guarded("labs", lambda: core.registry.refresh(core.store)),
            "interval",
            seconds=LABS_REFRESH_SECONDS,
            id="labs",
        )

    scheduler.add_job(
        _guarded("poll", _led(leadership, poll)),
        "interval",
        seconds=settings.poll_interval_seconds,
        next_run_time=now,
        id="poll",
    )
    scheduler.add_job(
        _guarded("deliver", _led(leadership, radar.deliverer.drain)),
        "interval",
        seconds=DRAIN_SECONDS,
        next_run_time=now + timedelta(seconds=1),
        id="deliver",
    )
    scheduler.add_job(
        _guarded("digests", _led(leadership, radar.digests.send_due)),
        "interval",
        seconds=min(DIGEST_CHECK_SECONDS, settings.poll_interval_seconds),
        next_run_time=now + timedelta(seconds=1),
        id="digests",
    )
    if webhooks_managed(settings) and core.push is not None and core.push.enabled:
        scheduler.add_job(
            _guarded("webhook check", _led(leadership, lambda: check_webhooks(core))),
            "interval",
            seconds=CHECK_INTERVAL_SECONDS,
            next_run_time=now + timedelta(seconds=2),
            id="webhook_check",
        )
    if shared and hub_webhook is not None:
        scheduler.add_job(
            _guarded("webhook hand-offs", _led(leadership, hub_webhook.adopt_handoffs)),
            "interval",
            seconds=HANDOFF_SECONDS,
            next_run_time=now + timedelta(seconds=1),
            id="webhook_handoffs",
        )
    if shared:
        scheduler.add_job(
            _guarded("leadership", leadership.check),
            "interval",
            seconds=CHECK_SECONDS,
            next_run_time=now,
            id="leadership",
        )
    return scheduler


def check_webhooks(core: Core) -> None:
    """Ask the Hub whether our webhooks are enabled and cover every tracked lab; the answer
    sets the poll's pace (`PushHealth`). Failing to ask counts as unhealthy."""
    if core.push is None:
        return
    try:
        url = receiver_url(core.settings)
        with admin_for(core.settings) as admin:
            ours, missing = status(admin, core.registry, url)
    except WebhookAdminError as exc:
        core.push.list_checked(False, str(exc))
        log.warning(
            "webhook check failed, polling every %d s: %s", core.settings.poll_interval_seconds, exc
        )
        return
    disabled = [hook.id for hook in ours if hook.disabled]
    if disabled or missing or not ours:
        note = (
            "no webhook points at this bot"
            if not ours
            else f"disabled: {', '.join(disabled)}"
            if disabled
            else f"not watched: {', '.join(missing[:10])}"
        )
        core.push.list_checked(False, note)
        log.warning(
            "Hub webhooks unhealthy (%s); polling every %d s",
            note,
            core.settings.poll_interval_seconds,
        )
    else:
        core.push.list_checked(True, f"{len(ours)} webhooks enabled")
