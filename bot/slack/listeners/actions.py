"""Buttons on cards and alerts. Each acks first; the answer follows through `respond`."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond

from bot.radar.models import lead_member
from bot.radar.service import ModelLookup
from bot.slack import ids
from bot.slack.context import Reply, SlackRadar
from bot.slack.listeners.commands import lookup_payload
from bot.slack.mrkdwn import escape
from bot.slack.render import error_message, model_card

log = logging.getLogger(__name__)

ALTERNATIVE = ids.MODEL_ALTERNATIVE
URL_BUTTONS = ids.URL_BUTTONS


def register(app: App) -> None:
    app.action(ids.SHARE_MODEL)(share_model)
    app.action(ALTERNATIVE)(show_alternative)
    app.action(ids.RELEASE_DETAILS)(release_details)
    app.action(ids.MUTE_LAB)(mute_lab)
    app.action(URL_BUTTONS)(acknowledge_link)


def _value(body: dict) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")[:300]


def _channel(body: dict) -> str:
    return str((body.get("channel") or {}).get("id") or "")


def share_model(ack: Ack, body: dict, respond: Respond, radar: SlackRadar) -> None:
    """Post the card the user was looking at, publicly, in the channel."""
    ack()
    radar.after_ack(
        respond,
        lambda reply: radar.answer_lookup(
            respond, reply, _value(body), lambda lookup, send: _share_model(lookup, send, radar)
        ),
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
    radar.after_ack(
        respond,
        lambda reply: radar.answer_lookup(
            respond,
            reply,
            _value(body),
            lambda lookup, send: send(**lookup_payload(lookup, radar), replace_original=True),
        ),
    )


def release_details(ack: Ack, body: dict, respond: Respond, radar: SlackRadar) -> None:
    """The card of a release's lead model, shown only to the person who asked."""
    ack()
    radar.after_ack(respond, lambda reply: _release_details(body, reply, radar))


def _release_details(body: dict, respond: Reply, radar: SlackRadar) -> None:
    service = radar.core.service
    release = radar.core.store.releases.get(_value(body))
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


def mute_lab(ack: Ack, body: dict, respond: Respond, radar: SlackRadar) -> None:
    ack()
    # A store write, which may queue behind a poll's commit: on the I/O pool.
    radar.while_waiting(respond, lambda reply: _mute_lab(body, reply, radar))


def _mute_lab(body: dict, respond: Reply, radar: SlackRadar) -> None:
    lab = _value(body)
    channel = _channel(body)
    if not lab or not channel:
        respond(
            **error_message("I could not tell which lab to mute."),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    user = (body.get("user") or {}).get("id")
    radar.core.channels.mute(channel, lab, None, user)
    text = (
        f"Muted `{escape(lab)}` in this channel. "
        f"`{radar.settings.radar_command} unmute {escape(lab)}` to hear from it again."
    )
    respond(text=text, response_type="ephemeral", replace_original=False)


def acknowledge_link(ack: Ack) -> None:
    """Link buttons open in the browser; Slack still expects an ack."""
    ack()
