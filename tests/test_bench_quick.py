"""Every benchmark still runs: each is started once in quick mode, as CI does, and must
print exactly one JSON line with its figures and targets.

Nothing is timed here (quick sizes measure nothing worth comparing); what is checked is
that each benchmark drove the real bot end to end and reported what it measured. The five
run side by side, so the whole file takes about as long as the slowest one.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = (
    "ack_latency",
    "poll_cycle",
    "store_scale",
    "fanout",
    "fanout_workspaces",
    "detection_latency",
    "hub_budget",
)
TOP_LEVEL_KEYS = {"bench", "quick", "figures", "targets", "machine"}


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess[str]]:
    """Start all quick runs at once (via BENCH_QUICK=1, CI's switch), then collect."""
    env = {**os.environ, "BENCH_QUICK": "1"}
    started = {
        name: subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / f"{name}.py")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in BENCHMARKS
    }
    finished = {}
    for name, process in started.items():
        try:
            stdout, stderr = process.communicate(timeout=100)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        finished[name] = subprocess.CompletedProcess(
            process.args, process.returncode, stdout, stderr
        )
    return finished


def report_of(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert len(lines) == 1, f"expected one JSON line on stdout, got {len(lines)}: {run.stdout!r}"
    return json.loads(lines[0])


@pytest.mark.parametrize("name", BENCHMARKS)
def test_prints_one_json_line_with_figures_targets_and_a_summary(
    runs: dict[str, subprocess.CompletedProcess[str]], name: str
) -> None:
    report = report_of(runs[name])
    assert set(report) >= TOP_LEVEL_KEYS
    assert report["bench"] == name
    assert report["quick"] is True
    assert report["figures"]
    assert report["targets"]
    for target in report["targets"].values():
        assert {"value", "limit", "op", "met"} <= set(target)
        assert isinstance(target["met"], bool)
    assert report["machine"]["nproc"] >= 1 and report["machine"]["python"]
    assert f"{name} (quick mode" in runs[name].stderr


def test_ack_latency_timed_every_request_and_every_answer(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    figures = report_of(runs["ack_latency"])["figures"]
    assert figures["requests"] == 60
    assert figures["ack_bot"]["n"] == 60 and figures["ack_baseline"]["n"] == 60
    assert figures["errors"]["http"] == 0 and figures["errors"]["missing_answers"] == 0
    answered = sum(kind["n"] for kind in figures["answer_under_load_by_kind"].values())
    assert answered == 60


def test_poll_cycle_counted_requests_writes_and_the_release(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    figures = report_of(runs["poll_cycle"])["figures"]
    rotation = figures["rotation"]
    # Every lab's newest repos and trending, plus the rotation's share of full listings.
    share, listed = rotation["full_listings_per_cycle"], rotation["namespaces"]
    assert listed + 1 <= figures["steady"]["requests"] <= listed + 1 + share
    assert rotation["cycles"] >= 1 and len(rotation["requests_each"]) == rotation["cycles"]
    assert 0 < rotation["share_of_anonymous_budget"] <= 1
    assert figures["steady"]["writes"] == 1 and figures["steady"]["events"] == 0
    (events,) = figures["burst"]["events"]
    assert [event["kind"] for event in events] == ["new_release"]
    assert figures["burst"]["detail_calls_outside_family"] == [0]


def test_store_scale_measured_a_fresh_process_per_size(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    figures = report_of(runs["store_scale"])["figures"]
    assert [int(size) for size in figures["curve"]] == figures["sizes"]
    for size, point in figures["curve"].items():
        assert point["models_loaded"] >= int(size)
        assert point["peak_rss_mb"] > 0 and point["cold_start_s"] > 0
    assert set(figures["growth_exponent"]) >= {"cold_start_s", "fuzzy_lookup_p50_ms"}


def test_fanout_reached_every_channel_once(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    report = report_of(runs["fanout"])
    figures = report["figures"]
    assert figures["announce"]["posted"] == [figures["channels"]]
    assert figures["release_grows"]["updated"] == [figures["channels"]]
    assert report["targets"]["channels_without_exactly_one_alert"]["value"] == 0
    assert figures["slack_violations"] == []


def test_fanout_to_many_workspaces_reached_each_through_its_own_token(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    report = report_of(runs["fanout_workspaces"])
    figures = report["figures"]
    assert figures["announce"]["posted"] == figures["rows"] > figures["workspaces"]
    assert figures["release_grows"]["updated"] == figures["rows"]
    assert report["targets"]["channels_without_one_alert_and_one_reply"]["value"] == 0
    assert figures["slack_violations"] == []  # a wrong workspace's token would be one


def test_hub_budget_counted_every_part_of_a_day_of_polls(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    figures = report_of(runs["hub_budget"])["figures"]
    per_day = figures["requests_per_day"]
    # every cycle: each listed namespace's newest repos and the trending list; on top, the
    # rotating full listing covers every namespace once a rotation (one page each here)
    every_cycle = figures["cycles"] * (figures["listed_namespaces"] + 1)
    rotation = math.ceil(figures["listed_namespaces"] / figures["full_listing_rotation_cycles"])
    assert every_cycle < per_day["poll"] <= every_cycle + figures["cycles"] * rotation
    assert per_day["refresh"] == figures["listed_namespaces"]  # once, in the first cycle of the day
    assert per_day["snapshot"] >= figures["labs"]  # a listing a lab, at least
    assert figures["snapshot_day_complete"] is True
