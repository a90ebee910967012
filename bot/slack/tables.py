"""Block Kit `table` blocks for `/radar compare` and `/radar stats`, with the text as fallback.

Slack's table block (docs.slack.dev/reference/block-kit/blocks/table-block): rows of
`raw_text` or `rich_text` cells, at most 100 rows of at most 20 cells, at most 20
`column_settings`; one table per message, sent in the message's `attachments`; all cells
together at most 10,000 characters, and no empty cell. A table that does not fit is not
sent: the answer keeps its current sections (the fallback), which say the same in text.
Cells are `raw_text`, shown verbatim, so Hub text is made safe with `mrkdwn.plain`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from bot.radar.countries import flag
from bot.radar.digest import Scoreboard
from bot.radar.models import ModelRecord
from bot.radar.vocabulary import REGION_SHORT_NAMES, country_text
from bot.slack.mrkdwn import plain
from bot.slack.render import format_count, format_size
from bot.slack.views.card import _derivatives, _license

Block = dict[str, Any]
Payload = dict[str, Any]

MAX_ROWS = 100
MAX_CELLS = 20
MAX_CHARACTERS = 10_000
MAX_CELL = 200  # a cell longer than this is cut: a table is for glancing


def _cell(value: object) -> dict[str, str]:
    text = plain(str(value)).strip() or "–"
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return {"type": "raw_text", "text": text}


def table_block(
    rows: Sequence[Sequence[object]], *, align: Sequence[str] = (), block_id: str = "table"
) -> Block | None:
    """A table block, or None when the rows do not fit Slack's limits."""
    if not rows or len(rows) > MAX_ROWS or any(not 1 <= len(row) <= MAX_CELLS for row in rows):
        return None
    cells = [[_cell(value) for value in row] for row in rows]
    if sum(len(cell["text"]) for row in cells for cell in row) > MAX_CHARACTERS:
        return None
    block: Block = {"type": "table", "block_id": block_id, "rows": cells}
    if align:
        block["column_settings"] = [{"align": a} for a in align[:MAX_CELLS]]
    return block


def with_table(payload: Payload, table: Block | None, *, keep: Sequence[Block]) -> Payload:
    """The payload with `table` in its attachments and only the `keep` blocks beside it;
    unchanged (the text version) when there is no table."""
    if table is None:
        return payload
    return {**payload, "blocks": list(keep), "attachments": [{"blocks": [table]}]}


# ------------------------------------------------------------------------- compare


def comparison_table(
    payload: Payload,
    records: Sequence[ModelRecord],
    labels: Mapping[str, tuple[str | None, str | None]],
    *,
    max_models: int = 3,
) -> Payload:
    """`/radar compare` as a table: one column per model, one row per fact."""
    shown = list(records[:max_models])
    if len(shown) < 2:
        return payload

    def lab(record: ModelRecord) -> str:
        name, country = labels.get(record.id) or labels.get(record.id.lower()) or (None, None)
        return f"{flag(country)} {name or record.lab or record.author} · {country_text(country)}"

    # The same words as the text version (`render`), unescaped: raw_text cells are verbatim.
    facts: list[tuple[str, Any]] = [
        ("Lab", lab),
        ("Parameters", lambda r: format_size(r.params_total, r.params_active)),
        ("License", lambda r: html.unescape(_license(r))),
        ("Gated", lambda r: "Yes" if r.gated else "No"),
        ("Downloads (30 d)", lambda r: format_count(r.downloads)),
        ("Likes", lambda r: format_count(r.likes)),
        ("Derivatives", lambda r: html.unescape(_derivatives(r))),
        ("First seen", lambda r: r.first_seen.strftime("%Y-%m-%d")),
    ]
    rows: list[list[object]] = [["", *(r.id for r in shown)]]
    rows += [[title, *(value(r) for r in shown)] for title, value in facts]
    table = table_block(rows, align=["left", *("right" for _ in shown)], block_id="compare")
    blocks = payload.get("blocks") or []
    keep = [b for b in blocks if b.get("type") == "header" or b.get("type") == "context"]
    keep += [b for b in blocks if b.get("block_id") == "compare_models"]
    keep.sort(key=blocks.index)
    return with_table(payload, table, keep=keep)


# --------------------------------------------------------------------------- stats


def stats_table(payload: Payload, board: Scoreboard) -> Payload:
    """`/radar stats`: the regions as a table (releases, downloads, shares, top release)."""
    rows: list[list[object]] = [
        ["Region", "Releases", "Share", "Downloads (30 d)", "Share", "Top release"]
    ]
    for score in board.regions:
        top = (
            f"{score.top_release.lab_name} · {score.top_release.title}"
            if score.top_release is not None
            else "–"
        )
        rows.append(
            [
                REGION_SHORT_NAMES[score.region],
                score.releases,
                f"{score.release_share:.0%}",
                format_count(score.downloads),
                f"{score.download_share:.0%}",
                top,
            ]
        )
    table = table_block(
        rows, align=["left", "right", "right", "right", "right", "left"], block_id="stats"
    )
    blocks = payload.get("blocks") or []
    keep = [b for b in blocks if not (b.get("type") == "section" and b.get("fields"))]
    return with_table(payload, table, keep=keep)
