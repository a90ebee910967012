"""Buttons on cards and alerts. Each acks first; the answer follows through `respond`.

A button's value comes back from the client, and anyone with the signing secret's
signature on a request can put anything in it. So every value goes through the same
validator as the typed command it stands for (`bot.slack.grammar`): a value typing could
not produce gets a refusal and changes nothing.
"""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App, BoltContext, Respond

from bot.radar.models import lead_member
from bot.radar.service import ModelLookup
from bot.slack import grammar, ids
from bot.slack.context import Reply, SlackRadar
from bot.slack.grammar import UsageError
from bot.slack.listeners.commands import lookup_payload
from bot.slack.mrkdwn import escape
from bot.slack.render import error_message, model_card

log = logging.getLogger(__name__)

ALTERNATIVE = ids.MODEL_ALTERNATIVE
URL_BUTTONS = ids.URL_BUTTONS
ANY = re.compile(r".*", re.DOTALL)
# `bot.radar.releases.release_id`: `<lab>/<stem>@<YYYY-MM-DD>`.
RELEASE_ID = re.compile(r"^[\w.\-]{1,96}/[\w.\-]{1,200}@\d{4}-\d{2}-\d{2}$")


def register(app: App) -> None:
    app.action(ids.SHARE_MODEL)(share_model)
    app.action(ALTERNATIVE)(show_alternative)
    app.action(ids.RELEASE_DETAILS)(release_details)
    app.action(ids.MUTE_LAB)(mute_lab)
    app.action(URL_BUTTONS)(acknowledge_link)
    app.action(ANY)(unknown_action)  # last: only what nothing above matched


def _value(body: dict) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _refuse(respond: Reply, problem: str) -> None:
    """The answer to a button whose value no button of ours carries."""
    log.info("refused a button value: %s", problem)
    respond(
        **error_message(
            "That button carried a value I cannot use, so I changed nothing.",
            hint=problem,
        ),
        response_type="ephemeral",
        replace_original=False,
    )


def _model_value(body: dict, respond: Reply) -> str | None:
    """The button's model query, checked as `/model` checks a typed one; None if refused."""
    try:
        return grammar.model_query(_value(body))
    except UsageError as exc:
        _refuse(respond, str(exc))
        return None


def _channel(body: dict) -> str:
    return str((body.get("channel") or {}).get("id") or "")


def share_model(ack: Ack, body: dict, respond: Respond, radar: SlackRadar) -> None:
    """Post the card the user was looking at, publicly, in the channel."""
    ack()
    radar.after_ack(respond, lambda reply: _answer_share(body, radar, respond, reply))


def _answer_share(body: dict, radar: SlackRadar, respond: Respond, reply: Reply) -> None:
    query = _model_value(body, reply)
    if query is not None:
        radar.answer_lookup(
            respond, reply, query, lambda lookup, send: _share_model(lookup, send, radar)
        )


def _share_model(lookup: ModelLookup, reply: Reply, radar: SlackRadar) -> None:
    if lookup.record is None:
        reply(
            **error_message("That model is no longer available."),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    # The public copy is the card alone: "did you mean" buttons would let anyone in the
    # channel replace the shared message with another model's card.
    lookup.alternatives = []
    payload = lookup_payload(lookup, radar, shareable=False)
    reply(**payload, response_type="in_channel", replace_original=False)


def show_alternative(ack: Ack, body: dict, respond: Respond, radar: SlackRadar) -> None:
    """A "did you mean" choice replaces the card with the chosen model's."""
    ack()
    radar.after_ack(respond, lambda reply: _answer_alternative(body, radar, respond, reply))


def _answer_alternative(body: dict, radar: SlackRadar, respond: Respond, reply: Reply) -> None:
    query = _model_value(body, reply)
    if query is not None:
        radar.answer_lookup(
            respond,
            reply,
            query,
            lambda lookup, send: send(**lookup_payload(lookup, radar), replace_original=True),
        )


def release_details(ack: Ack, body: dict, respond: Respond, radar: SlackRadar) -> None:
    """The card of a release's lead model, shown only to the person who asked."""
    ack()
    radar.after_ack(respond, lambda reply: _release_details(body, reply, radar))


def _release_details(body: dict, respond: Reply, radar: SlackRadar) -> None:
    value = _value(body)
    if not RELEASE_ID.match(value):
        _refuse(respond, "It does not name a release.")
        return
    service = radar.core.service
    release = radar.core.store.releases.get(value)
    members = service.members(release)
    if release is None or not members:
        respond(
            **error_message("I no longer have that release."),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    lead = lead_member(members)
    assert lead is not None  # members is not empty
    lab = radar.core.registry.resolve(release.lab)
    payload = model_card(
        lead,
        lab_name=release.lab_name,
        country=lab.country if lab else release.country,
        release=release,
        siblings=[m for m in members if m.id != lead.id],
        alternatives=[],
        hub_url=radar.hub_url,
    )
    respond(**payload, response_type="ephemeral", replace_original=False)


def mute_lab(
    ack: Ack, body: dict, respond: Respond, radar: SlackRadar, context: BoltContext
) -> None:
    ack()
    team = radar.workspace_of(context)  # the mute is filed under the clicker's workspace
    # A store write, which may queue behind a poll's commit: on the write pool.
    radar.while_writing(respond, lambda reply: _mute_lab(body, reply, radar, team))


def _mute_lab(body: dict, respond: Reply, radar: SlackRadar, team: str) -> None:
    channel = _channel(body)
    if not _value(body) or not channel:
        respond(
            **error_message("I could not tell which lab to mute."),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    try:
        lab = grammar.lab_namespace(_value(body), radar.core.registry, "mute")
    except UsageError as exc:
        _refuse(respond, str(exc))
        return
    user = (body.get("user") or {}).get("id")
    radar.core.channels.mute(channel, lab, None, user, team_id=team)
    text = (
        f"Muted `{escape(lab)}` in this channel. "
        f"`{radar.settings.radar_command} unmute {escape(lab)}` to hear from it again."
    )
    respond(text=text, response_type="ephemeral", replace_original=False)


def acknowledge_link(ack: Ack) -> None:
    """Link buttons open in the browser; Slack still expects an ack."""
    ack()


def unknown_action(ack: Ack, body: dict) -> None:
    """A button the bot does not know (an old message, another app's block): acked, so
    Slack shows no error, and noted at debug level only."""
    ack()
    actions = body.get("actions") or [{}]
    log.debug("acknowledged an unknown action %r", str(actions[0].get("action_id"))[:100])
