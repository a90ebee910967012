"""Hostile input: whatever users type and whatever the Hub serves, nothing breaks or pings.

Slash-command text comes from property-based generation (hypothesis, fixed seed): any
unicode, control characters, 10 kB strings, mentions, Slack markup, shell and template
syntax, sent signed to the running bot. Each must be answered with HTTP 200 within 3 s and
a helpful ephemeral reply that Slack would accept, never an unhandled exception.

Hub data comes both from a scripted hostile release week (names and card fields carrying
`<!channel>`, user mentions and disguised links, a 100 kB card field, 10,000 tags, wrong
types, nulls everywhere) polled by the real cycle, and from generated repo JSON rendered
straight into the alert and the model card.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.hub.parse import repo_from_json
from bot.radar.facts import record_from_repo
from bot.radar.labs import LabRegistry
from bot.radar.releases import assign_release
from bot.slack.render import model_card, release_alert
from tests.doubles.hub_fixtures import B, background, model_json
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import (
    SlackStandIn,
    find_broadcast_mentions,
    validate_message,
)
from tests.harness import FakeClock, RadarHarness, shown_texts
from tests.reliability.helpers import (
    GENERIC_FAILURE,
    LAB_ROTATION,
    collecting_logs,
    family_records,
    keep_only_labs,
    report,
)

pytestmark = [pytest.mark.reliability, pytest.mark.security]

ACK_LIMIT = 3.0
EVIL_LINK = "<https://evil.example|click>"
USER_MENTION = "<@U0EVIL123>"
HOSTILE_FRAGMENTS = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0EVIL|@admins>",
    "@channel",
    "@here",
    USER_MENTION,
    "<#C0EVIL|general>",
    EVIL_LINK,
    "<mailto:x@evil.example|mail>",
    "*bold*",
    "_it_",
    "~gone~",
    "`code`",
    "```block```",
    "> quote",
    "&amp;",
    "&lt;b&gt;",
    "<script>alert(1)</script>",
    "$(rm -rf /)",
    "`id`",
    "; rm -rf ~",
    "| cat /etc/passwd",
    "{{7*7}}",
    "${7*7}",
    "{% for x in y %}",
    "%s%n%x",
    "{0.__class__}",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\u200b",
    "😀",
    '"unbalanced',
    "'",
    "\\",
    "org:<!channel>",
    "country:<@U1>",
    "min-params:1e309B",
    "task:<!here>",
    "-1",
    "99999999999999999999999",
    "\n\n",
    "\t",
)
VERBS = (
    "",
    "help",
    "latest",
    "latest 25",
    "compare",
    "stats",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "mute",
    "unmute",
    "digest weekly",
    "labs",
    "track",
    "untrack",
    "frobnicate",
)
LONG_UNITS = ("a", "<!channel> ", "é", "🙂", "x y ", "\x00", "<@U1>")

command_texts = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda verb, parts: " ".join([verb, *parts]).strip(),
        st.sampled_from(VERBS),
        st.lists(st.one_of(st.sampled_from(HOSTILE_FRAGMENTS), st.text(max_size=30)), max_size=6),
    ),
    st.builds(
        lambda unit, length: (unit * length)[:length],
        st.sampled_from(LONG_UNITS),
        st.integers(min_value=2_000, max_value=10_240),
    ),
)

_RAW_MARKUP = re.compile(r"<[@#!]|<https?://evil|<mailto:")
_names = itertools.count()


def raw_markup(payload: Any) -> list[str]:
    """Mentions and links that came from outside and would be live in Slack."""
    return [match.group(0) for text in shown_texts(payload) for match in _RAW_MARKUP.finditer(text)]


# ------------------------------------------------------------------ slash commands


@pytest.fixture(scope="module")
def running_bot(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RadarHarness, SlackStandIn]]:
    db_path = tmp_path_factory.mktemp("hostile") / "radar.json"
    keep_only_labs(db_path, [lab for lab, _ in LAB_ROTATION])
    clock = FakeClock()
    with HubStandIn() as hub, SlackStandIn() as slack:
        hub.add_many(background(clock.now, 30))
        with RadarHarness(hub.url, slack.url, db_path, clock=clock) as bot:
            bot.poll_and_deliver()
            yield bot, slack


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(command=st.sampled_from(["/radar", "/model"]), text=command_texts)
def test_any_command_text_gets_a_quick_helpful_safe_reply(
    running_bot: tuple[RadarHarness, SlackStandIn], command: str, text: str
) -> None:
    bot, slack = running_bot
    name = f"hostile-{next(_names)}"
    with collecting_logs(logging.ERROR) as logs:
        status, _, seconds = bot.command(
            command, text, response_url=slack.response_url_for(name), channel_id="C_HOSTILE"
        )
        replies = slack.wait_for(lambda: slack.responses(name), timeout=ACK_LIMIT)
    assert status == 200
    assert seconds < ACK_LIMIT
    assert len(replies) == 1, "no reply, or more than one"
    reply = replies[0]
    words = " ".join(shown_texts(reply))
    assert reply["text"].strip() and words.strip()
    assert GENERIC_FAILURE not in words, "the command raised inside the bot"
    assert find_broadcast_mentions(reply) == []
    assert raw_markup(reply) == []
    assert len(text) <= 2_000 or text not in words, "a huge input was echoed back whole"
    assert slack.violations == []  # Slack would have accepted every reply
    assert logs.messages() == []


# ---------------------------------------------------------------- hostile Hub data

HUGE_FIELD = "A" * 100_000 + " <!channel>"


def hostile_release(now: datetime) -> list[dict[str, Any]]:
    """A tracked lab's week gone wrong: markup in names and cards, huge and null fields."""
    created = now - timedelta(minutes=20)
    marked = model_json(
        "Qwen/Evil-8B-Instruct",
        created_at=created,
        params=8 * B,
        license="other",
        card_extra={
            "model_name": f"{USER_MENTION} <!here> {EVIL_LINK}",
            "license_name": f"<!everyone> {USER_MENTION} {EVIL_LINK}",
            "license_link": "javascript:alert(1)",
            "description": HUGE_FIELD,
            "base_model_relation": HUGE_FIELD,
            "language": ["<!channel>"] * 5_000,
        },
        extra_tags=[f"tag-{n}-<!here>" for n in range(10_000)],
    )
    marked["library_name"] = EVIL_LINK
    nulls = model_json("Qwen/Nulls-8B-Instruct", created_at=created, params=8 * B)
    for key in list(nulls):
        if key not in ("id", "_id", "modelId"):
            nulls[key] = None
    wrong = model_json("Qwen/WrongTypes-8B-Instruct", created_at=created, params=8 * B)
    wrong.update(
        tags="text-generation",
        likes="many",
        downloads=-5,
        cardData=["not", "a", "dict"],
        safetensors={"total": "8B"},
        gated=5,
        createdAt=12345,
        lastModified={"when": "now"},
        pipeline_tag=7,
        trendingScore=float("nan"),
        baseModels="everything",
        childrenModelCount=[1, 2],
    )
    out_of_scope = model_json(
        "Qwen/Task-8B-Instruct", created_at=created, params=8 * B, pipeline_tag=EVIL_LINK
    )
    return [marked, nulls, wrong, out_of_scope, *bad_ids(now)]


def bad_ids(now: datetime) -> list[dict[str, Any]]:
    """Ids no Hub repo can have, from a tracked lab and from a trending stranger."""
    created = now - timedelta(minutes=20)
    return [
        model_json("Qwen/Evil-<!channel>-8B-Instruct", created_at=created, params=8 * B),
        model_json(
            "evil-org/<!here>-Breakout-32B",
            created_at=created,
            params=32 * B,
            likes=5_000,
            trending=900,
        ),
    ]


@pytest.fixture
def hostile_week(tmp_path: Path) -> Iterator[tuple[RadarHarness, HubStandIn, SlackStandIn]]:
    """A subscribed bot past its first look at the labs, with the Hub stand-in to spoil."""
    clock = FakeClock()
    db_path = tmp_path / "radar.json"
    keep_only_labs(db_path, [lab for lab, _ in LAB_ROTATION])
    with (
        HubStandIn() as hub,
        SlackStandIn() as slack,
        RadarHarness(hub.url, slack.url, db_path, clock=clock) as bot,
    ):
        hub.add_many(background(clock.now, 30))
        status, _, _ = bot.command("/radar", "subscribe", response_url=slack.response_url_for("s"))
        assert status == 200 and slack.wait_for(lambda: slack.responses("s"), timeout=3)
        bot.poll_and_deliver()
        clock.advance(minutes=1)
        yield bot, hub, slack


def ask_model(bot: RadarHarness, slack: SlackStandIn, query: str) -> dict[str, Any]:
    name = f"model-{next(_names)}"
    status, _, _ = bot.command("/model", query, response_url=slack.response_url_for(name))
    assert status == 200
    replies = slack.wait_for(lambda: slack.responses(name), timeout=ACK_LIMIT)
    assert replies, f"no reply to /model {query!r}"
    return replies[0]


def test_hostile_hub_data_is_escaped_truncated_or_skipped_and_never_breaks_the_cycle(
    hostile_week: tuple[RadarHarness, HubStandIn, SlackStandIn],
) -> None:
    bot, hub, slack = hostile_week
    hub.add_many(family_records("Qwen", "Vega-2", bot.clock.now - timedelta(minutes=30)))
    hub.add_many(hostile_release(bot.clock.now))
    hub.inject("wrong-type", path_contains="author=Qwen")  # junk items in the listing
    with collecting_logs(logging.DEBUG) as logs:
        cycle = bot.poll()
        drained = bot.drain()
    card = ask_model(bot, slack, "Qwen/Evil-8B-Instruct")
    messages = slack.messages()

    assert cycle.status == "ok" and not drained.errors
    alerts = {m["text"].split(": ", 1)[-1].split(" (", 1)[0] for m in messages}
    assert {"Vega-2", "Evil"} <= alerts  # wrong fields cost nothing else
    # Null or mistyped task and tags leave no in-scope task: recorded, out, with the reason
    # (every lab needs one, tier 1 included), and the cycle goes on.
    for garbled in ("qwen/nulls-8b-instruct", "qwen/wrongtypes-8b-instruct"):
        record = bot.core.store.models.get(garbled)
        assert record is not None and not record.notable, garbled
        assert record.reasons == ["no pipeline task declared yet"], garbled
    assert slack.violations == []  # Slack would accept every message, and none pings
    for payload in [*({"text": m["text"], "blocks": m["blocks"]} for m in messages), card]:
        assert validate_message(payload) == []
        assert find_broadcast_mentions(payload) == []
        assert raw_markup(payload) == []
        assert "A" * 600 not in " ".join(shown_texts(payload))  # the 100 kB field was cut
    card_text = " ".join(shown_texts(card))
    assert "&lt;!everyone&gt;" in card_text  # the hostile license name is shown, inert
    assert GENERIC_FAILURE not in card_text
    assert any("without a usable id" in line for line in logs.lines)

    evil = bot.core.store.models.get("qwen/evil-8b-instruct")
    assert evil is not None and len(evil.tags) <= 300  # 10,000 tags kept to a bounded list
    task = bot.core.store.models.get("qwen/task-8b-instruct")
    assert task is not None and not task.notable and task.reasons  # rejected, with a reason
    report(
        "hostile-hub-data",
        alerts=len(messages),
        log_lines=sum(logs.counts.values()),
        stored_tags=len(evil.tags),
    )


def test_a_listed_repo_with_an_impossible_id_is_rejected_with_a_log_line(
    hostile_week: tuple[RadarHarness, HubStandIn, SlackStandIn],
) -> None:
    bot, hub, slack = hostile_week
    hub.add_many(bad_ids(bot.clock.now))
    with collecting_logs(logging.DEBUG) as logs:
        cycle = bot.poll()
        bot.drain()
    assert cycle.status == "ok" and slack.messages() == []  # nothing posted, nothing broke
    for repo_id in ("Qwen/Evil-<!channel>-8B-Instruct", "evil-org/<!here>-Breakout-32B"):
        assert any(repo_id in line for line in logs.lines), f"{repo_id} vanished silently"


# --------------------------------------------------- generated repo JSON -> Slack

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
hostile_strings = st.one_of(
    st.sampled_from(HOSTILE_FRAGMENTS),
    st.text(max_size=50),
    st.builds(
        lambda unit, length: unit * length,
        st.sampled_from(LONG_UNITS),
        st.integers(min_value=500, max_value=20_000),
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_strings,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(hostile_strings, inner, max_size=5)
    ),
    max_leaves=12,
)
FIELDS = (
    "author",
    "createdAt",
    "lastModified",
    "sha",
    "private",
    "gated",
    "pipeline_tag",
    "library_name",
    "tags",
    "downloads",
    "likes",
    "trendingScore",
    "safetensors",
    "baseModels",
    "childrenModelCount",
)
card_fields = st.dictionaries(
    st.sampled_from(
        ["license", "license_name", "model_name", "base_model", "language", "tags", "datasets"]
    ),
    values,
    max_size=6,
)
repo_json = st.fixed_dictionaries(
    {"id": st.builds(lambda name: f"Qwen/{name}", hostile_strings), "cardData": card_fields},
    optional={field: values for field in FIELDS},
)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(raw=repo_json)
def test_any_repo_json_renders_as_valid_slack_without_live_markup(raw: dict[str, Any]) -> None:
    lab = LabRegistry.builtin().resolve("Qwen")
    repo = repo_from_json(raw, detailed=True)
    record = record_from_repo(repo, lab=lab, first_seen=NOW)
    release, _ = assign_release(record, lab, [], now=NOW, reasons=["tracked lab Qwen (CN)"])
    record.release_id = release.id
    for payload in (
        release_alert(release, [record]),
        model_card(
            record,
            lab_name=lab.name if lab else None,
            country="CN",
            release=release,
            siblings=[],
            alternatives=[],
        ),
    ):
        assert validate_message(payload) == []
        assert find_broadcast_mentions(payload) == []
        assert raw_markup(payload) == []
