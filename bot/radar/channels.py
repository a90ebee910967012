"""Per-channel settings: subscriptions, mutes and the digest schedule.

Every change a user makes is committed at once: a subscription acknowledged in Slack
must survive a crash a second later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.radar.digest import latest_period, parse_schedule_time
from bot.radar.models import DigestSchedule, Filters, Mute, StateEntry, Subscription, utcnow
from bot.radar.ports import Store

# `digest now` posts publicly and anyone in the channel may run it: once per this long.
DIGEST_NOW_EVERY = timedelta(minutes=10)
DIGEST_NOW_STATE = "digest_now"


def subscription_id(channel_id: str, filters: Filters) -> str:
    """Deterministic, short and typeable: the same filters in a channel give the same id."""
    digest = hashlib.sha1(f"{channel_id}|{filters.canonical()}".encode()).hexdigest()
    return f"s-{digest[:6]}"


class ChannelSettings:
    def __init__(
        self,
        store: Store,
        *,
        default_timezone: str = "UTC",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.default_timezone = default_timezone
        self.clock = clock

    # --------------------------------------------------------- subscriptions

    def subscribe(
        self, channel_id: str, filters: Filters, user_id: str | None = None
    ) -> tuple[Subscription, bool]:
        """Returns (subscription, created). Re-subscribing also lifts a pause."""
        sub_id = subscription_id(channel_id, filters)
        with self.store.lock:
            existing = self.store.subscriptions.get(sub_id)
            if existing is not None:
                if existing.paused_reason is not None:
                    existing = existing.model_copy(update={"paused_reason": None})
                    self.store.subscriptions.put(existing)
                    self.store.commit()
                return existing, False
            subscription = Subscription(
                id=sub_id,
                channel_id=channel_id,
                filters=filters,
                created_by=user_id,
                created_at=self.clock(),
            )
            self.store.subscriptions.put(subscription)
            if self.store.digests.get(channel_id) is None:
                # The first digest goes out at the next scheduled time, not for a past one.
                self.store.digests.put(self._fresh_schedule(channel_id))
            self.store.commit()
            return subscription, True

    def subscriptions(self, channel_id: str | None = None) -> list[Subscription]:
        subs = self.store.subscriptions.values()
        if channel_id is not None:
            subs = [s for s in subs if s.channel_id == channel_id]
        return sorted(subs, key=lambda s: s.created_at)

    def unsubscribe(self, channel_id: str, target: str) -> list[Subscription]:
        """Remove one subscription by id, or `all` of this channel's. Returns what went.

        Removing the channel's last subscription also stops its weekly digest: a channel
        that unsubscribed from everything expects silence (`digest weekly` brings it back).
        """
        with self.store.lock:
            mine = self.subscriptions(channel_id)
            if target.lower() != "all":
                mine = [s for s in mine if s.id.lower() == target.lower()]
            for sub in mine:
                self.store.subscriptions.delete(sub.key)
            if mine and not self.subscriptions(channel_id):
                schedule = self.store.digests.get(channel_id)
                if schedule is not None and schedule.enabled:
                    self.store.digests.put(schedule.model_copy(update={"enabled": False}))
            if mine:
                self.store.commit()
            return mine

    def pause_channel(self, channel_id: str, reason: str) -> int:
        """Stop delivering to a channel Slack says we cannot use; kept, not deleted.

        The caller commits, together with the delivery row it is marking.
        """
        with self.store.lock:
            paused = 0
            for sub in self.subscriptions(channel_id):
                if sub.paused_reason != reason:
                    self.store.subscriptions.put(sub.model_copy(update={"paused_reason": reason}))
                    paused += 1
            return paused

    # ----------------------------------------------------------------- mutes

    def mute(
        self, channel_id: str, lab: str, until: datetime | None, user_id: str | None = None
    ) -> Mute:
        mute = Mute(channel_id=channel_id, lab=lab.lower(), until=until, created_by=user_id)
        with self.store.lock:
            self.store.mutes.put(mute)
            self.store.commit()
        return mute

    def unmute(self, channel_id: str, lab: str) -> bool:
        with self.store.lock:
            removed = self.store.mutes.delete(f"{channel_id}|{lab.lower()}")
            if removed:
                self.store.commit()
            return removed

    def active_mutes(self, channel_id: str) -> list[Mute]:
        now = self.clock()
        return sorted(
            (m for m in self.store.mutes.values() if m.channel_id == channel_id and m.active(now)),
            key=lambda m: m.lab,
        )

    def is_muted(self, channel_id: str, lab: str) -> bool:
        mute = self.store.mutes.get(f"{channel_id}|{lab.lower()}")
        return mute is not None and mute.active(self.clock())

    # ---------------------------------------------------------------- digests

    def schedule(self, channel_id: str) -> DigestSchedule | None:
        """The channel's digest schedule; subscribed channels get Monday 09:00 by default."""
        stored = self.store.digests.get(channel_id)
        if stored is not None:
            return stored
        if any(s.paused_reason is None for s in self.subscriptions(channel_id)):
            return DigestSchedule(channel_id=channel_id, timezone=self.default_timezone)
        return None

    def _fresh_schedule(
        self, channel_id: str, weekday: int = 0, time: str = "09:00", timezone: str | None = None
    ) -> DigestSchedule:
        """A schedule whose latest past occurrence counts as sent: it fires next time, not now."""
        zone = timezone or self.default_timezone
        period = latest_period(weekday, parse_schedule_time(time), ZoneInfo(zone), self.clock())
        return DigestSchedule(
            channel_id=channel_id,
            weekday=weekday,
            time=time,
            timezone=zone,
            last_sent_period=period,
        )

    def set_schedule(
        self, channel_id: str, weekday: int, time: str, timezone: str | None = None
    ) -> DigestSchedule:
        with self.store.lock:
            schedule = self._fresh_schedule(channel_id, weekday, time, timezone)
            self.store.digests.put(schedule)
            self.store.commit()
            return schedule

    def disable_digest(self, channel_id: str) -> DigestSchedule:
        with self.store.lock:
            current = self.schedule(channel_id) or DigestSchedule(
                channel_id=channel_id, timezone=self.default_timezone
            )
            schedule = current.model_copy(update={"enabled": False})
            self.store.digests.put(schedule)
            self.store.commit()
            return schedule

    def mark_digest_sent(self, channel_id: str, period: str) -> None:
        with self.store.lock:
            current = self.schedule(channel_id) or DigestSchedule(
                channel_id=channel_id, timezone=self.default_timezone
            )
            self.store.digests.put(current.model_copy(update={"last_sent_period": period}))
            self.store.commit()

    def claim_digest_now(
        self, channel_id: str, now: datetime, every: timedelta = DIGEST_NOW_EVERY
    ) -> datetime | None:
        """Record an on-demand digest for the channel and return None, or, when one ran
        less than `every` ago, change nothing and return when the next may run.

        Check and record happen under the store's lock in one step, so of ten identical
        requests at once exactly one gets None; the record is committed, so a restart
        does not reopen the window.
        """
        with self.store.lock:
            entry = self.store.state.get(DIGEST_NOW_STATE)
            runs = {
                channel: at
                for channel, at in (entry.value if entry else {}).items()
                if datetime.fromisoformat(at) + every > now  # only windows still open
            }
            last = runs.get(channel_id)
            if last is not None:
                return datetime.fromisoformat(last) + every
            runs[channel_id] = now.isoformat()
            self.store.state.put(StateEntry(name=DIGEST_NOW_STATE, value=runs))
            self.store.commit()
        return None

    def release_digest_now(self, channel_id: str, claimed_at: datetime) -> None:
        """Undo a claim whose digest was not posted, so the channel can try again."""
        with self.store.lock:
            entry = self.store.state.get(DIGEST_NOW_STATE)
            runs = dict(entry.value) if entry else {}
            if runs.get(channel_id) == claimed_at.isoformat():
                del runs[channel_id]
                self.store.state.put(StateEntry(name=DIGEST_NOW_STATE, value=runs))
                self.store.commit()

    def digest_schedules(self) -> list[DigestSchedule]:
        """Every enabled schedule, including the default of channels that never set one."""
        channels = {s.channel_id for s in self.store.subscriptions.values()}
        channels |= {d.channel_id for d in self.store.digests.values()}
        schedules = (self.schedule(channel) for channel in sorted(channels))
        return [s for s in schedules if s is not None and s.enabled]
