"""The PostgreSQL backend: the same `Store` surface, one table per collection, real transactions.

Why it exists: the TinyDB file is loaded whole (605 MB at 100,000 models) and rewritten whole
on every commit, and only one process may own it. Here nothing is loaded up front: a read is
a query by primary key (or by an indexed field), and `commit()` writes only the records
changed since the last commit, in one transaction, so several `radar serve` replicas can
share the database (see `bot.store.leadership` for which one runs the jobs).

Semantics are those of `MemoryStore`, which every caller was written against: a `put` or
`delete` is seen at once by every thread of this process (it waits in a per-collection change
set, read before the database) and becomes durable, all together, at the next `commit()`.

Read it in this order:
- `pool`: connections (a small pool), `redact` for URLs in messages, driver errors worded;
- `schema`: the generic table layout, the delivery guard, `PG_MIGRATIONS` and `ensure_schema`;
- `collection`: one collection, its pending changes and its read caches;
- `store`: `PostgresStore`, the one-transaction `commit()`, `bulk_load` and `open_postgres`.
"""

from bot.store.postgres.collection import PostgresCollection
from bot.store.postgres.pool import redact
from bot.store.postgres.schema import PG_MIGRATIONS, PG_SCHEMA_VERSION, ensure_schema
from bot.store.postgres.store import PostgresStore, open_postgres

__all__ = [
    "PG_MIGRATIONS",
    "PG_SCHEMA_VERSION",
    "PostgresCollection",
    "PostgresStore",
    "ensure_schema",
    "open_postgres",
    "redact",
]
