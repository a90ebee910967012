"""Block Kit building blocks and Slack's limits: every payload the bot sends goes through here.

The builders make sections, headers, buttons …; `enforce_limits` then cuts whatever is too
long or too many (a 10,000-member release, a 100 kB model name) so Slack never rejects a
message, and `_message` pairs the blocks with a short notification fallback. The packing
helpers split long lists into whole lines per section with an "…and N more" tail.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from bot.slack.mrkdwn import (
    plain,
    truncate,
)

Block = dict[str, Any]
Payload = dict[str, Any]
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 2000
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_URL = 3000
MAX_ID = 255
MAX_FALLBACK_TEXT = 1000  # Slack allows 40,000; a notification preview needs far less
# Sections are packed a little under Slack's limit so a final "…and N more" line still fits.
_PACKED_SECTION = 2800
_MAX_LIST_ITEMS = 50


def _join_within(lines: Sequence[str], limit: int, noun: str, *, total: int | None = None) -> str:
    """Whole lines up to `limit` characters, then "…and N more <noun>" for the rest.

    `total` is how many items the list stands for when the caller already dropped some.
    """
    count = len(lines) if total is None else max(total, len(lines))
    kept: list[str] = []
    used = 0
    for index, raw in enumerate(lines):
        line = truncate(raw, limit // 2)
        remaining_after = count - index - 1
        reserve = len(f"\n…and {remaining_after} more {noun}") if remaining_after else 0
        if used + len(line) + reserve > limit:
            return "\n".join([*kept, f"…and {count - index} more {noun}"])
        kept.append(line)
        used += len(line) + 1
    if count > len(kept):
        kept.append(f"…and {count - len(kept)} more {noun}")
    return "\n".join(kept)


def _capped_lines(
    items: Sequence[Any], line_of: Callable[[Any], str], noun: str, *, cap: int = _MAX_LIST_ITEMS
) -> list[str]:
    """Lines for the first `cap` items, then "…and N more <noun>", so huge lists stay cheap."""
    lines = [line_of(item) for item in items[:cap]]
    if len(items) > cap:
        lines.append(f"…and {len(items) - cap} more {noun}")
    return lines


def _pack_lines(lines: Sequence[str], *, limit: int = _PACKED_SECTION) -> list[str]:
    """Group whole lines into texts of at most `limit` characters, one per section."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for raw in lines:
        line = truncate(raw, limit)
        if current and size + len(line) + 1 > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        chunks.append("\n".join(current))
    return chunks


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _plain_text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _single_line(text: str) -> str:
    return " ".join(plain(text).split())


def _header(text: str) -> Block:
    return {"type": "header", "text": _plain_text(_single_line(text))}


def _section(
    text: str | None = None, *, fields: Sequence[str] = (), block_id: str | None = None
) -> Block:
    block: Block = {"type": "section"}
    if text is not None:
        block["text"] = _mrkdwn(text)
    if fields:
        block["fields"] = [_mrkdwn(field) for field in fields]
    if block_id is not None:
        block["block_id"] = block_id
    return block


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text) for text in texts]}


def _divider() -> Block:
    return {"type": "divider"}


def _button(
    label: str,
    *,
    action_id: str,
    value: str | None = None,
    url: str | None = None,
    style: str | None = None,
) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": _plain_text(_single_line(label)),
        "action_id": action_id,
    }
    if value is not None:
        button["value"] = value
    if url is not None and url.startswith(("https://", "http://")):
        button["url"] = url
    if style is not None:
        button["style"] = style
    return button


def _actions(buttons: Sequence[dict[str, Any]], *, block_id: str) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(buttons)}


def _message(
    fallback: str, blocks: list[Block], *, max_blocks: int = MAX_MESSAGE_BLOCKS
) -> Payload:
    text = truncate(fallback.strip(), MAX_FALLBACK_TEXT) or "Open Model Radar"
    return {"text": text, "blocks": enforce_limits(blocks, max_blocks=max_blocks)}


def _shorten(text: str, limit: int) -> str:
    """Cut at a line break when one is reasonably close, so lists lose whole items."""
    if len(text) <= limit:
        return text
    newline = text.rfind("\n", 0, limit - 2)
    if newline > limit // 2:
        return text[:newline] + "\n…"
    return truncate(text, limit)


def _fit_text(obj: Any, limit: int) -> dict[str, Any] | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return None
    if not obj["text"].strip():
        return None
    fitted = dict(obj)
    fitted["text"] = _shorten(obj["text"], limit)
    return fitted


def _fit_element(element: Any) -> dict[str, Any] | None:
    if not isinstance(element, dict):
        return None
    fitted = dict(element)
    if fitted.get("type") == "button":
        text = _fit_text(fitted.get("text"), MAX_BUTTON_TEXT)
        if text is None:
            return None
        fitted["text"] = {**text, "type": "plain_text"}
        if isinstance(fitted.get("value"), str):
            fitted["value"] = fitted["value"][:MAX_BUTTON_VALUE]
        if isinstance(fitted.get("url"), str) and len(fitted["url"]) > MAX_BUTTON_URL:
            del fitted["url"]
    if isinstance(fitted.get("action_id"), str):
        fitted["action_id"] = fitted["action_id"][:MAX_ID]
    return fitted


def _fit_block(block: Block) -> list[Block]:
    """One block made to fit Slack's limits; may become several blocks, or none if empty."""
    kind = block.get("type")
    if isinstance(block.get("block_id"), str):
        block["block_id"] = block["block_id"][:MAX_ID]
    if kind == "header":
        text = _fit_text(block.get("text"), MAX_HEADER_TEXT)
        return [{**block, "text": {**text, "type": "plain_text"}}] if text else []
    if kind == "section":
        text = _fit_text(block.get("text"), MAX_SECTION_TEXT)
        fields = [
            f for f in (_fit_text(item, MAX_FIELD_TEXT) for item in block.get("fields") or []) if f
        ]
        first: Block = {k: v for k, v in block.items() if k not in ("text", "fields", "accessory")}
        if text is not None:
            first["text"] = text
        accessory = _fit_element(block.get("accessory"))
        if accessory is not None:
            first["accessory"] = accessory
        if fields:
            first["fields"] = fields[:MAX_FIELDS]
        if text is None and not fields:
            return []
        extra = [
            {"type": "section", "fields": fields[start : start + MAX_FIELDS]}
            for start in range(MAX_FIELDS, len(fields), MAX_FIELDS)
        ]
        return [first, *extra]
    if kind == "context":
        elements = []
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "image":
                elements.append(element)
            elif (fitted := _fit_text(element, MAX_CONTEXT_TEXT)) is not None:
                elements.append(fitted)
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            hidden = len(elements) - (MAX_CONTEXT_ELEMENTS - 1)
            elements = [*elements[: MAX_CONTEXT_ELEMENTS - 1], _mrkdwn(f"…and {hidden} more")]
        return [{**block, "elements": elements}] if elements else []
    if kind == "actions":
        elements = [e for e in (_fit_element(item) for item in block.get("elements") or []) if e]
        groups = [
            elements[start : start + MAX_ACTIONS_ELEMENTS]
            for start in range(0, len(elements), MAX_ACTIONS_ELEMENTS)
        ]
        fitted_blocks = [{**block, "elements": group} for group in groups]
        for block_copy in fitted_blocks[1:]:
            block_copy.pop("block_id", None)
        return fitted_blocks
    return [block]


def _unique_ids(blocks: list[Block]) -> None:
    """Slack rejects repeated block_ids (and action_ids within a block): suffix repeats."""
    seen: set[str] = set()
    for block in blocks:
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            candidate, counter = block_id, 2
            while candidate in seen:
                suffix = f"-{counter}"
                candidate = block_id[: MAX_ID - len(suffix)] + suffix
                counter += 1
            block["block_id"] = candidate
            seen.add(candidate)
        action_ids: set[str] = set()
        for element in block.get("elements") or []:
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                candidate, counter = action_id, 2
                while candidate in action_ids:
                    suffix = f"-{counter}"
                    candidate = action_id[: MAX_ID - len(suffix)] + suffix
                    counter += 1
                element["action_id"] = candidate
                action_ids.add(candidate)


def enforce_limits(blocks: Sequence[Block], *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[Block]:
    """Blocks that Slack will accept: texts shortened, empty blocks dropped, overflow summarised.

    Texts are cut at line breaks where possible (never inside an escape entity or link), too
    many fields or buttons spill into extra blocks, and when the message still has more than
    `max_blocks` blocks the tail is replaced by one "…and N more" context block.
    """
    fitted: list[Block] = []
    for block in blocks:
        fitted.extend(_fit_block(copy.deepcopy(block)))
    if len(fitted) > max_blocks:
        kept = fitted[: max_blocks - 1]
        hidden = len(fitted) - len(kept)
        kept.append(_context(f"…and {hidden} more not shown"))
        fitted = kept
    _unique_ids(fitted)
    return fitted
