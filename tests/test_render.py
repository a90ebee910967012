"""What users see in Slack: escaped hostile text, readable facts, and payloads Slack accepts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.radar.models import (
    DigestSchedule,
    Filters,
    Lab,
    LicenseClass,
    ModelRecord,
    Mute,
    Openness,
    Region,
    Release,
    Subscription,
    lead_member,
)
from bot.slack import render
from bot.slack.mrkdwn import escape, escape_inline, hub_link, link, plain, truncate
from tests.doubles.slack_server import find_broadcast_mentions, validate_message, validate_view

NOW = datetime(2025, 4, 29, 12, 0, tzinfo=UTC)
HOSTILE = (
    "<!channel> <!here> @everyone <@U123> <#C1> <https://evil.example|click> "
    "R&D *bold* `code` _it_ ~st~ \x00\x07\x1b\u202e"
)
HUGE = HOSTILE + "A&<" * 35_000  # ~100 kB that expands further when escaped


def model(repo_id: str, params: int | None = None, **extra: Any) -> ModelRecord:
    return ModelRecord(
        id=repo_id,
        author=repo_id.split("/")[0],
        first_seen=NOW,
        params_total=params,
        **extra,
    )


def qwen_flagship() -> ModelRecord:
    return model(
        "Qwen/Qwen3-235B-A22B",
        235_094_000_000,
        lab="Qwen",
        params_active=22_000_000_000,
        downloads=1_234_567,
        downloads_all_time=3_400_000,
        likes=1_234,
        license="apache-2.0",
        license_class=LicenseClass.PERMISSIVE,
        openness=Openness.WEIGHTS,
        pipeline_tag="text-generation",
        children={"quantized": 190, "finetune": 328, "adapter": 1, "merge": 19},
        detailed=True,
        notable=True,
        reasons=["New flagship family from a tier-1 lab"],
    )


def qwen_release(members: list[str] | None = None, **extra: Any) -> Release:
    fields: dict[str, Any] = {
        "id": "qwen-qwen3-20250429",
        "lab": "Qwen",
        "lab_name": "Qwen",
        "country": "CN",
        "region": Region.CHINA,
        "title": "Qwen3",
        "stem": "qwen3",
        "members": members or ["Qwen/Qwen3-235B-A22B", "Qwen/Qwen3-0.6B", "Qwen/Qwen3-32B"],
        "first_seen": NOW,
        "updated_at": NOW,
        "reasons": ["Tier-1 lab", "Three sizes at once"],
    }
    return Release(**{**fields, **extra})


def all_texts(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def block_texts(payload: dict[str, Any]) -> list[str]:
    """Every text a user can read in the blocks, in order."""
    texts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                texts.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(payload["blocks"])
    return texts


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in payload["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def assert_safe_message(payload: dict[str, Any], *, max_blocks: int = 50) -> None:
    assert validate_message(payload, max_blocks=max_blocks) == []
    assert payload["text"].strip()
    assert len(payload["text"]) <= render.MAX_FALLBACK_TEXT
    assert find_broadcast_mentions(payload) == []
    dumped = "\n".join([payload["text"], *block_texts(payload)])
    for raw in ("<!channel>", "<!here>", "<@U123>", "<#C1>", "<https://evil", "\x00", "\u202e"):
        assert raw not in dumped


# -- mrkdwn ----------------------------------------------------------------------------------


def test_escape_turns_mentions_links_and_ampersands_into_text() -> None:
    assert escape("<!channel> & <@U123> <https://evil|click>") == (
        "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt;"
    )


def test_escape_strips_control_and_bidi_characters_but_keeps_layout() -> None:
    assert escape("a\x00b\x07c\u202ed\r\ne\tf") == "abcd\ne\tf"


def test_escape_neutralises_bare_broadcast_words() -> None:
    shown = escape("ping @channel and @Here and @everyone, not @channels")
    assert "@channel " not in shown
    assert "@\u200dchannel" in shown
    assert "@\u200dHere" in shown
    assert "@\u200deveryone" in shown
    assert "@channels" in shown


def test_escape_accepts_any_value() -> None:
    assert escape(None) == ""
    assert escape(42) == "42"


def test_escape_inline_cannot_close_bold_or_code_spans() -> None:
    shown = escape_inline("evil* `x` _y_ ~z~")
    assert not any(marker in shown for marker in "*`_~")
    assert "evil" in shown


def test_plain_text_keeps_words_but_cannot_form_markup() -> None:
    shown = plain("<!here> R&D @channel")
    assert "<" not in shown and ">" not in shown
    assert "R&D" in shown
    assert "@\u200dchannel" in shown


def test_link_escapes_label_and_refuses_non_https_urls() -> None:
    assert link("https://huggingface.co/a/b", "a|b>c") == "<https://huggingface.co/a/b|a¦b&gt;c>"
    assert link("javascript:alert(1)", "click") == "click"
    assert link("http://plain.example", "<!here>") == "&lt;!here&gt;"
    assert link("https://x.example/<!here>", "x") == "x"


def test_hub_link_builds_the_page_url_from_the_repo_id() -> None:
    assert hub_link("Qwen/Qwen3-8B") == "<https://huggingface.co/Qwen/Qwen3-8B|Qwen/Qwen3-8B>"
    assert hub_link("Qwen/Qwen3-8B", "8B", base="https://hub.example/") == (
        "<https://hub.example/Qwen/Qwen3-8B|8B>"
    )


def test_truncate_never_splits_an_entity() -> None:
    text = escape("ab&cd")  # "ab&amp;cd"
    for limit in range(1, len(text) + 2):
        cut = truncate(text, limit)
        assert len(cut) <= limit
        assert "&am…" not in cut and "&a…" not in cut and "&…" not in cut
    assert truncate(text, 5) == "ab…"


def test_truncate_never_cuts_a_link_in_half() -> None:
    text = "see " + link("https://huggingface.co/org/model", "org/model")
    assert truncate(text, 20) == "see…"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab &<>\n*`"), max_size=60), st.integers(1, 70))
def test_truncate_respects_the_limit_and_entities(raw: str, limit: int) -> None:
    text = escape(raw)
    cut = truncate(text, limit)
    assert len(cut) <= limit
    body = cut.removesuffix("…")
    # Every "&" left in the output still starts a whole entity.
    for index, char in enumerate(body):
        if char == "&":
            assert body.startswith(("&amp;", "&lt;", "&gt;"), index)


# -- model card ------------------------------------------------------------------------------


def test_model_card_shows_the_facts_a_user_asked_for() -> None:
    record = qwen_flagship()
    siblings = [
        record,
        model("Qwen/Qwen3-0.6B", 600_000_000),
        model("Qwen/Qwen3-32B", 32_800_000_000),
    ]
    payload = render.model_card(
        record,
        lab_name="Qwen",
        country="CN",
        release=qwen_release(),
        siblings=siblings,
        alternatives=[],
    )
    assert_safe_message(payload)
    texts = "\n".join(block_texts(payload))
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Qwen/Qwen3-235B-A22B", "emoji": True},
    }
    assert "🇨🇳 Qwen · China" in texts
    assert "235B total / 22B active" in texts
    assert "apache-2.0 (permissive)" in texts
    assert "1.2M last 30 d · 3.4M all time" in texts
    assert "*Likes*\n1.2k" in texts
    assert "328 fine-tunes · 190 quantized · 19 merges · 1 adapter" in texts
    assert "*Gated*\nNo" in texts
    assert "New flagship family from a tier-1 lab" in texts
    assert "Part of the release “Qwen3”* (3 models)" in texts
    # Siblings, largest first (the one member order), linked, without the card's own repo.
    assert texts.index("Qwen3-32B> · 32.8B") < texts.index("Qwen3-0.6B> · 600M")
    assert "<https://huggingface.co/Qwen/Qwen3-0.6B|Qwen3-0.6B>" in texts
    assert payload["text"] == (
        "Qwen/Qwen3-235B-A22B: Qwen, 235B total / 22B active, permissive license"
    )


def test_model_card_buttons_share_and_open_the_hub_page() -> None:
    record = qwen_flagship()
    payload = render.model_card(
        record, lab_name="Qwen", country="CN", release=None, siblings=[], alternatives=[]
    )
    by_action = {b["action_id"]: b for b in buttons(payload)}
    assert by_action["share_model"]["value"] == "Qwen/Qwen3-235B-A22B"
    assert by_action["share_model"]["text"]["text"] == "Share in channel"
    assert by_action["open_model_hub"]["url"] == "https://huggingface.co/Qwen/Qwen3-235B-A22B"

    private = render.model_card(
        record,
        lab_name="Qwen",
        country="CN",
        release=None,
        siblings=[],
        alternatives=[],
        shareable=False,
    )
    assert "share_model" not in {b["action_id"] for b in buttons(private)}


def test_model_card_offers_at_most_three_alternatives_as_buttons() -> None:
    record = model("google/gemma-3-27b-it", 27_000_000_000)
    alternatives = [f"google/gemma-3-{size}b-it" for size in (1, 4, 12, 27, 270)]
    payload = render.model_card(
        record,
        lab_name="Google",
        country="US",
        release=None,
        siblings=[],
        alternatives=alternatives,
    )
    assert_safe_message(payload)
    offered = [b for b in buttons(payload) if b["action_id"].startswith("model_alternative_")]
    assert [(b["action_id"], b["value"]) for b in offered] == [
        ("model_alternative_0", "google/gemma-3-1b-it"),
        ("model_alternative_1", "google/gemma-3-4b-it"),
        ("model_alternative_2", "google/gemma-3-12b-it"),
    ]


def test_model_card_explains_a_repo_that_is_not_notable() -> None:
    record = model(
        "someone/Qwen3-8B-GGUF",
        8_000_000_000,
        reasons=["Third-party quantization of Qwen/Qwen3-8B"],
    )
    payload = render.model_card(
        record, lab_name=None, country=None, release=None, siblings=[], alternatives=[]
    )
    texts = "\n".join(block_texts(payload))
    assert "*Not flagged as a notable release*" in texts
    assert "Third-party quantization of Qwen/Qwen3-8B" in texts
    assert "🌐 someone · country unknown" in texts
    assert "*Derivatives*\nnone counted yet" in texts


def test_model_card_with_hostile_hub_metadata_is_escaped_and_valid() -> None:
    record = model(
        "evil/<!channel>",
        None,
        pipeline_tag=HOSTILE,
        license=HOSTILE,
        reasons=[HOSTILE, HUGE],
        tags=[HOSTILE] * 10_000,
        notable=True,
        children={HOSTILE: 3},
    )
    siblings = [model(f"evil/{HOSTILE}-{i}", i * 1_000_000) for i in range(1, 10_001)]
    payload = render.model_card(
        record,
        lab_name=HOSTILE,
        country="<!here>",
        release=qwen_release(members=[s.id for s in siblings]),
        siblings=siblings,
        alternatives=[HOSTILE, HUGE],
    )
    assert_safe_message(payload)
    texts = "\n".join(block_texts(payload))
    assert "&lt;!channel&gt;" in texts
    assert "&lt;@U123&gt;" in texts
    assert "R&amp;D" in texts
    hidden = re.search(r"…and (\d+) more models", texts)
    assert hidden is not None and 9_990 <= int(hidden.group(1)) < 10_000
    header = payload["blocks"][0]["text"]["text"]
    assert header == "evil/‹!channel›"


# -- release alerts ----------------------------------------------------------------------------


def test_release_alert_is_one_message_with_sizes_license_and_buttons() -> None:
    members = [
        qwen_flagship(),
        model("Qwen/Qwen3-0.6B", 600_000_000, license_class=LicenseClass.PERMISSIVE),
        model("Qwen/Qwen3-32B", 32_800_000_000, gated=True, license_class=LicenseClass.PERMISSIVE),
    ]
    release = qwen_release()
    payload = render.release_alert(release, members)
    assert_safe_message(payload)
    assert payload["blocks"][0]["text"]["text"] == "🇨🇳 Qwen: Qwen3"
    texts = "\n".join(block_texts(payload))
    assert "3 models · 600M–235B" in texts
    order = [texts.index(name) for name in ("Qwen3-235B-A22B>", "Qwen3-32B>", "Qwen3-0.6B>")]
    assert order == sorted(order)
    assert "235B total / 22B active" in texts
    assert "*License*\npermissive" in texts
    assert "*Gated*\n1 of 3 repos" in texts
    assert "• Tier-1 lab\n• Three sizes at once" in texts
    by_action = {b["action_id"]: b for b in buttons(payload)}
    assert by_action["release_details"]["value"] == "qwen-qwen3-20250429"
    assert by_action["mute_lab"]["value"] == "Qwen"
    assert by_action["mute_lab"]["text"]["text"] == "Mute Qwen"
    assert payload["text"] == "🇨🇳 New open-weight release from Qwen: Qwen3 (3 models, 600M–235B)"


def test_release_metadata_names_the_release() -> None:
    assert render.release_metadata(qwen_release()) == {
        "event_type": "radar_release",
        "event_payload": {"release_id": "qwen-qwen3-20250429"},
    }


def test_release_alert_with_ten_thousand_members_stays_within_limits() -> None:
    members = [model(f"Qwen/Qwen3-{i}B", i * 1_000_000_000) for i in range(1, 10_001)]
    release = qwen_release(members=[m.id for m in members], title=HOSTILE, lab_name=HOSTILE)
    payload = render.release_alert(release, members)
    assert_safe_message(payload)
    texts = "\n".join(block_texts(payload))
    assert "10000 models · 1B–10T" in texts
    assert "more models" in texts
    assert all(len(b["text"]["text"]) <= 150 for b in payload["blocks"] if b["type"] == "header")


def test_release_alert_lists_members_without_records_too() -> None:
    release = qwen_release(members=["Qwen/Qwen3-8B", "Qwen/Qwen3-Unknown"])
    payload = render.release_alert(release, [model("Qwen/Qwen3-8B", 8_200_000_000)])
    texts = "\n".join(block_texts(payload))
    assert "Qwen3-8B> · 8.2B" in texts
    assert "<https://huggingface.co/Qwen/Qwen3-Unknown|Qwen3-Unknown>" in texts
    assert "2 models" in texts


def test_release_update_reply_names_the_new_members() -> None:
    payload = render.release_update_reply(
        qwen_release(),
        [model("Qwen/Qwen3-4B", 4_000_000_000), model("Qwen/Qwen3-1.7B", 1_700_000_000)],
    )
    assert_safe_message(payload)
    texts = "\n".join(block_texts(payload))
    assert texts.startswith("*New in this release:*\n• <https://huggingface.co/Qwen/Qwen3-4B|")
    assert "Qwen3-1.7B> · 1.7B" in texts
    assert payload["text"] == "New in Qwen3: Qwen/Qwen3-4B, Qwen/Qwen3-1.7B"


def test_release_list_has_one_line_per_release() -> None:
    first = qwen_release()
    second = Release(
        id="mistral-small-3",
        lab="mistralai",
        lab_name="Mistral AI",
        country="FR",
        region=Region.EU,
        title="Mistral Small 3",
        stem="mistral-small-3",
        members=["mistralai/Mistral-Small-24B-Instruct-2501"],
        first_seen=NOW - timedelta(days=2),
        updated_at=NOW,
    )
    members = {
        first.id: [qwen_flagship(), model("Qwen/Qwen3-0.6B", 600_000_000)],
        second.id: [model("mistralai/Mistral-Small-24B-Instruct-2501", 23_600_000_000)],
    }
    payload = render.release_list("Latest releases", [first, second], members, empty_text="none")
    assert_safe_message(payload)
    lines = "\n".join(block_texts(payload)[1:]).splitlines()
    assert lines == [
        "🇨🇳 *Qwen*: <https://huggingface.co/Qwen/Qwen3-235B-A22B|Qwen3> · 600M–235B · "
        "3 models · 2025-04-29",
        "🇫🇷 *Mistral AI*: <https://huggingface.co/mistralai/Mistral-Small-24B-Instruct-2501"
        "|Mistral Small 3> · 23.6B · 1 model · 2025-04-27",
    ]
    assert payload["text"] == "Latest releases: 2 releases"


def test_release_list_when_empty_says_so() -> None:
    payload = render.release_list(
        "Latest releases", [], {}, empty_text="No releases match country:<!here>"
    )
    assert_safe_message(payload)
    assert block_texts(payload)[-1] == "No releases match country:&lt;!here&gt;"


def test_release_list_with_many_releases_summarises_the_rest() -> None:
    releases = [qwen_release().model_copy(update={"id": f"r{i}"}) for i in range(200)]
    payload = render.release_list("Latest", releases, {}, empty_text="none")
    assert_safe_message(payload)
    assert block_texts(payload)[-1] == "…and 150 more releases"


# -- comparison, help, errors --------------------------------------------------------------


def test_comparison_puts_models_side_by_side() -> None:
    records = [qwen_flagship(), model("meta-llama/Llama-3.1-70B", 70_600_000_000, gated=True)]
    labels = {"Qwen/Qwen3-235B-A22B": ("Qwen", "CN"), "meta-llama/Llama-3.1-70B": ("Meta", "US")}
    payload = render.comparison(records, labels)
    assert_safe_message(payload)
    rows = {
        block["text"]["text"]: [field["text"] for field in block["fields"]]
        for block in payload["blocks"]
        if block["type"] == "section" and "text" in block
    }
    assert rows["*Lab*"] == ["🇨🇳 Qwen · China", "🇺🇸 Meta · United States"]
    assert rows["*Parameters*"] == ["235B total / 22B active", "70.6B"]
    assert rows["*Gated*"] == ["No", "Yes"]
    assert rows["*Downloads (30 d)*"] == ["1.2M", "0"]
    assert payload["text"] == "Comparing Qwen/Qwen3-235B-A22B vs meta-llama/Llama-3.1-70B"


def test_comparison_of_three_numbers_the_columns_and_ignores_a_fourth() -> None:
    records = [model(f"org/m{i}", i * 1_000_000_000) for i in range(1, 5)]
    payload = render.comparison(records, {})
    assert_safe_message(payload)
    params = next(b for b in payload["blocks"] if b.get("text", {}).get("text") == "*Parameters*")
    assert [f["text"] for f in params["fields"]] == ["1. 1B", "2. 2B", "3. 3B"]
    assert block_texts(payload)[-1] == "Showing the first 3 of 4 models."


def test_help_lists_every_command_and_filter() -> None:
    payload = render.help_message("/model", "/radar")
    assert_safe_message(payload)
    texts = "\n".join(block_texts(payload))
    for usage in (
        "/model <repo id or free text>",
        "/radar latest [N] [filters]",
        "/radar compare <a> <b> [<c>]",
        "/radar stats [7d|30d|90d]",
        "/radar subscribe [filters]",
        "/radar unsubscribe <id|all>",
        "/radar subscriptions",
        "/radar mute <org> [7d|12h]",
        "/radar unmute <org>",
        "/radar digest now",
        "/radar digest weekly <mon..sun> <HH:MM> [<IANA timezone>]",
        "/radar digest off",
        "/radar labs [country]",
        "/radar track <namespace> <country>",
        "/radar untrack <namespace>",
        "/radar help",
        "org:<namespace>",
        "country:<code or name>",
        "region:<us|china|eu|other>",
        "min-params:<N>B",
        "task:<pipeline tag>",
    ):
        assert usage.replace("<", "&lt;").replace(">", "&gt;") in texts, usage
    assert "didn't understand" not in texts


def test_help_for_unknown_input_quotes_it_safely() -> None:
    payload = render.help_message("/model", "/radar", not_understood="frobnicate <!here> `x`")
    assert_safe_message(payload)
    first = block_texts(payload)[0]
    assert first == ":thinking_face: I didn't understand `frobnicate &lt;!here&gt; ˋxˋ`"
    assert payload["text"].startswith("I didn't understand that.")


def test_error_message_is_escaped_and_keeps_the_hint() -> None:
    payload = render.error_message("No model called <@U123>", hint="Try `/model qwen3`")
    assert_safe_message(payload)
    assert block_texts(payload) == [":warning: No model called &lt;@U123&gt;", "Try `/model qwen3`"]


def test_error_message_with_100_kb_of_text_is_cut_to_fit() -> None:
    payload = render.error_message(HUGE, hint=HUGE)
    assert_safe_message(payload)
    section = payload["blocks"][0]["text"]["text"]
    assert len(section) <= 3000 and section.endswith("…")


# -- labs, subscriptions, home -------------------------------------------------------------


def labs() -> list[Lab]:
    return [
        Lab(namespace="Qwen", name="Qwen", country="CN", region=Region.CHINA, tier=1),
        Lab(namespace="deepseek-ai", name="DeepSeek", country="CN", region=Region.CHINA, tier=1),
        Lab(namespace="meta-llama", name="Meta", country="US", region=Region.US, tier=1),
        Lab(namespace="mistralai", name="Mistral AI", country="FR", region=Region.EU, tier=1),
        Lab(namespace="tiiuae", name="TII", country="AE", region=Region.OTHER, tier=2),
        Lab(namespace="gone", name="Gone", country="US", region=Region.US, removed=True),
        Lab(namespace="ai2", name="<!channel>", country="US", region=Region.US, source="user"),
    ]


def test_labs_list_groups_by_region_with_flags() -> None:
    payload = render.labs_list(labs(), country=None)
    assert_safe_message(payload)
    texts = block_texts(payload)
    assert texts[0] == "Tracked labs"
    headings = [t.splitlines()[0] for t in texts[1:]]
    assert headings == [
        "*🇺🇸 United States* · 2 labs",
        "*🇨🇳 China* · 2 labs",
        "*🇪🇺 Europe* · 1 lab",
        "*🌐 Rest of the world* · 1 lab",
    ]
    assert "🇨🇳 *DeepSeek* `deepseek-ai` · frontier" in texts[2]
    assert "&lt;!channel&gt;" in texts[1] and "added here" in texts[1]
    assert "Gone" not in "\n".join(texts)
    assert payload["text"] == "6 tracked labs"


def test_labs_list_for_one_country() -> None:
    payload = render.labs_list(labs(), country="cn")
    texts = block_texts(payload)
    assert texts[0] == "Tracked labs: 🇨🇳 CN"
    assert len(texts) == 2 and "Qwen" in texts[1] and "Meta" not in texts[1]
    empty = render.labs_list(labs(), country="JP")
    assert_safe_message(empty)
    assert "No tracked labs for JP" in block_texts(empty)[1]


def test_subscriptions_list_shows_filters_active_mutes_and_digest() -> None:
    subs = [
        Subscription(
            id="s1",
            channel_id="C1",
            filters=Filters(regions=[Region.CHINA], min_params_b=30),
            created_at=NOW,
        ),
        Subscription(id="s2", channel_id="C1", created_at=NOW, paused_reason="is_archived"),
    ]
    mutes = [
        Mute(channel_id="C1", lab="qwen", until=NOW + timedelta(days=7)),
        Mute(channel_id="C1", lab="expired", until=NOW - timedelta(days=1)),
        Mute(channel_id="C1", lab="meta-llama"),
    ]
    schedule = DigestSchedule(channel_id="C1", weekday=0, time="09:00", timezone="Europe/Paris")
    payload = render.subscriptions_list(subs, mutes, schedule, now=NOW)
    assert_safe_message(payload)
    texts = "\n".join(block_texts(payload))
    assert "• `s1`: `region:china min-params:30B` (since 2025-04-29)" in texts
    assert "• `s2`: all notable releases (since 2025-04-29) · :double_vertical_bar: paused" in texts
    assert "• `qwen` until 2025-05-06 12:00 UTC" in texts
    assert "• `meta-llama` until unmuted" in texts
    assert "expired" not in texts
    assert "*Weekly digest*\nMondays at 09:00 (Europe/Paris)" in texts
    assert payload["text"] == (
        "2 subscriptions, 2 muted labs, weekly digest Mondays at 09:00 (Europe/Paris)"
    )


def test_subscriptions_list_when_nothing_is_set_up() -> None:
    payload = render.subscriptions_list([], [], None)
    assert_safe_message(payload)
    texts = "\n".join(block_texts(payload))
    assert "None yet. Try `/radar subscribe region:china`" in texts
    assert "*Weekly digest*\noff" in texts


def test_home_view_fits_100_blocks_even_with_lots_of_data() -> None:
    releases = [qwen_release().model_copy(update={"id": f"r{i}"}) for i in range(500)]
    subs = {
        f"C{i:04d}": [Subscription(id=f"s{i}-{j}", channel_id=f"C{i:04d}") for j in range(5)]
        for i in range(300)
    }
    subs["not a channel <!here>"] = [Subscription(id="odd", channel_id="x")]
    view = render.home_view(subs, releases, {}, model_command="/model", radar_command="/radar")
    assert view["type"] == "home"
    assert validate_view(view) == []
    assert len(view["blocks"]) <= 100
    assert find_broadcast_mentions(view) == []
    texts = "\n".join(block_texts(view))
    assert "<#C0000>" in texts
    assert "…and 450 more releases" in texts


def test_home_view_for_a_new_workspace() -> None:
    view = render.home_view({}, [], {}, model_command="/model", radar_command="/radar")
    assert validate_view(view) == []
    texts = "\n".join(block_texts(view))
    assert "No notable releases yet." in texts
    assert "In a channel, type `/radar subscribe`." in texts


# -- every renderer, hostile input -------------------------------------------------------------


def hostile_record(index: int = 0) -> ModelRecord:
    return model(
        f"{HOSTILE}/{HOSTILE}-{index}",
        None,
        pipeline_tag=HOSTILE,
        license_name=HUGE,
        reasons=[HOSTILE, HUGE],
        children={HOSTILE: 1},
        notable=bool(index % 2),
    )


def hostile_release() -> Release:
    return Release(
        id=HOSTILE,
        lab=HOSTILE,
        lab_name=HUGE,
        country=HOSTILE,
        title=HUGE,
        stem="x",
        members=[f"{HOSTILE}/{i}" for i in range(10_000)],
        first_seen=NOW,
        updated_at=NOW,
        reasons=[HOSTILE] * 10_000,
        breakout=True,
    )


RENDERERS: dict[str, Callable[[], dict[str, Any]]] = {
    "model_card": lambda: render.model_card(
        hostile_record(1),
        lab_name=HUGE,
        country=HOSTILE,
        release=hostile_release(),
        siblings=[hostile_record(i) for i in range(2_000)],
        alternatives=[HOSTILE, HUGE, HOSTILE, HUGE],
    ),
    "release_alert": lambda: render.release_alert(
        hostile_release(), [hostile_record(i) for i in range(2_000)]
    ),
    "release_update_reply": lambda: render.release_update_reply(
        hostile_release(), [hostile_record(i) for i in range(2_000)]
    ),
    "release_list": lambda: render.release_list(
        HUGE,
        [hostile_release()] * 300,
        {HOSTILE: [hostile_record(i) for i in range(100)]},
        empty_text=HUGE,
    ),
    "release_list_empty": lambda: render.release_list(HUGE, [], {}, empty_text=HUGE),
    "comparison": lambda: render.comparison(
        [hostile_record(i) for i in range(3)], {f"{HOSTILE}/{HOSTILE}-0": (HUGE, HOSTILE)}
    ),
    "help_message": lambda: render.help_message(HOSTILE, HOSTILE, not_understood=HUGE),
    "error_message": lambda: render.error_message(HUGE, hint=HUGE),
    "labs_list": lambda: render.labs_list(
        [
            Lab(namespace=f"{HOSTILE}{i}", name=HOSTILE, country=HOSTILE, region=region)
            for i in range(2_000)
            for region in Region
        ],
        country=None,
        radar_command=HOSTILE,
    ),
    "subscriptions_list": lambda: render.subscriptions_list(
        [
            Subscription(
                id=f"{HOSTILE}{i}",
                channel_id="C1",
                filters=Filters(orgs=[HOSTILE], tasks=[HUGE]),
                paused_reason=HOSTILE,
            )
            for i in range(1_000)
        ],
        [Mute(channel_id="C1", lab=HOSTILE) for _ in range(1_000)],
        DigestSchedule(channel_id="C1", time=HOSTILE, timezone=HUGE),
        radar_command=HOSTILE,
    ),
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_every_renderer_escapes_hostile_input_and_stays_within_limits(name: str) -> None:
    payload = RENDERERS[name]()
    assert_safe_message(payload)
    assert 1 <= len(payload["blocks"]) <= 50
    assert "&lt;!channel&gt;" in all_texts(payload) or "‹!channel›" in all_texts(payload)


def test_home_view_with_hostile_input_is_valid() -> None:
    view = render.home_view(
        {HOSTILE: [Subscription(id=HOSTILE, channel_id="C1")] * 500},
        [hostile_release()] * 200,
        {HOSTILE: [hostile_record(i) for i in range(100)]},
        model_command=HOSTILE,
        radar_command=HUGE,
    )
    assert validate_view(view) == []
    assert find_broadcast_mentions(view) == []
    assert "<@U123>" not in all_texts(view)


# -- enforce_limits ------------------------------------------------------------------------


def test_enforce_limits_drops_overflow_with_a_count() -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"item {i}"}} for i in range(60)
    ]
    fitted = render.enforce_limits(blocks)
    assert len(fitted) == 50
    assert fitted[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "…and 11 more not shown"}],
    }
    assert fitted[48]["text"]["text"] == "item 48"
    home = render.enforce_limits(blocks, max_blocks=100)
    assert len(home) == 60


def test_enforce_limits_splits_fields_and_buttons_and_shortens_texts() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "H" * 400}},
        {
            "type": "section",
            "block_id": "facts",
            "text": {"type": "mrkdwn", "text": "line\n" * 1000},
            "fields": [{"type": "mrkdwn", "text": "f" * 2500} for _ in range(25)],
        },
        {
            "type": "actions",
            "block_id": "facts",
            "elements": [
                {
                    "type": "button",
                    "action_id": "same",
                    "text": {"type": "plain_text", "text": "B" * 100},
                    "value": "v" * 3000,
                }
                for _ in range(30)
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": str(i)} for i in range(14)]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "   "}},
    ]
    fitted = render.enforce_limits(blocks)
    payload = {"text": "fallback", "blocks": fitted}
    assert validate_message(payload) == []
    assert [b["type"] for b in fitted] == [
        "header",
        "section",
        "section",
        "section",
        "actions",
        "actions",
        "context",
    ]
    assert sum(len(b.get("fields", [])) for b in fitted) == 25
    assert sum(len(b["elements"]) for b in fitted if b["type"] == "actions") == 30
    assert fitted[1]["text"]["text"].endswith("line\n…")
    assert fitted[4]["block_id"] == "facts-2"
    assert fitted[6]["elements"][-1]["text"] == "…and 5 more"


def test_format_helpers_read_like_model_names() -> None:
    assert [render.format_params(n) for n in (270_000_000, 1_540_000_000, 7_600_000_000)] == [
        "270M",
        "1.5B",
        "7.6B",
    ]
    assert render.format_params(235_094_000_000) == "235B"
    assert render.format_params(1_000_000_000_000) == "1T"
    assert render.format_size(30_000_000_000, 3_000_000_000) == "30B total / 3B active"
    assert render.format_size(None) == "size unknown"
    assert [render.format_count(n) for n in (999, 1_234, 340_500, 3_400_000)] == [
        "999",
        "1.2k",
        "340k",
        "3.4M",
    ]


def test_a_release_line_links_to_the_lead_model_the_details_button_opens() -> None:
    """One rule (`models.lead_member`): largest, then most downloaded, then listed first."""
    release = qwen_release(["Qwen/Qwen3-8B", "Qwen/Qwen3-8B-FP8"])
    members = [
        model("Qwen/Qwen3-8B", 8_000_000_000, downloads=10),
        model("Qwen/Qwen3-8B-FP8", 8_000_000_000, downloads=5_000),
    ]
    payload = render.release_list("Latest", [release], {release.id: members}, empty_text="none")
    assert lead_member(members) is members[1]
    line = payload["blocks"][1]["text"]["text"]
    assert "<https://huggingface.co/Qwen/Qwen3-8B-FP8|Qwen3>" in line

    unsized = [model("Qwen/Qwen3-a", downloads=1), model("Qwen/Qwen3-b", downloads=9)]
    assert lead_member(unsized) is unsized[1]
    sized = [model("Qwen/Qwen3-s", 1_000_000_000), model("Qwen/Qwen3-l", 2_000_000_000)]
    assert lead_member(sized) is sized[1]
    assert lead_member([]) is None


def test_a_confirmation_goes_through_the_limits_like_every_payload() -> None:
    """The listeners' confirmations (`ok_message`) were raw blocks, never cut to Slack's limits."""
    removed = ", ".join(f"`s-{i:06d}`" for i in range(600))
    payload = render.ok_message(f"Removed {removed}.", "x" * 5000)
    assert_safe_message(payload)
    assert len(payload["blocks"][0]["text"]["text"]) <= 3000
    assert len(payload["text"]) <= render.MAX_FALLBACK_TEXT
