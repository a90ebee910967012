"""Per-channel settings: subscriptions, mutes and the digest schedule.

Every change a user makes is committed at once: a subscription acknowledged in Slack
must survive a crash a second later.

A channel is named by its workspace key and its id (`team_id`, keyword, "" in
single-workspace mode: the keys are then those of a database from before workspaces),
because one installation may serve many workspaces and a Slack Connect channel has one
id in all of them: each workspace's settings for it are its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.radar.digest import latest_period, parse_schedule_time
from bot.radar.models import (
    DigestSchedule,
    Filters,
    Mute,
    StateEntry,
    Subscription,
    utcnow,
    workspace_key,
)
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
        self, channel_id: str, filters: Filters, user_id: str | None = None, *, team_id: str = ""
    ) -> tuple[Subscription, bool]:
        """Returns (subscription, created). Re-subscribing also lifts a pause."""
        sub_id = subscription_id(channel_id, filters)
        with self.store.lock:
            existing = self.store.subscriptions.get(workspace_key(team_id, sub_id))
            if existing is not None:
                if existing.paused_reason is not None:
                    existing = existing.model_copy(update={"paused_reason": None})
                    self.store.subscriptions.put(existing)
                    self.store.commit()
                return existing, False
            subscription = Subscription(
                id=sub_id,
                channel_id=channel_id,
                team_id=team_id,
                filters=filters,
                created_by=user_id,
                created_at=self.clock(),
            )
            self.store.subscriptions.put(subscription)
            if self.store.digests.get(workspace_key(team_id, channel_id)) is None:
                # The first digest goes out at the next scheduled time, not for a past one.
                self.store.digests.put(self._fresh_schedule(channel_id, team_id=team_id))
            self.store.commit()
            return subscription, True

    def subscriptions(
        self, channel_id: str | None = None, *, team_id: str | None = ""
    ) -> list[Subscription]:
        """A channel's subscriptions (every channel's with no `channel_id`) in one workspace,
        or in all of them with `team_id=None`."""
        subs = self.store.subscriptions.values()
        if team_id is not None:
            subs = [s for s in subs if s.team_id == team_id]
        if channel_id is not None:
            subs = [s for s in subs if s.channel_id == channel_id]
        return sorted(subs, key=lambda s: s.created_at)

    def unsubscribe(self, channel_id: str, target: str, *, team_id: str = "") -> list[Subscription]:
        """Remove one subscription by id, or `all` of this channel's. Returns what went.

        Removing the channel's last subscription also stops its weekly digest: a channel
        that unsubscribed from everything expects silence (`digest weekly` brings it back).
        """
        with self.store.lock:
            mine = self.subscriptions(channel_id, team_id=team_id)
            if target.lower() != "all":
                mine = [s for s in mine if s.id.lower() == target.lower()]
            for sub in mine:
                self.store.subscriptions.delete(sub.key)
            if mine and not self.subscriptions(channel_id, team_id=team_id):
                schedule = self.store.digests.get(workspace_key(team_id, channel_id))
                if schedule is not None and schedule.enabled:
                    self.store.digests.put(schedule.model_copy(update={"enabled": False}))
            if mine:
                self.store.commit()
            return mine

    def pause_channel(self, channel_id: str, reason: str, *, team_id: str = "") -> int:
        """Stop delivering to a channel Slack says we cannot use; kept, not deleted.

        The caller commits, together with the delivery row it is marking.
        """
        with self.store.lock:
            paused = 0
            for sub in self.subscriptions(channel_id, team_id=team_id):
                if sub.paused_reason != reason:
                    self.store.subscriptions.put(sub.model_copy(update={"paused_reason": reason}))
                    paused += 1
            return paused

    # ----------------------------------------------------------------- mutes

    def mute(
        self,
        channel_id: str,
        lab: str,
        until: datetime | None,
        user_id: str | None = None,
        *,
        team_id: str = "",
    ) -> Mute:
        mute = Mute(
            channel_id=channel_id, team_id=team_id, lab=lab.lower(), until=until, created_by=user_id
        )
        with self.store.lock:
            self.store.mutes.put(mute)
            self.store.commit()
        return mute

    def unmute(self, channel_id: str, lab: str, *, team_id: str = "") -> bool:
        with self.store.lock:
            removed = self.store.mutes.delete(workspace_key(team_id, channel_id, lab.lower()))
            if removed:
                self.store.commit()
            return removed

    def active_mutes(self, channel_id: str, *, team_id: str = "") -> list[Mute]:
        now = self.clock()
        return sorted(
            (
                m
                for m in self.store.mutes.values()
                if m.channel_id == channel_id and m.team_id == team_id and m.active(now)
            ),
            key=lambda m: m.lab,
        )

    def is_muted(self, channel_id: str, lab: str, *, team_id: str = "") -> bool:
        mute = self.store.mutes.get(workspace_key(team_id, channel_id, lab.lower()))
        return mute is not None and mute.active(self.clock())

    # ---------------------------------------------------------------- digests

    def schedule(self, channel_id: str, *, team_id: str = "") -> DigestSchedule | None:
        """The channel's digest schedule; subscribed channels get Monday 09:00 by default."""
        stored = self.store.digests.get(workspace_key(team_id, channel_id))
        if stored is not None:
            return stored
        if any(s.paused_reason is None for s in self.subscriptions(channel_id, team_id=team_id)):
            return DigestSchedule(
                channel_id=channel_id, team_id=team_id, timezone=self.default_timezone
            )
        return None

    def _fresh_schedule(
        self,
        channel_id: str,
        weekday: int = 0,
        time: str = "09:00",
        timezone: str | None = None,
        *,
        team_id: str = "",
    ) -> DigestSchedule:
        """A schedule whose latest past occurrence counts as sent: it fires next time, not now."""
        zone = timezone or self.default_timezone
        period = latest_period(weekday, parse_schedule_time(time), ZoneInfo(zone), self.clock())
        return DigestSchedule(
            channel_id=channel_id,
            team_id=team_id,
            weekday=weekday,
            time=time,
            timezone=zone,
            last_sent_period=period,
        )

    def set_schedule(
        self,
        channel_id: str,
        weekday: int,
        time: str,
        timezone: str | None = None,
        *,
        team_id: str = "",
    ) -> DigestSchedule:
        with self.store.lock:
            schedule = self._fresh_schedule(channel_id, weekday, time, timezone, team_id=team_id)
            self.store.digests.put(schedule)
            self.store.commit()
            return schedule

    def disable_digest(self, channel_id: str, *, team_id: str = "") -> DigestSchedule:
        with self.store.lock:
            current = self.schedule(channel_id, team_id=team_id) or DigestSchedule(
                channel_id=channel_id, team_id=team_id, timezone=self.default_timezone
            )
            schedule = current.model_copy(update={"enabled": False})
            self.store.digests.put(schedule)
            self.store.commit()
            return schedule

    def mark_digest_sent(self, channel_id: str, period: str, *, team_id: str = "") -> None:
        with self.store.lock:
            current = self.schedule(channel_id, team_id=team_id) or DigestSchedule(
                channel_id=channel_id, team_id=team_id, timezone=self.default_timezone
            )
            self.store.digests.put(current.model_copy(update={"last_sent_period": period}))
            self.store.commit()

    def claim_digest_now(
        self,
        channel_id: str,
        now: datetime,
        every: timedelta = DIGEST_NOW_EVERY,
        *,
        team_id: str = "",
    ) -> datetime | None:
        """Record an on-demand digest for the channel and return None, or, when one ran
        less than `every` ago, change nothing and return when the next may run.

        Check and record happen under the store's lock in one step, so of ten identical
        requests at once exactly one gets None; the record is committed, so a restart
        does not reopen the window. Claims are filed by `workspace_key` (the bare channel id
        in single-workspace mode).
        """
        channel_key = workspace_key(team_id, channel_id)
        with self.store.lock:
            entry = self.store.state.get(DIGEST_NOW_STATE)
            runs = {
                channel: at
                for channel, at in (entry.value if entry else {}).items()
                if datetime.fromisoformat(at) + every > now  # only windows still open
            }
            last = runs.get(channel_key)
            if last is not None:
                return datetime.fromisoformat(last) + every
            runs[channel_key] = now.isoformat()
            self.store.state.put(StateEntry(name=DIGEST_NOW_STATE, value=runs))
            self.store.commit()
        return None

    def release_digest_now(
        self, channel_id: str, claimed_at: datetime, *, team_id: str = ""
    ) -> None:
        """Undo a claim whose digest was not posted, so the channel can try again."""
        channel_key = workspace_key(team_id, channel_id)
        with self.store.lock:
            entry = self.store.state.get(DIGEST_NOW_STATE)
            runs = dict(entry.value) if entry else {}
            if runs.get(channel_key) == claimed_at.isoformat():
                del runs[channel_key]
                self.store.state.put(StateEntry(name=DIGEST_NOW_STATE, value=runs))
                self.store.commit()

    def digest_schedules(self) -> list[DigestSchedule]:
        """Every enabled schedule, including the default of channels that never set one."""
        channels = {(s.team_id, s.channel_id) for s in self.store.subscriptions.values()}
        channels |= {(d.team_id, d.channel_id) for d in self.store.digests.values()}
        schedules = (self.schedule(channel, team_id=team) for team, channel in sorted(channels))
        return [s for s in schedules if s is not None and s.enabled]

    # ------------------------------------------------------------ workspaces

    def forget_workspace(self, team_id: str) -> WorkspaceForgotten:
        """Delete everything filed under one workspace, in one commit: its subscriptions,
        mutes, digest schedules, `digest now` claims and every outbox row (alerts and
        follow-ups, sent or not: nothing can post, edit or thread in that workspace any
        more, and a reinstall starts from fresh subscriptions). Other workspaces keep all
        of theirs. Called when Slack says the app was uninstalled or its bot token revoked.

        The single-workspace key "" is refused: in that mode every setting is filed under
        it, and the token comes from the environment, not from an installation.
        """
        if not team_id:
            raise ValueError("the single-workspace key names every setting; refusing to forget it")
        with self.store.lock:
            gone = WorkspaceForgotten(team_id)
            for collection, counter in (
                (self.store.subscriptions, "subscriptions"),
                (self.store.mutes, "mutes"),
                (self.store.digests, "digests"),
                (self.store.deliveries, "deliveries"),
            ):
                for record in collection.find(team_id=team_id):
                    if collection.delete(record.key):
                        setattr(gone, counter, getattr(gone, counter) + 1)
            entry = self.store.state.get(DIGEST_NOW_STATE)
            prefix = workspace_key(team_id, "")
            if entry is not None and any(key.startswith(prefix) for key in entry.value):
                runs = {k: v for k, v in entry.value.items() if not k.startswith(prefix)}
                self.store.state.put(StateEntry(name=DIGEST_NOW_STATE, value=runs))
            self.store.commit()
            return gone


@dataclass
class WorkspaceForgotten:
    """What `ChannelSettings.forget_workspace` deleted, for the log line."""

    team_id: str
    subscriptions: int = 0
    mutes: int = 0
    digests: int = 0
    deliveries: int = 0
