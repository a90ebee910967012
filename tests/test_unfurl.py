"""Link unfurls end to end: a signed `link_shared` event in, `chat.unfurl` to the Slack
stand-in out, with the radar's compact card for each Hugging Face model link."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.slack.unfurl import repo_id_of
from tests.conftest import track_only
from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import SlackStandIn, find_broadcast_mentions
from tests.harness import FakeClock, RadarHarness, shown_text

pytestmark = pytest.mark.e2e

KNOWN = "https://huggingface.co/Qwen/Qwen9-32B"
ON_HUB_ONLY = "https://huggingface.co/acme-ai/Acme-7B/tree/main"
MISSING = "https://huggingface.co/nobody/does-not-exist"
NOT_A_MODEL = "https://huggingface.co/datasets/Qwen/some-data"


@pytest.mark.parametrize(
    ("url", "repo"),
    [
        (KNOWN, "Qwen/Qwen9-32B"),
        (ON_HUB_ONLY, "acme-ai/Acme-7B"),
        ("https://huggingface.co/Qwen/Qwen9-32B?library=vllm#usage", "Qwen/Qwen9-32B"),
        (NOT_A_MODEL, None),
        ("https://huggingface.co/spaces/a/b", None),
        ("https://huggingface.co/Qwen", None),
        ("https://evil.example/Qwen/Qwen9-32B", None),
        ("https://huggingface.co/a/..", None),
    ],
)
def test_which_links_are_model_pages(url: str, repo: str | None) -> None:
    assert repo_id_of(url) == repo


@pytest.fixture
def bot(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock: FakeClock
) -> Iterator[RadarHarness]:
    with RadarHarness(hub.url, slack.url, tmp_path / "radar.json", clock=fake_clock) as radar:
        track_only(radar.core.registry, radar.core.store, ("Qwen",))
        radar.poll()
        radar.core.snapshots.after_poll()
        hub.add(fx.model_json("Qwen/Qwen9-32B", created_at=fake_clock.now, params=32 * fx.B))
        hub.add(
            fx.model_json(
                "acme-ai/Acme-7B",
                created_at=fake_clock.now - timedelta(days=3),
                params=7 * fx.B,
                license="mit",
                card_extra={"model_name": "<!channel> Acme"},
            )
        )
        fake_clock.advance(minutes=5)
        radar.poll()
        radar.core.snapshots.after_poll()
        yield radar


def test_a_pasted_model_link_unfurls_with_the_radar_card(
    bot: RadarHarness, slack: SlackStandIn
) -> None:
    event = {
        "type": "link_shared",
        "channel": "C_GENERAL",
        "is_bot_user_member": True,
        "user": "U_ALICE",
        "message_ts": "1700000000.000100",
        "unfurl_id": "C_GENERAL.1700000000.000100.abc",
        "source": "conversations_history",
        "links": [
            {"domain": "huggingface.co", "url": KNOWN},
            {"domain": "huggingface.co", "url": ON_HUB_ONLY},
            {"domain": "huggingface.co", "url": MISSING},
            {"domain": "huggingface.co", "url": NOT_A_MODEL},
        ],
    }
    status, _body, elapsed = bot.event(event)
    assert status == 200 and elapsed < 3
    calls = slack.wait_for(lambda: slack.unfurls, timeout=10)
    assert len(calls) == 1
    call = calls[0]
    assert call["unfurl_id"] == event["unfurl_id"] and call["source"] == "conversations_history"
    assert set(call["unfurls"]) == {KNOWN, ON_HUB_ONLY}, "unknown and non-model links: nothing"
    known = shown_text({"blocks": call["unfurls"][KNOWN]["blocks"]})
    assert "Qwen" in known and "China" in known and "32B" in known
    assert "permissive (apache-2.0)" in known and "*Notable*" in known
    assert "Adoption: 0 downloads since first seen by day 0" in known
    looked_up = shown_text({"blocks": call["unfurls"][ON_HUB_ONLY]["blocks"]})
    assert "acme-ai" in looked_up and "not a tracked lab" in looked_up and "7B" in looked_up
    assert "Not notable" in looked_up
    assert slack.violations == [] and find_broadcast_mentions(call) == []


def test_a_link_to_nothing_the_radar_can_find_unfurls_nothing(
    bot: RadarHarness, slack: SlackStandIn, hub: HubStandIn
) -> None:
    event = {
        "type": "link_shared",
        "channel": "C_GENERAL",
        "user": "U_ALICE",
        "message_ts": "1700000000.000200",
        "links": [{"domain": "huggingface.co", "url": MISSING}],
    }
    status, _body, _elapsed = bot.event(event)
    assert status == 200
    # the bot asked the Hub (which has no such repo), then gave up without a call to Slack
    slack.wait_for(
        lambda: any("does-not-exist" in request.path for request in hub.requests), timeout=10
    )
    time.sleep(0.5)
    assert slack.unfurls == [] and slack.calls_to("chat.unfurl") == []
