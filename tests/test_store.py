"""The TinyDB backend: what survives a reopen, a crash, a bad file or a failing disk."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from bot.radar.models import (
    Delivery,
    DigestSchedule,
    Filters,
    Lab,
    LicenseClass,
    ModelRecord,
    Mute,
    Region,
    Release,
    StateEntry,
    Subscription,
)
from bot.store import SCHEMA_VERSION, StoreError, TinyDBStore, open_store
from bot.store.atomic import AtomicJSONStorage, PreEncoded, encode_document
from bot.store.migrations import MIGRATIONS
from tests import store_writer

pytestmark = pytest.mark.tinydb_only  # the TinyDB file itself; the contract runs on both

REPO_ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)


def a_model(number: int, **changes: object) -> ModelRecord:
    fields: dict[str, object] = {
        "id": f"Qwen/Qwen3-{number}B",
        "author": "Qwen",
        "lab": "qwen",
        "first_seen": NOW,
        "params_total": number * 1_000_000_000,
        "license": "apache-2.0",
        "license_class": LicenseClass.PERMISSIVE,
        "tags": ["text-generation", "license:apache-2.0", "中文"],
        "children": {"quantized": number},
    }
    fields.update(changes)
    return ModelRecord.model_validate(fields)


def one_of_each() -> dict[str, object]:
    """One realistic record for every collection the store has."""
    return {
        "labs": Lab(namespace="deepseek-ai", name="DeepSeek", country="CN", region=Region.CHINA),
        "models": a_model(8),
        "releases": Release(
            id="qwen-qwen3-2025-06-02",
            lab="qwen",
            lab_name="Qwen",
            country="CN",
            region=Region.CHINA,
            title="Qwen3",
            stem="qwen3",
            members=["Qwen/Qwen3-8B", "Qwen/Qwen3-32B"],
            first_seen=NOW,
            updated_at=NOW,
            reasons=["tracked lab (tier 1)"],
        ),
        "subscriptions": Subscription(
            id="sub-1",
            channel_id="C0RADAR",
            filters=Filters(regions=[Region.CHINA], min_params_b=7),
            created_by="U1",
            created_at=NOW,
        ),
        "mutes": Mute(channel_id="C0RADAR", lab="meta-llama", until=NOW + timedelta(days=7)),
        "digests": DigestSchedule(channel_id="C0RADAR", weekday=4, time="16:00"),
        "deliveries": Delivery(
            channel_id="C0RADAR",
            release_id="qwen-qwen3-2025-06-02",
            status="sent",
            ts="1717320600.000100",
            posted_members=["Qwen/Qwen3-8B"],
            created_at=NOW,
            updated_at=NOW,
        ),
        "state": StateEntry(name="poll", value={"last_ok": NOW.isoformat(), "cycles": 3}),
    }


def file_bytes(path: Path) -> bytes:
    return path.read_bytes()


def temp_leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# -- round trip -------------------------------------------------------------------------


def test_every_collection_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    records = one_of_each()
    with open_store(path) as store:
        for name, record in records.items():
            getattr(store, name).put(record)
        store.commit()

    reopened = open_store(path)
    for name, record in records.items():
        collection = getattr(reopened, name)
        assert collection.values() == [record], name
        assert collection.get(record.key) == record  # type: ignore[attr-defined]
    assert reopened.subscriptions.get("sub-1").filters.canonical() == "region:china min-params:7B"
    assert reopened.models.get("qwen/qwen3-8b").tags[-1] == "中文"
    reopened.close()


def test_a_deleted_record_stays_deleted_and_others_remain(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    with open_store(path) as store:
        for number in (1, 4, 8):
            store.models.put(a_model(number))
        store.commit()
        assert store.models.delete("qwen/qwen3-4b") is True
        assert store.models.delete("qwen/qwen3-4b") is False
        store.models.put(a_model(8, likes=99))

    with open_store(path) as reopened:
        assert sorted(m.id for m in reopened.models) == ["Qwen/Qwen3-1B", "Qwen/Qwen3-8B"]
        assert reopened.models.get("qwen/qwen3-8b").likes == 99
        # deleting and re-adding the same key after a reopen works too
        reopened.models.delete("qwen/qwen3-1b")
        reopened.models.put(a_model(1, likes=5))

    with open_store(path) as again:
        assert again.models.get("qwen/qwen3-1b").likes == 5
        assert len(again.models) == 2


def test_file_is_plain_tinydb_json_with_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    with open_store(path) as store:
        store.labs.put(one_of_each()["labs"])  # type: ignore[arg-type]

    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["_meta"] == {"1": {"schema_version": SCHEMA_VERSION}}
    assert [lab["name"] for lab in document["labs"].values()] == ["DeepSeek"]


def test_close_writes_pending_changes_and_commit_after_close_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    store = open_store(path)
    store.mutes.put(one_of_each()["mutes"])  # type: ignore[arg-type]
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.commit()
    assert open_store(path).mutes.get("C0RADAR|meta-llama") is not None


# -- batching ---------------------------------------------------------------------------


def test_one_file_write_per_commit_and_none_for_an_empty_commit(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    store = open_store(path)
    assert store.writes == 0
    store.commit()
    assert store.writes == 0 and not path.exists()

    for number in range(1, 301):
        store.models.put(a_model(number))
    for name, record in one_of_each().items():
        getattr(store, name).put(record)
    store.commit()
    assert store.writes == 1
    first = path.stat()

    store.commit()
    store.commit()
    assert store.writes == 1
    assert path.stat().st_ino == first.st_ino and path.stat().st_mtime_ns == first.st_mtime_ns

    for number in range(1, 151):
        store.models.put(a_model(number, likes=number))
    store.releases.delete("qwen-qwen3-2025-06-02")
    store.commit()
    assert store.writes == 2
    assert path.stat().st_ino != first.st_ino  # replaced by rename, not rewritten in place
    store.close()
    assert store.writes == 2

    reopened = open_store(path)
    assert len(reopened.models) == 300
    assert reopened.models.get("qwen/qwen3-150b").likes == 150
    assert reopened.releases.get("qwen-qwen3-2025-06-02") is None


def test_first_overwrite_keeps_the_previous_file_as_bak(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    with open_store(path) as store:
        store.models.put(a_model(1))
    assert not (tmp_path / "radar.json.bak").exists()  # nothing existed to back up
    before = file_bytes(path)

    with open_store(path) as store:
        store.models.put(a_model(2))
        store.commit()
        store.models.put(a_model(3))
        store.commit()
    assert file_bytes(tmp_path / "radar.json.bak") == before
    assert len(open_store(path).models) == 3


def test_concurrent_puts_and_commits_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    store = open_store(path)

    def add(start: int) -> None:
        for number in range(start, start + 200):
            store.models.put(a_model(number))

    workers = [threading.Thread(target=add, args=(start,)) for start in (0, 1000, 2000, 3000)]
    for worker in workers:
        worker.start()
    while any(worker.is_alive() for worker in workers):
        store.commit()
    store.close()
    assert len(open_store(path).models) == 800


# -- crash safety -----------------------------------------------------------------------


def check_writer_database(path: Path) -> int:
    """Open what the killed writer left and check it agrees with itself; return its cycle."""
    store = open_store(path)
    progress = store.state.get(store_writer.STATE_NAME)
    if progress is None:
        assert len(store.models) == 0
        return 0
    first, next_sequence = progress.value["first"], progress.value["next"]
    ids = {model.id for model in store.models}
    assert ids == {store_writer.model_id(n) for n in range(first, next_sequence)}
    assert max(model.likes for model in store.models) == progress.value["cycle"]
    assert json.loads(path.read_bytes())["_meta"]["1"]["schema_version"] == SCHEMA_VERSION
    store.close()
    return progress.value["cycle"]


@pytest.mark.reliability
def test_kill_9_at_random_moments_always_leaves_a_loadable_consistent_database(
    tmp_path: Path,
) -> None:
    path = tmp_path / "radar.json"
    chance = random.Random(20250602)
    cycles_seen = []
    for _ in range(10):
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.store_writer", str(path)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert writer.stdout is not None
        ready = writer.stdout.readline()
        assert ready == b"ready\n", writer.stderr.read() if writer.stderr else ready
        time.sleep(chance.uniform(0.005, 0.080))
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=10) == -signal.SIGKILL
        writer.stdout.close()
        writer.stderr.close()  # type: ignore[union-attr]

        cycles_seen.append(check_writer_database(path))
        assert temp_leftovers(tmp_path) == []  # opening tidied any half-written temp file

    assert cycles_seen == sorted(cycles_seen)  # progress is never lost across kills
    assert cycles_seen[-1] >= 10  # the writer really committed in between the kills


# -- unusable files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x00\xffgarbage\x13\x37", "not valid JSON"),
        (b'{"_meta":{"1":{"schema_version":1}},"models":{"1":{"id":"Qwen/Qw', "not valid JSON"),
        (b"[1, 2, 3]", "holds a JSON list"),
        (b"", "is empty"),
        (b'{"models": [1, 2]}', "malformed 'models' table"),
        (b'{"settings": {"theme": "dark"}}', "does not look like an Open Model Radar database"),
    ],
    ids=["garbage", "truncated", "list", "empty", "bad-table", "someone-elses-json"],
)
def test_an_unusable_file_stops_with_a_clear_message_and_is_not_touched(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "radar.json"
    path.write_bytes(content)
    with pytest.raises(StoreError) as raised:
        open_store(path)
    message = str(raised.value)
    assert str(path) in message
    assert says in message
    assert "untouched" in message
    assert file_bytes(path) == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["radar.json"]


def test_a_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "radar.json").mkdir()
    with pytest.raises(StoreError, match="is a directory"):
        open_store(tmp_path / "radar.json")


def test_a_data_directory_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError) as raised:
        open_store(blocker / "radar.json")
    assert f"cannot create the data directory {blocker}" in str(raised.value)
    assert blocker.read_text() == "not a directory"


# -- schema versions --------------------------------------------------------------------

VERSION_0_FILE = {
    "releases": {
        "1": {
            "id": "qwen-qwen3-2025-04-29",
            "lab": "qwen",
            "lab_name": "Qwen",
            "title": "Qwen3",
            "stem": "qwen3",
            "members": "Qwen/Qwen3-8B, Qwen/Qwen3-32B,",
            "first_seen": "2025-04-29T00:00:00Z",
            "updated_at": "2025-04-29T00:00:00Z",
        }
    },
    "mutes": {"1": {"channel_id": "C0RADAR", "org": "Meta-Llama"}},
    "models": {
        "1": {"id": "Qwen/Qwen3-8B", "author": "Qwen", "first_seen": "2025-04-29T00:00:00Z"}
    },
}


def test_migrations_cover_every_version_up_to_the_current_one() -> None:
    assert sorted(MIGRATIONS) == list(range(SCHEMA_VERSION))


def test_a_version_0_file_is_migrated_with_data_preserved_and_original_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "radar.json"
    original = json.dumps(VERSION_0_FILE).encode()
    path.write_bytes(original)

    store = open_store(path)
    assert store.migrated_from == 0
    assert store.releases.get("qwen-qwen3-2025-04-29").members == [
        "Qwen/Qwen3-8B",
        "Qwen/Qwen3-32B",
    ]
    assert store.mutes.get("C0RADAR|meta-llama").lab == "meta-llama"
    assert store.models.get("qwen/qwen3-8b").author == "Qwen"
    assert file_bytes(path) == original  # nothing written before a commit

    store.commit()  # nothing changed by the bot, but the upgrade itself is written
    assert store.writes == 1
    assert file_bytes(tmp_path / "radar.json.v0.bak") == original
    assert json.loads(path.read_bytes())["_meta"] == {"1": {"schema_version": SCHEMA_VERSION}}
    store.close()

    reopened = open_store(path)
    assert reopened.migrated_from is None
    assert reopened.mutes.get("C0RADAR|meta-llama") is not None
    assert len(reopened.releases.get("qwen-qwen3-2025-04-29").members) == 2


def test_a_file_from_a_newer_version_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    content = json.dumps({"_meta": {"1": {"schema_version": SCHEMA_VERSION + 1}}}).encode()
    path.write_bytes(content)
    with pytest.raises(StoreError) as raised:
        open_store(path)
    assert "written by a newer Open Model Radar" in str(raised.value)
    assert "Upgrade" in str(raised.value)
    assert file_bytes(path) == content


def test_an_invalid_record_is_quarantined_and_the_rest_load(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    good = a_model(8).model_dump(mode="json")
    broken = {"id": "Qwen/Broken", "author": "Qwen", "first_seen": "yesterday-ish"}
    duplicate_old = a_model(4).model_dump(mode="json")
    duplicate_new = a_model(4, likes=7).model_dump(mode="json")
    path.write_text(
        json.dumps(
            {
                "_meta": {"1": {"schema_version": SCHEMA_VERSION}},
                "models": {"1": good, "2": broken, "3": duplicate_old, "4": duplicate_new},
            }
        )
    )

    store = open_store(path)
    assert sorted(m.id for m in store.models) == ["Qwen/Qwen3-4B", "Qwen/Qwen3-8B"]
    assert store.models.get("qwen/qwen3-4b").likes == 7
    quarantined = {entry["doc_id"]: entry for entry in store.quarantine()}
    assert set(quarantined) == {"2", "3"}
    assert quarantined["2"]["collection"] == "models"
    assert "first_seen" in quarantined["2"]["error"]
    assert quarantined["2"]["document"] == broken
    assert "duplicate key 'qwen/qwen3-4b'" in quarantined["3"]["error"]
    store.close()

    on_disk = json.loads(path.read_bytes())
    assert len(on_disk["models"]) == 2 and len(on_disk["_quarantine"]) == 2
    reopened = open_store(path)
    assert len(reopened.quarantine()) == 2  # not quarantined a second time
    assert len(reopened.models) == 2


# -- failing disks ----------------------------------------------------------------------


class FailingDisk(AtomicJSONStorage):
    """The real storage, with the operating-system errors of a bad disk on demand."""

    def __init__(self, path: str, **kwargs: object) -> None:
        super().__init__(path, **kwargs)
        self.read_only = False
        self.full = False

    def _open_temp(self) -> tuple[int, str]:
        if self.read_only:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self.path.parent))
        return super()._open_temp()

    def _write_chunks(self, handle: IO[bytes], chunks: Iterable[bytes]) -> None:
        if self.full:
            handle.write(next(iter(chunks)))  # a partial write, then the disk is full
            handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        super()._write_chunks(handle, chunks)


@pytest.mark.parametrize(
    ("fault", "says"),
    [("read_only", "Read-only file system"), ("full", "No space left on device")],
)
def test_a_failing_disk_reports_clearly_keeps_the_file_and_loses_nothing(
    tmp_path: Path, fault: str, says: str
) -> None:
    path = tmp_path / "radar.json"
    with open_store(path) as store:
        store.models.put(a_model(1))
    before = file_bytes(path)

    store = TinyDBStore(path, storage_class=FailingDisk)
    disk: FailingDisk = store.file_storage  # type: ignore[assignment]
    store.models.put(a_model(2))
    store.models.delete("qwen/qwen3-1b")
    setattr(disk, fault, True)
    for _ in range(2):  # failing again does not make things worse
        with pytest.raises(StoreError) as raised:
            store.commit()
        message = str(raised.value)
        assert f"cannot write the database at {path}: {says}; nothing was changed" in message
        assert file_bytes(path) == before
        assert temp_leftovers(tmp_path) == []
    assert [m.id for m in store.models] == ["Qwen/Qwen3-2B"]  # still there in memory

    setattr(disk, fault, False)
    store.commit()
    assert store.writes == 1
    store.close()
    assert [m.id for m in open_store(path).models] == ["Qwen/Qwen3-2B"]


# -- encoding and scale -----------------------------------------------------------------


def test_written_json_matches_what_the_json_module_would_write() -> None:
    document = {
        "_meta": {"1": {"schema_version": 1}},
        "state": {"1": {"name": 'quote " and \\ and 中文', "value": {"n": [1, 2.5, None]}}},
        "models": {"2": PreEncoded(b'{"id":"a/b"}')},
        "odd": [1, 2],
    }
    decoded = json.loads(encode_document(document))
    assert decoded["state"] == document["state"]
    assert decoded["models"] == {"2": {"id": "a/b"}}
    assert decoded["odd"] == [1, 2]
    assert dict(PreEncoded(b'{"id":"a/b"}')) == {"id": "a/b"}


def test_thirty_thousand_models_commit_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "radar.json"
    store = open_store(path)
    for number in range(30_000):
        store.models.put(
            ModelRecord(
                id=f"lab-{number % 300}/model-{number}",
                author=f"lab-{number % 300}",
                first_seen=NOW,
                downloads=number,
                tags=["text-generation", "safetensors"],
            )
        )
    store.commit()
    store.models.put(store.models.get("lab-7/model-7").model_copy(update={"likes": 1}))
    store.commit()
    assert store.writes == 2
    store.close()

    reopened = open_store(path)
    assert len(reopened.models) == 30_000
    assert reopened.models.get("lab-299/model-29999").downloads == 29_999
    assert reopened.models.get("lab-7/model-7").likes == 1
