"""Block Kit messages built from domain records: pure functions, escaped text, Slack's limits.

Every public renderer returns a payload `{"text": <fallback>, "blocks": [...]}` (the Home tab
returns a view) that has already been passed through `enforce_limits`, so a 10,000-member
release or a 100 kB model name can never make Slack reject a message. Anything that came from
the Hub or from a user is escaped with `bot.slack.mrkdwn`; nothing here produces a
`<!channel>`-style broadcast or a `<@user>` mention from data.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.radar.digest import Digest, Scoreboard
from bot.radar.models import (
    DigestSchedule,
    Lab,
    LicenseClass,
    ModelRecord,
    Mute,
    Release,
    Subscription,
    lead_member,
)
from bot.radar.outbox import FailedAlert
from bot.radar.vocabulary import (
    REGION_MARKS,
    REGION_NAMES,
    REGION_ORDER,
    WEEKDAY_NAMES,
    by_size,
    count_text,
    country_text,
    flag,
    params_text,
    record_size_text,
    size_range_text,
    size_text,
)
from bot.slack import ids
from bot.slack.mrkdwn import (
    HUB_URL,
    escape,
    escape_inline,
    hub_link,
    hub_url,
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
_MAX_RELEASE_SIBLINGS = 10
_MAX_ALTERNATIVES = 3
_MAX_COMPARED = 3
_MAX_LABS_PER_REGION = 100
_MAX_HOME_CHANNELS = 25

EVENT_TYPE_RELEASE = ids.RELEASE_EVENT

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
_REGION_ORDER = REGION_ORDER
_REGION_LABELS = {region: (REGION_MARKS[region], REGION_NAMES[region]) for region in REGION_ORDER}
_DERIVATIVE_NOUNS = {
    "quantized": ("quantized", "quantized"),
    "finetune": ("fine-tune", "fine-tunes"),
    "adapter": ("adapter", "adapters"),
    "merge": ("merge", "merges"),
}
_WEEKDAY_NAMES = WEEKDAY_NAMES


# ---------------------------------------------------------------------------------------------
# Small formatting helpers
# ---------------------------------------------------------------------------------------------


def _country_label(code: str | None) -> str:
    return escape(country_text(code))


# The words for sizes and counts are the domain's (`bot.radar.vocabulary`), shared with the
# terminal; these names stay for callers of the renderer.
format_params = params_text
format_size = size_text
format_count = count_text


def _date(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment is not None else "unknown"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _derivatives(record: ModelRecord) -> str:
    if not record.children:
        return "none counted yet" if not record.detailed else "none yet"
    parts = []
    for kind, count in sorted(record.children.items(), key=lambda item: -item[1]):
        one, many = _DERIVATIVE_NOUNS.get(kind, (kind, kind))
        parts.append(f"{format_count(count)} {escape(one if count == 1 else many)}")
    return " · ".join(parts)


def _license(record: ModelRecord) -> str:
    name = record.license_name or record.license or "unknown"
    return f"{escape(name)} ({record.license_class.value})"


def _by_size(records: Iterable[ModelRecord]) -> list[ModelRecord]:
    return by_size(records)


def _size_range(records: Sequence[ModelRecord]) -> str:
    return size_range_text(r.params_total for r in records)


def _member_line(record: ModelRecord, base: str) -> str:
    size = record_size_text(record)
    return f"• {hub_link(record.id, record.name, base=base)} · {size}"


def _lead_member(release: Release, members: Sequence[ModelRecord]) -> str | None:
    """The repo a release's title links to: the domain's lead member, else its first id."""
    lead = lead_member(members)
    if lead is not None:
        return lead.id
    return release.members[0] if release.members else None


def _channel_ref(channel_id: str) -> str:
    """A clickable channel reference (not a ping); anything odd is shown as escaped text."""
    return f"<#{channel_id}>" if _CHANNEL_ID.match(channel_id) else escape(channel_id)


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


# ---------------------------------------------------------------------------------------------
# Block builders
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Model card
# ---------------------------------------------------------------------------------------------


def _reasons_text(title: str, reasons: Sequence[str]) -> str:
    lines = [f"• {escape(reason)}" for reason in reasons if str(reason).strip()]
    return (
        f"*{title}*\n" + _join_within(lines, _PACKED_SECTION, "reasons") if lines else f"*{title}*"
    )


def model_card(
    record: ModelRecord,
    *,
    lab_name: str | None,
    country: str | None,
    release: Release | None,
    siblings: Sequence[ModelRecord],
    alternatives: Sequence[str],
    hub_url: str = HUB_URL,
    shareable: bool = True,
) -> Payload:
    """Everything the radar knows about one repo, for `/model` and the "Model details" button."""
    lab_label = lab_name or record.lab or record.author
    size = record_size_text(record)
    downloads = f"{format_count(record.downloads)} last 30 d"
    if record.downloads_all_time is not None:
        downloads += f" · {format_count(record.downloads_all_time)} all time"
    first_seen = _date(record.first_seen)
    if record.created_at is not None and _date(record.created_at) != first_seen:
        first_seen += f" (created {_date(record.created_at)})"
    fields = [
        f"*Lab*\n{flag(country)} {escape(lab_label)} · {_country_label(country)}",
        f"*First seen*\n{first_seen}",
        f"*Parameters*\n{size}",
        f"*Task*\n{escape(record.pipeline_tag or 'unknown')}",
        f"*License*\n{_license(record)}",
        f"*Gated*\n{'Yes: accept the terms on the Hub' if record.gated else 'No'}",
        f"*Openness*\n{record.openness.value}",
        f"*Downloads*\n{downloads}",
        f"*Likes*\n{format_count(record.likes)}",
        f"*Derivatives*\n{_derivatives(record)}",
    ]
    blocks: list[Block] = [
        _header(record.id),
        _section(hub_link(record.id, base=hub_url), fields=fields, block_id="model_facts"),
    ]

    others = [s for s in siblings if s.id.lower() != record.id.lower()]
    if release is not None or others:
        if release is not None:
            total = max(len(release.members), len(others) + 1)
            intro = (
                f"*Part of the release “{truncate(escape(release.title), 200)}”* "
                f"({_plural(total, 'model', 'models')})"
            )
        else:
            total = len(others) + 1
            intro = "*Same family*"
        ordered = _by_size(others)
        lines = [_member_line(s, hub_url) for s in ordered[:_MAX_RELEASE_SIBLINGS]]
        listed = _join_within(
            lines, _PACKED_SECTION - len(intro), "models", total=max(len(ordered), total - 1)
        )
        blocks.append(_section(f"{intro}\n{listed}" if listed else intro))

    reasons = record.reasons or (release.reasons if release is not None else [])
    if record.notable:
        blocks.append(_section(_reasons_text("Why it's on the radar", reasons)))
    elif record.reasons:
        blocks.append(_section(_reasons_text("Not flagged as a notable release", record.reasons)))
    else:
        blocks.append(_section("*Not flagged as a notable release*"))

    suggestions = [alt for alt in alternatives if alt and alt.lower() != record.id.lower()]
    suggestions = suggestions[:_MAX_ALTERNATIVES]
    if suggestions:
        blocks.append(_section("*Did you mean?*"))
        blocks.append(
            _actions(
                [
                    _button(alt, action_id=ids.model_alternative(index), value=alt)
                    for index, alt in enumerate(suggestions)
                ],
                block_id="model_alternatives",
            )
        )

    buttons = []
    if shareable:
        buttons.append(
            _button("Share in channel", action_id=ids.SHARE_MODEL, value=record.id, style="primary")
        )
    buttons.append(
        _button(
            "View on Hugging Face", action_id=ids.OPEN_MODEL_HUB, url=_hub_page(record.id, hub_url)
        )
    )
    blocks.append(_actions(buttons, block_id="model_actions"))
    blocks.append(_context("Downloads are the Hub's rolling 30-day count. Data: Hugging Face Hub."))

    fallback = (
        f"{escape(record.id)}: {escape(lab_label)}, {size}, "
        f"{record.license_class.value} license{', gated' if record.gated else ''}"
    )
    return _message(fallback, blocks)


def _hub_page(repo_id: str, base: str) -> str:
    return hub_url(repo_id, base=base)


# ---------------------------------------------------------------------------------------------
# Release alerts
# ---------------------------------------------------------------------------------------------


def release_metadata(release: Release) -> dict[str, Any]:
    """Message metadata, so after a restart delivery can find an alert it already posted."""
    return {"event_type": EVENT_TYPE_RELEASE, "event_payload": {"release_id": release.id}}


def _release_member_lines(release: Release, members: Sequence[ModelRecord], base: str) -> list[str]:
    lines = [_member_line(member, base) for member in _by_size(members)]
    known = {member.id.lower() for member in members}
    lines += [
        f"• {hub_link(repo_id, repo_id.split('/', 1)[-1], base=base)}"
        for repo_id in release.members
        if repo_id.lower() not in known
    ]
    return lines


def _member_count(release: Release, members: Sequence[ModelRecord]) -> int:
    known = {member.id.lower() for member in members}
    return len(known | {repo_id.lower() for repo_id in release.members})


def _license_summary(members: Sequence[ModelRecord]) -> str:
    classes = sorted({m.license_class for m in members}, key=list(LicenseClass).index)
    if not classes:
        return LicenseClass.UNKNOWN.value
    return ", ".join(license_class.value for license_class in classes)


def _gated_summary(members: Sequence[ModelRecord]) -> str:
    gated = sum(1 for m in members if m.gated)
    if gated == 0:
        return "No"
    if gated == len(members):
        return "Yes: accept the terms on the Hub"
    return f"{gated} of {len(members)} repos"


def release_alert(
    release: Release, members: Sequence[ModelRecord], *, hub_url: str = HUB_URL
) -> Payload:
    """The one channel message for a new release (a family of sizes is one alert)."""
    count = _member_count(release, members)
    emoji = flag(release.country)
    lab = escape(release.lab_name)
    summary = (
        f"*New open-weight release* from *{escape_inline(release.lab_name)}* · "
        f"{_country_label(release.country)}\n"
        f"{_plural(count, 'model', 'models')} · {_size_range(members)} · "
        f"first seen {_date(release.first_seen)}"
    )
    if release.breakout:
        summary += "\n:chart_with_upwards_trend: Breakout: trending from outside the tracked labs"
    tasks = sorted({m.pipeline_tag for m in members if m.pipeline_tag})
    fields = [
        f"*License*\n{_license_summary(members)}",
        f"*Gated*\n{_gated_summary(members)}",
    ]
    if tasks:
        fields.append(f"*Task*\n{escape(', '.join(tasks))}")
    lines = _release_member_lines(release, members, hub_url)
    blocks: list[Block] = [
        _header(f"{emoji} {release.lab_name}: {release.title}"),
        _section(summary, fields=fields, block_id="release_summary"),
        _section(_join_within(lines, _PACKED_SECTION, "models"), block_id="release_members"),
    ]
    if release.reasons:
        blocks.append(_section(_reasons_text("Why it's notable", release.reasons)))
    blocks.append(
        _actions(
            [
                _button(
                    "Model details",
                    action_id=ids.RELEASE_DETAILS,
                    value=release.id,
                    style="primary",
                ),
                _button(f"Mute {release.lab_name}", action_id=ids.MUTE_LAB, value=release.lab),
                _button(
                    "View on Hugging Face",
                    action_id=ids.OPEN_LAB_HUB,
                    url=_hub_page(release.lab, hub_url),
                ),
            ],
            block_id="release_actions",
        )
    )
    fallback = (
        f"{emoji} New open-weight release from {lab}: {escape(release.title)} "
        f"({_plural(count, 'model', 'models')}, {_size_range(members)})"
    )
    return _message(fallback, blocks)


def release_update_reply(
    release: Release, new_members: Sequence[ModelRecord], *, hub_url: str = HUB_URL
) -> Payload:
    """The thread reply when more sizes of an already-announced release appear."""
    lines = [_member_line(member, hub_url) for member in _by_size(new_members)]
    body = _join_within(lines, _PACKED_SECTION, "models") if lines else "(no new repos)"
    blocks = [_section(f"*New in this release:*\n{body}")]
    names = ", ".join(member.id for member in _by_size(new_members))
    fallback = f"New in {escape(release.title)}: {escape(names) or 'no new repos'}"
    return _message(fallback, blocks)


def _release_line(release: Release, members: Sequence[ModelRecord], base: str) -> str:
    lead = _lead_member(release, members)
    title = hub_link(lead, release.title, base=base) if lead else escape(release.title)
    count = _member_count(release, members)
    return (
        f"{flag(release.country)} *{escape_inline(release.lab_name)}*: {title} · "
        f"{_size_range(members)} · {_plural(count, 'model', 'models')} · "
        f"{_date(release.first_seen)}"
    )


def release_list(
    title: str,
    releases: Sequence[Release],
    members_by_release: Mapping[str, Sequence[ModelRecord]],
    *,
    empty_text: str,
    hub_url: str = HUB_URL,
) -> Payload:
    """One compact line per release, for `/radar latest`."""
    blocks: list[Block] = [_header(title)]
    if not releases:
        blocks.append(_section(escape(empty_text)))
        return _message(f"{escape(title)}: {escape(empty_text)}", blocks)
    shown = releases[:_MAX_LIST_ITEMS]
    lines = [_release_line(r, members_by_release.get(r.id, ()), hub_url) for r in shown]
    blocks += [_section(chunk) for chunk in _pack_lines(lines)]
    if len(releases) > len(shown):
        blocks.append(_context(f"…and {len(releases) - len(shown)} more releases"))
    fallback = f"{escape(title)}: {_plural(len(releases), 'release', 'releases')}"
    return _message(fallback, blocks)


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------


def comparison(
    records: Sequence[ModelRecord],
    labels: Mapping[str, tuple[str | None, str | None]],
    *,
    hub_url: str = HUB_URL,
) -> Payload:
    """Two or three models side by side, one section per fact with one field per model."""
    shown = list(records[:_MAX_COMPARED])
    numbered = len(shown) > 2

    def label_of(record: ModelRecord) -> tuple[str, str | None]:
        lab_name, country = labels.get(record.id) or labels.get(record.id.lower()) or (None, None)
        return lab_name or record.lab or record.author, country

    def cell(index: int, value: str) -> str:
        return f"{index + 1}. {value}" if numbered else value

    def lab_cell(record: ModelRecord) -> str:
        lab_name, country = label_of(record)
        return f"{flag(country)} {escape(lab_name)} · {_country_label(country)}"

    rows: list[tuple[str, Callable[[ModelRecord], str]]] = [
        ("Lab", lab_cell),
        ("Parameters", record_size_text),
        ("License", _license),
        ("Gated", lambda r: "Yes" if r.gated else "No"),
        ("Downloads (30 d)", lambda r: format_count(r.downloads)),
        ("Likes", lambda r: format_count(r.likes)),
        ("Derivatives", _derivatives),
        ("First seen", lambda r: _date(r.first_seen)),
    ]
    blocks: list[Block] = [
        _header("Model comparison"),
        _section(
            fields=[cell(i, f"*{hub_link(r.id, base=hub_url)}*") for i, r in enumerate(shown)],
            block_id="compare_models",
        ),
        _divider(),
    ]
    for title, value_of in rows:
        blocks.append(
            _section(
                f"*{title}*",
                fields=[cell(i, value_of(r)) for i, r in enumerate(shown)],
            )
        )
    if len(records) > len(shown):
        blocks.append(_context(f"Showing the first {len(shown)} of {len(records)} models."))
    fallback = (
        "Comparing " + " vs ".join(escape(r.id) for r in shown) if shown else "Nothing to compare"
    )
    return _message(fallback, blocks)


# ---------------------------------------------------------------------------------------------
# Help and errors
# ---------------------------------------------------------------------------------------------


_HELP_SECTIONS = (
    "*Look up a model*\n"
    "`{model} <repo id or free text>`: facts about one repo, "
    "e.g. `{model} Qwen/Qwen3-8B` or `{model} gemma 3 27b`",
    "*Releases*\n"
    "`{radar} latest [N] [filters]`: the newest notable releases\n"
    "`{radar} compare <a> <b> [<c>]`: two or three models side by side\n"
    "`{radar} stats [7d|30d|90d]`: releases by region and lab\n"
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
    "`min-params:<N>B` `task:<pipeline tag>`\n"
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


# ---------------------------------------------------------------------------------------------
# Labs, subscriptions, Home tab
# ---------------------------------------------------------------------------------------------


def _lab_line(lab: Lab) -> str:
    line = f"{flag(lab.country)} *{escape_inline(lab.name)}* `{escape_inline(lab.namespace)}`"
    if lab.tier == 1:
        line += " · frontier"
    if lab.source == "user":
        line += " · added here"
    return line


def labs_list(
    labs: Sequence[Lab], *, country: str | None, radar_command: str = "/radar"
) -> Payload:
    """Tracked labs grouped by region (US, China, EU, rest), optionally for one country."""
    tracked = [lab for lab in labs if not lab.removed]
    if country:
        wanted = country.strip().lower()
        tracked = [
            lab
            for lab in tracked
            if (lab.country or "").lower() == wanted or lab.region.value == wanted
        ]
        title = f"Tracked labs: {flag(country)} {country.strip().upper()}"
    else:
        title = "Tracked labs"
    blocks: list[Block] = [_header(title)]
    if not tracked:
        where = f" for {escape(country)}" if country else ""
        blocks.append(
            _section(
                f"No tracked labs{where}. Add one with "
                + _usage("`{radar} track <namespace> <country>`.", radar_command=radar_command)
            )
        )
        return _message(f"No tracked labs{where}.", blocks)
    for region in _REGION_ORDER:
        in_region = sorted(
            (lab for lab in tracked if lab.region == region),
            key=lambda lab: (lab.tier, lab.name.lower()),
        )
        if not in_region:
            continue
        emoji, name = _REGION_LABELS[region]
        heading = f"*{emoji} {name}* · {_plural(len(in_region), 'lab', 'labs')}"
        lines = _capped_lines(in_region, _lab_line, "labs", cap=_MAX_LABS_PER_REGION)
        chunks = _pack_lines([heading, *lines])
        blocks += [_section(chunk) for chunk in chunks]
    fallback = f"{_plural(len(tracked), 'tracked lab', 'tracked labs')}"
    return _message(fallback, blocks)


def _filters_text(subscription: Subscription) -> str:
    canonical = subscription.filters.canonical()
    return f"`{escape_inline(canonical)}`" if canonical else "all notable releases"


def _subscription_line(subscription: Subscription) -> str:
    line = (
        f"• `{escape_inline(subscription.id)}`: {_filters_text(subscription)} "
        f"(since {_date(subscription.created_at)})"
    )
    if subscription.paused_reason:
        line += f" · :double_vertical_bar: paused: {escape(subscription.paused_reason)}"
    return line


def _mute_line(mute: Mute) -> str:
    until = (
        f"until {mute.until.strftime('%Y-%m-%d %H:%M %Z').strip()}"
        if mute.until is not None
        else "until unmuted"
    )
    return f"• `{escape_inline(mute.lab)}` {until}"


def _failed_line(failed: FailedAlert) -> str:
    what = f"{failed.lab_name} · {failed.title}" if failed.lab_name else failed.title
    return (
        f"• {escape_inline(what)} ({_date(failed.at)}): {escape(failed.reason)}"
        if failed.reason
        else f"• {escape_inline(what)} ({_date(failed.at)})"
    )


def _failed_summary(failed: Sequence[FailedAlert]) -> str:
    """One line for App Home: how many alerts a channel missed, and the latest of them."""
    latest = failed[0]
    what = f"{latest.lab_name} · {latest.title}" if latest.lab_name else latest.title
    count = _plural(len(failed), "alert", "alerts")
    return (
        f"    :warning: {count} could not be delivered (latest: {escape_inline(what)}, "
        f"{_date(latest.at)})"
    )


def _schedule_text(schedule: DigestSchedule | None) -> str:
    if schedule is None or not schedule.enabled:
        return "off"
    day = _WEEKDAY_NAMES[schedule.weekday]
    return f"{day}s at {escape(schedule.time)} ({escape(schedule.timezone)})"


def subscriptions_list(
    subs: Sequence[Subscription],
    mutes: Sequence[Mute],
    schedule: DigestSchedule | None,
    *,
    now: datetime | None = None,
    radar_command: str = "/radar",
    failed: Sequence[FailedAlert] = (),
) -> Payload:
    """A channel's subscriptions, active mutes and digest schedule, for `/radar subscriptions`;
    and the alerts the bot gave up delivering here, so a silent channel is explained."""
    radar = escape_inline(radar_command)
    active_mutes = [m for m in mutes if now is None or m.active(now)]
    blocks: list[Block] = [_header("Radar settings for this channel")]
    if subs:
        lines = _capped_lines(subs, _subscription_line, "subscriptions")
        blocks += [_section(c) for c in _pack_lines([f"*Subscriptions* ({len(subs)})", *lines])]
    else:
        blocks.append(
            _section(
                "*Subscriptions*\nNone yet. Try "
                f"`{radar} subscribe region:china` or `{radar} subscribe org:meta-llama`."
            )
        )
    if active_mutes:
        lines = _capped_lines(active_mutes, _mute_line, "muted labs")
        blocks += [
            _section(chunk)
            for chunk in _pack_lines([f"*Muted labs* ({len(active_mutes)})", *lines])
        ]
    else:
        blocks.append(_section("*Muted labs*\nNone."))
    blocks.append(_section(f"*Weekly digest*\n{_schedule_text(schedule)}"))
    if failed:
        lines = _capped_lines(failed, _failed_line, "alerts")
        heading = f"*Alerts that could not be delivered* ({len(failed)})"
        blocks += [_section(chunk) for chunk in _pack_lines([heading, *lines])]
    blocks.append(_context(f"Change these with `{radar} help`."))
    fallback = (
        f"{_plural(len(subs), 'subscription', 'subscriptions')}, "
        f"{_plural(len(active_mutes), 'muted lab', 'muted labs')}, "
        f"weekly digest {_schedule_text(schedule)}"
    )
    return _message(fallback, blocks)


def home_view(
    subscriptions_by_channel: Mapping[str, Sequence[Subscription]],
    recent_releases: Sequence[Release],
    members_by_release: Mapping[str, Sequence[ModelRecord]],
    *,
    model_command: str,
    radar_command: str,
    hub_url: str = HUB_URL,
    failed_by_channel: Mapping[str, Sequence[FailedAlert]] | None = None,
) -> dict[str, Any]:
    """The App Home tab: recent releases, where the radar posts (and alerts it could not
    deliver there), and how to drive it."""
    radar = escape_inline(radar_command)
    blocks: list[Block] = [
        _header("Open Model Radar"),
        _section(
            "Notable open-weight model releases on the Hugging Face Hub, by lab and country. "
            + _usage(
                "Look one up with `{model} <repo>`; see everything with `{radar} help`.",
                model_command=model_command,
                radar_command=radar_command,
            )
        ),
        _divider(),
        _section("*Latest releases*"),
    ]
    if recent_releases:
        shown = recent_releases[:_MAX_LIST_ITEMS]
        lines = [_release_line(r, members_by_release.get(r.id, ()), hub_url) for r in shown]
        blocks += [_section(chunk) for chunk in _pack_lines(lines)]
        if len(recent_releases) > len(shown):
            blocks.append(_context(f"…and {len(recent_releases) - len(shown)} more releases"))
    else:
        blocks.append(_section("No notable releases yet."))
    blocks += [_divider(), _section("*Channel subscriptions*")]
    active = {channel: subs for channel, subs in subscriptions_by_channel.items() if subs}
    if active:
        channels = sorted(active.items())
        lines = []
        for channel, subs in channels[:_MAX_HOME_CHANNELS]:
            lines.append(_channel_ref(channel))
            lines += _capped_lines(
                subs, lambda s: f"    {_subscription_line(s)}", "subscriptions", cap=5
            )
            if failed := (failed_by_channel or {}).get(channel):
                lines.append(_failed_summary(failed))
        if len(channels) > _MAX_HOME_CHANNELS:
            lines.append(f"…and {len(channels) - _MAX_HOME_CHANNELS} more channels")
        blocks += [_section(chunk) for chunk in _pack_lines(lines)]
    else:
        blocks.append(
            _section(f"No channel subscribes yet. In a channel, type `{radar} subscribe`.")
        )
    blocks.append(_context(f"`{radar} help` lists every command."))
    return {"type": "home", "blocks": enforce_limits(blocks, max_blocks=MAX_VIEW_BLOCKS)}


# ---------------------------------------------------------------------------------------------
# Scoreboard, stats and the weekly digest
# ---------------------------------------------------------------------------------------------


def _scoreboard_fields(board: Scoreboard) -> list[str]:
    fields = []
    for score in board.regions:
        icon, label = _REGION_LABELS[score.region]
        top = (
            f"\ntop: {escape_inline(score.top_release.lab_name)} · "
            f"{escape_inline(score.top_release.title)}"
            if score.top_release
            else ""
        )
        fields.append(
            f"{icon} *{label}*\n"
            f"{_plural(score.releases, 'release', 'releases')} "
            f"({score.release_share:.0%}) · {format_count(score.downloads)} downloads "
            f"({score.download_share:.0%}){top}"
        )
    return fields


def _leader_line(board: Scoreboard) -> str:
    if board.total_releases == 0:
        return "No notable releases in this window."
    leader = board.leader
    if leader is None:
        return f"{board.total_releases} notable releases; no region leads outright."
    icon, label = _REGION_LABELS[leader]
    share = board.region(leader).release_share
    return f"{icon} *{label}* leads with {share:.0%} of {board.total_releases} notable releases."


def stats_message(board: Scoreboard, *, days: int) -> Payload:
    """`/radar stats`: the scoreboard by region and by country for one window."""
    countries = [
        f"{flag(c.country)} {_country_label(c.country)}: "
        f"{_plural(c.releases, 'release', 'releases')}, {format_count(c.downloads)} downloads"
        for c in board.countries[:15]
    ]
    blocks: list[Block] = [
        _header(f"Open-weight scoreboard · last {days} days"),
        _section(_leader_line(board)),
        _section(fields=_scoreboard_fields(board)),
    ]
    if countries:
        blocks += [_divider(), _section("*By country*\n" + "\n".join(countries))]
    blocks.append(_context("Downloads are the Hub's 30-day counts of each release's repos. "))
    fallback = f"Scoreboard, last {days} days: " + ", ".join(
        f"{_REGION_LABELS[s.region][1]} {s.releases}" for s in board.regions
    )
    return _message(fallback, blocks)


def digest_message(digest: Digest, *, hub_url: str = HUB_URL) -> Payload:
    """The weekly digest: releases by region, the scoreboard, the most adopted releases."""
    start = _date(digest.period_start)
    end = _date(digest.period_end)
    blocks: list[Block] = [_header(f"Open Model Radar · week of {start} – {end}")]
    if digest.quiet:
        blocks.append(
            _section(
                "A quiet week: no notable open-weight releases. "
                "The scoreboard and adoption ranking below still cover the last 30 days."
            )
        )
    for region in _REGION_ORDER:
        releases = digest.releases_by_region.get(region) or []
        if not releases:
            continue
        icon, label = _REGION_LABELS[region]
        lines = [
            f"{flag(r.country)} *{escape_inline(r.lab_name)}* · "
            f"{hub_link(r.members[0], r.title, base=hub_url) if r.members else escape(r.title)}"
            f" ({_plural(len(r.members), 'repo', 'repos')})"
            for r in releases
        ]
        blocks.append(
            _section(f"{icon} *{label}* ({len(releases)})\n" + "\n".join(lines[:_MAX_LIST_ITEMS]))
        )
    blocks += [
        _divider(),
        _section("*Scoreboard this week* · " + _leader_line(digest.scoreboard)),
        _section(fields=_scoreboard_fields(digest.scoreboard)),
    ]
    if digest.most_adopted:
        lines = [
            f"{i}. {flag(r.country)} {escape_inline(r.lab_name)} · {escape_inline(r.title)}: "
            f"{format_count(d)} downloads"
            for i, (r, d) in enumerate(digest.most_adopted, start=1)
        ]
        blocks.append(_section("*Most adopted, last 30 days*\n" + "\n".join(lines)))
    blocks.append(_context("Chart: releases and downloads by region, last 12 weeks (below)."))
    total = sum(len(v) for v in digest.releases_by_region.values())
    fallback = f"Open Model Radar weekly digest {start} – {end}: " + (
        "a quiet week." if digest.quiet else f"{total} notable releases."
    )
    return _message(fallback, blocks)
