"""Slash commands: `/model <query>` and `/radar <subcommand>`.

Each handler acks at once (Slack's 3-second limit is for the ack, and an empty ack costs
nothing), then parses, asks the domain and answers through `respond`. Any failure after
the ack becomes a friendly ephemeral reply and a log line, never silence.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.radar.digest import scoreboard
from bot.radar.filters import describe
from bot.radar.service import ModelLookup
from bot.radar.vocabulary import weekday_name
from bot.slack import errors, grammar
from bot.slack.adoption_answers import answer_adoption, stats_with_race
from bot.slack.context import Reply, SlackRadar
from bot.slack.grammar import UsageError
from bot.slack.mrkdwn import escape
from bot.slack.render import (
    comparison,
    error_message,
    help_message,
    labs_list,
    model_card,
    ok_message,
    release_list,
    stats_message,
    subscriptions_list,
)
from bot.slack.tables import comparison_table, stats_table
from bot.webhooks.sync import sync_quietly, webhooks_managed

log = logging.getLogger(__name__)

Payload = dict[str, Any]


def register(app: App, *, model_command: str = "/model", radar_command: str = "/radar") -> None:
    app.command(model_command)(model_command_handler)
    app.command(radar_command)(radar_command_handler)
    app.command(re.compile(r".*", re.DOTALL))(unknown_command)  # last: anything else


def unknown_command(ack: Ack, command: dict, radar: SlackRadar) -> None:
    """A slash command pointed at this bot that it does not own: say which ones it has."""
    name = str(command.get("command") or "")[:50]
    log.debug("answered an unknown command %r", name)
    ack(
        text=f"I do not know `{escape(name)}`. Try `{radar.settings.radar_command} help`.",
        response_type="ephemeral",
    )


# ------------------------------------------------------------------- /model


def model_command_handler(ack: Ack, command: dict, respond: Respond, radar: SlackRadar) -> None:
    ack()
    text = command.get("text") or ""
    radar.after_ack(respond, lambda reply: _answer_model(text, radar, respond, reply))


def _answer_model(text: str, radar: SlackRadar, respond: Respond, reply: Reply) -> None:
    refusal = _refusal(text, radar)
    if refusal is not None:
        reply(**refusal, response_type="ephemeral")
        return
    radar.answer_lookup(
        respond,
        reply,
        text.strip(),
        lambda lookup, send: send(**lookup_payload(lookup, radar), response_type="ephemeral"),
    )


def answer_model(text: str, radar: SlackRadar) -> Payload:
    """The whole `/model` answer, Hub included, in the calling thread."""
    refusal = _refusal(text, radar)
    if refusal is not None:
        return refusal
    return lookup_payload(radar.core.service.lookup_model(text.strip()), radar)


def _refusal(text: str, radar: SlackRadar) -> Payload | None:
    """The answer to a query that needs no lookup (none, or absurd), else None."""
    query = text.strip()
    settings = radar.settings
    if not query or query.lower() in {"help", "-h", "--help"}:
        return error_message(
            f"Tell me which model: `{settings.model_command} Qwen/Qwen3-32B` or "
            f"`{settings.model_command} deepseek r1`.",
            hint="Any repo id or a few words from its name.",
        )
    try:
        grammar.model_query(query)  # the rules a model button's value meets too
    except UsageError as exc:
        return error_message(str(exc))
    return None


def lookup_payload(lookup: ModelLookup, radar: SlackRadar, *, shareable: bool = True) -> Payload:
    record = lookup.record
    if record is None:
        suggestions = ", ".join(f"`{s}`" for s in lookup.alternatives)
        hint = f"Did you mean {suggestions}?" if suggestions else "Try a repo id like `org/name`."
        if lookup.hub_error:
            hint += " (The Hugging Face Hub is not answering right now, so I only searched "
            hint += "the models I already know.)"
        return error_message(f"I found no model matching “{lookup.query}”.", hint=hint)
    lab = lookup.lab
    return model_card(
        record,
        lab_name=lab.name if lab else None,
        country=lab.country if lab else None,
        release=lookup.release,
        siblings=lookup.siblings,
        alternatives=lookup.alternatives,
        hub_url=radar.hub_url,
        shareable=shareable,
    )


# ------------------------------------------------------------------- /radar


def radar_command_handler(ack: Ack, command: dict, respond: Respond, radar: SlackRadar) -> None:
    ack()
    radar.after_ack(respond, lambda reply: _answer_radar(command, radar, respond, reply))


def _answer_radar(command: dict, radar: SlackRadar, respond: Respond, reply: Reply) -> None:
    """Local reads answer here; what waits on the Hub, Slack or a store write goes to that
    wait's own pool (see `bot.slack.context`)."""
    parsed = _parse(command, radar)
    if isinstance(parsed, dict):
        reply(**parsed, response_type="ephemeral")
        return
    if isinstance(parsed, grammar.Compare):
        service = radar.core.service
        lookups = [service.lookup_local(query) for query in parsed.queries]
        if any(lookup.needs_hub for lookup in lookups):
            radar.on_hub(
                respond,
                lambda post: post(
                    **_comparison([service.finish_on_hub(lookup) for lookup in lookups], radar),
                    response_type="ephemeral",
                ),
            )
        else:
            reply(**_comparison(lookups, radar), response_type="ephemeral")
        return
    handler = HANDLERS[type(parsed)]
    pool = radar.while_waiting if isinstance(parsed, CALLS_SLACK) else radar.while_writing
    if isinstance(parsed, (*WRITES, *CALLS_SLACK)):
        pool(
            respond,
            lambda post: post(**handler(parsed, command, radar), response_type="ephemeral"),
        )
    else:
        reply(**handler(parsed, command, radar), response_type="ephemeral")


def _parse(command: dict, radar: SlackRadar) -> Any:
    """The parsed subcommand, or the usage error's reply."""
    try:
        return grammar.parse_radar(command.get("text") or "", radar.core.registry)
    except UsageError as exc:
        hint = f"Usage: `{radar.settings.radar_command} {exc.usage}`" if exc.usage else None
        hint = (hint + "\n" if hint else "") + (
            f"`{radar.settings.radar_command} help` lists everything I understand."
        )
        return error_message(str(exc), hint=hint)


def _help(cmd: grammar.Help, command: dict, radar: SlackRadar) -> Payload:
    return help_message(
        radar.settings.model_command,
        radar.settings.radar_command,
        not_understood=cmd.not_understood,
    )


def _latest(cmd: grammar.Latest, command: dict, radar: SlackRadar) -> Payload:
    service = radar.core.service
    releases = service.latest(cmd.count, cmd.filters)
    title = f"Latest notable releases ({describe(cmd.filters)})"
    return release_list(
        title,
        releases,
        {r.id: service.members(r) for r in releases},
        empty_text="No notable releases match yet. The radar records releases as it sees them.",
        hub_url=radar.hub_url,
    )


def _compare(cmd: grammar.Compare, command: dict, radar: SlackRadar) -> Payload:
    return _comparison(radar.core.service.compare(cmd.queries), radar)


def _comparison(lookups: list[ModelLookup], radar: SlackRadar) -> Payload:
    missing = [lookup.query for lookup in lookups if lookup.record is None]
    if missing:
        names = ", ".join(f"“{q}”" for q in missing)
        return error_message(
            f"I could not find {names}.",
            hint="Use repo ids (`org/name`) or quote free text: "
            f'`{radar.settings.radar_command} compare "deepseek r1" "qwen3 32b"`',
        )
    records = [lookup.record for lookup in lookups if lookup.record is not None]
    labels = {
        lookup.record.id: (
            lookup.lab.name if lookup.lab else None,
            lookup.lab.country if lookup.lab else None,
        )
        for lookup in lookups
        if lookup.record is not None
    }
    return comparison_table(comparison(records, labels, hub_url=radar.hub_url), records, labels)


def _stats(cmd: grammar.Stats, command: dict, radar: SlackRadar) -> Payload:
    now = radar.core.clock()
    board = scoreboard(radar.core.store, start=now - timedelta(days=cmd.days), end=now)
    return stats_with_race(stats_table(stats_message(board, days=cmd.days), board), radar.core)


def _adoption(cmd: grammar.Adoption, command: dict, radar: SlackRadar) -> Payload:
    return answer_adoption(cmd.target, radar.core, radar_command=radar.settings.radar_command)


def _refuse_unless_admin(command: dict, radar: SlackRadar) -> Payload | None:
    if radar.may_change_settings(command.get("user_id")):
        return None
    return error_message(
        "Sorry, only the radar's admins can change subscriptions and tracked labs here.",
        hint="Ask an admin, or use `latest`, `stats` and `/model`, which are open to everyone.",
    )


def _subscribe(cmd: grammar.Subscribe, command: dict, radar: SlackRadar) -> Payload:
    if refusal := _refuse_unless_admin(command, radar):
        return refusal
    channel = command.get("channel_id") or ""
    sub, created = radar.core.channels.subscribe(channel, cmd.filters, command.get("user_id"))
    what = describe(cmd.filters)
    if created:
        return _ok(
            f"Subscribed this channel to notable releases: {escape(what)}. "
            f"Subscription id `{sub.id}`.",
            f"A weekly digest comes with it (Monday 09:00 by default). "
            f"`{radar.settings.radar_command} unsubscribe {sub.id}` to stop.",
        )
    return _ok(f"This channel already has that subscription (`{sub.id}`): {escape(what)}.")


def _unsubscribe(cmd: grammar.Unsubscribe, command: dict, radar: SlackRadar) -> Payload:
    if refusal := _refuse_unless_admin(command, radar):
        return refusal
    channel = command.get("channel_id") or ""
    removed = radar.core.channels.unsubscribe(channel, cmd.target)
    if removed:
        ids = ", ".join(f"`{s.id}`" for s in removed)
        if not radar.core.channels.subscriptions(channel):
            return _ok(
                f"Removed {ids}. This channel gets no more alerts and no weekly digest.",
                f"`{radar.settings.radar_command} digest weekly mon 09:00` keeps the digest "
                "without alerts.",
            )
        return _ok(f"Removed {ids}. This channel will get no alerts from them.")
    current = radar.core.channels.subscriptions(channel)
    hint = (
        "This channel's subscriptions: " + ", ".join(f"`{s.id}`" for s in current)
        if current
        else "This channel has no subscriptions."
    )
    return error_message(f"There is no subscription `{cmd.target}` here.", hint=hint)


def _subscriptions(cmd: grammar.ListSubscriptions, command: dict, radar: SlackRadar) -> Payload:
    channels = radar.core.channels
    channel = command.get("channel_id") or ""
    return subscriptions_list(
        channels.subscriptions(channel),
        channels.active_mutes(channel),
        channels.schedule(channel),
        now=radar.core.clock(),
        radar_command=radar.settings.radar_command,
        failed=radar.core.outbox.failed(channel),
    )


def _mute(cmd: grammar.MuteLab, command: dict, radar: SlackRadar) -> Payload:
    channel = command.get("channel_id") or ""
    until = radar.core.clock() + cmd.duration if cmd.duration else None
    radar.core.channels.mute(channel, cmd.org, until, command.get("user_id"))
    when = f"until {until:%Y-%m-%d %H:%M} UTC" if until else "until you unmute it"
    return _ok(
        f"Muted `{escape(cmd.org)}` in this channel {when}.",
        f"`{radar.settings.radar_command} unmute {escape(cmd.org)}` to hear from it again.",
    )


def _unmute(cmd: grammar.UnmuteLab, command: dict, radar: SlackRadar) -> Payload:
    channel = command.get("channel_id") or ""
    if radar.core.channels.unmute(channel, cmd.org):
        return _ok(f"Unmuted `{escape(cmd.org)}` in this channel.")
    return error_message(f"`{cmd.org}` was not muted here.")


def _digest_now(cmd: grammar.DigestNow, command: dict, radar: SlackRadar) -> Payload:
    channel = command.get("channel_id") or ""
    now = radar.core.clock()
    next_run = radar.core.channels.claim_digest_now(channel, now)
    if next_run is not None:
        minutes = max(1, math.ceil((next_run - now).total_seconds() / 60))
        return error_message(
            "A digest was posted here on demand a few minutes ago.",
            hint=f"`digest now` can run again in this channel in {minutes} min "
            f"(at {next_run:%H:%M} UTC). The weekly digest comes on its own.",
        )
    result = None
    try:
        result = radar.digests.post(channel)
    finally:
        if result is None or not result.ok:  # nothing was posted: the channel may retry
            radar.core.channels.release_digest_now(channel, now)
    if result.ok:
        return _ok("Posted this week's digest to the channel.")
    if result.error in errors.NEEDS_INVITE:
        return error_message(
            "I cannot post in this channel yet.",
            hint="Invite me first: `/invite @Open Model Radar`.",
        )
    return error_message(f"Slack did not accept the digest ({result.error or 'error'}).")


def _digest_weekly(cmd: grammar.DigestWeekly, command: dict, radar: SlackRadar) -> Payload:
    if refusal := _refuse_unless_admin(command, radar):
        return refusal
    schedule = radar.core.channels.set_schedule(
        command.get("channel_id") or "", cmd.weekday, cmd.time, cmd.timezone
    )
    return _ok(
        f"Weekly digest set: every {weekday_name(schedule.weekday)} at {schedule.time} "
        f"({escape(schedule.timezone)})."
    )


def _digest_off(cmd: grammar.DigestOff, command: dict, radar: SlackRadar) -> Payload:
    if refusal := _refuse_unless_admin(command, radar):
        return refusal
    radar.core.channels.disable_digest(command.get("channel_id") or "")
    return _ok(
        "Weekly digests are off for this channel. Alerts are unaffected.",
        f"`{radar.settings.radar_command} digest weekly mon 09:00` turns them back on.",
    )


def _labs(cmd: grammar.Labs, command: dict, radar: SlackRadar) -> Payload:
    return labs_list(
        radar.core.registry.labs(cmd.country),
        country=cmd.country,
        radar_command=radar.settings.radar_command,
    )


def _track(cmd: grammar.Track, command: dict, radar: SlackRadar) -> Payload:
    if refusal := _refuse_unless_admin(command, radar):
        return refusal
    try:
        lab = radar.core.service.track_lab(cmd.namespace, cmd.country)
    except ValueError as exc:
        return error_message(str(exc), hint=f"Usage: `{grammar.USAGE['track']}`")
    return _ok(
        f"Now tracking `{escape(lab.namespace)}` ({escape(lab.country or '?')}, "
        f"{lab.region.value}). Its existing models are recorded quietly on the next poll; "
        "new releases after that are announced." + _webhooks_follow(radar)
    )


def _untrack(cmd: grammar.Untrack, command: dict, radar: SlackRadar) -> Payload:
    if refusal := _refuse_unless_admin(command, radar):
        return refusal
    if radar.core.service.untrack_lab(cmd.namespace):
        return _ok(f"Stopped tracking `{escape(cmd.namespace)}`." + _webhooks_follow(radar))
    return error_message(f"`{cmd.namespace}` is not a tracked lab.")


def _webhooks_follow(radar: SlackRadar) -> str:
    """Bring the Hub webhooks in step with the tracked labs, off the answer's thread."""
    settings = radar.settings
    if not webhooks_managed(settings):
        return ""
    radar.waiting.submit(sync_quietly, settings, radar.core.registry)
    return " The Hub webhooks follow in a moment."


def _ok(text: str, hint: str | None = None) -> Payload:
    return ok_message(text, hint)  # through enforce_limits, like every payload


# Subcommands that write the store (and may queue behind a poll's commit): on the write
# pool, which no network wait can fill (see `bot.slack.context`).
WRITES = (
    grammar.Subscribe,
    grammar.Unsubscribe,
    grammar.MuteLab,
    grammar.UnmuteLab,
    grammar.DigestWeekly,
    grammar.DigestOff,
    grammar.Track,
    grammar.Untrack,
)
# Subcommands that call Slack's Web API: on the Slack pool.
CALLS_SLACK = (grammar.DigestNow,)

HANDLERS: dict[type, Callable[[Any, dict, SlackRadar], Payload]] = {
    grammar.Help: _help,
    grammar.Latest: _latest,
    grammar.Compare: _compare,
    grammar.Stats: _stats,
    grammar.Adoption: _adoption,
    grammar.Subscribe: _subscribe,
    grammar.Unsubscribe: _unsubscribe,
    grammar.ListSubscriptions: _subscriptions,
    grammar.MuteLab: _mute,
    grammar.UnmuteLab: _unmute,
    grammar.DigestNow: _digest_now,
    grammar.DigestWeekly: _digest_weekly,
    grammar.DigestOff: _digest_off,
    grammar.Labs: _labs,
    grammar.Track: _track,
    grammar.Untrack: _untrack,
}
