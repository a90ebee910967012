"""Readers for the ATOM fixtures in `tests/data/atom/` (see its SOURCE.md)."""

from __future__ import annotations

import csv
from pathlib import Path

ATOM_DIR = Path(__file__).resolve().parent.parent / "data" / "atom"
B = 10**9


def rows(name: str) -> list[dict[str, str]]:
    """A fixture CSV as dicts; lines starting with `#` are comments."""
    with (ATOM_DIR / name).open(newline="", encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines))


def mainline_ids() -> list[str]:
    """ATOM's 1,772 mainline model ids (`models.csv`)."""
    return [row["modelId"] for row in rows("models.csv")]


def billions(text: str) -> int | None:
    """A `*_params_b` cell as a parameter count; blank means unknown."""
    return round(float(text) * B) if text.strip() else None
