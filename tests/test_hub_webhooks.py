"""Hub webhooks end to end: the Hub stand-in POSTs to the real bot's `/hub/webhook`.

The bot runs as `serve` wires it (uvicorn, the Starlette front door, the receiver and its
worker); the Hub stand-in sends version-3 payloads with the secret whenever its repos change,
and can lose or repeat them. Tests assert what a channel sees (one alert per launch, within
seconds, without a poll) and what the Hub is asked (one detail call per new repo).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import Any

import pytest

from bot.schedule import _PollPace, poll_and_deliver
from tests.conftest import track_only
from tests.doubles import hub_fixtures as fx
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import SlackStandIn
from tests.harness import RadarHarness, radar_command, shown_text
from tests.slack_fixtures import ACK_LIMIT_SECONDS

pytestmark = pytest.mark.e2e

SECRET = "hub-webhook-secret-0123456789"
GENERAL = "C_GENERAL"
LABS = ("Qwen", "deepseek-ai", "mistralai")


# ------------------------------------------------------------------------------ helpers


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw.startswith(b"{") else {}


def payload(repo_id: str, scope: str = "repo", action: str = "create", **extra: Any) -> bytes:
    body = {
        "event": {"action": action, "scope": scope},
        "repo": {
            "type": extra.pop("repo_type", "model"),
            "name": repo_id,
            "id": "6366c000a2abcdf2fd69a080",
            "private": extra.pop("private", False),
            "url": {"web": f"https://huggingface.co/{repo_id}", "api": ""},
            "headSha": "c379e821c9c95d613899e8c4343e4bfee2b0c600",
            "owner": {"id": "61d2000c3c2083e1c08af22d"},
        },
        "webhook": {"id": "65a14fd933eca76f4639fc84", "version": 3},
        **extra,
    }
    return json.dumps(body).encode()


def detail_calls(hub: HubStandIn, repo_id: str) -> int:
    path = f"/api/models/{repo_id}"
    return sum(1 for r in hub.requests if r.method == "GET" and r.path == path)


def launch(bot: RadarHarness, repo_id: str, params_b: int = 32, **extra: Any) -> dict[str, Any]:
    return fx.model_json(
        repo_id,
        created_at=bot.clock.now - timedelta(hours=1),
        params=params_b * fx.B,
        downloads=5_000,
        likes=300,
        **extra,
    )


def alerts(slack: SlackStandIn) -> list[dict[str, Any]]:
    return [m for m in slack.messages(GENERAL) if m["thread_ts"] is None]


def settle(hub: HubStandIn, bot: RadarHarness) -> None:
    """Until the stand-in has sent everything and the bot has acted on it."""
    assert hub.webhooks.wait_idle()
    assert bot.hub_webhook is not None
    assert wait_until(bot.hub_webhook.idle)


@pytest.fixture
def bot(hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock) -> Iterator[RadarHarness]:
    """A bot with webhooks on, three tracked labs polled once, #general subscribed, and a
    stand-in webhook for those labs pointing at it."""
    with RadarHarness(
        hub.url, slack.url, tmp_path / "radar.json", clock=fake_clock, hf_webhook_secret=SECRET
    ) as radar:
        track_only(radar.core.registry, radar.core.store, set(LABS))
        hub.add_many(fx.background(radar.clock.now, 6))
        radar.poll_and_deliver()
        radar_command(radar, slack, "subscribe")
        hub.webhooks.register(f"{radar.url}/hub/webhook", list(LABS), SECRET)
        hub.reset_log()
        yield radar


# ----------------------------------------------------------------------- the front door


def test_deliveries_without_the_right_secret_are_refused_and_malformed_ones_get_a_400(
    bot: RadarHarness, hub: HubStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{bot.url}/hub/webhook"
    body = payload("Qwen/Qwen9-8B")
    assert post(url, body, {})[0] == 401
    assert post(url, body, {"X-Webhook-Secret": SECRET[:-1]})[0] == 403
    assert post(url, body, {"X-Webhook-Secret": SECRET + "x"})[0] == 403
    assert post(url, b"x" * 70_000, {"X-Webhook-Secret": SECRET})[0] == 413
    with caplog.at_level(logging.WARNING, logger="bot.webhooks.receiver"):
        status, answer = post(url, b"{not json", {"X-Webhook-Secret": SECRET})
        assert (status, answer) == (400, {"error": "body is not JSON"})
        status, answer = post(url, b'{"event": {"action": "create"}}', {"X-Webhook-Secret": SECRET})
        assert status == 400 and "repo" in answer["error"]
        status, _ = post(url, b"[1, 2]", {"X-Webhook-Secret": SECRET})
        assert status == 400
        status, answer = post(
            url, payload("Qwen/Qwen9-8B", webhook={"version": 2}), {"X-Webhook-Secret": SECRET}
        )
        assert status == 400 and "version" in answer["error"]
    assert sum("rejected a Hub webhook delivery (400)" in r.message for r in caplog.records) == 4
    assert SECRET not in caplog.text
    time.sleep(0.3)
    assert hub.request_count == 0, "nothing refused reaches the Hub"
    assert post(url, body, {"X-Webhook-Secret": SECRET}) == (200, {"status": "accepted"})


def test_a_replayed_delivery_is_acknowledged_and_dropped_until_its_window_has_passed(
    bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn
) -> None:
    """The Hub's Activity tab replays a payload by hand: the copy gets a 200 "duplicate"
    and costs nothing; the same payload once `dedupe_seconds` have passed is news again."""
    url = f"{bot.url}/hub/webhook"
    hub.webhooks.drop_next(1)  # the stand-in's own delivery is lost; we send it by hand
    hub.add(launch(bot, "Qwen/Qwen9-14B"))
    body = payload("Qwen/Qwen9-14B")
    assert post(url, body, {"X-Webhook-Secret": SECRET}) == (200, {"status": "accepted"})
    assert post(url, body, {"X-Webhook-Secret": SECRET}) == (200, {"status": "duplicate"})
    settle(hub, bot)
    assert wait_until(lambda: len(alerts(slack)) == 1)
    assert detail_calls(hub, "Qwen/Qwen9-14B") == 1

    from bot.webhooks.receiver import HubWebhookReceiver

    now = [1_000.0]
    assert bot.core.push is not None
    receiver = HubWebhookReceiver(
        SECRET, bot.core.tracker, health=bot.core.push, dedupe_seconds=600, monotonic=lambda: now[0]
    )
    answers = [receiver.accept(body)[1]["status"]]
    now[0] += 599
    answers.append(receiver.accept(body)[1]["status"])
    now[0] += 2
    answers.append(receiver.accept(body)[1]["status"])
    assert answers == ["accepted", "duplicate", "accepted"]


def test_without_a_secret_there_is_no_webhook_endpoint(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path
) -> None:
    with RadarHarness(hub.url, slack.url, tmp_path / "radar.json") as radar:
        assert radar.hub_webhook is None
        status, _ = post(f"{radar.url}/hub/webhook", payload("Qwen/x"), {"X-Webhook-Secret": "a"})
        assert status == 404
        health = json.loads(urllib.request.urlopen(f"{radar.url}/healthz").read())
        assert "webhooks" not in health


def test_datasets_spaces_discussions_and_private_creates_are_ignored(
    bot: RadarHarness, hub: HubStandIn
) -> None:
    url, auth = f"{bot.url}/hub/webhook", {"X-Webhook-Secret": SECRET}
    bodies = [
        payload("Qwen/some-data", repo_type="dataset"),
        payload("Qwen/some-space", repo_type="space"),
        payload("Qwen/Qwen9-8B", scope="discussion"),
        payload("Qwen/Qwen9-8B", private=True),
        payload(
            "Qwen/Qwen9-8B", scope="repo.config", action="update", updatedConfig={"private": True}
        ),
        payload("Qwen/Qwen9-8B", scope="repo.something-new", action="update"),
    ]
    for body in bodies:
        assert post(url, body, auth) == (200, {"status": "ignored"})
    time.sleep(0.5)
    assert hub.request_count == 0


# ------------------------------------------------------------------------- event kinds


def test_a_new_model_is_announced_within_seconds_without_any_poll(
    bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn
) -> None:
    started = time.monotonic()
    hub.add(launch(bot, "Qwen/Qwen9-32B-Instruct"))
    assert wait_until(lambda: alerts(slack), timeout=10)
    assert time.monotonic() - started < 5
    [alert] = alerts(slack)
    assert "Qwen9" in shown_text(alert)
    settle(hub, bot)
    assert detail_calls(hub, "Qwen/Qwen9-32B-Instruct") == 1
    assert not any(r.query.get("author") for r in hub.requests), "no poll listing was needed"


def test_a_launch_turning_public_is_announced_once_although_webhook_and_poll_both_see_it(
    bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn
) -> None:
    repo = launch(bot, "deepseek-ai/DeepSeek-V9", 671)
    repo["private"] = True
    hub.add(repo)  # created private: the Hub does not tell outsiders, nor do we look
    settle(hub, bot)
    assert alerts(slack) == [] and hub.request_count == 0

    hub.set_private("deepseek-ai/DeepSeek-V9", False)  # the launch moment
    assert wait_until(lambda: alerts(slack))
    bot.clock.advance(minutes=5)
    bot.poll_and_deliver()  # the poll lists it too: known, so quiet
    hub.webhooks.repeat_next(1)
    hub.push("deepseek-ai/DeepSeek-V9", downloads=9_000)  # and later pushes change nothing
    settle(hub, bot)
    bot.drain()
    assert len(alerts(slack)) == 1
    assert detail_calls(hub, "deepseek-ai/DeepSeek-V9") == 1


def test_the_poll_seeing_a_launch_first_makes_the_late_webhook_free(
    bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn
) -> None:
    hub.webhooks.drop_next(1)
    hub.add(launch(bot, "mistralai/Mistral-Huge-3", 400))
    bot.clock.advance(minutes=5)
    bot.poll_and_deliver()
    assert len(alerts(slack)) == 1
    calls = detail_calls(hub, "mistralai/Mistral-Huge-3")
    status, _ = post(
        f"{bot.url}/hub/webhook", payload("mistralai/Mistral-Huge-3"), {"X-Webhook-Secret": SECRET}
    )
    assert status == 200
    settle(hub, bot)
    assert detail_calls(hub, "mistralai/Mistral-Huge-3") == calls
    assert len(alerts(slack)) == 1


def test_a_repo_created_empty_is_looked_at_again_and_announced_when_weights_arrive(
    bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn
) -> None:
    assert bot.hub_webhook is not None
    bot.hub_webhook.recheck_delays = (0.2, 0.4)
    empty = {"id": "Qwen/Qwen9-235B-A22B", "createdAt": fx.iso(bot.clock.now), "tags": []}
    hub.add(empty)
    settle(hub, bot)
    assert alerts(slack) == []
    assert bot.hub_webhook.waiting_rechecks() == ["Qwen/Qwen9-235B-A22B"]
    assert wait_until(lambda: detail_calls(hub, "Qwen/Qwen9-235B-A22B") >= 2, timeout=5)

    full = launch(bot, "Qwen/Qwen9-235B-A22B", 235)
    hub.push("Qwen/Qwen9-235B-A22B", **{k: v for k, v in full.items() if k != "id"})
    assert wait_until(lambda: alerts(slack))
    assert "235B" in shown_text(alerts(slack)[0])
    assert bot.hub_webhook.waiting_rechecks() == []


def test_re_checks_of_an_empty_repo_stop_after_the_last_delay(
    bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn
) -> None:
    assert bot.hub_webhook is not None
    bot.hub_webhook.recheck_delays = (0.1, 0.1, 0.1)
    hub.add({"id": "Qwen/placeholder", "createdAt": fx.iso(bot.clock.now), "tags": []})
    assert wait_until(lambda: detail_calls(hub, "Qwen/placeholder") == 4, timeout=5)
    time.sleep(0.6)
    assert detail_calls(hub, "Qwen/placeholder") == 4, "one look, then three re-checks"
    assert bot.hub_webhook.waiting_rechecks() == []
    assert alerts(slack) == []


def test_deleting_a_repo_cancels_its_re_checks(bot: RadarHarness, hub: HubStandIn) -> None:
    assert bot.hub_webhook is not None
    bot.hub_webhook.recheck_delays = (0.5,)
    hub.add({"id": "Qwen/oops", "createdAt": fx.iso(bot.clock.now), "tags": []})
    settle(hub, bot)
    assert bot.hub_webhook.waiting_rechecks() == ["Qwen/oops"]
    hub.remove("Qwen/oops")
    settle(hub, bot)
    assert bot.hub_webhook.waiting_rechecks() == []
    time.sleep(0.7)
    assert detail_calls(hub, "Qwen/oops") == 1


def test_a_rename_is_followed_and_never_a_new_release(
    bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn
) -> None:
    hub.add(launch(bot, "Qwen/Qwen9-Max-Preview", 480))
    assert wait_until(lambda: alerts(slack))
    settle(hub, bot)
    hub.move("Qwen/Qwen9-Max-Preview", "Qwen/Qwen9-Max")
    settle(hub, bot)
    store = bot.core.store
    assert store.models.get("qwen/qwen9-max-preview") is None
    record = store.models.get("qwen/qwen9-max")
    assert record is not None and record.notable
    release = store.releases.get(record.release_id)
    assert release is not None and release.members == ["Qwen/Qwen9-Max"]
    bot.clock.advance(minutes=5)
    bot.poll_and_deliver()  # the poll lists the new id: known, quiet
    assert len(alerts(slack)) == 1
    assert detail_calls(hub, "Qwen/Qwen9-Max") == 0
    latest = radar_command(bot, slack, "latest")
    assert "*Qwen*: Qwen9-Max · 480B" in latest and "Preview" not in latest, "the title follows"


# ---------------------------------------------------------------------------- the storm


def test_a_storm_of_100_derivative_events_costs_one_detail_call_each_and_no_slow_acks(
    bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn
) -> None:
    base = "Qwen/Qwen9-72B-Instruct"
    hub.add(launch(bot, base, 72))
    assert wait_until(lambda: alerts(slack))
    settle(hub, bot)
    # The lab's own quantized builds and fine-tunes of other labs' models: each arrives
    # as a create and then a push, some deliveries twice, 100 events over about 10 s.
    repos = []
    for size in ("0.6B", "1.7B", "4B", "8B", "14B", "32B", "72B", "235B-A22B"):
        for suffix in ("", "-Instruct", "-Base", "-GGUF", "-AWQ", "-FP8"):
            repos.append(launch(bot, f"Qwen/Qwen9-{size}{suffix}", 8))
    for i in range(2):
        tune = launch(bot, f"Qwen/Llama-4-tune-{i}", 8, base_model="meta-llama/Llama-4-8B")
        repos.append(tune)
    repos = [r for r in repos if r["id"] != base]
    repos.append(launch(bot, "Qwen/Qwen9-72B-Instruct-MLX", 72))
    assert len(repos) == 50
    def ack(name: str) -> float:
        status, _body, elapsed = bot.command(
            "/radar", "help", response_url=slack.response_url_for(name)
        )
        assert status == 200
        return elapsed

    quiet = [ack(f"quiet-{i}") for i in range(5)]
    acks: list[float] = []
    hub.webhooks.repeat_next(10)

    def storm() -> None:
        for repo in repos:
            hub.add(repo)
            time.sleep(0.1)
            hub.push(repo["id"], downloads=1)
            time.sleep(0.1)

    sender = threading.Thread(target=storm)
    sender.start()
    while sender.is_alive():
        acks.append(ack(f"storm-{len(acks)}"))
        time.sleep(0.3)
    sender.join()
    settle(hub, bot)
    bot.drain()

    assert len(hub.webhooks.sent()) >= 100
    for repo in repos:
        assert detail_calls(hub, repo["id"]) == 1, repo["id"]
    assert len(acks) >= 10
    # Generous bounds (timing belongs to bench/): every ack within the suite's usual
    # figure, Slack's 3 s, and the typical ack no slower than a few times a quiet one.
    assert max(acks) < ACK_LIMIT_SECONDS, f"acks during the storm: {sorted(acks)[-3:]}"
    assert median(acks) < max(0.5, 4 * median(quiet)), (median(quiet), median(acks))
    assert len(alerts(slack)) == 1, "the lab's builds join the launch's one alert"
    store = bot.core.store
    assert all(store.models.get(r["id"].lower()) is not None for r in repos)


# ------------------------------------------------------------------ polling as the net


def test_lost_deliveries_are_caught_by_the_reconciliation_poll_and_health_shows_the_mode(
    bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn
) -> None:
    health_url = f"{bot.url}/healthz"

    def health() -> dict:
        try:
            return json.loads(urllib.request.urlopen(health_url).read())
        except urllib.error.HTTPError as exc:  # 503 once nothing polled for too long
            return json.loads(exc.read())

    assert health()["webhooks"]["mode"] == "polling", "no delivery seen yet"
    hub.add(launch(bot, "Qwen/Qwen9-4B", 4))  # one delivery arrives: webhooks work
    assert wait_until(lambda: alerts(slack))
    state = health()
    assert state["webhooks"]["mode"] == "webhooks"
    assert state["webhooks"]["last_event_at"] == bot.clock.now.isoformat()
    assert state["poll_interval_seconds"] == 1800

    pace = _PollPace(bot.core)
    poll_and_deliver(bot.core, bot.radar, pace)  # the first run after a start always polls
    polls = sum(1 for r in hub.requests if r.query.get("author"))
    hub.webhooks.drop_next(5)
    hub.add(launch(bot, "deepseek-ai/DeepSeek-R9", 671))  # lost: nothing re-sends it
    assert hub.webhooks.wait_idle()
    time.sleep(0.3)
    assert len(alerts(slack)) == 1
    bot.clock.advance(minutes=5)
    poll_and_deliver(bot.core, bot.radar, pace)  # a poll interval later: webhooks healthy
    assert sum(1 for r in hub.requests if r.query.get("author")) == polls, "no poll yet"
    bot.clock.advance(minutes=25)
    poll_and_deliver(bot.core, bot.radar, pace)  # the reconcile interval has passed
    assert len(alerts(slack)) == 2
    assert "DeepSeek-R9" in shown_text(alerts(slack)[1])

    bot.clock.advance(minutes=31)  # no delivery for longer than the reconcile interval
    assert health()["webhooks"]["mode"] == "polling"
    polls = sum(1 for r in hub.requests if r.query.get("author"))
    bot.clock.advance(minutes=5)
    poll_and_deliver(bot.core, bot.radar, pace)
    assert sum(1 for r in hub.requests if r.query.get("author")) > polls, "back to polling"


def test_a_restart_in_the_middle_of_an_event_loses_nothing_and_doubles_nothing(
    hub: HubStandIn, slack: SlackStandIn, tmp_path: Path, fake_clock
) -> None:
    db = tmp_path / "radar.json"
    first = RadarHarness(hub.url, slack.url, db, clock=fake_clock, hf_webhook_secret=SECRET)
    with first:
        track_only(first.core.registry, first.core.store, set(LABS))
        hub.add_many(fx.background(first.clock.now, 6))
        first.poll_and_deliver()
        radar_command(first, slack, "subscribe")
        hub.webhooks.register(f"{first.url}/hub/webhook", list(LABS), SECRET)
        # The detail call times out: the hint was acknowledged, then the bot stops before
        # the look succeeds (its re-check was due in 30 s, in memory only).
        hub.inject("timeout", times=2, path_contains="/api/models/Qwen/Qwen9-14B")
        hub.add(launch(first, "Qwen/Qwen9-14B", 14))
        assert hub.webhooks.wait_idle()
        assert hub.webhooks.sent()[-1].status == 200
        assert wait_until(lambda: first.hub_webhook.checks, timeout=10)
    assert alerts(slack) == []

    fake_clock.advance(minutes=1)
    with RadarHarness(hub.url, slack.url, db, clock=fake_clock, hf_webhook_secret=SECRET) as second:
        second.poll_and_deliver()  # `serve` polls once at every start, whatever the mode
        assert len(alerts(slack)) == 1
        hub.webhooks.hooks.clear()
        hub.webhooks.register(f"{second.url}/hub/webhook", list(LABS), SECRET)
        hub.webhooks.repeat_next(1)
        hub.push("Qwen/Qwen9-14B", likes=400)  # a late event about it changes nothing
        settle(hub, second)
        second.drain()
        assert len(alerts(slack)) == 1


# ------------------------------------------------------------------ several replicas


def test_a_follower_hands_its_deliveries_to_the_leader_which_announces_the_launch_once(
    bot: RadarHarness, hub: HubStandIn, slack: SlackStandIn
) -> None:
    """Behind a load balancer any replica may receive a delivery; only the leader writes
    releases. The follower records the hint in the shared store and asks the Hub nothing;
    the leader's hand-off job picks it up and the channel gets one alert."""
    from bot.webhooks.receiver import HANDOFF_PREFIX, HubWebhookReceiver

    assert bot.hub_webhook is not None
    follower = HubWebhookReceiver(
        SECRET,
        bot.core.tracker,
        health=bot.core.push,
        leader=lambda: False,
        store=bot.core.store,
        batch_window=0.0,
        max_batch_wait=0.0,
    )
    follower.start()
    try:
        hub.webhooks.drop_next(1)  # the leader never hears of it directly
        hub.add(launch(bot, "Qwen/Qwen9-72B"))
        assert hub.webhooks.wait_idle()
        status, answer = follower.accept(payload("Qwen/Qwen9-72B"))
        assert (status, answer["status"]) == (200, "accepted")
        assert wait_until(follower.idle)
        names = bot.core.store.state.keys()
        waiting = [name for name in names if name.startswith(HANDOFF_PREFIX)]
        assert waiting == [f"{HANDOFF_PREFIX}qwen/qwen9-72b"]
        assert detail_calls(hub, "Qwen/Qwen9-72B") == 0  # the follower asked the Hub nothing
        assert alerts(slack) == []

        assert bot.hub_webhook.adopt_handoffs() == 1
        assert wait_until(bot.hub_webhook.idle)
        assert wait_until(lambda: len(alerts(slack)) == 1)
        assert "Qwen9" in shown_text(alerts(slack)[0])
        assert bot.hub_webhook.adopt_handoffs() == 0  # taken once, gone from the store
        assert detail_calls(hub, "Qwen/Qwen9-72B") == 1
    finally:
        follower.stop()
