"""Launches as labs really stage them, end to end: the real tracker and `HubClient` over
HTTP against the Hub stand-in, polled on a hand-driven clock.

Labs create a launch's repos privately days or weeks ahead and flip them public at once,
while publishing other public repos every day; organisations get renamed. What a user sees
is asserted: each launch alerted once, within the README's guarantee after it turned
public, dated when it was first seen public; a moved repo is never news.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.hub.client import HubClient
from bot.radar.models import ReleaseEvent
from bot.radar.tracker import LAB_STATE
from bot.runtime import Core, build_core
from bot.store import MemoryStore
from tests.conftest import ManualClock, settings_for, track_only
from tests.doubles.hub_fixtures import B, model_json
from tests.doubles.hub_server import HubStandIn

POLL_SECONDS = 300  # the default poll interval: the guarantee is stated for it
POLL = timedelta(seconds=POLL_SECONDS)
# Tasks a busy lab publishes every day that are never notable (embeddings, speech, vision).
NOISE_TASKS = ("feature-extraction", "automatic-speech-recognition", "image-segmentation")


@pytest.fixture
def core(hub: HubStandIn, tmp_path: Path, clock: ManualClock) -> Iterator[Core]:
    hub.visibility_clock = clock
    client = HubClient(hub.url, timeout=2.0, max_retries=1, sleep=lambda _s: None)
    settings = settings_for(hub.url, tmp_path, poll_interval_seconds=POLL_SECONDS)
    core = build_core(settings, store=MemoryStore(), hub=client, clock=clock)
    track_only(core.registry, core.store, {"Qwen", "zai-org"})
    yield core
    core.close()


def noise(lab: str, day: int, created: datetime, count: int) -> list[dict]:
    """`count` public repos a busy lab adds on `day`: research tools, not launches."""
    return [
        model_json(
            f"{lab}/Research-Tool-d{day}-{index}",
            created_at=created + timedelta(minutes=index),
            pipeline_tag=NOISE_TASKS[index % len(NOISE_TASKS)],
            params=300_000_000,
        )
        for index in range(count)
    ]


def launched(events: list[ReleaseEvent], member: str) -> list[ReleaseEvent]:
    return [e for e in events if e.kind == "new_release" and member in e.release.members]


def run_until(
    core: Core, clock: ManualClock, until: datetime, step: timedelta
) -> list[tuple[datetime, ReleaseEvent]]:
    """Poll every `step` up to `until`; every event with the time of its cycle."""
    seen: list[tuple[datetime, ReleaseEvent]] = []
    while clock() + step <= until:
        clock.advance(seconds=step.total_seconds())
        seen += [(clock(), event) for event in core.tracker.poll_cycle().events]
    return seen


def test_backdated_launch_in_a_busy_lab_is_alerted_once_within_the_guarantee(
    hub: HubStandIn, core: Core, clock: ManualClock, now: datetime
) -> None:
    """The issue's reproduction: a 72B launch with 900 likes, created 8 days before it
    turned public, in a lab publishing 5 public repos a day. The lab's newest listing
    never shows it (40 newer repos), and it is not trending: only the full rotation can
    find it, within one full-listing interval."""
    hub.add_many(
        model_json(f"Qwen/Old-{i}", created_at=now - timedelta(days=30 + i), params=8 * B)
        for i in range(60)
    )
    core.tracker.poll_cycle()
    launch_created = now + timedelta(hours=1)
    flip = now + timedelta(days=8, hours=1)
    launch = ["Qwen/Qwen9-72B-Instruct", "Qwen/Qwen9-72B-Instruct-FP8"]
    for repo_id in launch:
        hub.add_private_until(
            model_json(repo_id, created_at=launch_created, params=72 * B, likes=900), flip
        )
    for day in range(8):
        hub.add_many(noise("Qwen", day, now + timedelta(days=day, hours=2), 5))
    # A cycle a few hours apart while the lab is busy; the last one lists Qwen in full
    # a minute before the flip, so the flip waits a whole interval for the rotation.
    events = run_until(core, clock, flip - timedelta(hours=1), timedelta(hours=3))
    clock.now = flip - timedelta(minutes=1)
    core.tracker.poll_cycle()
    guarantee = core.tracker.full_listing_interval + POLL
    events += run_until(core, clock, flip + guarantee, POLL)

    alerts = launched([event for _at, event in events], launch[0])
    assert len(alerts) == 1, [(at, e.kind, e.release.members) for at, e in events]
    alerted_at = next(at for at, event in events if event is alerts[0])
    assert flip < alerted_at <= flip + guarantee, (flip, alerted_at)
    release = alerts[0].release
    assert sorted(release.members) == launch  # the flagship and its FP8 build together
    assert release.first_seen == alerted_at  # first seen public, not createdAt
    for repo_id in launch:
        record = core.store.models.get(repo_id.lower())
        assert record is not None and record.first_seen == alerted_at
        assert record.created_at == launch_created
    assert not [e for _at, e in events if e.kind == "new_release" and e is not alerts[0]]


def test_a_launch_trending_before_its_lab_listing_shows_it_is_news_not_history(
    hub: HubStandIn, core: Core, clock: ManualClock, now: datetime
) -> None:
    """The trending listing shows the flagship as soon as it is public, with a `createdAt`
    73 h old and below 20 newer repos in the lab's own listing: it is alerted in the
    first cycle; its FP8 build, on no trending list, joins the same release when the
    rotation lists the lab in full."""
    hub.add_many(  # the rest of the Hub's trending list, so the FP8 build is not on it
        model_json(f"elsewhere/Model-{i}", created_at=now, params=B, trending=1 + i % 50)
        for i in range(core.tracker.trending_limit)
    )
    core.tracker.poll_cycle()
    flip = clock() + timedelta(minutes=35)  # just after the lab's first full rotation
    flagship = "Qwen/Qwen9-235B-A22B-Instruct"
    fp8 = "Qwen/Qwen9-235B-A22B-Instruct-FP8"
    created = flip - timedelta(hours=73)
    hub.add_private_until(
        model_json(flagship, created_at=created, params=235 * B, likes=900, trending=400), flip
    )
    hub.add_private_until(model_json(fp8, created_at=created, params=235 * B), flip)
    hub.add_many(noise("Qwen", 0, flip - timedelta(hours=70), 25))

    events = run_until(core, clock, flip + timedelta(minutes=45), POLL)

    kinds = [(at - flip, e.kind, sorted(e.new_members)) for at, e in events]
    assert [k[1:] for k in kinds] == [
        ("new_release", [flagship]),
        ("release_updated", [fp8]),
    ], kinds
    assert kinds[0][0] <= POLL
    assert kinds[1][0] <= core.tracker.full_listing_interval + POLL
    assert events[0][1].release.id == events[1][1].release.id


def test_a_renamed_organisation_moves_its_repos_without_any_alert(
    hub: HubStandIn, core: Core, clock: ManualClock, now: datetime
) -> None:
    """THUDM's repos move to zai-org: new ids, the same `_id` and history. The release
    and the facts follow the repos; nothing is announced."""
    hub.add(model_json("THUDM/glm-4-9b-chat", created_at=now - timedelta(days=800), params=9 * B))
    core.tracker.poll_cycle()
    clock.advance(minutes=5)
    hub.add(model_json("THUDM/GLM-4.1V-9B-Thinking", created_at=clock(), params=9 * B, likes=40))
    first = core.tracker.poll_cycle()
    assert [e.kind for e in first.events] == ["new_release"]
    release_id = first.events[0].release.id
    announced = core.store.models.get("thudm/glm-4.1v-9b-thinking")
    assert announced is not None
    # A record written before the radar kept the Hub `_id` is matched by name and date.
    old = core.store.models.get("thudm/glm-4-9b-chat")
    assert old is not None
    core.store.models.put(old.model_copy(update={"hub_oid": None}))

    clock.advance(days=2)
    hub.move("THUDM/GLM-4.1V-9B-Thinking", "zai-org/GLM-4.1V-9B-Thinking")
    hub.move("THUDM/glm-4-9b-chat", "zai-org/glm-4-9b-chat")
    events = run_until(core, clock, clock() + timedelta(hours=1), POLL)

    assert events == []
    assert core.store.models.get("thudm/glm-4.1v-9b-thinking") is None
    moved = core.store.models.get("zai-org/glm-4.1v-9b-thinking")
    assert moved is not None
    assert (moved.first_seen, moved.release_id, moved.notable) == (
        announced.first_seen,
        release_id,
        True,
    )
    release = core.store.releases.get(release_id)
    assert release is not None and release.members == ["zai-org/GLM-4.1V-9B-Thinking"]
    history = core.store.models.get("zai-org/glm-4-9b-chat")
    assert history is not None and history.first_seen == old.first_seen
    assert core.store.models.get("thudm/glm-4-9b-chat") is None


RECONCILE = timedelta(minutes=30)
TWELVE_LABS = {
    "Qwen", "zai-org", "deepseek-ai", "moonshotai", "MiniMaxAI", "meta-llama",
    "google", "mistralai", "allenai", "nvidia", "microsoft", "ibm-granite",
}  # fmt: skip


def test_with_webhooks_healthy_a_lost_backdated_launch_is_caught_by_the_next_reconciles(
    hub: HubStandIn, tmp_path: Path, clock: ManualClock, now: datetime
) -> None:
    """Webhooks carry the news, so the poll only reconciles every 30 minutes; a launch whose
    delivery was lost, created long before it turned public and not among its lab's newest
    repos, is found by a full listing within two reconciles, not after a rotation sized for
    5-minute polls (six reconciles, three hours, with twelve labs)."""
    hub.visibility_clock = clock
    client = HubClient(hub.url, timeout=2.0, max_retries=1, sleep=lambda _s: None)
    settings = settings_for(
        hub.url, tmp_path, poll_interval_seconds=POLL_SECONDS, hf_webhook_secret="s" * 32
    )
    core = build_core(settings, store=MemoryStore(), hub=client, clock=clock)
    track_only(core.registry, core.store, TWELVE_LABS)
    hub.add_many(  # a hundred older repos fill the trending list: the launch is not on it
        model_json(
            f"Qwen/Old-{i}", created_at=now - timedelta(days=30 + i), params=8 * B, trending=1
        )
        for i in range(100)
    )
    core.push.event_seen()  # deliveries arrive: the radar is in webhooks mode
    assert core.push.mode() == "webhooks"
    core.tracker.poll_cycle()
    hub.add_many(noise("Qwen", 0, now + timedelta(hours=1), 40))  # newer than the launch

    def reconcile() -> list[tuple[datetime, ReleaseEvent]]:
        clock.advance(seconds=RECONCILE.total_seconds() - 2)  # a reconcile fires a bit early
        core.push.event_seen()  # other labs' deliveries keep arriving
        return [(clock(), event) for event in core.tracker.poll_cycle().events]

    def qwen_listed_in_full_now() -> bool:
        state = core.store.state.get(LAB_STATE)
        return state is not None and state.value["qwen"].get("full_at") == clock().isoformat()

    # The worst moment: the launch turns public a minute after Qwen's full listing.
    for _ in range(12):
        reconcile()
        if qwen_listed_in_full_now():
            break
    else:
        pytest.fail("Qwen was never listed in full in six hours of reconciles")
    flip = clock() + timedelta(minutes=1)
    launch = "Qwen/Qwen9-72B-Instruct"
    hub.add_private_until(
        model_json(launch, created_at=now + timedelta(minutes=1), params=72 * B, likes=900), flip
    )
    events: list[tuple[datetime, ReleaseEvent]] = []
    while clock() < flip + 6 * RECONCILE and not launched([e for _a, e in events], launch):
        events += reconcile()
    core.close()

    alerts = launched([event for _at, event in events], launch)
    assert len(alerts) == 1
    alerted_at = next(at for at, event in events if event is alerts[0])
    assert flip < alerted_at <= flip + 2 * RECONCILE, (flip, alerted_at)
