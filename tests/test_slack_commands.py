"""`/model` and `/radar` end to end: signed requests in, what the user reads out.

Every command goes through the real HTTP front door and Bolt, is acked at once, and the
answer arrives at the request's response_url, where the Slack stand-in checks it the way
Slack would. Assertions read the reply's text and blocks, and the stored state when a
command is meant to change (or not change) something.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.doubles import hub_fixtures as fx
from tests.doubles.signing import FORM, slash_command_body
from tests.slack_fixtures import (
    BREAKOUT_REPO,
    DENSE_REPO,
    FAMILY_LEAD,
    FAMILY_RELEASE_MEMBERS,
    FAMILY_SMALL,
    HUB_ONLY_REPO,
    LEAD_CHILDREN,
    Reply,
    SlackWorld,
    assert_ephemeral,
    assert_quick_ack,
    button,
    buttons,
    field_value,
    header,
    radar_world,
)

pytestmark = pytest.mark.e2e

RELEASE_LINE = re.compile(r"· \d+ models? · \d{4}-\d{2}-\d{2}$", re.MULTILINE)
# 20 background releases (Kimi-K2-Thinking, months after Kimi-K2, is a release of its own),
# Qwen3-32B, the Qwen3.7 family, Lumen-R1
RELEASES_IN_WORLD = 23
CHINESE_RELEASES_IN_WORLD = 10
ADMIN = "U_ADMIN"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackWorld]:
    with radar_world(tmp_path_factory.mktemp("commands") / "radar.json") as running:
        yield running


@pytest.fixture(scope="module")
def admin_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackWorld]:
    path = tmp_path_factory.mktemp("admins") / "radar.json"
    with radar_world(path, populated=False, radar_admins=ADMIN) as running:
        yield running


@pytest.fixture(autouse=True)
def expected_slack_errors(request: pytest.FixtureRequest, world: SlackWorld) -> Iterator[list[str]]:
    """Fails a test whose requests Slack would have refused, unless it expected that error."""
    worlds = [world]
    if "admin_world" in request.fixturenames:
        worlds.append(request.getfixturevalue("admin_world"))
    seen = [len(w.slack.violations) for w in worlds]
    expected: list[str] = []
    yield expected
    for running, before in zip(worlds, seen, strict=True):
        unexpected = [v for v in running.slack.violations[before:] if v.error not in expected]
        assert unexpected == []


def answered(reply: Reply) -> Reply:
    """The common contract: a fast 200 ack, then an ephemeral reply with a text fallback."""
    assert_quick_ack(reply)
    assert_ephemeral(reply)
    return reply


def release_lines(reply: Reply) -> list[str]:
    return [line for line in reply.shown.splitlines() if RELEASE_LINE.search(line)]


def warning(reply: Reply) -> str:
    """The sentence of an error reply (its first block), without the warning emoji."""
    first = reply.payload["blocks"][0]["text"]["text"]
    assert first.startswith(":warning:"), first
    return first.removeprefix(":warning: ")


# ---------------------------------------------------------------------------------- /model


def test_model_card_by_repo_id_in_any_case_shows_every_fact(world: SlackWorld) -> None:
    reply = answered(world.model(FAMILY_LEAD.lower()))
    card = reply.payload

    assert header(card) == FAMILY_LEAD
    assert reply.text.startswith(f"{FAMILY_LEAD}: Qwen, 122B total / 10B active")
    assert field_value(card, "Lab") == "🇨🇳 Qwen · China"
    assert field_value(card, "First seen") == "2026-11-23"
    assert field_value(card, "Parameters") == "122B total / 10B active"
    assert field_value(card, "Task") == "text-generation"
    assert field_value(card, "License") == "apache-2.0 (permissive)"
    assert field_value(card, "Gated") == "No"
    assert field_value(card, "Openness") == "open weights"
    assert field_value(card, "Downloads") == "21k last 30 d · 63k all time"
    assert field_value(card, "Likes") == "600"
    quantized, finetunes = LEAD_CHILDREN["quantized"], LEAD_CHILDREN["finetune"]
    assert field_value(card, "Derivatives") == f"{quantized} quantized · {finetunes} fine-tunes"
    # The rest of its release, largest first, and why it is on the radar.
    assert f"Part of the release “Qwen3.7”* ({FAMILY_RELEASE_MEMBERS} models)" in reply.shown
    assert "• Qwen3.7-27B-Instruct · 27B" in reply.shown
    assert "• Qwen3.7-35B-A3B · 35B total / 3B active" in reply.shown
    assert "*Why it's on the radar*" in reply.shown
    assert "• tracked lab Qwen (CN)" in reply.shown
    assert "• flagship family Qwen3.7" in reply.shown
    # Share publicly, or open the repo on the Hub.
    assert button(card, "share_model")["value"] == FAMILY_LEAD
    assert button(card, "share_model")["text"]["text"] == "Share in channel"
    assert button(card, "open_model_hub")["url"] == f"{world.hub.url}/{FAMILY_LEAD}"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("deepseek r1", "deepseek-ai/DeepSeek-R1-0528"),
        ("qwen3 32b", DENSE_REPO),
        ("gemma 3 27b", "google/gemma-3-27b-it"),
        ("Lumen R1", BREAKOUT_REPO),
        ("qwen3.7 8b instruct", FAMILY_SMALL),
    ],
)
def test_model_free_text_finds_the_best_match(world: SlackWorld, query: str, expected: str) -> None:
    reply = answered(world.model(query))

    assert header(reply.payload) == expected
    assert reply.text.startswith(f"{expected}: ")


def test_model_free_text_prefers_the_labs_repo_over_its_flood_of_copies(
    world: SlackWorld,
) -> None:
    reply = answered(world.model("qwen3.7 8b"))

    assert header(reply.payload).startswith("Qwen/Qwen3.7-8B")


def test_a_command_whose_text_says_payload_is_answered(world: SlackWorld) -> None:
    """Bolt's own parser reads any form mentioning "payload" as empty (no listener, 404);
    the front door hands Bolt the payload it parsed itself."""
    reply = answered(world.model("payload"))

    assert warning(reply) == "I found no model matching “payload”."


def test_model_offers_did_you_mean_alternatives_as_buttons(world: SlackWorld) -> None:
    reply = answered(world.model("kimi k2"))

    shown = header(reply.payload)
    assert shown.startswith("moonshotai/Kimi-K2-")
    alternatives = [b for b in buttons(reply.payload) if b["action_id"].startswith("model_alt")]
    assert 1 <= len(alternatives) <= 3
    assert "*Did you mean?*" in reply.shown
    offered = {b["value"] for b in alternatives}
    assert offered & {"moonshotai/Kimi-K2-Instruct", "moonshotai/Kimi-K2-Thinking"}
    assert shown not in offered
    assert [b["action_id"] for b in alternatives] == [
        f"model_alternative_{i}" for i in range(len(alternatives))
    ]


def test_model_card_of_a_gated_restricted_model(world: SlackWorld) -> None:
    reply = answered(world.model("meta-llama/llama-4-maverick-17b-128e-instruct"))

    assert header(reply.payload) == "meta-llama/Llama-4-Maverick-17B-128E-Instruct"
    assert field_value(reply.payload, "Lab") == "🇺🇸 Meta · United States"
    assert field_value(reply.payload, "Gated") == "Yes: accept the terms on the Hub"
    assert field_value(reply.payload, "License") == "llama4 (restricted)"
    assert reply.text.endswith("restricted license, gated")


def test_model_card_of_a_derivative_says_why_it_is_not_notable(world: SlackWorld) -> None:
    copy = "unsloth/Qwen3.7-8B-Instruct-GGUF"
    reply = answered(world.model(copy))

    assert header(reply.payload) == copy
    assert field_value(reply.payload, "Lab") == "🌐 unsloth · country unknown"
    assert "*Not flagged as a notable release*" in reply.shown
    assert f"third-party quantization of {FAMILY_SMALL}" in reply.shown
    assert "Why it's on the radar" not in reply.shown


@pytest.mark.parametrize("query", [HUB_ONLY_REPO.upper(), "quiet coder"])
def test_model_unknown_to_the_radar_is_looked_up_on_the_hub(world: SlackWorld, query: str) -> None:
    reply = answered(world.model(query))

    assert header(reply.payload) == HUB_ONLY_REPO
    assert field_value(reply.payload, "License") == "cc-by-nc-4.0 (non-commercial)"
    assert field_value(reply.payload, "Parameters") == "7B"
    assert "*Not flagged as a notable release*" in reply.shown
    # A lookup never records the repo: the poller would otherwise treat it as already seen.
    assert world.bot.core.store.models.get(HUB_ONLY_REPO.lower()) is None


def test_model_without_a_match_is_friendly_and_suggests(world: SlackWorld) -> None:
    reply = answered(world.model("zzqx wibble"))

    assert warning(reply) == "I found no model matching “zzqx wibble”."
    assert "Did you mean" in reply.text
    suggested = re.findall(r"`([^`]+)`", reply.shown)
    assert 1 <= len(suggested) <= 3
    assert all("/" in repo_id for repo_id in suggested)
    assert not buttons(reply.payload)


def test_model_without_a_query_explains_how_to_ask(world: SlackWorld) -> None:
    reply = answered(world.model("   "))

    assert "Tell me which model" in warning(reply)
    assert "/model Qwen/Qwen3-32B" in reply.text


def test_model_with_an_absurdly_long_query_is_refused_politely(world: SlackWorld) -> None:
    reply = answered(world.model("qwen " * 500))

    assert warning(reply) == "That is far longer than any model name."


def test_model_says_when_the_hub_is_not_answering(world: SlackWorld) -> None:
    world.hub.inject("503", times=10)
    try:
        reply = answered(world.model("nobody/nothing-here"))
    finally:
        world.hub.clear_faults()

    assert warning(reply) == "I found no model matching “nobody/nothing-here”."
    assert "The Hugging Face Hub is not answering right now" in reply.text


def test_model_acks_before_asking_a_slow_hub(world: SlackWorld) -> None:
    """The Hub lookup happens after the ack: Slack hears back before the Hub does."""
    repo_id = "slowlab/Slow-Model-3B"
    world.hub.add(fx.model_json(repo_id, created_at=world.bot.clock.now, params=3 * fx.B))
    name = "slow-hub"
    body = slash_command_body(
        "/model",
        repo_id,
        user_id="U_ALICE",
        channel_id="C0GENERAL",
        response_url=world.slack.response_url_for(name),
    )
    world.hub.latency = 1.0
    try:
        status, ack, seconds = world.post(body, content_type=FORM)
        answered_at_ack = world.slack.responses(name)
        arrived = world.slack.wait_for(lambda: world.slack.responses(name), timeout=20)
    finally:
        world.hub.latency = 0.0

    assert (status, ack) == (200, "")
    assert seconds < 3.0
    assert answered_at_ack == []
    assert arrived and header(arrived[0]) == repo_id
    assert arrived[0]["response_type"] == "ephemeral"


# ----------------------------------------------------------------------------- /radar help


@pytest.mark.parametrize("text", ["", "help", "   ", "HELP"])
def test_help_lists_every_command_and_filter(world: SlackWorld, text: str) -> None:
    reply = answered(world.radar(text))

    assert header(reply.payload) == "Open Model Radar: how to use it"
    assert reply.text == "Open Model Radar help: /model and /radar"
    for usage in (
        "/model &lt;repo id or free text&gt;",
        "/radar latest [N] [filters]",
        "/radar compare &lt;a&gt; &lt;b&gt; [&lt;c&gt;]",
        "/radar stats [7d|30d|90d]",
        "/radar subscribe [filters]",
        "/radar unsubscribe &lt;id|all&gt;",
        "/radar subscriptions",
        "/radar mute &lt;org&gt; [7d|12h]",
        "/radar unmute &lt;org&gt;",
        "/radar digest now",
        "/radar digest weekly &lt;mon..sun&gt; &lt;HH:MM&gt; [&lt;IANA timezone&gt;]",
        "/radar digest off",
        "/radar labs [country]",
        "/radar track &lt;namespace&gt; &lt;country&gt;",
        "/radar untrack &lt;namespace&gt;",
        "`org:&lt;namespace&gt;` `country:&lt;code or name&gt;` `region:&lt;us|china|eu|other&gt;`",
        "`min-params:&lt;N&gt;B` `task:&lt;pipeline tag&gt;`",
    ):
        assert usage in reply.shown
    assert "didn't understand" not in reply.shown


@pytest.mark.parametrize(
    ("text", "not_understood"),
    [("frobnicate", "frobnicate"), ("lates 5", "lates"), ("subscibe org:Qwen", "subscibe")],
)
def test_unknown_subcommand_says_what_was_not_understood(
    world: SlackWorld, text: str, not_understood: str
) -> None:
    reply = answered(world.radar(text))

    first_block = reply.payload["blocks"][0]["text"]["text"]
    assert first_block == f":thinking_face: I didn't understand `{not_understood}`"
    assert reply.text.startswith("I didn't understand that.")
    assert "/radar latest [N] [filters]" in reply.shown
    assert not world.bot.core.channels.subscriptions("C0GENERAL")


# --------------------------------------------------------------------------- /radar latest


def test_latest_lists_the_ten_newest_releases_by_default(world: SlackWorld) -> None:
    reply = answered(world.radar("latest"))

    lines = release_lines(reply)
    assert header(reply.payload) == "Latest notable releases (everything)"
    assert reply.text == "Latest notable releases (everything): 10 releases"
    assert len(lines) == 10
    assert lines[0] == "🌐 *lumen-research*: Lumen-R1 · 32B · 1 model · 2026-11-23"
    assert lines[1] == "🇨🇳 *Qwen*: Qwen3.7 · 8B–122B · 13 models · 2026-11-23"
    dates = [line.rsplit(" · ", 1)[1] for line in lines]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(("n", "expected"), [(1, 1), (3, 3), (25, RELEASES_IN_WORLD)])
def test_latest_n(world: SlackWorld, n: int, expected: int) -> None:
    reply = answered(world.radar(f"latest {n}"))

    assert len(release_lines(reply)) == expected
    assert reply.text.endswith(f": {expected} release{'s' if expected > 1 else ''}")


@pytest.mark.parametrize("n", ["0", "26", "-1", "1000"])
def test_latest_n_out_of_range_says_the_limits(world: SlackWorld, n: str) -> None:
    reply = answered(world.radar(f"latest {n}"))

    assert warning(reply) == f"I can list 1 to 25 releases, not {int(n)}."
    assert "Usage: `/radar latest [N] [filters]  (N from 1 to 25)`" in reply.shown
    assert not release_lines(reply)


def test_latest_filters_by_org(world: SlackWorld) -> None:
    reply = answered(world.radar("latest 5 org:deepseek-ai"))

    lines = release_lines(reply)
    assert header(reply.payload) == "Latest notable releases (from deepseek-ai)"
    assert len(lines) == 3
    assert all(line.startswith("🇨🇳 *DeepSeek*: DeepSeek-") for line in lines)


def test_latest_org_is_repeatable(world: SlackWorld) -> None:
    reply = answered(world.radar("latest 25 org:openai org:google"))

    labs = {line.split("*")[1] for line in release_lines(reply)}
    assert labs == {"OpenAI", "Google"}
    assert len(release_lines(reply)) == 4


def test_latest_combines_region_and_size(world: SlackWorld) -> None:
    reply = answered(world.radar("latest 25 region:us min-params:100B"))

    lines = release_lines(reply)
    assert header(reply.payload) == (
        "Latest notable releases (region United States, at least 100B params)"
    )
    assert lines, reply.shown
    assert all(line.startswith("🇺🇸 ") for line in lines)
    assert {line.split("*")[1] for line in lines} == {"OpenAI", "Meta"}
    assert not any(" · 9B · " in line or " · 21B · " in line for line in lines)


@pytest.mark.parametrize("country", ["country:CN", "country:china", "region:china"])
def test_latest_by_country_name_code_or_region(world: SlackWorld, country: str) -> None:
    reply = answered(world.radar(f"latest 25 {country}"))

    lines = release_lines(reply)
    assert len(lines) == CHINESE_RELEASES_IN_WORLD
    assert all(line.startswith("🇨🇳 ") for line in lines)


def test_latest_with_no_match_says_so(world: SlackWorld) -> None:
    reply = answered(world.radar("latest task:text-to-video"))

    assert not release_lines(reply)
    assert "No notable releases match yet." in reply.shown


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("colour:red", "not a filter I know"),
        ("region:mars", "`mars` is not a region (us, china, eu, other)"),
        ("min-params:big", "`big` is not a size like 30B or 500M"),
        ("task:dancing", "`dancing` is not a Hub pipeline tag"),
        ("country:atlantis", "`atlantis` is not a country I know"),
        ("org:", "the value is missing"),
        ("qwen", "not a filter I know"),
    ],
)
def test_a_bad_filter_is_named_with_the_valid_forms(
    world: SlackWorld, token: str, problem: str
) -> None:
    reply = answered(world.radar(f"latest 5 {token}"))

    sentence = warning(reply)
    assert sentence.startswith(f"`{token}`: ")
    assert problem in sentence
    assert "Valid filters: org:&lt;namespace&gt;, country:&lt;code or name&gt;" in sentence
    assert "region:us|china|eu|other, min-params:&lt;N&gt;B, task:&lt;pipeline tag&gt;" in sentence
    assert not release_lines(reply)


# -------------------------------------------------------------------------- /radar compare


@pytest.mark.parametrize(
    "text",
    [
        'compare "deepseek r1" "qwen3 32b"',
        "compare “deepseek r1” “qwen3 32b”",  # what Slack clients type for quotes
        "compare 'deepseek r1' 'qwen3 32b'",
    ],
)
def test_compare_two_models_given_as_quoted_free_text(world: SlackWorld, text: str) -> None:
    reply = answered(world.radar(text))

    assert header(reply.payload) == "Model comparison"
    assert reply.text == f"Comparing deepseek-ai/DeepSeek-R1-0528 vs {DENSE_REPO}"
    # A table block (the facts, one column per model) beside the header and model links
    table = reply.table()
    rows = {row[0]: row[1:] for row in table}
    assert table[0][1:] == ["deepseek-ai/DeepSeek-R1-0528", DENSE_REPO]
    assert rows["Lab"] == ["🇨🇳 DeepSeek · China", "🇨🇳 Qwen · China"]
    assert rows["Parameters"] == ["671B", "32B"]
    assert rows["License"] == ["mit (permissive)", "apache-2.0 (permissive)"]


def test_compare_three_models_numbers_the_columns(world: SlackWorld) -> None:
    reply = answered(world.radar(f'compare {FAMILY_LEAD} "gemma 3 27b" openai/gpt-oss-120b'))

    assert reply.text == (
        f"Comparing {FAMILY_LEAD} vs google/gemma-3-27b-it vs openai/gpt-oss-120b"
    )
    # three columns, headed by the models, in the order asked
    table = reply.table()
    assert table[0][1:] == [FAMILY_LEAD, "google/gemma-3-27b-it", "openai/gpt-oss-120b"]
    parameters = next(row for row in table if row[0] == "Parameters")
    assert parameters[1:] == ["122B total / 10B active", "27B", "117B"]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("compare deepseek-ai/DeepSeek-R1-0528", 1),
        ('compare "deepseek r1 qwen3 32b"', 1),
        ("compare", 0),
        ("compare a/b c/d e/f g/h", 4),
    ],
)
def test_compare_needs_two_or_three_models(world: SlackWorld, text: str, count: int) -> None:
    reply = answered(world.radar(text))

    assert warning(reply) == f"Compare takes two or three models, you gave {count}."
    assert '(quote free text: "deepseek r1")' in reply.shown


def test_compare_names_the_model_it_could_not_find(world: SlackWorld) -> None:
    reply = answered(world.radar('compare "deepseek r1" "zzqx wibble"'))

    assert warning(reply) == "I could not find “zzqx wibble”."
    assert 'compare "deepseek r1" "qwen3 32b"' in reply.shown


# ---------------------------------------------------------------------------- /radar stats


def test_stats_defaults_to_thirty_days(world: SlackWorld) -> None:
    reply = answered(world.radar("stats"))

    assert header(reply.payload) == "Open-weight scoreboard · last 30 days"
    assert reply.text == (
        "Scoreboard, last 30 days: United States 1, China 2, Europe 0, Rest of the world 1"
    )
    assert "🇨🇳 *China* leads with 50% of 4 notable releases." in reply.shown
    assert "🇨🇳 China: 2 releases" in reply.shown


def test_stats_last_seven_days(world: SlackWorld) -> None:
    reply = answered(world.radar("stats 7d"))

    assert header(reply.payload) == "Open-weight scoreboard · last 7 days"
    assert reply.text == (
        "Scoreboard, last 7 days: United States 0, China 1, Europe 0, Rest of the world 1"
    )
    # the regions are a table: region, releases, share, downloads, share, top release
    tops = {row[0]: row[5] for row in reply.table()[1:]}
    assert tops["China"].startswith("Qwen · Qwen3.7")
    assert tops["Rest"].startswith("lumen-research · Lumen-R1")


def test_stats_ninety_days_counts_more(world: SlackWorld) -> None:
    reply = answered(world.radar("stats 90D"))

    assert header(reply.payload) == "Open-weight scoreboard · last 90 days"
    assert reply.text == (
        "Scoreboard, last 90 days: United States 2, China 4, Europe 0, Rest of the world 1"
    )
    assert "🇨🇳 *China* leads with 57% of 7 notable releases." in reply.shown


@pytest.mark.parametrize("window", ["1y", "7", "7d 30d", "week"])
def test_stats_with_an_unknown_window(world: SlackWorld, window: str) -> None:
    reply = answered(world.radar(f"stats {window}"))

    assert warning(reply) == f"`{window}` is not a time window."
    assert "Usage: `/radar stats [7d|30d|90d]`" in reply.shown


# -------------------------------------------------------------- subscribe and unsubscribe


def test_subscribe_replies_with_the_subscription_id(world: SlackWorld) -> None:
    reply = answered(world.radar("subscribe org:Qwen min-params:30B", channel_id="C0SUB1"))

    stored = world.bot.core.channels.subscriptions("C0SUB1")
    assert len(stored) == 1
    sub = stored[0]
    assert reply.text == (
        "Subscribed this channel to notable releases: from Qwen, at least 30B params. "
        f"Subscription id `{sub.id}`."
    )
    assert f"`/radar unsubscribe {sub.id}` to stop." in reply.shown
    assert sub.filters.orgs == ["Qwen"] and sub.filters.min_params_b == 30
    assert sub.created_by == "U_ALICE"


def test_the_same_filters_twice_is_one_subscription(world: SlackWorld) -> None:
    first = answered(
        world.radar("subscribe region:china task:text-generation", channel_id="C0SUB2")
    )
    again = answered(world.radar("subscribe task:text-generation region:CN", channel_id="C0SUB2"))

    stored = world.bot.core.channels.subscriptions("C0SUB2")
    assert len(stored) == 1
    assert f"Subscription id `{stored[0].id}`" in first.text
    assert again.text == (
        f"This channel already has that subscription (`{stored[0].id}`): "
        "region China, task text-generation."
    )


def test_the_same_filters_in_another_channel_is_another_subscription(world: SlackWorld) -> None:
    answered(world.radar("subscribe org:mistralai", channel_id="C0SUB3"))
    answered(world.radar("subscribe org:mistralai", channel_id="C0SUB4"))

    first, second = (world.bot.core.channels.subscriptions(c) for c in ("C0SUB3", "C0SUB4"))
    assert len(first) == len(second) == 1
    assert first[0].id != second[0].id


def test_subscribe_with_a_bad_filter_stores_nothing(world: SlackWorld) -> None:
    reply = answered(world.radar("subscribe org:Qwen min-params:huge", channel_id="C0SUB5"))

    assert warning(reply).startswith("`min-params:huge`: `huge` is not a size")
    assert "Usage: `/radar subscribe [filters]`" in reply.shown
    assert world.bot.core.channels.subscriptions("C0SUB5") == []


def test_unsubscribe_by_id(world: SlackWorld) -> None:
    channel = "C0UNSUB1"
    answered(world.radar("subscribe org:google", channel_id=channel))
    keep = answered(world.radar("subscribe org:openai", channel_id=channel))
    google = next(
        s for s in world.bot.core.channels.subscriptions(channel) if s.filters.orgs == ["google"]
    )

    reply = answered(world.radar(f"unsubscribe {google.id}", channel_id=channel))

    assert reply.text == f"Removed `{google.id}`. This channel will get no alerts from them."
    remaining = world.bot.core.channels.subscriptions(channel)
    assert len(remaining) == 1
    assert f"`{remaining[0].id}`" in keep.text


def test_unsubscribe_all_removes_only_this_channels(world: SlackWorld) -> None:
    answered(world.radar("subscribe org:google", channel_id="C0UNSUB2"))
    answered(world.radar("subscribe org:openai", channel_id="C0UNSUB2"))
    answered(world.radar("subscribe org:google", channel_id="C0UNSUB3"))

    reply = answered(world.radar("unsubscribe all", channel_id="C0UNSUB2"))

    assert reply.text.startswith("Removed `s-")
    assert reply.text.count("`s-") == 2
    assert "no more alerts and no weekly digest" in reply.text
    assert world.bot.core.channels.subscriptions("C0UNSUB2") == []
    assert len(world.bot.core.channels.subscriptions("C0UNSUB3")) == 1
    # The last subscription gone, the digest stops too; the other channel keeps its own.
    schedules = {s.channel_id for s in world.bot.core.channels.digest_schedules()}
    assert "C0UNSUB2" not in schedules
    assert "C0UNSUB3" in schedules


def test_unsubscribe_an_unknown_id_lists_the_real_ones(world: SlackWorld) -> None:
    channel = "C0UNSUB4"
    answered(world.radar("subscribe org:nvidia", channel_id=channel))
    sub = world.bot.core.channels.subscriptions(channel)[0]

    reply = answered(world.radar("unsubscribe s-nope00", channel_id=channel))

    assert warning(reply) == "There is no subscription `s-nope00` here."
    assert f"This channel's subscriptions: `{sub.id}`" in reply.shown
    assert len(world.bot.core.channels.subscriptions(channel)) == 1


def test_unsubscribe_in_a_channel_without_subscriptions(world: SlackWorld) -> None:
    reply = answered(world.radar("unsubscribe all", channel_id="C0EMPTY1"))

    assert warning(reply) == "There is no subscription `all` here."
    assert "This channel has no subscriptions." in reply.shown


@pytest.mark.parametrize("text", ["unsubscribe", "unsubscribe s-1 s-2"])
def test_unsubscribe_needs_exactly_one_target(world: SlackWorld, text: str) -> None:
    reply = answered(world.radar(text))

    assert warning(reply) == "Tell me which subscription to remove."
    assert "Usage: `/radar unsubscribe &lt;id|all&gt;`" in reply.shown


def test_subscriptions_show_subscriptions_mutes_and_digest(world: SlackWorld) -> None:
    channel = "C0SETTINGS"
    answered(world.radar("subscribe region:eu", channel_id=channel))
    answered(world.radar("mute deepseek-ai 12h", channel_id=channel))
    sub = world.bot.core.channels.subscriptions(channel)[0]

    reply = answered(world.radar("subscriptions", channel_id=channel))

    assert header(reply.payload) == "Radar settings for this channel"
    assert reply.text == "1 subscription, 1 muted lab, weekly digest Mondays at 09:00 (UTC)"
    assert f"• `{sub.id}`: `region:eu` (since 2026-11-23)" in reply.shown
    assert "• `deepseek-ai` until 2026-11-23 21:05 UTC" in reply.shown
    assert "*Weekly digest*\nMondays at 09:00 (UTC)" in reply.shown


def test_subscriptions_of_a_quiet_channel(world: SlackWorld) -> None:
    reply = answered(world.radar("subscriptions", channel_id="C0EMPTY2"))

    assert reply.text == "0 subscriptions, 0 muted labs, weekly digest off"
    assert "None yet. Try `/radar subscribe region:china`" in reply.shown
    assert "*Muted labs*\nNone." in reply.shown


# --------------------------------------------------------------------------- mute, unmute


def test_mute_for_a_while_then_unmute(world: SlackWorld) -> None:
    channel = "C0MUTE1"
    muted = answered(world.radar("mute qwen 7d", channel_id=channel))

    assert muted.text == "Muted `Qwen` in this channel until 2026-11-30 09:05 UTC."
    assert "`/radar unmute Qwen` to hear from it again." in muted.shown
    assert world.bot.core.channels.is_muted(channel, "Qwen")
    assert not world.bot.core.channels.is_muted("C0GENERAL", "Qwen")

    unmuted = answered(world.radar("unmute Qwen", channel_id=channel))

    assert unmuted.text == "Unmuted `Qwen` in this channel."
    assert not world.bot.core.channels.is_muted(channel, "Qwen")


def test_mute_without_a_duration_lasts_until_unmuted(world: SlackWorld) -> None:
    reply = answered(world.radar("mute org:openai", channel_id="C0MUTE2"))

    assert reply.text == "Muted `openai` in this channel until you unmute it."
    listing = answered(world.radar("subscriptions", channel_id="C0MUTE2"))
    assert "• `openai` until unmuted" in listing.shown


def test_mute_an_old_namespace_mutes_the_lab(world: SlackWorld) -> None:
    reply = answered(world.radar("mute THUDM", channel_id="C0MUTE3"))

    assert reply.text == "Muted `zai-org` in this channel until you unmute it."
    assert world.bot.core.channels.is_muted("C0MUTE3", "zai-org")


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("mute Qwen 7x", "`7x` is not a duration."),
        ("mute Qwen forever", "`forever` is not a duration."),
        ("mute Qwen 0d", "`0d` is out of range."),
        ("mute Qwen 400d", "`400d` is out of range."),
        ("mute", "Tell me which lab to mute."),
        ("mute Qwen 7d extra", "Tell me which lab to mute."),
        ("mute qwen/Qwen3-32B!", "`qwen/Qwen3-32B!` is not a Hugging Face namespace."),
    ],
)
def test_mute_with_bad_input_mutes_nothing(world: SlackWorld, text: str, sentence: str) -> None:
    reply = answered(world.radar(text, channel_id="C0MUTE4"))

    assert warning(reply) == sentence
    assert world.bot.core.channels.active_mutes("C0MUTE4") == []


def test_unmute_a_lab_that_is_not_muted(world: SlackWorld) -> None:
    reply = answered(world.radar("unmute google", channel_id="C0MUTE5"))

    assert warning(reply) == "`google` was not muted here."


def test_unmute_needs_a_lab(world: SlackWorld) -> None:
    reply = answered(world.radar("unmute"))

    assert warning(reply) == "Tell me which lab to unmute."
    assert "Usage: `/radar unmute &lt;org&gt;`" in reply.shown


# -------------------------------------------------------------------------------- digests


def test_digest_now_posts_this_weeks_digest_in_the_channel(world: SlackWorld) -> None:
    channel = "C0DIGEST1"
    reply = answered(world.radar("digest now", channel_id=channel))

    assert reply.text == "Posted this week's digest to the channel."
    posted = world.slack.messages(channel)
    assert len(posted) == 1
    digest = posted[0]
    assert header(digest) == "Open Model Radar · week of 2026-11-16 – 2026-11-23"
    assert digest["text"] == (
        "Open Model Radar weekly digest 2026-11-16 – 2026-11-23: 2 notable releases."
    )
    shown = "\n".join(b.get("text", {}).get("text", "") for b in digest["blocks"])
    assert "🇨🇳 *China* (1)" in shown and "Qwen3.7" in shown
    assert "🌐 *Rest of the world* (1)" in shown and "Lumen-R1" in shown
    charts = [upload for upload in world.slack.uploads if upload["channel"] == channel]
    assert len(charts) == 1 and charts[0]["filename"].endswith(".png")


def test_digest_now_where_the_bot_cannot_post(
    world: SlackWorld, expected_slack_errors: list[str]
) -> None:
    channel = "G0PRIVATE"
    world.slack.private_channels.add(channel)
    world.slack.not_member.add(channel)
    expected_slack_errors += ["not_in_channel", "method_not_supported_for_channel_type"]

    reply = answered(world.radar("digest now", channel_id=channel))

    assert warning(reply) == "I cannot post in this channel yet."
    assert "Invite me first: `/invite @Open Model Radar`." in reply.shown
    assert world.slack.messages(channel) == []


def test_digest_now_runs_once_per_ten_minutes_per_channel(world: SlackWorld) -> None:
    channel = "C0DIGESTLIMIT"
    first = answered(world.radar("digest now", channel_id=channel))
    assert first.text == "Posted this week's digest to the channel."
    world.bot.clock.advance(minutes=4)

    again = answered(world.radar("digest now", channel_id=channel))
    elsewhere = answered(world.radar("digest now", channel_id="C0DIGESTLIMIT2"))

    assert warning(again) == "A digest was posted here on demand a few minutes ago."
    when = (world.bot.clock.now + timedelta(minutes=6)).strftime("%H:%M")
    assert f"can run again in this channel in 6 min (at {when} UTC)" in again.shown
    assert elsewhere.text == "Posted this week's digest to the channel."
    assert len([m for m in world.slack.messages(channel) if m.get("blocks")]) == 1
    world.bot.clock.advance(minutes=6, seconds=1)
    later = answered(world.radar("digest now", channel_id=channel))
    assert later.text == "Posted this week's digest to the channel."


def test_a_digest_that_could_not_be_posted_does_not_count(
    world: SlackWorld, expected_slack_errors: list[str]
) -> None:
    channel = "G0PRIVATE2"
    world.slack.private_channels.add(channel)
    world.slack.not_member.add(channel)
    expected_slack_errors += ["not_in_channel", "method_not_supported_for_channel_type"]
    assert warning(answered(world.radar("digest now", channel_id=channel))) == (
        "I cannot post in this channel yet."
    )
    world.slack.not_member.discard(channel)  # someone invites the bot

    retry = answered(world.radar("digest now", channel_id=channel))

    assert retry.text == "Posted this week's digest to the channel."


def test_digest_weekly_sets_the_schedule_and_off_stops_it(world: SlackWorld) -> None:
    channel = "C0DIGEST2"
    weekly = answered(world.radar("digest weekly fri 17:30 Europe/Paris", channel_id=channel))

    assert weekly.text == "Weekly digest set: every Friday at 17:30 (Europe/Paris)."
    schedule = world.bot.core.channels.schedule(channel)
    assert (schedule.weekday, schedule.time, schedule.timezone) == (4, "17:30", "Europe/Paris")
    listing = answered(world.radar("subscriptions", channel_id=channel))
    assert "*Weekly digest*\nFridays at 17:30 (Europe/Paris)" in listing.shown

    off = answered(world.radar("digest off", channel_id=channel))

    assert off.text == "Weekly digests are off for this channel. Alerts are unaffected."
    assert "`/radar digest weekly mon 09:00` turns them back on." in off.shown
    assert not world.bot.core.channels.schedule(channel).enabled
    listing = answered(world.radar("subscriptions", channel_id=channel))
    assert "*Weekly digest*\noff" in listing.shown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest weekly Thursday 9:05", "every Thursday at 09:05 (UTC)"),
        ("digest weekly tues 23:59 America/New_York", "every Tuesday at 23:59 (America/New_York)"),
        ("digest weekly SUN 00:00 Asia/Shanghai", "every Sunday at 00:00 (Asia/Shanghai)"),
    ],
)
def test_digest_weekly_accepts_day_names_and_times(
    world: SlackWorld, text: str, expected: str
) -> None:
    reply = answered(world.radar(text, channel_id="C0DIGEST3"))

    assert reply.text == f"Weekly digest set: {expected}."


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("digest weekly funday 09:00", "`funday` is not a day of the week."),
        ("digest weekly monkey 09:00", "`monkey` is not a day of the week."),
        ("digest weekly mon 25:00", "`25:00` is not a time like 09:00."),
        ("digest weekly mon 9am", "`9am` is not a time like 09:00."),
        ("digest weekly mon 09:00 Mars/Olympus", "`Mars/Olympus` is not an IANA timezone."),
        ("digest weekly mon 09:00 ../../etc/passwd", "`../../etc/passwd` is not an IANA timezone."),
        ("digest weekly fri", "I did not understand that digest setting."),
        ("digest sometimes", "I did not understand that digest setting."),
        ("digest", "I did not understand that digest setting."),
        ("digest now please", "I did not understand that digest setting."),
    ],
)
def test_digest_with_bad_settings_changes_nothing(
    world: SlackWorld, text: str, sentence: str
) -> None:
    reply = answered(world.radar(text, channel_id="C0DIGEST4"))

    assert warning(reply) == sentence
    assert world.bot.core.store.digests.get("C0DIGEST4") is None
    assert world.slack.messages("C0DIGEST4") == []


# --------------------------------------------------------------------------- labs, track


def test_labs_lists_every_tracked_lab_by_region(world: SlackWorld) -> None:
    reply = answered(world.radar("labs"))

    assert header(reply.payload) == "Tracked labs"
    assert re.fullmatch(r"\d+ tracked labs", reply.text)
    headings = re.findall(r"^\*(\S+ [^*]+)\* · \d+ labs$", reply.shown, re.MULTILINE)
    assert headings == ["🇺🇸 United States", "🇨🇳 China", "🇪🇺 Europe", "🌐 Rest of the world"]
    assert "🇨🇳 *DeepSeek* `deepseek-ai` · frontier" in reply.shown
    assert "🇫🇷 *Mistral AI* `mistralai`" in reply.shown


@pytest.mark.parametrize("country", ["china", "CN", "Chinese", "🇨🇳"])
def test_labs_of_one_country(world: SlackWorld, country: str) -> None:
    reply = answered(world.radar(f"labs {country}"))

    assert header(reply.payload) == "Tracked labs: 🇨🇳 CN"
    lab_lines = [line for line in reply.shown.splitlines() if line.endswith(("`", "frontier"))]
    assert lab_lines and all(line.startswith("🇨🇳 *") for line in lab_lines)
    assert "🇨🇳 *Qwen* `Qwen` · frontier" in lab_lines


def test_labs_of_an_unknown_country(world: SlackWorld) -> None:
    reply = answered(world.radar("labs atlantis"))

    assert warning(reply) == "`atlantis` is not a country I know."
    assert "Usage: `/radar labs [country]`" in reply.shown


def test_labs_of_a_country_without_tracked_labs(world: SlackWorld) -> None:
    reply = answered(world.radar("labs Brazil"))

    assert reply.text == "No tracked labs for BR."
    assert "Add one with `/radar track &lt;namespace&gt; &lt;country&gt;`." in reply.shown


def test_track_then_untrack_a_lab(world: SlackWorld) -> None:
    tracked = answered(world.radar("track quietlab France"))

    assert tracked.text.startswith("Now tracking `quietlab` (FR, eu).")
    assert "new releases after that are announced" in tracked.text
    lab = world.bot.core.registry.resolve("quietlab")
    assert lab is not None and lab.country == "FR"
    listing = answered(world.radar("labs FR"))
    assert "🇫🇷 *quietlab* `quietlab` · added here" in listing.shown

    untracked = answered(world.radar("untrack quietlab"))

    assert untracked.text == "Stopped tracking `quietlab`."
    assert world.bot.core.registry.resolve("quietlab") is None
    listing = answered(world.radar("labs FR"))
    assert "quietlab" not in listing.shown


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("track quietlab atlantis", "`atlantis` is not a country I know."),
        ("track quietlab", "Tell me the namespace and the lab's country."),
        ("track", "Tell me the namespace and the lab's country."),
        ('track "quiet lab!" US', "`quiet lab!` is not a Hugging Face namespace."),
    ],
)
def test_track_with_bad_input_tracks_nothing(world: SlackWorld, text: str, sentence: str) -> None:
    before = len(world.bot.core.registry.labs())

    reply = answered(world.radar(text))

    assert warning(reply) == sentence
    assert "Usage: `/radar track &lt;namespace&gt; &lt;country&gt;`" in reply.shown
    assert len(world.bot.core.registry.labs()) == before
    assert world.bot.core.registry.resolve("quietlab") is None


def test_untrack_a_lab_that_is_not_tracked(world: SlackWorld) -> None:
    reply = answered(world.radar("untrack nobody-tracks-this"))

    assert warning(reply) == "`nobody-tracks-this` is not a tracked lab."


# ------------------------------------------------------------------------------ admin gate


@pytest.mark.parametrize(
    "text",
    [
        "subscribe org:Qwen",
        "unsubscribe all",
        "track quietlab FR",
        "untrack Qwen",
        "digest weekly fri 10:00",
        "digest off",
    ],
)
def test_only_admins_may_change_settings_when_admins_are_set(
    admin_world: SlackWorld, text: str
) -> None:
    channel = "C0GATED"
    answered(admin_world.radar("subscribe org:google", user_id=ADMIN, channel_id=channel))
    subs_before = admin_world.bot.core.channels.subscriptions(channel)
    schedule_before = admin_world.bot.core.channels.schedule(channel)
    labs_before = [lab.key for lab in admin_world.bot.core.registry.labs()]

    reply = answered(admin_world.radar(text, user_id="U_ALICE", channel_id=channel))

    assert warning(reply) == (
        "Sorry, only the radar's admins can change subscriptions and tracked labs here."
    )
    assert "use `latest`, `stats` and `/model`, which are open to everyone" in reply.shown
    assert admin_world.bot.core.channels.subscriptions(channel) == subs_before
    assert admin_world.bot.core.channels.schedule(channel) == schedule_before
    assert [lab.key for lab in admin_world.bot.core.registry.labs()] == labs_before
    assert admin_world.bot.core.registry.resolve("quietlab") is None


def test_admins_may_change_settings(admin_world: SlackWorld) -> None:
    channel = "C0ADMIN"
    subscribed = answered(
        admin_world.radar("subscribe org:Qwen", user_id=ADMIN, channel_id=channel)
    )
    tracked = answered(admin_world.radar("track quietlab FR", user_id=ADMIN, channel_id=channel))
    weekly = answered(
        admin_world.radar("digest weekly wed 08:15", user_id=ADMIN, channel_id=channel)
    )

    assert subscribed.text.startswith("Subscribed this channel to notable releases: from Qwen.")
    assert tracked.text.startswith("Now tracking `quietlab` (FR, eu).")
    assert weekly.text == "Weekly digest set: every Wednesday at 08:15 (UTC)."
    assert len(admin_world.bot.core.channels.subscriptions(channel)) == 1

    untracked = answered(admin_world.radar("untrack quietlab", user_id=ADMIN))
    removed = answered(admin_world.radar("unsubscribe all", user_id=ADMIN, channel_id=channel))

    assert untracked.text == "Stopped tracking `quietlab`."
    assert removed.text.startswith("Removed `s-")
    assert admin_world.bot.core.channels.subscriptions(channel) == []


@pytest.mark.parametrize("text", ["latest 3", "stats 7d", "labs us", "subscriptions", "help"])
def test_everyone_may_read_when_admins_are_set(admin_world: SlackWorld, text: str) -> None:
    reply = answered(admin_world.radar(text, user_id="U_ALICE"))

    assert "only the radar's admins" not in reply.text
    assert header(reply.payload)


def test_anyone_may_mute_for_their_channel_when_admins_are_set(admin_world: SlackWorld) -> None:
    reply = answered(admin_world.radar("mute Qwen 1d", user_id="U_ALICE", channel_id="C0AMUTE"))

    assert reply.text.startswith("Muted `Qwen` in this channel until ")
    assert admin_world.bot.core.channels.is_muted("C0AMUTE", "Qwen")


# ------------------------------------------------------------------- the reply contract


@pytest.mark.parametrize(
    "text",
    [
        "",
        "help",
        "nonsense",
        "latest",
        "latest 99",
        "latest colour:red",
        'compare "deepseek r1" "qwen3 32b"',
        "compare one",
        "stats 30d",
        "stats 1y",
        "subscriptions",
        "labs",
        "labs atlantis",
        "unmute nobody",
        "digest weekly mon 09:00 Nowhere/Land",
        "x" * 5000,
    ],
)
def test_every_radar_reply_is_a_fast_ack_then_ephemeral(world: SlackWorld, text: str) -> None:
    reply = world.radar(text, channel_id="C0CONTRACT")

    assert reply.status == 200
    assert reply.ack_body == ""
    assert reply.seconds < 3.0
    assert len(reply.payloads) == 1
    assert reply.response_type == "ephemeral"
    assert reply.text.strip()
    assert world.slack.messages("C0CONTRACT") == []
