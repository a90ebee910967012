"""Push health: are Hub webhooks arriving, and so how often must the poll still run?

While deliveries arrive, or the last look at the Hub's webhook list found ours enabled and
covering every tracked lab, the radar is in `webhooks` mode and polls only every reconcile
interval as a safety net; otherwise in `polling` mode, every poll interval. The scheduler
reads the pace here and `/healthz` shows the `snapshot`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.radar.models import utcnow

CHECK_INTERVAL_SECONDS = 600  # how often the webhook list is asked whether ours are enabled


class PushHealth:
    """Which mode the radar is in, for the scheduler and `/healthz`.

    Webhooks count as healthy while deliveries arrive (one in the last reconcile interval)
    or the last check of the Hub's webhook list found ours enabled and covering every
    tracked lab. Then the poll runs every `reconcile_interval` as a safety net; otherwise
    every `poll_interval`, as without webhooks.
    """

    def __init__(
        self,
        *,
        enabled: bool,
        poll_interval: int,
        reconcile_interval: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.enabled = enabled
        self.poll_interval = poll_interval
        self.reconcile_interval = max(poll_interval, reconcile_interval)
        self.clock = clock
        self.last_event_at: datetime | None = None
        self.last_check_at: datetime | None = None
        self.last_check_ok = False
        self.last_check_note: str | None = None
        self.events = 0
        self._lock = threading.Lock()

    def event_seen(self) -> None:
        with self._lock:
            self.last_event_at = self.clock()
            self.events += 1

    def list_checked(self, ok: bool, note: str | None = None) -> None:
        with self._lock:
            self.last_check_at = self.clock()
            self.last_check_ok = ok
            self.last_check_note = note

    def mode(self) -> str:
        """`webhooks` while deliveries can be trusted to arrive, else `polling`."""
        if not self.enabled:
            return "polling"
        now = self.clock()
        recent = timedelta(seconds=self.reconcile_interval)
        with self._lock:
            if self.last_event_at is not None and now - self.last_event_at <= recent:
                return "webhooks"
            checked = self.last_check_at is not None and now - self.last_check_at <= timedelta(
                seconds=2 * CHECK_INTERVAL_SECONDS
            )
            return "webhooks" if checked and self.last_check_ok else "polling"

    def interval(self) -> int:
        """Seconds between polls in the current mode."""
        return self.reconcile_interval if self.mode() == "webhooks" else self.poll_interval

    def poll_due(self, last_poll_at: datetime | None) -> bool:
        """True when a poll should run now (always when none ran since the start)."""
        if last_poll_at is None:
            return True
        # A poll job fires every poll interval; a little slack keeps a reconcile poll from
        # slipping by a whole interval when the job fires a moment early.
        slack = timedelta(seconds=min(5, self.poll_interval / 2))
        return self.clock() - last_poll_at + slack >= timedelta(seconds=self.interval())

    def snapshot(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        mode = self.mode()
        with self._lock:
            return {
                "mode": mode,
                "enabled": self.enabled,
                "last_event_at": iso(self.last_event_at),
                "events_received": self.events,
                "last_check_at": iso(self.last_check_at),
                "last_check_ok": self.last_check_ok if self.last_check_at else None,
                "last_check_note": self.last_check_note,
                "poll_every_seconds": self.reconcile_interval
                if mode == "webhooks"
                else self.poll_interval,
            }
