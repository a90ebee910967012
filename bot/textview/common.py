"""What every terminal view shares: dates, plurals, size ranges, member lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.radar.models import (
    ModelRecord,
    Release,
)
from bot.radar.vocabulary import (
    by_size,
    record_size_text,
    size_range_text,
)

MAX_MEMBER_LINES = 12
DEFAULT_HUB_URL = "https://huggingface.co"

MembersOf = Callable[[Release], Sequence[ModelRecord]]

def when(moment: datetime) -> str:
    """`Mon 14 Sep 2026 12:00 UTC`: a weekday helps people place a release in their week."""
    return moment.strftime("%a %d %b %Y %H:%M UTC")


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def size_range(members: Sequence[ModelRecord]) -> str:
    return size_range_text(m.params_total for m in members)


def _member_lines(
    repo_ids: Sequence[str], records: Sequence[ModelRecord], indent: str
) -> list[str]:
    """One line per repo, sizes aligned; repos the store lacks are still listed by id."""
    known = {m.id.lower(): m for m in records}
    chosen = by_size(known[i.lower()] for i in repo_ids if i.lower() in known)
    unknown = [i for i in repo_ids if i.lower() not in known]
    width = min(48, max((len(i) for i in repo_ids), default=0))
    lines = [
        f"{indent}{m.id:<{width}}  {record_size_text(m)}" for m in chosen
    ]
    lines += [f"{indent}{repo_id}" for repo_id in unknown]
    if len(lines) > MAX_MEMBER_LINES:
        hidden = len(lines) - MAX_MEMBER_LINES
        lines = [*lines[:MAX_MEMBER_LINES], f"{indent}… and {hidden} more"]
    return lines
