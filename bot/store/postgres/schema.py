"""The PostgreSQL schema: one generic table per collection, its guards, and numbered upgrades.

Layout, generic on purpose so that a new `Record` kind added to `COLLECTIONS` needs no SQL:
every collection is a table `radar_<name>(key text primary key, doc jsonb, rev bigint)`,
created at open when missing. `doc` is the record's JSON as pydantic writes it, `rev` a
database-wide sequence number bumped by each write (a cheap "did anything change" probe).
Fields that hot paths filter on have expression indexes (`INDEXED`), used by `find()`.

Exactly-once, enforced by the database and not only by the process: a delivery row is keyed
by (channel, release), and an upsert can never take the Slack `ts` away from a row that has
one (`GUARDS`): a stale or confused writer cannot turn an announced alert back into one that
would be posted again. Schema changes are numbered steps in `PG_MIGRATIONS`, applied at open
(and by `radar db upgrade`) under an advisory lock, so replicas starting together apply
each step once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.radar.ports import COLLECTIONS, StoreError
from bot.store.migrations import SCHEMA_VERSION
from bot.store.postgres.pool import Pool, redact, store_error

log = logging.getLogger(__name__)

TABLE_PREFIX = "radar_"
# Fields that queries filter on, per collection: expression indexes on `doc->>field`.
INDEXED: dict[str, tuple[str, ...]] = {
    "releases": ("lab",),
    "subscriptions": ("channel_id", "team_id"),
    "mutes": ("channel_id", "team_id"),
    "digests": ("team_id",),
    "deliveries": ("status", "release_id", "team_id"),
    "models": ("release_id",),
    "slack_installs": ("team_id",),
}
# Conditions an update must meet (`existing` is the stored row, `EXCLUDED` the new one).
GUARDS: dict[str, str] = {
    # A row that records a posted Slack message never loses it: it would be posted again.
    "deliveries": "(existing.doc->>'ts') IS NULL OR (EXCLUDED.doc->>'ts') IS NOT NULL",
}
MIGRATION_LOCK = 0x7261646172  # "radar": serialises schema steps between replicas


def _meta_sql() -> list[str]:
    return [
        "CREATE SEQUENCE IF NOT EXISTS radar_rev",
        "CREATE TABLE IF NOT EXISTS radar_meta (name text PRIMARY KEY, value jsonb NOT NULL)",
    ]


def collection_sql(name: str) -> list[str]:
    """DDL for one collection's table and its indexes (idempotent)."""
    table = TABLE_PREFIX + name
    statements = [
        f"CREATE TABLE IF NOT EXISTS {table} (key text PRIMARY KEY, doc jsonb NOT NULL, "
        f"rev bigint NOT NULL DEFAULT nextval('radar_rev'))",
        f"CREATE INDEX IF NOT EXISTS {table}_rev ON {table} (rev)",
    ]
    for field in INDEXED.get(name, ()):
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {table}_{field} ON {table} ((doc->>'{field}'))"
        )
    return statements


# Numbered schema steps. Step N brings the database from version N-1 to N. Never edit a
# step that has shipped: add the next one. A collection added to `COLLECTIONS` later needs
# no step (its table is created at open), only fields it wants indexed do.
PG_MIGRATIONS: dict[int, list[str]] = {
    1: [
        *_meta_sql(),
        *(statement for name in COLLECTIONS for statement in collection_sql(name)),
    ],
    2: [
        # One Slack message is one delivery row: two rows can never claim the same post.
        "CREATE UNIQUE INDEX IF NOT EXISTS radar_deliveries_message ON radar_deliveries "
        "((doc->>'channel_id'), (doc->>'ts')) WHERE doc->>'ts' IS NOT NULL",
    ],
    3: [
        # Many workspaces: forgetting one finds its channel settings and outbox rows.
        f"CREATE INDEX IF NOT EXISTS radar_{name}_team_id ON radar_{name} ((doc->>'team_id'))"
        for name in ("subscriptions", "mutes", "digests", "deliveries")
    ],
    # OAuth mode: installations (found by team id) and the states of installs under way.
    4: [*collection_sql("slack_installs"), *collection_sql("oauth_states")],
}
PG_SCHEMA_VERSION = max(PG_MIGRATIONS)


def ensure_schema(pool: Pool, *, upgrade: bool = True) -> int:
    """Apply the schema steps this database lacks (under an advisory lock); its version.

    With `upgrade=False` a database behind the code is refused instead of changed. A
    database ahead of the code (written by a newer bot) is always refused.
    """
    conn = pool.connect(autocommit=True)
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            version = _schema_version(conn)
            if version > PG_SCHEMA_VERSION:
                raise StoreError(
                    f"the PostgreSQL database {redact(pool.url)} has schema version {version}: "
                    f"it was written by a newer Open Model Radar (this one understands up to "
                    f"{PG_SCHEMA_VERSION}). Upgrade the bot; nothing was changed."
                )
            documents = _documents_version(conn)
            if documents is not None and documents > SCHEMA_VERSION:
                raise StoreError(
                    f"the PostgreSQL database {redact(pool.url)} holds records of schema "
                    f"version {documents}, newer than this bot's {SCHEMA_VERSION}. Upgrade the "
                    "bot; nothing was changed."
                )
            if version < PG_SCHEMA_VERSION and not upgrade:
                raise StoreError(
                    f"the PostgreSQL database {redact(pool.url)} has schema version {version}, "
                    f"older than this bot's {PG_SCHEMA_VERSION}: run `radar db upgrade`"
                )
            for step in range(version + 1, PG_SCHEMA_VERSION + 1):
                with conn.transaction():
                    for statement in PG_MIGRATIONS[step]:
                        conn.execute(statement)
                    _set_meta(conn, "schema_version", step)
                    if documents is None:
                        _set_meta(conn, "document_version", SCHEMA_VERSION)
                        documents = SCHEMA_VERSION
                log.info("PostgreSQL schema upgraded to version %d", step)
            # New collections (a Record kind added since) get their table, generically.
            with conn.transaction():
                for name in COLLECTIONS:
                    for statement in collection_sql(name):
                        conn.execute(statement)
            return PG_SCHEMA_VERSION
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    except StoreError:
        raise
    except Exception as exc:
        raise store_error(exc, "schema upgrade") from None
    finally:
        conn.close()


def _schema_version(conn: Any) -> int:
    exists = conn.execute("SELECT to_regclass('radar_meta') IS NOT NULL").fetchone()[0]
    if not exists:
        return 0
    row = conn.execute("SELECT value FROM radar_meta WHERE name = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _documents_version(conn: Any) -> int | None:
    exists = conn.execute("SELECT to_regclass('radar_meta') IS NOT NULL").fetchone()[0]
    if not exists:
        return None
    row = conn.execute("SELECT value FROM radar_meta WHERE name = 'document_version'").fetchone()
    return int(row[0]) if row else None


def _set_meta(conn: Any, name: str, value: object) -> None:
    conn.execute(
        "INSERT INTO radar_meta (name, value) VALUES (%s, %s::jsonb) "
        "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        (name, json.dumps(value)),
    )
