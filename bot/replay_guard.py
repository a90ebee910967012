"""Seen before? A bounded, thread-safe memory of keys, each kept until its window ends.

Two front doors refuse a second copy of a request: the Slack door a signature already
accepted (`bot.slack.server`), the Hub webhook door a payload already queued
(`bot.webhooks.receiver`). `ReplayGuard.claim` checks and records in one step, so of ten
identical requests arriving together exactly one is let through; past `max_entries` it
forgets the key whose window ends soonest, so a flood cannot grow it without bound.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable

MAX_REMEMBERED = 100_000


class ReplayGuard:
    """Each key is accepted once, until `timestamp + window` has passed on `clock`.

    A key is remembered until its timestamp's window ends, not for `window` after it
    arrived: a Slack request stamped 4 minutes ahead would otherwise be accepted again.
    """

    def __init__(
        self,
        window: float,
        clock: Callable[[], float] = time.time,
        max_entries: int = MAX_REMEMBERED,
    ) -> None:
        self.window = window
        self.clock = clock
        self.max_entries = max_entries
        self._expiry: dict[str, float] = {}
        self._queue: list[tuple[float, str]] = []  # (expiry, key), soonest first
        self._lock = threading.Lock()

    def claim(self, key: str, timestamp: float) -> bool:
        """True the first time `key` is presented within its window, else False."""
        with self._lock:
            self._expire(self.clock())
            if key in self._expiry:
                return False
            if len(self._expiry) >= self.max_entries:
                # Full of live keys (a flood of genuine requests): forget the one closest
                # to the end of its window, the least useful to replay.
                _, oldest = heapq.heappop(self._queue)
                self._expiry.pop(oldest, None)
            expires = float(timestamp) + self.window
            self._expiry[key] = expires
            heapq.heappush(self._queue, (expires, key))
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def _expire(self, now: float) -> None:
        while self._queue and self._queue[0][0] < now:
            _, key = heapq.heappop(self._queue)
            self._expiry.pop(key, None)
