"""A TinyDB storage that never leaves a half-written database behind.

TinyDB's stock `JSONStorage` truncates the file and writes it in place, so a crash or a
full disk in the middle of a write destroys the database. This storage writes the whole
document to a temporary file in the same directory, flushes and fsyncs it, renames it
over the target (atomic on POSIX) and fsyncs the directory so the rename itself survives
a power cut. At any instant the path holds either the previous or the new document.

Before the first overwrite of an existing file in each process, the previous file is kept
as `PATH.bak` (a hard link, so it costs no space or copying): if a bug in this version of
the bot damages the data, the state from before it started is still on disk.

Errors never touch the user's file: an unreadable or corrupt file raises `StoreError`
instead of being replaced by an empty database, and a failed write removes its temporary
file and leaves the previous file in place.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from pydantic_core import from_json
from tinydb import Storage

from bot.radar.ports import StoreError

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".tmp"


def backup_path(path: Path, label: str = "") -> Path:
    """`radar.json` -> `radar.json.bak` (or `radar.json.<label>.bak`)."""
    middle = f".{label}" if label else ""
    return path.with_name(f"{path.name}{middle}.bak")


def keep_copy(source: Path, target: Path) -> None:
    """Make `target` hold the current bytes of `source`, replacing an older `target`.

    A hard link is instant and shares the bytes; since every later write replaces
    `source` by rename, the linked inode keeps the old content. Filesystems without hard
    links get a real copy. Either way the new `target` appears atomically.
    """
    staging = target.with_name(f".{target.name}.{os.getpid()}{TEMP_SUFFIX}")
    with contextlib.suppress(FileNotFoundError):
        staging.unlink()
    try:
        os.link(source, staging)
    except OSError:
        shutil.copy2(source, staging)
    try:
        os.replace(staging, target)
    except OSError:
        with contextlib.suppress(OSError):
            staging.unlink()
        raise


class PreEncoded(Mapping[str, Any]):
    """A document that already carries its compact JSON text.

    Re-encoding tens of thousands of unchanged records on every commit would dominate the
    cost of a write; a document kept as its encoded bytes is written verbatim (and takes
    a third of the memory of the equivalent dict). Reading it as a mapping decodes it, so
    TinyDB tables holding such documents still behave normally.
    """

    __slots__ = ("json",)

    def __init__(self, json_bytes: bytes) -> None:
        self.json = json_bytes

    def _decoded(self) -> dict[str, Any]:
        return json.loads(self.json)

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())


def _plain_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _encoded(value: Any) -> bytes:
    return value.json if isinstance(value, PreEncoded) else _plain_json(value)


def _encoded_key(key: object) -> bytes:
    text = str(key)
    return b'"%s":' % text.encode("ascii") if text.isdigit() else _plain_json(text) + b":"


ENCODE_BATCH = 2048
"""Pieces (keys and documents) joined into one chunk: few Python-level writes per commit,
and a chunk of about a megabyte, so a commit still never holds a second copy of the file."""


def json_chunks(data: Mapping[str, Any]) -> Iterator[bytes]:
    """The compact JSON of `{table: {doc id: document}}`, piece by piece.

    Written straight to the file, so a commit never holds a second copy of the whole
    database in memory; pre-encoded documents are yielded as they are.
    """
    yield b"{"
    for table_index, (table_name, table) in enumerate(data.items()):
        if table_index:
            yield b","
        yield _encoded_key(table_name)
        if isinstance(table, Mapping) and not isinstance(table, PreEncoded):
            yield b"{"
            yield from _table_chunks(table)
            yield b"}"
        else:
            yield _encoded(table)
    yield b"}"


def _table_chunks(table: Mapping[Any, Any]) -> Iterator[bytes]:
    """A table's `"id":document` members, comma-separated, joined in batches.

    Yielding every key and document as its own chunk cost a generator step and a buffered
    write each: a third of a commit's CPU at 30,000 models, for a table that is mostly
    unchanged pre-encoded bytes. `bytes.join` of a batch does that copying in C.
    """
    parts: list[bytes] = []
    separator = b""
    for doc_id, document in table.items():
        parts.append(separator + _encoded_key(doc_id))
        parts.append(document.json if type(document) is PreEncoded else _encoded(document))
        separator = b","
        if len(parts) >= ENCODE_BATCH:
            yield b"".join(parts)
            parts = []
    if parts:
        yield b"".join(parts)


def encode_document(data: Mapping[str, Any]) -> bytes:
    """The whole document as one bytes object (what `write` streams to the file)."""
    return b"".join(json_chunks(data))


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _recovery_hint(path: Path) -> str:
    return (
        f"The file was left untouched. To recover, restore a backup (for example "
        f"{backup_path(path)} if it exists) or move the file aside to start with an "
        f"empty database."
    )


class AtomicJSONStorage(Storage):
    """Whole-document JSON storage with temp-file + fsync + rename writes."""

    def __init__(self, path: str | os.PathLike[str], **_ignored: Any) -> None:
        self.path = Path(path)
        self.writes = 0
        self._backed_up = False
        self._remove_stale_temp_files()

    # -- reading -----------------------------------------------------------------------

    def read(self) -> dict[str, Any] | None:
        """The parsed document; None when no database exists yet."""
        raw = self.read_bytes()
        return None if raw is None else self.parse(raw)

    def read_bytes(self) -> bytes | None:
        """The file's bytes (None when missing), for callers with a faster parser."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(
                f"cannot read the database at {self.path}: {_describe(exc)}; "
                f"nothing was changed. Check that the path is a readable file."
            ) from exc
        if not raw.strip():
            raise StoreError(
                f"the database file {self.path} is empty, which a complete write never "
                f"produces. {_recovery_hint(self.path)}"
            )
        return raw

    def parse(self, raw: bytes) -> dict[str, Any]:
        """Decode the file's bytes, refusing anything that is not a JSON object."""
        try:
            # pydantic-core's parser: about 1.5x faster than `json` on a large file, and it
            # shares repeated short strings (tags, authors), which halves the parsed size.
            document = from_json(raw, cache_strings="all")
        except ValueError as exc:
            raise StoreError(
                f"the database file {self.path} is not valid JSON ({exc}). "
                f"{_recovery_hint(self.path)}"
            ) from exc
        if not isinstance(document, dict):
            raise StoreError(
                f"the database file {self.path} holds a JSON {type(document).__name__}, "
                f"not the object an Open Model Radar database is made of. "
                f"{_recovery_hint(self.path)}"
            )
        return document

    # -- writing -----------------------------------------------------------------------

    def write(self, data: dict[str, Any]) -> None:
        """Replace the file with `data` in one atomic step, or raise and change nothing."""
        temp_name: str | None = None
        try:
            self._keep_first_backup()
            fd, temp_name = self._open_temp()
            with os.fdopen(fd, "wb", buffering=1 << 20) as handle:
                self._write_chunks(handle, json_chunks(data))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, self.path)
            temp_name = None
        except OSError as exc:
            raise StoreError(
                f"cannot write the database at {self.path}: {_describe(exc)}; nothing was "
                f"changed (the previous file is intact). Free some disk space or make "
                f"{self.path.parent} writable; unsaved changes are kept in memory and "
                f"written by the next successful commit."
            ) from exc
        finally:
            if temp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
        self.writes += 1
        self._sync_directory()

    def close(self) -> None:
        """Nothing stays open between writes."""

    # -- the individual steps (separate so tests can fail one of them) -----------------

    def _open_temp(self) -> tuple[int, str]:
        """A new file next to the target: the rename must not cross filesystems."""
        return tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=TEMP_SUFFIX
        )

    def _write_chunks(self, handle: IO[bytes], chunks: Iterable[bytes]) -> None:
        handle.writelines(chunks)

    def _keep_first_backup(self) -> None:
        if self._backed_up:
            return
        if self.path.exists():
            try:
                keep_copy(self.path, backup_path(self.path))
            except OSError as exc:
                # Only insurance: a failure here must not stop the bot from saving.
                log.warning("could not keep a backup of %s: %s", self.path, _describe(exc))
        self._backed_up = True

    def _sync_directory(self) -> None:
        """Make the rename durable; after it succeeded, failing here is only a warning."""
        try:
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError as exc:
            log.warning("could not open %s to fsync it: %s", self.path.parent, _describe(exc))
            return
        try:
            os.fsync(dir_fd)
        except OSError as exc:
            log.warning("could not fsync %s: %s", self.path.parent, _describe(exc))
        finally:
            os.close(dir_fd)

    def _remove_stale_temp_files(self) -> None:
        """Temp files left by a process killed mid-write are garbage; tidy them up."""
        if not self.path.parent.is_dir():
            return
        pattern = f".{self.path.name}.*{TEMP_SUFFIX}"
        for stale in self.path.parent.glob(pattern):
            with contextlib.suppress(OSError):
                stale.unlink()
                log.info("removed %s left over from an interrupted write", stale)
