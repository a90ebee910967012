"""Sizes read from real model names against ATOM's curated parameter counts (real data).

Names round ("26B-A4B" for 25.2B / 3.8B), so a stated size must be within 10 % of the
curated count, and never more than 25 % off (the few between are listed with why). A
size is never a training-token count nor an experts × size product. Where the Hub has an
exact count (safetensors), the model card shows that count.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.radar.facts import record_from_repo
from bot.radar.labs import LabRegistry
from bot.radar.models import HubRepo
from bot.radar.sizes import is_packed, name_size
from bot.radar.vocabulary import params_text
from bot.slack import render
from tests.realdata.atom_csv import billions, rows
from tests.slack_fixtures import field_value

pytestmark = pytest.mark.realdata

CLOSE, NEVER = 0.10, 0.25
# Names whose stated size is 10-25 % off the curated count, and why that is still right.
ROUNDED = {
    ("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "active"): "A3B is NVIDIA's shorthand for 3.5B",
}
REGISTRY = LabRegistry.builtin()
SEEN = datetime(2026, 8, 17, tzinfo=UTC)
PARAMS = rows("model_parameters.csv")


def _off(stated: int, curated: int) -> float:
    return abs(stated - curated) / curated


def test_every_stated_size_is_the_curated_size_within_rounding():
    checked = {"total": 0, "active": 0}
    close = {"total": 0, "active": 0}
    loose, wrong = [], []
    for row in PARAMS:
        size = name_size(row["model_id"])
        for kind, stated, curated in (
            ("total", size.total, billions(row["total_params_b"])),
            ("active", size.active, billions(row["active_params_b"])),
        ):
            if stated is None or curated is None:
                continue
            checked[kind] += 1
            off = _off(stated, curated)
            entry = (
                round(off, 3), row["model_id"], kind, params_text(stated), params_text(curated)
            )
            if off <= CLOSE:
                close[kind] += 1
            elif off <= NEVER and (row["model_id"], kind) in ROUNDED:
                loose.append(entry)
            else:
                wrong.append(entry)
    wrong.sort(reverse=True)
    figures = (
        f"{len(PARAMS)} curated rows; names state {checked['total']} totals "
        f"({close['total']} within 10 %) and {checked['active']} active sizes "
        f"({close['active']} within 10 %); documented 10-25 %: {loose}; worst: {wrong[:10]}"
    )
    print(figures)
    assert not wrong, figures
    assert checked["total"] >= 20 and checked["active"] >= 10, figures
    assert len(loose) == len(ROUNDED), figures


def test_training_token_counts_are_never_sizes():
    """`-5T`, `2B-4T`, `7x7B-1T`: trillions next to a size, or in a mini model, are tokens."""
    trillion_names = [
        row for row in PARAMS
        if any(t[:-1].replace(".", "").isdigit() and t[-1] in "tT"
               for t in row["model_id"].split("/")[1].replace("_", "-").split("-"))
    ]  # fmt: skip
    read_as_size = []
    for row in trillion_names:
        size = name_size(row["model_id"])
        curated = billions(row["total_params_b"]) or 0
        if (size.total or 0) >= 10**12 and curated < 0.9 * 10**12:
            read_as_size.append((row["model_id"], params_text(size.total), params_text(curated)))
    assert len(trillion_names) >= 10, trillion_names
    assert not read_as_size, f"{len(read_as_size)} of {len(trillion_names)}: {read_as_size}"


def test_experts_by_size_names_are_worded_never_multiplied():
    named = [(row, name_size(row["model_id"])) for row in PARAMS]
    experts = [(row, size) for row, size in named if size.experts]
    products = []
    for row, size in experts:
        assert size.total is None, row["model_id"]
        assert size.words() == f"{size.experts}×{params_text(size.expert_params)}"
        curated = billions(row["total_params_b"])
        if curated:
            products.append(_off(size.experts * (size.expert_params or 0), curated))
    # The product would have been wrong by this much: 20 % for Mixtral-8x7B, 48 % for
    # FlexOlmo-7x7B; that is why it is never shown.
    figures = f"{len(experts)} NxM names; a product would be {max(products):.0%} off at worst"
    print(figures)
    assert len(experts) >= 10 and max(products) > NEVER, figures


def test_where_an_exact_count_is_known_the_card_shows_it():
    """The Hub's safetensors count (here the curated count stands in for it) beats the
    name on the card, whatever the name says; packed builds excepted (none here)."""
    shown_wrong = []
    cards = 0
    for row in PARAMS:
        total, active = billions(row["total_params_b"]), billions(row["active_params_b"])
        repo_id = row["model_id"]
        if total is None or is_packed(repo_id):
            continue
        repo = HubRepo(
            id=repo_id, author=repo_id.split("/")[0], safetensors_total=total, detailed=True
        )
        lab = REGISTRY.resolve(repo.author)
        record = record_from_repo(repo, lab=lab, first_seen=SEEN)
        card = render.model_card(
            record, lab_name=None, country=None, release=None, siblings=[], alternatives=[]
        )
        shown = field_value(card, "Parameters")
        stated_active = name_size(repo_id).active
        expected = params_text(total)
        if stated_active and stated_active < total:
            expected += f" total / {params_text(stated_active)} active"
        cards += 1
        if shown != expected:
            shown_wrong.append((repo_id, shown, expected, active))
    assert cards >= 250 and not shown_wrong, f"{len(shown_wrong)} of {cards}: {shown_wrong[:10]}"
