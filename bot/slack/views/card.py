"""The model card (`/model`, "Model details", Share) and the side-by-side comparison."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.radar.models import (
    ModelRecord,
    Release,
)
from bot.radar.vocabulary import (
    flag,
    gated_text,
    record_size_text,
)
from bot.slack import ids
from bot.slack.mrkdwn import (
    HUB_URL,
    escape,
    hub_link,
    truncate,
)
from bot.slack.views.blocks import (
    _PACKED_SECTION,
    Block,
    Payload,
    _actions,
    _button,
    _context,
    _divider,
    _header,
    _join_within,
    _message,
    _section,
)
from bot.slack.views.lines import (
    _by_size,
    _country_label,
    _date,
    _field_value,
    _hub_page,
    _member_line,
    _plural,
    _reasons_text,
    format_count,
)

_MAX_RELEASE_SIBLINGS = 10
_MAX_ALTERNATIVES = 3
_MAX_COMPARED = 3
_DERIVATIVE_NOUNS = {
    "quantized": ("quantized", "quantized"),
    "finetune": ("fine-tune", "fine-tunes"),
    "adapter": ("adapter", "adapters"),
    "merge": ("merge", "merges"),
}


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
        f"*Gated*\n{_field_value(gated_text([record]))}",
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
