"""Pacing Slack calls: one message a second per channel, and Retry-After per method.

Also the scheduler that runs many channels' posts on a few worker threads without sleeping.

Slack asks for at most one message a second in a channel, and a 429 answers for a method
across the whole workspace. `Pacer` keeps both clocks, per workspace (its key, "" in
single-workspace mode): a 429 in one workspace never slows another's posts, and one
channel id in two workspaces (Slack Connect) is paced as two channels. `run_paced` runs
each channel's steps (a generator that yields the monotonic time it may go on at) so that a
worker whose channel must wait serves another channel meanwhile.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

log = logging.getLogger(__name__)


class MethodPaused(Exception):
    """The method waits out a Retry-After longer than the caller will wait inline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"paused for {seconds:.1f} s")
        self.seconds = seconds


class Pacer:
    """When a Web API call may go out: after the channel's interval and any method pause.

    The interval counts from when the previous call to the channel came back, not from
    when it started: however slow a request or a store commit between two posts was,
    Slack sees them at least one interval apart. A failed call counts too, so a retry is
    paced like any other post. A pause is kept on `clock` (injectable), so a pause longer
    than a drain outlives it and a fake clock can move past it.
    """

    def __init__(self, *, interval: float = 1.0, clock: Callable[[], datetime]) -> None:
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._last_call: dict[tuple[str, str], float] = {}  # (workspace, channel)
        self._paused_until: dict[tuple[str, str], datetime] = {}  # (workspace, method)

    def turn(
        self, method: str, channel: str, *, max_wait: float, team: str = ""
    ) -> Generator[float, None, None]:
        """Yield the monotonic times to wait for until a call of `method` to `channel` (of
        workspace `team`) may start; raise `MethodPaused` when the method's pause in that
        workspace is longer than `max_wait`.

        After a pause, look again: another channel may have met a 429 meanwhile. A wait
        already waited out is not waited again, even when an injected clock stands still
        (tests), and neither is the channel's interval (an injected sleep is instant).
        """
        waited: datetime | None = None
        paced = False
        while True:
            until, paused_for = self.pause(method, team)
            if until == waited:
                paused_for = 0.0
            if paused_for > max_wait:
                raise MethodPaused(paused_for)
            resume = time.monotonic() + paused_for if paused_for > 0 else 0.0
            with self._lock:
                last = self._last_call.get((team, channel))
            if last is not None and not paced:
                resume = max(resume, last + self.interval)
            if resume <= time.monotonic():
                return
            if paused_for > 0:
                waited = until
            paced = True
            yield resume

    def called(self, channel: str, team: str = "") -> None:
        """A call to `channel` came back (accepted or not): its interval starts now."""
        with self._lock:
            self._last_call[(team, channel)] = time.monotonic()

    def pause_method(self, method: str, seconds: float, team: str = "") -> None:
        """After a 429: no call of `method`, to any channel of workspace `team`, for
        `seconds` (Slack's limits are per workspace: other workspaces go on)."""
        until = self.clock() + timedelta(seconds=seconds)
        with self._lock:
            current = self._paused_until.get((team, method))
            if current is None or current < until:
                self._paused_until[(team, method)] = until
        log.info(
            "Slack rate-limited %s%s: pausing it for %.1f s for every channel",
            method,
            f" in workspace {team}" if team else "",
            seconds,
        )

    def pause(self, method: str, team: str = "") -> tuple[datetime | None, float]:
        """When the method's current pause (in workspace `team`) ends, and how many seconds
        are left of it."""
        with self._lock:
            until = self._paused_until.get((team, method))
        if until is None:
            return None, 0.0
        return until, max(0.0, (until - self.clock()).total_seconds())


def run_paced(
    channels: list[Iterator[float]],
    *,
    workers: int,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run every channel's steps on `workers` threads, each channel's in order.

    A step ends where the channel must wait: it yields the monotonic time it may go on
    at, and the worker takes another channel meanwhile instead of sleeping through the
    wait. A channel is on one worker at a time. With an injected `sleep` (tests), waits go
    through it and take no real time. The first error any channel raised is raised once
    every channel is done.
    """
    if not channels:
        return
    ready: list[tuple[float, int, Iterator[float]]] = [
        (0.0, order, steps) for order, steps in enumerate(channels)
    ]
    heapq.heapify(ready)
    order = itertools.count(len(ready))
    turn = threading.Condition()
    running = 0
    errors: list[BaseException] = []
    real_time = sleep is time.sleep

    def take() -> tuple[Iterator[float] | None, float]:
        nonlocal running
        with turn:
            while True:
                if ready:
                    wait = ready[0][0] - time.monotonic()
                    if wait <= 0 or not real_time:
                        running += 1
                        return heapq.heappop(ready)[2], max(0.0, wait)
                    turn.wait(wait)
                elif running == 0:
                    return None, 0.0
                else:
                    turn.wait()

    def work() -> None:
        nonlocal running
        while True:
            steps, wait = take()
            if steps is None:
                return
            resume: float | None = None
            try:
                if wait > 0:
                    sleep(wait)
                resume = next(steps)
            except StopIteration:
                pass
            except BaseException as exc:  # raised once every channel is done
                errors.append(exc)
            with turn:
                running -= 1
                if resume is not None:
                    heapq.heappush(ready, (resume, next(order), steps))
                turn.notify_all()

    count = min(workers, len(channels))
    with ThreadPoolExecutor(max_workers=count) as pool:
        for future in [pool.submit(work) for _ in range(count)]:
            future.result()
    if errors:
        raise errors[0]
