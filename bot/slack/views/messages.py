"""Short answers: usage help, errors, and confirmations of a change."""

from __future__ import annotations

from bot.slack.mrkdwn import (
    escape,
    escape_inline,
    truncate,
)
from bot.slack.views.blocks import Block, Payload, _context, _header, _message, _section

_HELP_SECTIONS = (
    "*Look up a model*\n"
    "`{model} <repo id or free text>`: facts about one repo, "
    "e.g. `{model} Qwen/Qwen3-8B` or `{model} gemma 3 27b`",
    "*Releases*\n"
    "`{radar} latest [N] [filters]`: the newest notable releases\n"
    "`{radar} compare <a> <b> [<c>]`: two or three models side by side\n"
    "`{radar} stats [7d|30d|90d]`: releases by region and lab\n"
    "`{radar} adoption [<release or model> | <lab> | region]`: is it catching on?\n"
    "`{radar} labs [country]`: the labs being tracked",
    "*Channel alerts*\n"
    "`{radar} subscribe [filters]`: post new releases to this channel\n"
    "`{radar} unsubscribe <id|all>`: stop one subscription, or all of them\n"
    "`{radar} subscriptions`: this channel's subscriptions, mutes and digest\n"
    "`{radar} mute <org> [7d|12h]`: silence one lab, for a while or until unmuted\n"
    "`{radar} unmute <org>`: hear from it again",
    "*Weekly digest*\n"
    "`{radar} digest now`: post this week's digest here now\n"
    "`{radar} digest weekly <mon..sun> <HH:MM> [<IANA timezone>]`: "
    "e.g. `{radar} digest weekly mon 09:00 Europe/Paris`\n"
    "`{radar} digest off`: stop the weekly digest",
    "*Tracked labs*\n"
    "`{radar} track <namespace> <country>`: track a Hub organisation, "
    "e.g. `{radar} track allenai US`\n"
    "`{radar} untrack <namespace>`: stop tracking it",
    "*Filters* (combine them; all must match)\n"
    "`org:<namespace>` `country:<code or name>` `region:<us|china|eu|other>` "
    "`min-params:<N>B` `task:<pipeline tag>` `follow-ups:off` (no day-7/30/90 replies)\n"
    "e.g. `{radar} subscribe region:china min-params:30B task:text-generation`",
)


def _usage(template: str, *, model_command: str = "/model", radar_command: str = "/radar") -> str:
    """A usage template made safe for mrkdwn: its `<placeholders>` must not parse as links."""
    return escape(template).format(
        model=escape_inline(model_command), radar=escape_inline(radar_command)
    )


def help_message(
    model_command: str, radar_command: str, *, not_understood: str | None = None
) -> Payload:
    """Full usage of both commands; opens with what was not understood when there was something."""
    commands = {"model_command": model_command, "radar_command": radar_command}
    blocks: list[Block] = []
    if not_understood is not None:
        shown = truncate(escape_inline(not_understood.replace("\n", " ")), 200)
        blocks.append(_section(f":thinking_face: I didn't understand `{shown or ' '}`"))
    blocks.append(_header("Open Model Radar: how to use it"))
    blocks += [_section(_usage(template, **commands)) for template in _HELP_SECTIONS]
    blocks.append(_context(_usage("`{radar} help` shows this message again.", **commands)))
    fallback = f"Open Model Radar help: {escape(model_command)} and {escape(radar_command)}"
    if not_understood is not None:
        fallback = f"I didn't understand that. {fallback}"
    return _message(fallback, blocks)


def error_message(text: str, *, hint: str | None = None) -> Payload:
    """A short, friendly error for the person who asked (sent ephemerally by the caller)."""
    blocks: list[Block] = [_section(f":warning: {escape(text)}")]
    if hint:
        blocks.append(_context(escape(hint)))
    fallback = escape(text) if not hint else f"{escape(text)} {escape(hint)}"
    return _message(fallback, blocks)


def ok_message(text: str, hint: str | None = None) -> Payload:
    """A confirmation of a change (`text` is mrkdwn the caller escaped), with an optional hint."""
    blocks: list[Block] = [_section(text)]
    if hint:
        blocks.append(_context(hint))
    return _message(text, blocks)
