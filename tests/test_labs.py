"""The lab registry: curated data, aliases, countries, and user overrides."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from bot.radar.countries import country_name, flag, parse_country, region_for_country
from bot.radar.labs import LabRegistry, left_out
from bot.radar.models import Region
from bot.store.memory import MemoryStore

# Every namespace named in the landscape notes, section 4 (us, china, eu, other).
LANDSCAPE_NAMESPACES = {
    "meta-llama": Region.US, "google": Region.US, "microsoft": Region.US, "nvidia": Region.US,
    "allenai": Region.US, "openai": Region.US, "ibm-granite": Region.US,
    "arcee-ai": Region.US, "PrimeIntellect": Region.US, "NousResearch": Region.US,
    "deepcogito": Region.US, "HuggingFaceTB": Region.US, "LiquidAI": Region.US,
    "ServiceNow-AI": Region.US, "Snowflake": Region.US, "poolside": Region.US,
    "xai-org": Region.US, "Salesforce": Region.US, "apple": Region.US, "Zyphra": Region.US,
    "ai21labs": Region.OTHER,
    "deepseek-ai": Region.CHINA, "Qwen": Region.CHINA, "moonshotai": Region.CHINA,
    "zai-org": Region.CHINA, "MiniMaxAI": Region.CHINA, "baidu": Region.CHINA,
    "tencent": Region.CHINA, "stepfun-ai": Region.CHINA, "XiaomiMiMo": Region.CHINA,
    "ByteDance-Seed": Region.CHINA, "inclusionAI": Region.CHINA,
    "meituan-longcat": Region.CHINA, "internlm": Region.CHINA, "openbmb": Region.CHINA,
    "OpenGVLab": Region.CHINA, "dots-studio": Region.CHINA, "Kwaipilot": Region.CHINA,
    "Skywork": Region.CHINA, "Tongyi-MAI": Region.CHINA, "01-ai": Region.CHINA,
    "baichuan-inc": Region.CHINA, "BAAI": Region.CHINA, "ATH-MaaS": Region.CHINA,
    "mistralai": Region.EU, "swiss-ai": Region.EU, "black-forest-labs": Region.EU,
    "PleIAs": Region.EU, "stabilityai": Region.EU,
    "CohereLabs": Region.OTHER, "tiiuae": Region.OTHER, "LGAI-EXAONE": Region.OTHER,
    "upstage": Region.OTHER, "Motif-Technologies": Region.OTHER, "sarvamai": Region.OTHER,
    "llm-jp": Region.OTHER,
}  # fmt: skip


@pytest.fixture()
def registry() -> LabRegistry:
    return LabRegistry.builtin()


def _raw_entries() -> list[dict]:
    text = resources.files("bot.radar").joinpath("data/labs.json").read_text(encoding="utf-8")
    return json.loads(text)["labs"]


def test_builtin_list_covers_every_landscape_lab_with_exact_case_and_region(registry):
    for namespace, region in LANDSCAPE_NAMESPACES.items():
        lab = registry.resolve(namespace)
        assert lab is not None, namespace
        assert lab.namespace == namespace  # exact case, canonical
        assert lab.region is region, namespace
        assert lab.source == "builtin"


def test_data_file_is_consistent():
    entries = _raw_entries()
    names = [entry["namespace"].lower() for entry in entries]
    aliases = [alias.lower() for entry in entries for alias in entry["aliases"]]
    assert len(names) == len(set(names)), "duplicate namespace"
    assert len(aliases) == len(set(aliases)), "alias used twice"
    assert not set(names) & set(aliases), "an alias is also a canonical namespace"
    for entry in entries:
        assert entry["region"] == region_for_country(entry["country"]).value, entry
        assert entry["tier"] in (1, 2, 3)
        assert entry["name"].strip()


def test_ai21_is_israeli_and_the_note_says_why_it_differs_from_atom(registry):
    lab = registry.resolve("ai21labs")
    assert (lab.country, lab.region) == ("IL", Region.OTHER)
    note = next(e["note"] for e in _raw_entries() if e["namespace"] == "ai21labs")
    assert "ATOM" in note and "Israel" in note


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("THUDM", "zai-org"),
        ("thudm", "zai-org"),
        ("CohereForAI", "CohereLabs"),
        ("MiniMax-AI", "MiniMaxAI"),
        ("AIDC-AI", "ATH-MaaS"),
        ("rednote-hilab", "dots-studio"),
        ("mistral-community", "mistralai"),
        ("PaddlePaddle", "baidu"),
        ("Yi", "01-ai"),
        ("qwen", "Qwen"),
        ("DEEPSEEK-AI", "deepseek-ai"),
        ("Qwen/Qwen3-8B", "Qwen"),
        (" moonshotai ", "moonshotai"),
    ],
)
def test_resolve_handles_case_aliases_and_repo_ids(registry, typed, canonical):
    assert registry.resolve(typed).namespace == canonical


def test_resolve_unknown_namespace_is_none(registry):
    assert registry.resolve("bartowski") is None
    assert registry.resolve("") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("CN", "CN"), ("cn", "CN"), ("china", "CN"), ("Chinese", "CN"), ("PRC", "CN"),
        ("usa", "US"), ("United States", "US"), ("america", "US"), ("U.S.", "US"),
        ("uk", "GB"), ("Britain", "GB"), ("great britain", "GB"), ("france", "FR"),
        ("French", "FR"), ("korea", "KR"), ("South Korea", "KR"), ("south-korea", "KR"),
        ("uae", "AE"), ("United Arab Emirates", "AE"), ("israel", "IL"), ("Israeli", "IL"),
        ("Switzerland", "CH"), ("swiss", "CH"), ("japan", "JP"), ("India", "IN"),
        ("the Netherlands", "NL"), ("🇨🇳", "CN"), ("  de  ", "DE"),
    ],
)  # fmt: skip
def test_parse_country_reads_codes_names_and_adjectives(text, code):
    assert parse_country(text) == code


@pytest.mark.parametrize("text", ["", "narnia", "eu", "xx", "europe", "🏳️"])
def test_parse_country_rejects_what_it_does_not_know(text):
    assert parse_country(text) is None


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("US", Region.US), ("us", Region.US), ("CN", Region.CHINA), ("FR", Region.EU),
        ("DE", Region.EU), ("CH", Region.EU), ("GB", Region.EU), ("NO", Region.EU),
        ("IL", Region.OTHER), ("KR", Region.OTHER), ("AE", Region.OTHER),
        ("CA", Region.OTHER), ("HK", Region.OTHER), (None, Region.OTHER),
    ],
)  # fmt: skip
def test_region_for_country_buckets_europe_not_just_the_eu(code, region):
    assert region_for_country(code) is region


def test_flags_and_country_names():
    assert flag("CN") == "🇨🇳"
    assert flag("us") == "🇺🇸"
    assert flag("IL") == "🇮🇱"
    assert flag(None) == "🌐"
    assert flag("ZZ") == "🌐"
    assert country_name("KR") == "South Korea"
    assert country_name("gb") == "United Kingdom"
    assert country_name("ZZ") == "ZZ"
    assert country_name(None) == "unknown country"
    # Codes people use that are not ISO countries: the Slack renderer and the terminal agree.
    assert (flag("UK"), country_name("uk")) == ("🇬🇧", "United Kingdom")
    assert (flag("EU"), country_name("EU")) == ("🇪🇺", "European Union")


def test_labs_are_sorted_by_region_then_name_and_filter_by_country(registry):
    labs = registry.labs()
    order = [list(Region).index(lab.region) for lab in labs]
    assert order == sorted(order)
    us_names = [lab.name.lower() for lab in labs if lab.region is Region.US]
    assert us_names == sorted(us_names)
    korean = registry.labs("KR")
    assert {lab.namespace for lab in korean} >= {"LGAI-EXAONE", "upstage", "Motif-Technologies"}
    assert all(lab.country == "KR" for lab in korean)
    assert [lab.namespace for lab in registry.labs("israel")] == ["ai21labs"]


def test_poll_namespaces_are_canonical_only(registry):
    namespaces = registry.poll_namespaces()
    assert "zai-org" in namespaces and "Qwen" in namespaces
    assert "THUDM" not in namespaces and "CohereForAI" not in namespaces
    assert len(namespaces) == len(set(namespaces)) == len(registry.labs())


def test_aliases_that_still_publish_are_listed_too(registry):
    listed = registry.namespaces_to_list()
    assert len(listed) == len({n.lower() for n in listed})
    assert set(registry.poll_namespaces()) <= set(listed)
    for alias, lab in [
        ("THUDM", "zai-org"),
        ("mistral-community", "mistralai"),
        ("rednote-hilab", "dots-studio"),
        ("AIDC-AI", "ATH-MaaS"),
    ]:
        assert alias in listed
        assert registry.resolve(alias).namespace == lab  # still the same lab
    for quiet in ("CohereForAI", "Yi", "vikhyatk", "MiniMax-AI"):
        assert quiet not in listed and registry.resolve(quiet) is not None
    for lab in registry.labs():
        assert set(lab.listed_aliases) <= set(lab.aliases), lab.namespace


def test_a_listed_alias_goes_quiet_with_its_lab():
    store = MemoryStore()
    registry = LabRegistry.from_store(store)
    registry.untrack(store, "zai-org")
    assert "THUDM" not in registry.namespaces_to_list()
    registry.track(store, "zai-org", None)
    assert "THUDM" in registry.namespaces_to_list()
    registry.track(store, "thudm", "CN")  # any case: still the alias, listed once
    assert [n for n in registry.namespaces_to_list() if n.lower() == "thudm"] == ["THUDM"]


def test_left_out_namespaces_say_why_and_are_not_tracked(registry):
    reasons = left_out()
    assert {"llava-hf", "TinyLlama", "typhoon-ai", "OpenHands"} <= set(reasons)
    for namespace, reason in reasons.items():
        assert registry.resolve(namespace) is None, namespace
        assert len(reason) > 40, namespace


@pytest.mark.parametrize(
    ("namespace", "repo", "family"),
    [
        ("deepseek-ai", "DeepSeek-V3.2-Exp", "DeepSeek-V3.2"),
        ("deepseek-ai", "DeepSeek-R1-0528", "DeepSeek-R1"),
        ("moonshotai", "Kimi-K2-Instruct", "Kimi-K2"),
        ("THUDM", "GLM-4.5-Air", "GLM-4.5"),
        ("google", "gemma-4-27b-it", "gemma-4"),
        ("Qwen", "Qwen3-235B-A22B", "Qwen3"),
        ("openai", "gpt-oss-120b", "gpt-oss"),
        ("deepseek-ai", "deepseek-vl2-small", None),
        ("Qwen", "QwQ-32B", "QwQ"),
        ("bartowski", "Qwen3-8B-GGUF", None),
    ],
)
def test_flagship_family(registry, namespace, repo, family):
    assert registry.flagship_family(namespace, repo) == family


def test_track_adds_a_user_lab_with_region_from_country_and_persists_it():
    store = MemoryStore()
    registry = LabRegistry.from_store(store)
    lab = registry.track(store, "NewLab-AI", "france")
    assert (lab.namespace, lab.country, lab.region, lab.source) == (
        "NewLab-AI",
        "FR",
        Region.EU,
        "user",
    )
    assert registry.resolve("newlab-ai") == lab
    assert "NewLab-AI" in registry.poll_namespaces()
    assert store.labs.get("newlab-ai") == lab
    assert LabRegistry.from_store(store).resolve("NewLab-AI").country == "FR"


def test_track_overrides_a_builtin_lab_through_its_alias():
    store = MemoryStore()
    registry = LabRegistry.from_store(store)
    lab = registry.track(store, "THUDM", "SG")
    assert (lab.namespace, lab.name, lab.country, lab.region) == (
        "zai-org",
        "Z.ai",
        "SG",
        Region.OTHER,
    )
    reloaded = LabRegistry.from_store(store)
    assert reloaded.resolve("zai-org").country == "SG"
    assert reloaded.flagship_family("zai-org", "GLM-5") == "GLM-5"


@pytest.mark.parametrize(
    ("namespace", "country", "message"),
    [("Bad Name!", "US", "namespace"), ("ok-name", "narnia", "narnia")],
)
def test_track_rejects_bad_input(namespace, country, message):
    store = MemoryStore()
    with pytest.raises(ValueError, match=message):
        LabRegistry.from_store(store).track(store, namespace, country)
    assert len(store.labs) == 0


def test_untrack_builtin_hides_it_across_reloads_and_track_restores_it():
    store = MemoryStore()
    registry = LabRegistry.from_store(store)
    assert registry.untrack(store, "CohereForAI") is True
    assert registry.resolve("CohereLabs") is None
    assert registry.resolve("CohereForAI") is None
    assert "CohereLabs" not in registry.poll_namespaces()
    assert store.labs.get("coherelabs").removed is True
    reloaded = LabRegistry.from_store(store)
    assert reloaded.resolve("CohereLabs") is None
    assert reloaded.untrack(store, "CohereLabs") is False

    restored = reloaded.track(store, "CohereLabs", "CA")
    assert (restored.name, restored.removed, restored.aliases) == (
        "Cohere Labs",
        False,
        ["CohereForAI"],
    )
    assert LabRegistry.from_store(store).resolve("CohereForAI").namespace == "CohereLabs"


def test_untrack_user_lab_deletes_it_and_unknown_is_false():
    store = MemoryStore()
    registry = LabRegistry.from_store(store)
    registry.track(store, "tiny-lab", "DE")
    assert registry.untrack(store, "TINY-LAB") is True
    assert registry.resolve("tiny-lab") is None
    assert store.labs.get("tiny-lab") is None
    assert registry.untrack(store, "never-tracked") is False


def test_builtin_registries_are_independent():
    store = MemoryStore()
    first = LabRegistry.builtin()
    first.untrack(store, "Qwen")
    assert LabRegistry.builtin().resolve("Qwen") is not None
