"""The poll status: when the radar last polled and refreshed counts, and how it went.

One typed record with one place that reads and writes it. The tracker writes it after
each poll cycle and count refresh; `/healthz` and `Tracker.refresh_due` read it. It is
stored as the `poll` state entry, a plain dict of ISO timestamps, as older databases
hold it; keys this module does not know are kept on write.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.radar.models import StateEntry

if TYPE_CHECKING:
    from bot.radar.ports import Store

POLL_STATE = "poll"
MAX_ERRORS = 20  # errors kept in the status: enough to see which sources fail


@dataclass(frozen=True)
class PollStatus:
    """What the last poll cycle and count refresh did, as `/healthz` reports it."""

    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None  # last cycle that was not `failed`
    last_refresh_at: datetime | None = None
    status: str | None = None  # ok, degraded or failed (`CycleReport.status`); None: never
    errors: dict[str, str] = field(default_factory=dict)
    new_repos: int = 0
    events: int = 0

    def after_cycle(
        self, now: datetime, status: str, errors: dict[str, str], new_repos: int, events: int
    ) -> PollStatus:
        """This status once a cycle finished at `now`; a failed cycle is no success."""
        return replace(
            self,
            last_poll_at=now,
            last_success_at=self.last_success_at if status == "failed" else now,
            status=status,
            errors=dict(list(errors.items())[:MAX_ERRORS]),
            new_repos=new_repos,
            events=events,
        )

    def _value(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "status": self.status,
            "errors": dict(self.errors),
            "new_repos": self.new_repos,
            "events": self.events,
        }
        for name in ("last_poll_at", "last_success_at", "last_refresh_at"):
            moment = getattr(self, name)
            if moment is not None:
                value[name] = moment.isoformat()
        if self.status is None:
            del value["status"], value["errors"], value["new_repos"], value["events"]
        return value


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def read_poll_status(store: Store) -> PollStatus:
    """The stored status; an empty one before the first poll."""
    entry = store.state.get(POLL_STATE)
    value = entry.value if entry else {}
    errors = value.get("errors")
    status = value.get("status")
    return PollStatus(
        last_poll_at=_moment(value.get("last_poll_at")),
        last_success_at=_moment(value.get("last_success_at")),
        last_refresh_at=_moment(value.get("last_refresh_at")),
        status=status if isinstance(status, str) else None,
        errors={str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict) else {},
        new_repos=value.get("new_repos") if isinstance(value.get("new_repos"), int) else 0,
        events=value.get("events") if isinstance(value.get("events"), int) else 0,
    )


def write_poll_status(store: Store, status: PollStatus) -> None:
    """Store `status` (inside the caller's transaction), keeping keys it does not know."""
    entry = store.state.get(POLL_STATE)
    value = dict(entry.value) if entry else {}
    value.update(status._value())
    store.state.put(StateEntry(name=POLL_STATE, value=value))
