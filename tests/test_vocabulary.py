"""One vocabulary: a fact reads the same in Slack and in the terminal.

The words themselves are tested first; then one release and one model card are rendered
both ways (Slack's block texts, the terminal's text) and the facts compared.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.radar.models import (
    Lab,
    LicenseClass,
    ModelRecord,
    Region,
    Release,
    ReleaseEvent,
)
from bot.radar.service import ModelLookup
from bot.radar.vocabulary import (
    by_size,
    count_text,
    country_label,
    params_text,
    region_label,
    size_range_text,
    size_text,
    weekday_name,
)
from bot.slack import render
from bot.textview import event_text, model_text
from tests.harness import shown_text

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
B = 1_000_000_000


@pytest.mark.parametrize(
    ("params", "text"),
    [
        (235 * B, "235B"), (27_781_427_952, "27.8B"), (1.5 * B, "1.5B"), (270e6, "270M"),
        (10**12, "1T"), (999_960_000, "1B"), (0, "unknown"), (None, "unknown"),
    ],
)  # fmt: skip
def test_params_read_like_model_cards(params: float | None, text: str) -> None:
    assert params_text(params) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (None, "unknown"), (0, "0"), (999, "999"), (1_234, "1.2k"), (34_567, "35k"),
        (340_500, "340k"), (999_999, "1M"), (3_400_000, "3.4M"), (1_200_000_000, "1.2B"),
    ],
)  # fmt: skip
def test_counts_are_compact_and_unknown_is_not_zero(count: int | None, text: str) -> None:
    assert count_text(count) == text


def test_sizes_ranges_places_and_days() -> None:
    assert size_text(235 * B, 22 * B) == "235B total / 22B active"
    assert size_text(8 * B) == "8B"
    assert size_text(None, 17 * B) == "17B active"
    assert size_text(None) == "size unknown"
    assert size_range_text([8 * B, None, 0.6 * B, 8 * B]) == "600M–8B"
    assert size_range_text([None]) == "size unknown"
    assert country_label("CN") == "🇨🇳 China"
    assert country_label(None) == "🌐 country unknown"
    assert region_label(Region.OTHER) == region_label(None) == "🌐 Rest of the world"
    assert weekday_name(0) == "Monday"


def test_members_sort_largest_first_unknown_last() -> None:
    members = [record("Qwen/b-0.6B", 0.6 * B), record("Qwen/a"), record("Qwen/c-32B", 32 * B)]
    assert [m.id for m in by_size(members)] == ["Qwen/c-32B", "Qwen/b-0.6B", "Qwen/a"]


# ---------------------------------------------------------------------- both ways


def record(repo_id: str, params: float | None = None, **extra: Any) -> ModelRecord:
    return ModelRecord(
        id=repo_id,
        author=repo_id.split("/")[0],
        lab="Qwen",
        first_seen=NOW,
        params_total=int(params) if params else None,
        pipeline_tag="text-generation",
        license="apache-2.0",
        license_class=LicenseClass.PERMISSIVE,
        **extra,
    )


MEMBERS = [
    record("Qwen/Qwen9-0.6B", 0.6 * B),
    record("Qwen/Qwen9-27B", 27_781_427_952),
    record("Qwen/Qwen9-235B-A22B", 235 * B, params_active=22 * B),
    record("Qwen/Qwen9-Omni"),
]
RELEASE = Release(
    id="qwen-qwen9-20261123",
    lab="Qwen",
    lab_name="Qwen",
    country="CN",
    region=Region.CHINA,
    title="Qwen9",
    stem="qwen9",
    members=[m.id for m in MEMBERS],
    first_seen=NOW,
    updated_at=NOW,
    reasons=["tracked lab Qwen (CN)", f"large model (≥ {params_text(100 * B)} params)"],
)


def _order(text: str, names: list[str]) -> list[str]:
    return sorted(names, key=text.index)


def test_one_release_reads_the_same_in_slack_and_in_the_terminal() -> None:
    slack = shown_text(render.release_alert(RELEASE, MEMBERS))
    terminal = event_text(ReleaseEvent(kind="new_release", release=RELEASE), MEMBERS)

    facts = [
        "600M–235B",  # the size range
        "235B total / 22B active",  # a mixture of experts
        "27.8B",  # never 28B in one and 27.8B in the other
        "600M",
        "China",
        "permissive",
        "large model (≥ 100B params)",
    ]
    for fact in facts:
        assert fact in slack, fact
        assert fact in terminal, fact
    assert "28B" not in slack and "28B" not in terminal
    names = [m.id.split("/")[1] for m in MEMBERS]
    assert _order(slack, names) == _order(terminal, names)
    assert _order(slack, names) == ["Qwen9-235B-A22B", "Qwen9-27B", "Qwen9-0.6B", "Qwen9-Omni"]


def test_one_model_card_reads_the_same_in_slack_and_in_the_terminal() -> None:
    lead = record(
        "Qwen/Qwen9-27B", 27_781_427_952, downloads=34_567, downloads_all_time=None, likes=1_234
    )
    siblings = [m for m in MEMBERS if m.id != lead.id]
    lab = Lab(namespace="Qwen", name="Qwen", country="CN", region=Region.CHINA, tier=1)
    slack = shown_text(
        render.model_card(
            lead,
            lab_name="Qwen",
            country="CN",
            release=RELEASE,
            siblings=siblings,
            alternatives=[],
        )
    )
    terminal = model_text(
        ModelLookup(query=lead.id, record=lead, lab=lab, release=RELEASE, siblings=siblings)
    )

    for fact in ("27.8B", "35k", "1.2k", "🇨🇳 Qwen · China", "apache-2.0 (permissive)"):
        assert fact in slack, fact
        assert fact in terminal, fact
    assert not re.search(r"\b34\.6k\b", slack + terminal)
    others = ["Qwen9-235B-A22B", "Qwen9-0.6B", "Qwen9-Omni"]
    assert _order(slack, others) == _order(terminal, others)
