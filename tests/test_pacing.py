"""Pacing rules on their own: a channel's interval, a method's pause for every channel, and
the scheduler that keeps workers busy while channels wait."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.slack.pacing import MethodPaused, Pacer, run_paced
from tests.harness import FakeClock


def waits(pacer: Pacer, method: str, channel: str, max_wait: float = 5.0) -> list[float]:
    """How far ahead of now each wait of a call's turn ends (seconds)."""
    now = time.monotonic()
    return [round(resume - now, 1) for resume in pacer.turn(method, channel, max_wait=max_wait)]


def test_a_channel_waits_its_interval_and_other_channels_do_not() -> None:
    pacer = Pacer(interval=0.5, clock=FakeClock())
    assert waits(pacer, "chat_postMessage", "C1") == []
    pacer.called("C1")
    assert waits(pacer, "chat_postMessage", "C1") == [0.5]
    assert waits(pacer, "chat_postMessage", "C2") == []


def test_a_429_pauses_the_method_for_every_channel_and_only_that_method() -> None:
    clock = FakeClock()
    pacer = Pacer(interval=0.0, clock=clock)
    pacer.pause_method("chat_postMessage", 3)
    assert waits(pacer, "chat_postMessage", "C1") == [3.0]
    assert waits(pacer, "chat_postMessage", "C2") == [3.0]
    assert waits(pacer, "chat_update", "C1") == []
    with pytest.raises(MethodPaused) as paused:
        waits(pacer, "chat_postMessage", "C3", max_wait=2.0)
    assert paused.value.seconds == 3.0
    clock.advance(seconds=3)
    assert waits(pacer, "chat_postMessage", "C1") == []


def test_the_scheduler_runs_every_channels_steps_in_order_on_few_workers() -> None:
    seen: list[tuple[str, int]] = []

    def channel(name: str) -> Iterator[float]:
        for step in range(3):
            seen.append((name, step))
            yield time.monotonic() + 0.05

    run_paced([channel("a"), channel("b"), channel("c")], workers=1)
    for name in "abc":
        assert [step for who, step in seen if who == name] == [0, 1, 2]
    # One worker interleaves channels instead of sleeping through each one's waits.
    assert seen[:3] == [("a", 0), ("b", 0), ("c", 0)]


def test_the_scheduler_raises_a_channels_error_after_the_others_finish() -> None:
    done: list[str] = []

    def broken() -> Iterator[float]:
        raise RuntimeError("boom")
        yield 0.0  # pragma: no cover

    def fine() -> Iterator[float]:
        done.append("fine")
        yield 0.0

    with pytest.raises(RuntimeError, match="boom"):
        run_paced([broken(), fine()], workers=2)
    assert done == ["fine"]
