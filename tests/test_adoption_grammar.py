"""`/radar adoption` parsing and the `follow-ups:off` subscription filter."""

from __future__ import annotations

import pytest

from bot.radar.filters import FilterError, describe, parse_filters
from bot.radar.labs import LabRegistry
from bot.slack import grammar
from bot.slack.grammar import UsageError

REGISTRY = LabRegistry.builtin()


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("adoption", None),
        ("adoption region", None),
        ("adoption Regions", None),
        ("adoption china", None),
        ("adoption deepseek-ai", "deepseek-ai"),
        ('adoption "qwen3 32b"', "qwen3 32b"),
        ("adoption Qwen/Qwen3-32B", "Qwen/Qwen3-32B"),
    ],
)
def test_adoption_targets(text: str, target: str | None) -> None:
    assert grammar.parse_radar(text, REGISTRY) == grammar.Adoption(target=target)


def test_an_absurd_adoption_target_is_refused_with_the_usage() -> None:
    with pytest.raises(UsageError) as refused:
        grammar.parse_radar("adoption " + "x" * 300, REGISTRY)
    assert refused.value.usage == grammar.USAGE["adoption"]


def test_follow_ups_off_is_a_filter_of_its_own() -> None:
    filters = parse_filters(["region:china", "follow-ups:off"], REGISTRY)
    assert not filters.follow_ups
    assert filters.canonical() == "region:china follow-ups:off"
    assert describe(filters) == "region China (no adoption follow-ups)"
    assert parse_filters(["follow-ups:on"], REGISTRY).canonical() == ""
    with pytest.raises(FilterError, match="follow-ups takes on or off"):
        parse_filters(["follow-ups:maybe"], REGISTRY)
