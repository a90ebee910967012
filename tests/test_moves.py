"""Following a Hub rename in the store (`bot.radar.moves.follow_move`), and which labs each
webhook watches as labs come and go (`bot.webhooks.sync.plan`)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from bot.hub.webhooks import HubWebhook
from bot.radar.labs import LabRegistry
from bot.radar.models import Delivery, ModelRecord, Release
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


# ------------------------------------------- organisation renames (issue 9)

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def seeded() -> MemoryStore:
    store = MemoryStore()
    with store.lock:
        store.models.put(
            ModelRecord(
                id="THUDM/GLM-5-9B",
                author="THUDM",
                lab="zai-org",
                first_seen=T0,
                notable=True,
                release_id="zai-org/glm-5@2026-09-01",
                hub_oid="abc",
            )
        )
        store.releases.put(
            Release(
                id="zai-org/glm-5@2026-09-01",
                lab="zai-org",
                lab_name="Z.ai",
                title="GLM-5",
                stem="glm-5",
                members=["THUDM/GLM-5-9B", "zai-org/GLM-5-32B"],
                first_seen=T0,
                updated_at=T0,
            )
        )
        store.deliveries.put(
            Delivery(
                channel_id="C1",
                release_id="zai-org/glm-5@2026-09-01",
                status="sent",
                ts="1.2",
                posted_members=["THUDM/GLM-5-9B", "zai-org/GLM-5-32B"],
            )
        )
        store.commit()
    return store


def test_a_moved_repo_keeps_its_record_release_and_posted_alert():
    store = seeded()

    assert follow_move(store, "THUDM/GLM-5-9B", "zai-org/GLM-5-9B") is True

    assert store.models.get("thudm/glm-5-9b") is None
    moved = store.models.get("zai-org/glm-5-9b")
    assert moved is not None
    assert (moved.id, moved.author, moved.first_seen, moved.hub_oid, moved.notable) == (
        "zai-org/GLM-5-9B", "zai-org", T0, "abc", True
    )
    release = store.releases.get("zai-org/glm-5@2026-09-01")
    assert release is not None and release.members == ["zai-org/GLM-5-9B", "zai-org/GLM-5-32B"]
    delivery = store.deliveries.get("C1|zai-org/glm-5@2026-09-01")
    assert delivery is not None  # the update path will not post the moved repo again
    assert delivery.posted_members == ["zai-org/GLM-5-9B", "zai-org/GLM-5-32B"]


def test_an_unknown_repo_is_not_followed():
    store = seeded()
    assert follow_move(store, "THUDM/Never-Seen", "zai-org/Never-Seen") is False
    assert store.models.get("zai-org/never-seen") is None


def test_a_move_the_poll_had_recorded_as_new_keeps_the_older_history():
    store = seeded()
    with store.lock:
        store.models.put(
            ModelRecord(
                id="zai-org/GLM-5-9B",
                author="zai-org",
                first_seen=T0 + timedelta(days=3),
                notable=True,
                release_id="zai-org/glm-5@2026-09-04",
            )
        )
        store.releases.put(
            Release(
                id="zai-org/glm-5@2026-09-04",
                lab="zai-org",
                lab_name="Z.ai",
                title="GLM-5",
                stem="glm-5",
                members=["zai-org/GLM-5-9B"],
                first_seen=T0 + timedelta(days=3),
                updated_at=T0 + timedelta(days=3),
            )
        )

    assert follow_move(store, "THUDM/GLM-5-9B", "zai-org/GLM-5-9B")

    moved = store.models.get("zai-org/glm-5-9b")
    assert moved is not None and moved.first_seen == T0
    assert store.releases.get("zai-org/glm-5@2026-09-04") is None  # the duplicate launch
