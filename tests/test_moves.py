"""Following a Hub rename in the store (`bot.radar.moves.follow_move`), and which labs each
webhook watches as labs come and go (`bot.webhooks.sync.plan`)."""

from __future__ import annotations

import math
from datetime import datetime

from bot.hub.webhooks import HubWebhook
from bot.radar.labs import LabRegistry
from bot.radar.models import Release
from bot.radar.moves import follow_move
from bot.store import MemoryStore
from bot.webhooks.sync import plan
from tests.conftest import NOW
from tests.harness import notable_record


def _release(members: list[str], seen: datetime) -> Release:
    return Release(
        id="qwen/qwen9@1",
        lab="Qwen",
        lab_name="Qwen",
        title="Qwen9 Preview",
        stem="qwen9",
        members=members,
        first_seen=seen,
        updated_at=seen,
    )


def test_a_rename_re_keys_the_model_and_its_release_membership() -> None:
    store = MemoryStore()
    record = notable_record("Qwen/Qwen9-Preview-32B", 32, NOW)
    record.release_id = "qwen/qwen9@1"
    store.models.put(record)
    store.releases.put(_release(["Qwen/Qwen9-Preview-32B", "Qwen/Qwen9-8B"], NOW))

    assert follow_move(store, "Qwen/Qwen9-Preview-32B", "Qwen/Qwen9-32B")
    assert store.models.get("qwen/qwen9-preview-32b") is None
    moved = store.models.get("qwen/qwen9-32b")
    assert moved is not None and moved.id == "Qwen/Qwen9-32B" and moved.notable
    assert moved.first_seen == NOW and moved.release_id == "qwen/qwen9@1"
    release = store.releases.get("qwen/qwen9@1")
    assert release is not None and release.members == ["Qwen/Qwen9-32B", "Qwen/Qwen9-8B"]
    assert release.title == "Qwen9"


def test_a_rename_the_poll_saw_first_leaves_one_record_and_one_member() -> None:
    store = MemoryStore()
    old = notable_record("Qwen/Old-8B", 8, NOW)
    old.release_id = "qwen/qwen9@1"
    store.models.put(old)
    store.models.put(notable_record("Qwen/New-8B", 8, NOW))
    store.releases.put(_release(["Qwen/Old-8B", "Qwen/New-8B"], NOW))
    assert follow_move(store, "Qwen/Old-8B", "Qwen/New-8B")
    assert len(store.models) == 1
    assert store.releases.get("qwen/qwen9@1").members == ["Qwen/New-8B"]


def test_an_unknown_or_same_id_is_not_a_move() -> None:
    store = MemoryStore()
    store.models.put(notable_record("Qwen/A-8B", 8, NOW))
    assert not follow_move(store, "Qwen/unknown", "Qwen/B")
    assert not follow_move(store, "Qwen/A-8B", "qwen/a-8b")
    assert store.models.get("qwen/a-8b") is not None


def test_labs_keep_their_webhook_when_others_are_added_or_removed() -> None:
    registry = LabRegistry.builtin()
    labs = registry.labs()
    first = plan([], labs, 10)
    assert len(first) == math.ceil(len(labs) / 10) and all(hook is None for hook, _ in first)
    hooks = [
        HubWebhook(
            id=f"h{i}", url="u", watched=[{"type": "org", "name": lab.namespace} for lab in group]
        )
        for i, (_none, group) in enumerate(first)
    ]
    fewer = [lab for lab in labs if lab.key != first[0][1][0].key]
    second = plan(hooks, fewer, 10)
    assert [hook.id for hook, _ in second if hook] == [h.id for h in hooks]
    for (_hook, group), (_none, before) in zip(second, first, strict=True):
        assert [lab.key for lab in group] == [lab.key for lab in before if lab in fewer]
    grown = plan(hooks, labs, 10)
    assert [[lab.key for lab in group] for _h, group in grown] == [
        [lab.key for lab in group] for _n, group in first
    ]
