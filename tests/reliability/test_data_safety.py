"""Data safety: a damaged, old, unwritable or full database never costs the user data.

Each case is met the way a user meets it: `python -m bot poll` (or `serve`) with
`RADAR_DB_PATH` pointing at the file. A corrupt file or one from a newer version must stop
the command with one clear line and exit 1, leaving the file's bytes as they were; an
older file is upgraded with everything in it and the original kept beside it; a read-only
data directory and a full disk (a small tmpfs, mounted here as root) must fail the save
with one clear line, keep the previous file intact, and work again once fixed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.radar.models import Filters, ModelRecord, Mute, Subscription
from bot.store import SCHEMA_VERSION, open_store
from tests.doubles.hub_fixtures import background
from tests.doubles.hub_server import HubStandIn
from tests.harness import free_port
from tests.reliability.helpers import (
    report,
    run_cli,
)
from tests.serve_process import serve_env

pytestmark = [pytest.mark.reliability, pytest.mark.tinydb_only]  # the file itself

NOWHERE = "http://127.0.0.1:9"  # nothing listens: commands that fail early never get here
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def write_user_database(path: Path) -> bytes:
    """A database with things a user would hate to lose; returns its bytes."""
    with open_store(path) as store:
        store.subscriptions.put(
            Subscription(id="s-abc123", channel_id="C_TEAM", filters=Filters(countries=["CN"]))
        )
        store.mutes.put(Mute(channel_id="C_TEAM", lab="meta-llama"))
        store.models.put(ModelRecord(id="Qwen/Qwen3-8B", author="Qwen", first_seen=NOW))
        store.commit()
    return path.read_bytes()


def user_data_intact(path: Path) -> bool:
    with open_store(path) as store:
        return (
            store.subscriptions.get("s-abc123") is not None
            and store.mutes.get("C_TEAM|meta-llama") is not None
            and store.models.get("qwen/qwen3-8b") is not None
        )


def cli_env(db_path: Path, hub_url: str = NOWHERE) -> dict[str, str]:
    return serve_env(
        hub_url=hub_url, slack_url=f"{NOWHERE}/api/", db_path=db_path, port=free_port()
    )


def the_message(stderr: str) -> str:
    """The one `radar: ...` line a user is shown; no traceback around it."""
    assert "Traceback" not in stderr, stderr
    messages = [line for line in stderr.splitlines() if line.startswith("radar: ")]
    assert len(messages) == 1, stderr
    return messages[0]


def leftovers(directory: Path) -> list[str]:
    """Temporary files an interrupted or failed write left behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# ------------------------------------------------------------------ corrupt files

CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "cut off mid-write": lambda good: good[: len(good) // 2],
    "binary garbage": lambda good: bytes(range(256)) * 8,
    "empty": lambda good: b"",
    "a JSON list": lambda good: b"[1, 2, 3]",
    "a malformed table": lambda good: json.dumps(
        {"_meta": {"1": {"schema_version": SCHEMA_VERSION}}, "subscriptions": ["s-abc123"]}
    ).encode(),
    "someone else's JSON": lambda good: json.dumps({"users": {"1": {"name": "x"}}}).encode(),
}


@pytest.mark.parametrize("damage", list(CORRUPTIONS))
def test_poll_refuses_a_corrupt_database_and_leaves_its_bytes_alone(
    damage: str, tmp_path: Path
) -> None:
    db_path = tmp_path / "radar.json"
    corrupt = CORRUPTIONS[damage](write_user_database(db_path))
    db_path.write_bytes(corrupt)
    before = sorted(p.name for p in tmp_path.iterdir())

    result = run_cli(["poll"], cli_env(db_path), cwd=tmp_path)

    assert result.returncode == 1
    message = the_message(result.stderr)
    assert str(db_path) in message and "untouched" in message
    assert db_path.read_bytes() == corrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no new file, no backup swap


def test_serve_refuses_a_corrupt_database_before_listening(tmp_path: Path) -> None:
    db_path = tmp_path / "radar.json"
    corrupt = write_user_database(db_path)[:-7]
    db_path.write_bytes(corrupt)

    result = run_cli(["serve"], cli_env(db_path), cwd=tmp_path)

    assert result.returncode == 1
    message = the_message(result.stderr)
    assert "not valid JSON" in message and "untouched" in message
    assert db_path.read_bytes() == corrupt


# --------------------------------------------------------------- schema versions

VERSION_0 = {  # the prototype layout: no _meta, members as one string, mutes by "org"
    "subscriptions": {
        "1": {
            "id": "s-abc123",
            "channel_id": "C_TEAM",
            "filters": {"countries": ["CN"]},
            "created_at": "2026-05-01T09:00:00+00:00",
        }
    },
    "mutes": {"1": {"channel_id": "C_TEAM", "org": "Meta-Llama"}},
    "releases": {
        "1": {
            "id": "qwen/qwen3@2026-04-29",
            "lab": "Qwen",
            "lab_name": "Qwen",
            "title": "Qwen3",
            "stem": "qwen3",
            "members": "Qwen/Qwen3-8B, Qwen/Qwen3-32B",
            "first_seen": "2026-04-29T08:00:00+00:00",
            "updated_at": "2026-04-29T08:00:00+00:00",
        }
    },
}


def test_an_older_database_is_upgraded_with_all_its_data_and_the_original_kept(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "radar.json"
    original = json.dumps(VERSION_0).encode()
    db_path.write_bytes(original)

    with HubStandIn() as hub:
        hub.add_many(background(NOW, 10))
        result = run_cli(["poll"], cli_env(db_path, hub.url), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "schema version 0" in result.stderr and "radar.json.v0.bak" in result.stderr
    assert (tmp_path / "radar.json.v0.bak").read_bytes() == original
    with open_store(db_path) as store:
        assert store.migrated_from is None  # saved in the current version
        assert store.subscriptions.get("s-abc123").filters.countries == ["CN"]
        assert store.mutes.get("C_TEAM|meta-llama") is not None
        release = store.releases.get("qwen/qwen3@2026-04-29")
        assert release.members == ["Qwen/Qwen3-8B", "Qwen/Qwen3-32B"]


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    db_path = tmp_path / "radar.json"
    newer = json.dumps({"_meta": {"1": {"schema_version": SCHEMA_VERSION + 7}}}).encode()
    db_path.write_bytes(newer)

    result = run_cli(["poll"], cli_env(db_path), cwd=tmp_path)

    assert result.returncode == 1
    assert "newer Open Model Radar" in the_message(result.stderr)
    assert db_path.read_bytes() == newer


# ------------------------------------------------------- unwritable and full disks


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 kB tmpfs of our own, so a disk can be made read-only or full for real."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (read-only and full-disk cases)")
    mounted = _mount("-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(mount_point))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        _mount("-o", "remount,rw", str(mount_point))
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write a filler file until the disk says it is full."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)
            handle.flush()
    return filler


def test_poll_on_a_read_only_data_directory_keeps_the_file_and_recovers(
    small_disk: Path,
) -> None:
    db_path = small_disk / "radar.json"
    good = write_user_database(db_path)
    assert _mount("-o", "remount,ro", str(small_disk)).returncode == 0

    with HubStandIn() as hub:
        hub.add_many(background(NOW, 10))
        failed = run_cli(["poll"], cli_env(db_path, hub.url), cwd=small_disk.parent)
        assert failed.returncode == 1
        message = the_message(failed.stderr)
        assert "Read-only file system" in message and "nothing was changed" in message
        assert db_path.read_bytes() == good

        assert _mount("-o", "remount,rw", str(small_disk)).returncode == 0
        fixed = run_cli(["poll"], cli_env(db_path, hub.url), cwd=small_disk.parent)
    assert fixed.returncode == 0, fixed.stderr
    assert user_data_intact(db_path)


def test_poll_on_a_full_disk_keeps_the_file_leaves_no_debris_and_recovers(
    small_disk: Path,
) -> None:
    db_path = small_disk / "radar.json"
    good = write_user_database(db_path)
    filler = fill(small_disk)

    with HubStandIn() as hub:
        hub.add_many(background(NOW, 10))
        failed = run_cli(["poll"], cli_env(db_path, hub.url), cwd=small_disk.parent)
        assert failed.returncode == 1
        message = the_message(failed.stderr)
        assert os.strerror(errno.ENOSPC) in message and "nothing was changed" in message
        assert db_path.read_bytes() == good
        assert leftovers(small_disk) == []

        filler.unlink()
        fixed = run_cli(["poll"], cli_env(db_path, hub.url), cwd=small_disk.parent)
    assert fixed.returncode == 0, fixed.stderr
    assert user_data_intact(db_path)
    report("data-safety", full_disk="refused with ENOSPC, file intact, recovered")


def test_a_data_directory_that_cannot_exist_is_reported_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    db_path = blocker / "radar.json"

    result = run_cli(["poll"], cli_env(db_path), cwd=tmp_path)

    assert result.returncode == 1
    assert "cannot create the data directory" in the_message(result.stderr)
    assert blocker.read_text() == "a file where the data directory should be"


def test_serve_on_a_read_only_data_directory_stops_with_one_clear_line(
    small_disk: Path,
) -> None:
    db_path = small_disk / "radar.json"
    good = write_user_database(db_path)
    assert _mount("-o", "remount,ro", str(small_disk)).returncode == 0
    env = cli_env(db_path)
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=small_disk.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as serving:
        deadline = time.monotonic() + 8
        while serving.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        still_running = serving.poll() is None
        if still_running:
            serving.terminate()
        _, stderr = serving.communicate(timeout=30)
    assert db_path.read_bytes() == good
    assert not still_running, "serve kept running on a database it cannot save"
    assert serving.returncode == 1
    assert "Read-only file system" in the_message(stderr)
