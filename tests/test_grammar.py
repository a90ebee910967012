"""The `/radar` grammar on its own: typed text to a command, or a friendly usage error.

Every typo must turn into a sentence a person understands plus the form to type; the
Slack surface only adds the formatting (see `test_slack_commands.py`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.radar.labs import LabRegistry
from bot.radar.models import Region
from bot.slack import grammar
from bot.slack.grammar import UsageError

REGISTRY = LabRegistry.builtin()


def parse(text: str) -> grammar.RadarCommand:
    return grammar.parse_radar(text, REGISTRY)


def refusal(text: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parse(text)
    return caught.value


def test_empty_help_and_unknown_words_are_help() -> None:
    assert parse("") == grammar.Help()
    assert parse("help") == grammar.Help()
    assert parse("lastest 5") == grammar.Help(not_understood="lastest")


def test_latest_takes_a_count_and_filters() -> None:
    command = parse("latest 5 region:china min-params:30B")
    assert isinstance(command, grammar.Latest) and command.count == 5
    assert command.filters.regions == [Region.CHINA] and command.filters.min_params_b == 30
    assert parse("LATEST") == grammar.Latest()
    error = refusal("latest 40")
    assert str(error) == "I can list 1 to 25 releases, not 40." and error.usage


def test_compare_groups_quoted_free_text_curly_quotes_too() -> None:
    assert parse('compare "deepseek r1" “qwen3 32b”') == grammar.Compare(
        queries=("deepseek r1", "qwen3 32b")
    )
    assert "two or three models, you gave 1" in str(refusal("compare qwen"))
    assert grammar.tokenize('unbalanced "quote here') == ["unbalanced", '"quote', "here"]


def test_stats_windows() -> None:
    assert parse("stats") == grammar.Stats(days=30)
    assert parse("stats 7D") == grammar.Stats(days=7)
    assert str(refusal("stats 2d")) == "`2d` is not a time window."


def test_mute_resolves_aliases_and_reads_durations() -> None:
    command = parse("mute org:THUDM 12h")
    assert command == grammar.MuteLab(org="zai-org", duration=timedelta(hours=12))
    assert parse("mute some-lab") == grammar.MuteLab(org="some-lab", duration=None)
    assert grammar.parse_duration("2w") == timedelta(weeks=2)
    assert "is not a duration" in str(refusal("mute qwen forever"))
    assert "out of range" in str(refusal("mute qwen 400d"))
    assert "not a Hugging Face namespace" in str(refusal("mute <!channel>"))


def test_digest_settings() -> None:
    assert parse("digest now") == grammar.DigestNow()
    assert parse("digest off") == grammar.DigestOff()
    assert parse("digest weekly Thurs 9:05 Asia/Tokyo") == grammar.DigestWeekly(
        weekday=3, time="09:05", timezone="Asia/Tokyo"
    )
    assert str(refusal("digest weekly monkey 09:00")) == "`monkey` is not a day of the week."
    assert str(refusal("digest weekly mon 25:00")) == "`25:00` is not a time like 09:00."
    assert "not an IANA timezone" in str(refusal("digest weekly mon 09:00 Mars/Base"))
    assert str(refusal("digest sometimes")) == "I did not understand that digest setting."


def test_labs_track_and_untrack_read_countries_by_code_or_name() -> None:
    assert parse("labs china") == grammar.Labs(country="CN")
    assert parse("track my-lab france") == grammar.Track(namespace="my-lab", country="FR")
    assert parse("untrack org:my-lab/") == grammar.Untrack(namespace="my-lab")
    assert str(refusal("labs atlantis")) == "`atlantis` is not a country I know."
    assert str(refusal("track my-lab")) == "Tell me the namespace and the lab's country."


def test_subscription_commands_and_overlong_text() -> None:
    assert parse("unsubscribe s-abc123") == grammar.Unsubscribe(target="s-abc123")
    assert parse("subscriptions") == grammar.ListSubscriptions()
    assert str(refusal("unsubscribe")) == "Tell me which subscription to remove."
    too_long = "x" * (grammar.MAX_TEXT + 1)
    assert "characters; commands are much shorter" in str(refusal(too_long))
