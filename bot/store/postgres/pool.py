"""PostgreSQL connections for the store: a small thread-safe pool, and errors worded for people.

psycopg is imported only when a pool is made, so importing this package costs nothing for a
TinyDB installation.
"""

from __future__ import annotations

import threading
from typing import Any

from bot.radar.ports import StoreError


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise StoreError(
            "DATABASE_URL names PostgreSQL but the psycopg driver is not installed "
            "(pip install 'psycopg[binary]')"
        ) from exc
    return psycopg


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, credentials = head.partition("//")
    user = credentials.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"


def store_error(exc: Exception, doing: str) -> StoreError:
    """A driver error as one sentence: what failed and, for a commit, what became of it."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if doing == "commit":
        return StoreError(
            f"could not save to PostgreSQL ({text}); nothing of this change was kept and it "
            "is retried with the next save"
        )
    return StoreError(f"PostgreSQL {doing} failed: {text}")


class Pool:
    """A few autocommit connections handed to one thread at a time.

    Reads come from many threads (answer pools, delivery workers, the scheduler); each
    borrows a connection for one statement. psycopg_pool would do the same with more
    machinery (background growers, health checks) than a bot with a handful of threads needs.
    """

    def __init__(self, url: str, size: int = 8) -> None:
        self.url = url
        self.size = size
        self._idle: list[Any] = []
        self._open = 0
        self._cond = threading.Condition()
        self._psycopg = _import_psycopg()
        self.closed = False

    def connect(self, *, autocommit: bool = True) -> Any:
        try:
            return self._psycopg.connect(self.url, autocommit=autocommit, connect_timeout=10)
        except self._psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to the PostgreSQL database {redact(self.url)}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc}; check "
                "DATABASE_URL and that the server is running"
            ) from None

    def take(self) -> Any:
        with self._cond:
            while True:
                if self.closed:
                    raise StoreError("the PostgreSQL store is closed")
                while self._idle:
                    conn = self._idle.pop()
                    if not conn.closed:
                        return conn
                    self._open -= 1
                if self._open < self.size:
                    self._open += 1
                    break
                self._cond.wait()
        try:
            return self.connect()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def give(self, conn: Any) -> None:
        with self._cond:
            if self.closed or conn.closed or conn.info.transaction_status != 0:
                self._open -= 1
                conn.close()
            else:
                self._idle.append(conn)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            for conn in self._idle:
                conn.close()
            self._idle.clear()
            self._cond.notify_all()
