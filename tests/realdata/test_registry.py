"""The lab registry against ATOM's curated namespaces and regions (real data)."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

import pytest

from bot.radar.labs import LabRegistry, left_out
from tests.realdata.atom_csv import rows

pytestmark = pytest.mark.realdata

REGISTRY = LabRegistry.builtin()
LABS_JSON = json.loads(
    resources.files("bot.radar").joinpath("data/labs.json").read_text(encoding="utf-8")
)
# ATOM's "unknown" (collectives with no single base) is our "other" bucket with no country.
ATOM_UNKNOWN = "unknown"


def _namespaces(file: str) -> Counter[str]:
    return Counter(row["modelId"].split("/", 1)[0] for row in rows(file))


def test_every_namespace_with_a_mainline_model_is_known_or_left_out_with_a_reason():
    mainline = _namespaces("models.csv")
    extra = _namespaces("extra_models.csv")
    skipped = left_out()
    undecided = {
        ns: count for ns, count in (mainline + extra).items()
        if REGISTRY.resolve(ns) is None and ns not in skipped
    }  # fmt: skip
    as_lab = [ns for ns in mainline if (lab := REGISTRY.resolve(ns)) and lab.namespace == ns]
    as_alias = [ns for ns in mainline if (lab := REGISTRY.resolve(ns)) and lab.namespace != ns]
    out = [ns for ns in mainline if ns in skipped]
    figures = (
        f"{sum(mainline.values())} mainline models from {len(mainline)} namespaces: "
        f"{len(as_lab)} tracked labs, {len(as_alias)} aliases {sorted(as_alias)}, "
        f"{len(out)} left out {sorted(out)}; undecided (models): {undecided}"
    )
    assert not undecided, figures
    # Case matters on the Hub: a tracked lab is spelled exactly as ATOM spells it.
    for namespace in mainline:
        lab = REGISTRY.resolve(namespace)
        if lab is not None and lab.namespace.lower() == namespace.lower():
            assert lab.namespace == namespace, figures


def test_aliases_with_mainline_models_that_still_publish_are_listed():
    mainline = _namespaces("models.csv") + _namespaces("extra_models.csv")
    listed = set(REGISTRY.namespaces_to_list())
    aliases = {ns for ns in mainline if (lab := REGISTRY.resolve(ns)) and lab.namespace != ns}
    quiet = {ns: mainline[ns] for ns in aliases - listed}
    # Only vikhyatk stays quiet: Moondream publishes new models under `moondream`.
    assert set(quiet) == {"vikhyatk"}, f"aliases with models not listed: {quiet}"
    assert {"THUDM", "mistral-community", "rednote-hilab", "AIDC-AI"} <= listed


def test_regions_agree_with_atom_except_documented_choices():
    atom = {row["hf_org"]: row["region"] for row in rows("organization_regions.csv")}
    documented = {
        entry["namespace"]: entry["region_differs_from_atom"]
        for entry in LABS_JSON["labs"]
        if entry.get("region_differs_from_atom")
    }
    compared, disagree, unused_notes = 0, [], set(documented)
    for namespace, region in atom.items():
        lab = REGISTRY.resolve(namespace)
        if lab is None:
            continue
        compared += 1
        ours = lab.region.value
        if region == ATOM_UNKNOWN and ours == "other" and lab.country is None:
            unused_notes.discard(lab.namespace)
            continue
        if ours != region:
            if lab.namespace in documented:
                unused_notes.discard(lab.namespace)
            else:
                disagree.append(f"{namespace}: ours {ours} ({lab.country}), ATOM {region}")
    for entry in LABS_JSON["left_out"]:
        if atom.get(entry["namespace"], entry["region"]) != entry["region"]:
            disagree.append(f"left out {entry['namespace']}: {entry['region']} vs ATOM")
    assert not disagree, f"{len(disagree)} of {compared} regions differ: {disagree}"
    assert documented.keys() >= {"ai21labs"}
    assert not unused_notes, f"documented exceptions that ATOM agrees with: {unused_notes}"
