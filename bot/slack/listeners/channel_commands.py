"""`/radar` subcommands that read or change one channel's settings: subscribe, unsubscribe,
subscriptions, mute, unmute and the digest ones.

Every setting is filed under the workspace the command came from
(`SlackRadar.workspace_of`: the Slack team id in OAuth mode, "" with one bot token), so
one channel id in two workspaces (a Slack Connect channel) has two independent sets of
settings. `bot.slack.listeners.commands` parses the command and routes here.
"""

from __future__ import annotations

import math
from typing import Any

from bot.radar.filters import describe
from bot.radar.vocabulary import weekday_name
from bot.slack import errors, grammar
from bot.slack.context import SlackRadar
from bot.slack.mrkdwn import escape
from bot.slack.render import error_message, ok_message, subscriptions_list

Payload = dict[str, Any]


def where(command: dict, radar: SlackRadar) -> tuple[str, str]:
    """(channel id, workspace key) a command's settings are filed under."""
    return command.get("channel_id") or "", radar.workspace_of(command.get("team_id"))


def refuse_unless_admin(command: dict, radar: SlackRadar) -> Payload | None:
    """The refusal for a user who is not an admin of the command's workspace, else None."""
    if radar.may_change_settings(command.get("user_id"), command.get("team_id")):
        return None
    return error_message(
        "Sorry, only the radar's admins can change subscriptions and tracked labs here.",
        hint="Ask an admin, or use `latest`, `stats` and `/model`, which are open to everyone.",
    )


def _ok(text: str, hint: str | None = None) -> Payload:
    return ok_message(text, hint)  # through enforce_limits, like every payload


def subscribe(cmd: grammar.Subscribe, command: dict, radar: SlackRadar) -> Payload:
    if refusal := refuse_unless_admin(command, radar):
        return refusal
    channel, team = where(command, radar)
    sub, created = radar.core.channels.subscribe(
        channel, cmd.filters, command.get("user_id"), team_id=team
    )
    what = describe(cmd.filters)
    if created:
        return _ok(
            f"Subscribed this channel to notable releases: {escape(what)}. "
            f"Subscription id `{sub.id}`.",
            f"A weekly digest comes with it (Monday 09:00 by default). "
            f"`{radar.settings.radar_command} unsubscribe {sub.id}` to stop.",
        )
    return _ok(f"This channel already has that subscription (`{sub.id}`): {escape(what)}.")


def unsubscribe(cmd: grammar.Unsubscribe, command: dict, radar: SlackRadar) -> Payload:
    if refusal := refuse_unless_admin(command, radar):
        return refusal
    channel, team = where(command, radar)
    channels = radar.core.channels
    removed = channels.unsubscribe(channel, cmd.target, team_id=team)
    if removed:
        ids = ", ".join(f"`{s.id}`" for s in removed)
        if not channels.subscriptions(channel, team_id=team):
            return _ok(
                f"Removed {ids}. This channel gets no more alerts and no weekly digest.",
                f"`{radar.settings.radar_command} digest weekly mon 09:00` keeps the digest "
                "without alerts.",
            )
        return _ok(f"Removed {ids}. This channel will get no alerts from them.")
    current = channels.subscriptions(channel, team_id=team)
    hint = (
        "This channel's subscriptions: " + ", ".join(f"`{s.id}`" for s in current)
        if current
        else "This channel has no subscriptions."
    )
    return error_message(f"There is no subscription `{cmd.target}` here.", hint=hint)


def subscriptions(cmd: grammar.ListSubscriptions, command: dict, radar: SlackRadar) -> Payload:
    channels = radar.core.channels
    channel, team = where(command, radar)
    return subscriptions_list(
        channels.subscriptions(channel, team_id=team),
        channels.active_mutes(channel, team_id=team),
        channels.schedule(channel, team_id=team),
        now=radar.core.clock(),
        radar_command=radar.settings.radar_command,
        failed=radar.core.outbox.failed(channel, team_id=team),
    )


def mute(cmd: grammar.MuteLab, command: dict, radar: SlackRadar) -> Payload:
    channel, team = where(command, radar)
    until = radar.core.clock() + cmd.duration if cmd.duration else None
    radar.core.channels.mute(channel, cmd.org, until, command.get("user_id"), team_id=team)
    when = f"until {until:%Y-%m-%d %H:%M} UTC" if until else "until you unmute it"
    return _ok(
        f"Muted `{escape(cmd.org)}` in this channel {when}.",
        f"`{radar.settings.radar_command} unmute {escape(cmd.org)}` to hear from it again.",
    )


def unmute(cmd: grammar.UnmuteLab, command: dict, radar: SlackRadar) -> Payload:
    channel, team = where(command, radar)
    if radar.core.channels.unmute(channel, cmd.org, team_id=team):
        return _ok(f"Unmuted `{escape(cmd.org)}` in this channel.")
    return error_message(f"`{cmd.org}` was not muted here.")


def digest_now(cmd: grammar.DigestNow, command: dict, radar: SlackRadar) -> Payload:
    channel, team = where(command, radar)
    now = radar.core.clock()
    next_run = radar.core.channels.claim_digest_now(channel, now, team_id=team)
    if next_run is not None:
        minutes = max(1, math.ceil((next_run - now).total_seconds() / 60))
        return error_message(
            "A digest was posted here on demand a few minutes ago.",
            hint=f"`digest now` can run again in this channel in {minutes} min "
            f"(at {next_run:%H:%M} UTC). The weekly digest comes on its own.",
        )
    result = None
    try:
        result = radar.digests.post(channel, team_id=team)
    finally:
        if result is None or not result.ok:  # nothing was posted: the channel may retry
            radar.core.channels.release_digest_now(channel, now, team_id=team)
    if result.ok:
        return _ok("Posted this week's digest to the channel.")
    if result.error in errors.NEEDS_INVITE:
        return error_message(
            "I cannot post in this channel yet.",
            hint="Invite me first: `/invite @Open Model Radar`.",
        )
    return error_message(f"Slack did not accept the digest ({result.error or 'error'}).")


def digest_weekly(cmd: grammar.DigestWeekly, command: dict, radar: SlackRadar) -> Payload:
    if refusal := refuse_unless_admin(command, radar):
        return refusal
    channel, team = where(command, radar)
    schedule = radar.core.channels.set_schedule(
        channel, cmd.weekday, cmd.time, cmd.timezone, team_id=team
    )
    return _ok(
        f"Weekly digest set: every {weekday_name(schedule.weekday)} at {schedule.time} "
        f"({escape(schedule.timezone)})."
    )


def digest_off(cmd: grammar.DigestOff, command: dict, radar: SlackRadar) -> Payload:
    if refusal := refuse_unless_admin(command, radar):
        return refusal
    channel, team = where(command, radar)
    radar.core.channels.disable_digest(channel, team_id=team)
    return _ok(
        "Weekly digests are off for this channel. Alerts are unaffected.",
        f"`{radar.settings.radar_command} digest weekly mon 09:00` turns them back on.",
    )
