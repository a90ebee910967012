"""Schema versions of the database file and the steps between them.

The file is a TinyDB document: `{table name: {doc id: document}}`. Its schema version
lives in the `_meta` table as `{"schema_version": N}`. Each migration takes the raw
document of version N and returns the document of version N + 1; they run in memory on
open, so the user's file is only replaced (after a backup) on the next commit.

Version history:

- 0: the prototype layout, before the file carried a version (no `_meta` table). A
  release's `members` was one comma-separated string, and a mute named its lab `org`.
- 1: `members` is a list of repo ids, mutes use `lab` (lower-cased), `_meta` exists.

To change the schema: bump `SCHEMA_VERSION` below, add a function here
for the previous version, and add a test that opens a file of the previous version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from bot.radar.ports import COLLECTIONS, StoreError

SCHEMA_VERSION = 1

Document = dict[str, Any]
Migration = Callable[[Document], Document]

META_TABLE = "_meta"
QUARANTINE_TABLE = "_quarantine"
META_DOC_ID = "1"

# Table names a version-0 file may contain; anything else means it is not our database.
_VERSION_0_TABLES = frozenset(COLLECTIONS) | {"_default"}


def _documents(document: Document, table: str) -> Iterator[dict[str, Any]]:
    """The dict documents of one table; malformed ones are left for quarantine to report."""
    rows = document.get(table)
    if not isinstance(rows, dict):
        return
    for row in rows.values():
        if isinstance(row, dict):
            yield row


def _v0_to_v1(document: Document) -> Document:
    for release in _documents(document, "releases"):
        members = release.get("members")
        if isinstance(members, str):
            release["members"] = [part.strip() for part in members.split(",") if part.strip()]
    for mute in _documents(document, "mutes"):
        if "lab" not in mute and isinstance(mute.get("org"), str):
            mute["lab"] = mute.pop("org").lower()
    return document


MIGRATIONS: dict[int, Migration] = {
    0: _v0_to_v1,
}


def schema_version_of(document: Document, path: object) -> int:
    """The version recorded in the file; 0 for the unversioned prototype layout."""
    meta = document.get(META_TABLE)
    if meta is None:
        unknown = sorted(set(document) - _VERSION_0_TABLES)
        if unknown:
            raise StoreError(
                f"the file {path} does not look like an Open Model Radar database (it has "
                f"no schema version and unknown keys {', '.join(map(repr, unknown[:5]))}); "
                f"it was left untouched. Point RADAR_DB_PATH at another file or move this "
                f"one aside."
            )
        return 0
    versions = (
        [row.get("schema_version") for row in meta.values() if isinstance(row, dict)]
        if isinstance(meta, dict)
        else []
    )
    version = versions[0] if versions else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise StoreError(
            f"the database file {path} has an unreadable schema version ({version!r}); it "
            f"was left untouched. Restore a backup or move the file aside."
        )
    return version


def set_schema_version(document: Document, version: int) -> None:
    document[META_TABLE] = {META_DOC_ID: {"schema_version": version}}


def migrate(document: Document, from_version: int, path: object) -> Document:
    """Bring a raw document from `from_version` up to `SCHEMA_VERSION`, in memory."""
    if from_version > SCHEMA_VERSION:
        raise StoreError(
            f"the database at {path} has schema version {from_version}: it was written by "
            f"a newer Open Model Radar (this one understands up to version "
            f"{SCHEMA_VERSION}). Upgrade the bot; the file was left untouched."
        )
    for version in range(from_version, SCHEMA_VERSION):
        step = MIGRATIONS.get(version)
        if step is None:  # pragma: no cover - guarded by a test of the registry
            raise StoreError(f"no migration from schema version {version}; cannot open {path}")
        document = step(document)
        set_schema_version(document, version + 1)
    return document
