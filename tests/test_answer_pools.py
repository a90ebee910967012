"""Where answers run after the ack: local answers never queue behind a slow Hub.

The bot answers from local data on a small CPU pool and hands work that waits (a Hub
lookup for a model it does not know, a Slack API call, a store write) to a pool of its
own. These tests drive the real bot through its HTTP front door with a slow Hub or a
slow Slack API and read what arrives at the response_url, and when.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from bot.slack.context import ANSWER_PATIENCE, HUB_THREADS, AckFirst
from tests.doubles import hub_fixtures as fx
from tests.doubles.signing import FORM, slash_command_body
from tests.slack_fixtures import (
    DENSE_REPO,
    HUB_ONLY_REPO,
    SlackWorld,
    assert_quick_ack,
    header,
    radar_world,
)

pytestmark = pytest.mark.e2e

HUB_LATENCY = 1.5  # each Hub request; the harness's Hub client times out at 2 s
LOCAL_ANSWER_LIMIT = 1.0  # well under HUB_LATENCY: a local answer did not wait for the Hub


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackWorld]:
    with radar_world(tmp_path_factory.mktemp("pools") / "radar.json") as running:
        running.warm_up()  # a slow Slack must not meet Bolt's first identity lookup
        yield running


@pytest.fixture(autouse=True)
def no_refused_slack_calls(world: SlackWorld) -> Iterator[None]:
    seen = len(world.slack.violations)
    yield
    world.hub.latency = 0.0
    world.slack.latency = 0.0
    assert world.slack.violations[seen:] == []


def send(world: SlackWorld, command: str, text: str, name: str) -> float:
    """Send a slash command without waiting for its answer; returns when it was sent."""
    body = slash_command_body(
        command,
        text,
        user_id="U_ALICE",
        channel_id="C0GENERAL",
        response_url=world.slack.response_url_for(name),
    )
    sent_at = time.monotonic()
    status, ack, seconds = world.post(body, content_type=FORM)
    assert (status, ack) == (200, "")
    assert seconds < 3.0  # Slack's limit; how much sooner is bench/ack_latency.py's business
    return sent_at


def answered_within(world: SlackWorld, name: str, sent_at: float, limit: float) -> dict:
    assert world.slack.wait_for(lambda: world.slack.responses(name), timeout=limit + 5)
    arrived_after = time.monotonic() - sent_at
    assert arrived_after < limit, f"{name} answered after {arrived_after:.2f} s"
    return world.slack.responses(name)[0]


def test_local_answers_do_not_queue_behind_slow_hub_lookups(world: SlackWorld) -> None:
    """More Hub lookups in flight than answer threads: a known model and the latest
    releases are still answered at once, and every Hub answer arrives in the end."""
    slow = [f"slowlab/Slow-Model-{i}B" for i in range(1, HUB_THREADS + 5)]
    for repo_id in slow:
        world.hub.add(fx.model_json(repo_id, created_at=world.bot.clock.now, params=fx.B))
    world.hub.latency = HUB_LATENCY
    for index, repo_id in enumerate(slow):
        send(world, "/model", repo_id, f"slow-{index}")

    known_at = send(world, "/model", DENSE_REPO, "known")
    latest_at = send(world, "/radar", "latest", "latest")

    assert header(answered_within(world, "known", known_at, LOCAL_ANSWER_LIMIT)) == DENSE_REPO
    latest = answered_within(world, "latest", latest_at, LOCAL_ANSWER_LIMIT)
    assert latest["text"].startswith("Latest notable releases")
    for index, repo_id in enumerate(slow):
        arrived = world.slack.wait_for(lambda i=index: world.slack.responses(f"slow-{i}"), 15)
        assert arrived and header(arrived[0]) == repo_id
        assert arrived[0]["response_type"] == "ephemeral"


def test_compare_with_a_model_only_the_hub_knows(world: SlackWorld) -> None:
    world.hub.latency = 0.5
    sent_at = send(world, "/radar", f"compare {DENSE_REPO} {HUB_ONLY_REPO}", "compare-hub")

    reply = answered_within(world, "compare-hub", sent_at, 5.0)
    assert header(reply) == "Model comparison"
    assert reply["text"] == f"Comparing {DENSE_REPO} vs {HUB_ONLY_REPO}"


def test_a_model_looked_up_on_the_hub_once_then_resolves_locally(world: SlackWorld) -> None:
    service = world.bot.core.service
    repo_id = "quietlab/Looked-Up-Once-2B"
    world.hub.add(fx.model_json(repo_id, created_at=world.bot.clock.now, params=2 * fx.B))
    query = repo_id.lower()

    first = service.lookup_local(query)
    assert first.needs_hub and first.record is None
    finished = service.finish_on_hub(first)
    assert finished.record is not None and finished.record.id == repo_id

    again = service.lookup_local(query)
    assert not again.needs_hub
    assert again.record is not None and again.record.id == repo_id
    assert again.from_hub
    assert service.lookup_model(query).record == finished.record


def test_a_known_model_never_needs_the_hub(world: SlackWorld) -> None:
    lookup = world.bot.core.service.lookup_local(DENSE_REPO.lower())

    assert not lookup.needs_hub
    assert lookup.record is not None and lookup.record.id == DENSE_REPO


def test_home_tab_is_acked_before_a_slow_views_publish(world: SlackWorld) -> None:
    before = len(world.slack.home_views("U_ALICE"))
    world.slack.latency = 2.0

    status, seconds = world.open_home("U_ALICE")

    assert status == 200
    assert seconds < 1.0
    assert world.slack.wait_for(lambda: len(world.slack.home_views("U_ALICE")) > before, 10)


def test_a_slow_hub_does_not_delay_the_ack_of_a_button(world: SlackWorld) -> None:
    world.hub.latency = HUB_LATENCY
    reply = world.press("model_alternative_0", "quietlab/Not-Cached-Yet-3B")

    assert_quick_ack(reply)
    assert reply.seconds < LOCAL_ANSWER_LIMIT  # it did not wait for the Hub


def test_the_store_and_index_are_out_of_the_collectors_generations(world: SlackWorld) -> None:
    """A full collection stops every thread, acks included: after the index is built,
    the long-lived records are frozen, so collections no longer walk them."""
    world.bot.core.service.lookup_model(DENSE_REPO, use_hub=False)
    record = world.bot.core.store.models.get(DENSE_REPO.lower())

    assert gc.get_freeze_count() > 0
    assert not any(obj is record for generation in range(3) for obj in gc.get_objects(generation))


# ----------------------------------------------------------------------- acks go first


def test_an_answer_waits_for_a_quiet_front_door() -> None:
    gate = AckFirst(quiet=0.05)
    started = time.monotonic()
    with gate.acking():
        waiter = threading.Thread(target=gate.wait_turn, args=(started + 5.0,))
        waiter.start()
        time.sleep(0.2)
        assert waiter.is_alive()  # a request is in flight: the answer holds back
    waiter.join(timeout=2.0)

    assert not waiter.is_alive()
    assert 0.2 + 0.05 <= time.monotonic() - started < 2.0


def test_an_answer_waits_no_longer_than_its_patience() -> None:
    gate = AckFirst(quiet=0.05)
    with gate.acking():  # a front door that never goes quiet
        started = time.monotonic()
        gate.wait_turn(started + 0.3)
        waited = time.monotonic() - started

    assert 0.3 <= waited < 1.0


def test_answers_arrive_while_the_front_door_never_goes_quiet(world: SlackWorld) -> None:
    """A steady stream of requests holds answers back by their patience at most."""
    stop = threading.Event()

    def keep_busy() -> None:
        with httpx.Client(timeout=10.0) as http:
            while not stop.is_set():
                http.post(world.events_url, content=b"unsigned")  # refused with 401

    busy = [threading.Thread(target=keep_busy) for _ in range(4)]
    for thread in busy:
        thread.start()
    try:
        sent_at = send(world, "/model", DENSE_REPO, "busy-door")
        reply = answered_within(world, "busy-door", sent_at, ANSWER_PATIENCE + 1.5)
    finally:
        stop.set()
        for thread in busy:
            thread.join()

    assert header(reply) == DENSE_REPO
