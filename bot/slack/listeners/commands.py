"""Slash commands: `/model <query>` and `/radar <subcommand>`.

Each handler acks at once (Slack's 3-second limit is for the ack, and an empty ack costs
nothing), then parses, asks the domain and answers through `respond`. Any failure after
the ack becomes a friendly ephemeral reply and a log line, never silence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.radar.digest import scoreboard
from bot.radar.filters import describe
from bot.radar.service import ModelLookup
from bot.slack import grammar
from bot.slack.adoption_answers import answer_adoption, stats_with_race
from bot.slack.context import Reply, SlackRadar
from bot.slack.grammar import UsageError
from bot.slack.listeners import channel_commands as channel
from bot.slack.listeners.channel_commands import refuse_unless_admin
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


def _labs(cmd: grammar.Labs, command: dict, radar: SlackRadar) -> Payload:
    return labs_list(
        radar.core.registry.labs(cmd.country),
        country=cmd.country,
        radar_command=radar.settings.radar_command,
    )


def _refuse_unless_operator(command: dict, radar: SlackRadar) -> Payload | None:
    """The refusal for a user who may not change the tracked labs, else None."""
    if not radar.workspaces.multi:
        return refuse_unless_admin(command, radar)
    if radar.may_change_labs(command.get("user_id"), command.get("team_id")):
        return None
    return error_message(
        "Sorry, the tracked labs are shared by every workspace this radar serves, so only "
        "its operators can change them.",
        hint="Ask the radar's operator; `labs` lists what is tracked, open to everyone.",
    )


def _track(cmd: grammar.Track, command: dict, radar: SlackRadar) -> Payload:
    if refusal := _refuse_unless_operator(command, radar):
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
    if refusal := _refuse_unless_operator(command, radar):
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
    grammar.Subscribe: channel.subscribe,
    grammar.Unsubscribe: channel.unsubscribe,
    grammar.ListSubscriptions: channel.subscriptions,
    grammar.MuteLab: channel.mute,
    grammar.UnmuteLab: channel.unmute,
    grammar.DigestNow: channel.digest_now,
    grammar.DigestWeekly: channel.digest_weekly,
    grammar.DigestOff: channel.digest_off,
    grammar.Labs: _labs,
    grammar.Track: _track,
    grammar.Untrack: _untrack,
}
