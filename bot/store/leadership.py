"""Which `radar serve` replica runs the jobs (poll, delivery, digests).

Every replica answers Slack; only the leader polls the Hub and posts, or two replicas would
announce the same release twice. With TinyDB one process owns the file, so it always leads
(`SoleLeader`). On PostgreSQL the leader is whoever holds a session-level advisory lock
(`AdvisoryLeader`): PostgreSQL releases it the moment the holder's connection ends, so a
replica killed with `kill -9` (its socket closed by the kernel) frees it at once, and the
next replica to ask (every `CHECK_SECONDS`) takes over. A leader that loses its connection
stops leading at its next check; its lock went with the connection.

The lock key is derived from the database and schema, so separate installations (or test
schemas) on one server never elect each other's leaders.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0  # a follower asks this often; takeover is within one check of a death
LOCK_NAME = "open-model-radar-leader"


class Leadership(Protocol):
    # True when several replicas share the database, so another one may have led (and
    # written) before this one: jobs then reload what they keep in memory.
    shared: bool

    def is_leader(self) -> bool: ...
    def check(self) -> bool: ...
    def close(self) -> None: ...


class SoleLeader:
    """One process owns the database: it always leads."""

    shared = False

    def is_leader(self) -> bool:
        return True

    def check(self) -> bool:
        return True

    def close(self) -> None:
        return None


class AdvisoryLeader:
    """Leadership held as a PostgreSQL advisory lock on a connection of its own."""

    shared = True

    def __init__(self, url: str, *, on_gain: Callable[[], None] | None = None) -> None:
        self.url = url
        self.on_gain = on_gain
        self._conn: Any = None
        self._leader = False
        self._lock = threading.Lock()

    def is_leader(self) -> bool:
        return self._leader

    def check(self) -> bool:
        """Try to become (or make sure this replica still is) the leader; returns which."""
        gained = False
        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._connect()
                if self._leader:
                    self._conn.execute("SELECT 1")  # the lock lives as long as this session
                else:
                    row = self._conn.execute(
                        "SELECT pg_try_advisory_lock(hashtext(current_database() || '.' || "
                        "current_schema() || %s))",
                        (LOCK_NAME,),
                    ).fetchone()
                    if row and row[0]:
                        self._leader = gained = True
                        log.info("this replica now leads: it runs the poll, delivery and digests")
            except Exception as exc:
                if self._leader:
                    log.warning("lost leadership (database connection: %s)", _first_line(exc))
                self._leader = False
                self._drop()
        if gained and self.on_gain is not None:
            self.on_gain()
        return self._leader

    def close(self) -> None:
        with self._lock:
            self._leader = False
            self._drop()

    def _connect(self) -> None:
        import psycopg

        self._conn = psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=10,
            # A leader cut off from the server must notice; the server must notice it too.
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=2,
        )

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._conn.close()
        self._conn = None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
