"""Subscription filters: parsing (with helpful errors), matching and describing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.radar.filters import FilterError, describe, matches, parse_filters
from bot.radar.labs import LabRegistry
from bot.radar.models import Filters, ModelRecord, Region, Release

REGISTRY = LabRegistry.builtin()
T0 = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        ([], Filters()),
        (["org:Qwen"], Filters(orgs=["Qwen"])),
        (["org:THUDM"], Filters(orgs=["zai-org"])),
        (["org:cohereforai", "org:CohereLabs"], Filters(orgs=["CohereLabs"])),
        (["org:someone-new"], Filters(orgs=["someone-new"])),
        (["org:Qwen,deepseek-ai"], Filters(orgs=["Qwen", "deepseek-ai"])),
        (["country:CN"], Filters(countries=["CN"])),
        (["country:china"], Filters(countries=["CN"])),
        (["country:south-korea", "country:us"], Filters(countries=["KR", "US"])),
        (["region:eu"], Filters(regions=[Region.EU])),
        (["region:China", "region:other"], Filters(regions=[Region.CHINA, Region.OTHER])),
        (["min-params:30B"], Filters(min_params_b=30)),
        (["min-params:1.5b"], Filters(min_params_b=1.5)),
        (["min-params:500M"], Filters(min_params_b=0.5)),
        (["min-params:1T"], Filters(min_params_b=1000)),
        (["task:image-text-to-text"], Filters(tasks=["image-text-to-text"])),
        (
            ["org:Qwen", "country:CN", "min-params:30B", "task:text-generation", ""],
            Filters(orgs=["Qwen"], countries=["CN"], min_params_b=30, tasks=["text-generation"]),
        ),
    ],
)
def test_parse_filters(tokens, expected):
    assert parse_filters(tokens, REGISTRY) == expected


@pytest.mark.parametrize(
    ("tokens", "bad", "problem"),
    [
        (["qwen"], "qwen", "not a filter I know"),
        (["size:30B"], "size:30B", "not a filter I know"),
        (["org:"], "org:", "the value is missing"),
        (["org:bad name!"], "org:bad name!", "not a Hugging Face namespace"),
        (["country:narnia"], "country:narnia", "`narnia` is not a country I know"),
        (["region:asia"], "region:asia", "`asia` is not a region"),
        (["min-params:big"], "min-params:big", "`big` is not a size"),
        (["min-params:0B"], "min-params:0B", "`0B` is not a size"),
        (["min-params:7B", "min-params:8B"], "min-params:8B", "more than once"),
        (["task:chatting"], "task:chatting", "`chatting` is not a Hub pipeline tag"),
    ],
)
def test_parse_errors_name_the_token_and_list_valid_forms(tokens, bad, problem):
    with pytest.raises(FilterError) as caught:
        parse_filters(tokens, REGISTRY)
    message = str(caught.value)
    assert f"`{bad}`" in message
    assert problem in message
    for form in ("org:<namespace>", "country:", "region:us|china|eu|other", "min-params:", "task:"):
        assert form in message


def _release(lab="Qwen", country="CN", region=Region.CHINA) -> Release:
    return Release(
        id=f"{lab.lower()}/x@2026-11-20",
        lab=lab,
        lab_name=lab,
        country=country,
        region=region,
        title="X",
        stem="x",
        members=["a", "b"],
        first_seen=T0,
        updated_at=T0,
    )


def _member(total: int | None, task: str | None = "text-generation") -> ModelRecord:
    return ModelRecord(
        id=f"Qwen/M-{total}", author="Qwen", first_seen=T0, params_total=total, pipeline_tag=task
    )


MEMBERS = [_member(8 * 10**9), _member(235 * 10**9, "image-text-to-text")]


@pytest.mark.parametrize(
    ("tokens", "release", "members", "expected"),
    [
        ([], _release(), MEMBERS, True),
        (["org:qwen"], _release(), MEMBERS, True),
        (["org:deepseek-ai"], _release(), MEMBERS, False),
        (["org:deepseek-ai,Qwen"], _release(), MEMBERS, True),
        (["country:china"], _release(), MEMBERS, True),
        (["country:US"], _release(), MEMBERS, False),
        (["region:china"], _release(), MEMBERS, True),
        (["region:eu"], _release(), MEMBERS, False),
        (["region:other"], _release("newlab", None, None), MEMBERS, True),  # as in /radar stats
        (["region:us"], _release("newlab", None, None), MEMBERS, False),
        (["min-params:200B"], _release(), MEMBERS, True),
        (["min-params:300B"], _release(), MEMBERS, False),
        (["min-params:1B"], _release(), [_member(None)], False),
        (["task:image-text-to-text"], _release(), MEMBERS, True),
        (["task:any-to-any"], _release(), MEMBERS, False),
        (["org:Qwen", "country:CN", "min-params:300B"], _release(), MEMBERS, False),
        (["org:Qwen", "country:CN", "min-params:200B"], _release(), MEMBERS, True),
    ],
)
def test_matches_requires_every_present_criterion(tokens, release, members, expected):
    assert matches(parse_filters(tokens, REGISTRY), release, members) is expected


@pytest.mark.parametrize(
    ("tokens", "text"),
    [
        ([], "everything"),
        (["org:THUDM", "org:Qwen"], "from zai-org or Qwen"),
        (["country:china", "country:FR"], "in 🇨🇳 China or 🇫🇷 France"),
        (["region:eu", "region:us"], "region Europe or United States"),
        (["min-params:30B"], "at least 30B params"),
        (["min-params:500M"], "at least 500M params"),
        (
            ["org:Qwen", "task:text-generation", "min-params:1.5B"],
            "from Qwen, at least 1.5B params, task text-generation",
        ),
    ],
)
def test_describe(tokens, text):
    assert describe(parse_filters(tokens, REGISTRY)) == text
