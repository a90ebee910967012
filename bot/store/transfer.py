"""`radar db migrate`: move an installation from its TinyDB file into PostgreSQL.

Every collection is copied record by record (subscriptions, mutes, digest schedules,
releases, models, delivery rows with their Slack `ts`, state such as the poll horizon and
snapshots), in one transaction per collection, then counted again on the target. A target
that already holds any record is refused: merging two installations could post an alert
twice or forget a mute. The source file is only read.
"""

from __future__ import annotations

from pathlib import Path

from bot.radar.ports import COLLECTIONS, StoreError
from bot.store.postgres import PostgresStore, open_postgres, redact
from bot.store.tinydb_store import TinyDBStore


def migrate_tinydb_to_postgres(source: Path, url: str) -> dict[str, int]:
    """Copy every record of the file at `source` into the (empty) database at `url`.

    Returns the number of records per collection. Raises `StoreError` with a sentence when
    the file is missing or unreadable, the target is not empty, or the counts disagree.
    """
    source = Path(source)
    if not source.is_file():
        raise StoreError(f"no database file at {source}; give the RADAR_DB_PATH of the bot")
    target = open_postgres(url)
    try:
        if not target.is_empty():
            raise StoreError(
                f"the PostgreSQL database {redact(url)} already holds Open Model Radar data; "
                "refusing to mix two installations. Point --to at an empty database."
            )
        # Read only: the file is loaded (and upgraded in memory if older) but never saved.
        tiny = TinyDBStore(source)
        quarantined = len(tiny.quarantine())
        counts = {
            name: target.bulk_load(name, getattr(tiny, name).values()) for name in COLLECTIONS
        }
        _verify(target, counts)
        if quarantined:
            counts["quarantined (not moved)"] = quarantined
        return counts
    finally:
        target.close()


def _verify(target: PostgresStore, counts: dict[str, int]) -> None:
    for name, expected in counts.items():
        found = len(target.collections()[name])
        if found != expected:
            raise StoreError(
                f"after copying, {name} holds {found} records in PostgreSQL instead of "
                f"{expected}; the source file was not changed"
            )
