"""A PostgreSQL database for tests: one fresh schema per test on a server named by the
environment, or a skip that says how to get one.

`RADAR_TEST_DATABASE_URL` names a server the tests may create schemas on (`.ci/run` starts a
throwaway cluster and sets it). Each test gets its own schema (`search_path` in the URL), so
parallel workers never see each other's rows, and the leader lock, keyed by database and
schema, never crosses tests. Without the variable, or with a server that does not answer,
the PostgreSQL tests are skipped with that reason: a machine without PostgreSQL is not a
failure.

`RADAR_TEST_BACKEND=postgres` runs the backend-neutral suites (the in-process harness, the
`serve` child processes) on PostgreSQL as well; `.ci/run` does that in its second pass.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

ENV_URL = "RADAR_TEST_DATABASE_URL"
ENV_BACKEND = "RADAR_TEST_BACKEND"

_unavailable: str | None = None
_checked = False


def server_url() -> str | None:
    return os.environ.get(ENV_URL) or None


def suite_on_postgres() -> bool:
    return os.environ.get(ENV_BACKEND, "").lower() == "postgres"


def unavailable_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when a server answers."""
    global _unavailable, _checked
    if _checked:
        return _unavailable
    _checked = True
    url = server_url()
    if url is None:
        _unavailable = (
            f"PostgreSQL not available: set {ENV_URL}=postgresql://user@host/db "
            "(.ci/run starts a throwaway server and sets it)"
        )
        return _unavailable
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _unavailable = f"PostgreSQL at {ENV_URL} does not answer: {first}"
    return _unavailable


def require_postgres() -> str:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    url = server_url()
    assert url is not None
    return url


def with_schema(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL whose tables live in a new, empty schema; dropped afterwards."""
    import psycopg

    url = require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def reopen(db_path: object) -> object:
    """Open the database a test's bot used: the file, or the suite's PostgreSQL schema."""
    from pathlib import Path

    from bot.store import open_database

    return open_database(Path(str(db_path)), os.environ.get("DATABASE_URL") or None)
