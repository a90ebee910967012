"""Detection latency: from a repo turning public on the Hub to its alert in Slack.

The real bot (as `serve` wires it: uvicorn, the Starlette front door with `/hub/webhook`,
the scheduler's jobs) runs against the Hub and Slack stand-ins, both with 20 ms of added
latency per call (the Hub stand-in also waits 20 ms before each webhook delivery). Every
built-in lab is tracked and bootstrapped, as a real install's are. Each launch is a
tracked lab's new family, created private and then flipped public; the clock starts at
the flip and stops when the Slack stand-in holds the alert. Two modes are measured:

- webhooks: the stand-in POSTs `repo.config` `{"private": false}` to the bot, which checks
  the repo and posts at once; the poll runs only as reconciliation (default intervals);
- polling only (no `HF_WEBHOOK_SECRET`): the scheduler polls every `--poll-interval`
  seconds (short, so the run stays short; the bound scales with it), launches land at
  random moments of the interval.

The Hub's request budget is read off the same run: one quiet poll's requests (every
built-in lab and the trending list) are counted, then the hourly cost at default settings
is worked out for each mode (polls per hour × that, plus the 6-hourly count refresh, plus
one detail call per webhook launch and the 10-minute check of the webhook list), and the
busiest 5 minutes is compared with the Hub's 500 requests per 5 minutes for anonymous use.

Latencies are seconds long here, so the bot, the stand-ins and the load share one process:
the GIL hand-offs that matter for millisecond acks (see `ack_latency.py`) do not here.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/detection_latency.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Target, latency_summary, parse_options, report, run_main
from bot.config import Settings
from bot.radar.models import utcnow
from bot.schedule import build_scheduler
from bot.webhooks.health import CHECK_INTERVAL_SECONDS
from tests.doubles.hub_fixtures import B, background, model_json
from tests.doubles.hub_server import HubStandIn
from tests.doubles.slack_server import SlackStandIn
from tests.harness import RadarHarness, radar_command

LATENCY = 0.020
SECRET = "bench-webhook-secret-0123456789"
GENERAL = "C_GENERAL"
LAUNCH_LABS = ("Qwen", "deepseek-ai", "mistralai", "google", "meta-llama", "moonshotai")
HUB_BUDGET_PER_5_MIN = 500
DEFAULTS = Settings.model_fields


class RealClock:
    """The wall clock, shaped like the harness's FakeClock (`clock()` and `clock.now`)."""

    def __call__(self) -> datetime:
        return utcnow()

    @property
    def now(self) -> datetime:
        return utcnow()


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--launches", type=int, default=24, help="launches per mode (≥ 20)")
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=10.0,
        help="POLL_INTERVAL_SECONDS of the polling-only run (the bound is this + 2 s)",
    )


def launch_repo(index: int, now: datetime) -> dict[str, Any]:
    lab = LAUNCH_LABS[index % len(LAUNCH_LABS)]
    repo = model_json(
        f"{lab}/Benchmark{index}Family-{8 + index}B-Instruct",
        created_at=now - timedelta(hours=2),
        params=(8 + index) * B,
        downloads=1_000,
        likes=100,
    )
    repo["private"] = True
    return repo


class AlertWatch:
    """Notes when each repo's alert first shows up in the Slack stand-in."""

    def __init__(self, slack: SlackStandIn) -> None:
        self.slack = slack
        self.seen: dict[str, float] = {}
        self.top_level: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.wanted: list[str] = []
        self._lock = threading.Lock()

    def start(self) -> AlertWatch:
        self._thread.start()
        return self

    def want(self, name: str) -> None:
        with self._lock:
            self.wanted.append(name)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            messages = [m for m in self.slack.messages(GENERAL) if m["thread_ts"] is None]
            now = time.monotonic()
            texts = [json.dumps(m) for m in messages]
            with self._lock:
                wanted = list(self.wanted)
            for name in wanted:
                count = sum(1 for text in texts if f"{name}-" in text)
                if count:
                    self.seen.setdefault(name, now)
                    self.top_level[name] = count
            time.sleep(0.01)


def run_mode(options: argparse.Namespace, *, webhooks: bool, workdir: Path) -> dict[str, Any]:
    launches = options.launches
    hub = HubStandIn(latency=LATENCY, timeout_sleep=0.5).start()
    slack = SlackStandIn(latency=LATENCY).start()
    overrides: dict[str, Any] = {}
    if webhooks:
        overrides["hf_webhook_secret"] = SECRET
        overrides["poll_interval_seconds"] = DEFAULTS["poll_interval_seconds"].default
    else:
        overrides["poll_interval_seconds"] = max(1, round(options.poll_interval))
    interval = overrides["poll_interval_seconds"]
    bot = RadarHarness(
        hub.url,
        slack.url,
        workdir / f"radar-{'webhooks' if webhooks else 'polling'}.json",
        clock=RealClock(),  # type: ignore[arg-type]
        **overrides,
    ).start()
    scheduler = None
    watch = AlertWatch(slack).start()
    try:
        hub.add_many(background(utcnow(), 60))
        bot.poll_and_deliver()  # the bootstrap: history recorded silently
        radar_command(bot, slack, "subscribe")
        namespaces = [
            ns for lab in bot.core.registry.labs() for ns in (lab.namespace, *lab.aliases)
        ]
        hub.reset_log()
        bot.poll()  # one quiet poll: what each poll costs the Hub
        poll_requests = hub.request_count
        if webhooks:
            hub.webhooks.register(f"{bot.url}/hub/webhook", namespaces, SECRET)
        scheduler = build_scheduler(bot.core, bot.radar)
        scheduler.start()
        time.sleep(1.0)  # the start-up poll
        hub.reset_log()

        rng = random.Random(7)
        started: dict[str, float] = {}
        for index in range(launches):
            repo = launch_repo(index, utcnow())
            hub.add(repo)  # created private: nothing public yet
            if webhooks:
                time.sleep(rng.uniform(0.2, 0.6))
            else:  # land anywhere in the poll interval
                time.sleep(rng.uniform(0.0, interval / 2))
            name = repo["id"].split("/", 1)[1].split("-", 1)[0]
            watch.want(name)
            started[name] = time.monotonic()
            hub.set_private(repo["id"], False)
        deadline = time.monotonic() + (10 if webhooks else interval + 10)
        while len(watch.seen) < launches and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        latencies = [watch.seen[name] - t0 for name, t0 in started.items() if name in watch.seen]
        run_requests = list(hub.requests)
        details = sum(
            1 for r in run_requests if r.path.startswith("/api/models/") and r.method == "GET"
        )
    finally:
        watch.stop()
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        bot.stop()
        hub.stop()
        slack.stop()
    return {
        "launches": launches,
        "alerted": len(latencies),
        "duplicates": sum(max(0, count - 1) for count in watch.top_level.values()),
        "latency": latency_summary(latencies),
        "latency_max_s": round(max(latencies), 3) if latencies else None,
        "poll_interval_s": interval,
        "poll_requests": poll_requests,
        "labs": len(namespaces),
        "detail_calls_per_launch": round(details / max(1, launches), 2),
    }


def hub_cost(
    polling: dict[str, Any], pushed: dict[str, Any], launches_per_hour: int
) -> dict[str, Any]:
    """Hub requests per hour and in the busiest 5 minutes, at default settings."""
    poll_cost = polling["poll_requests"]
    poll_interval = DEFAULTS["poll_interval_seconds"].default
    reconcile = DEFAULTS["reconcile_interval_seconds"].default
    refresh_hours = DEFAULTS["refresh_interval_seconds"].default / 3600
    labs_listed = poll_cost - 1  # each lab once, plus the trending list
    # Issue 9's rotation: each cycle also lists a share of the namespaces in full (one page
    # each at most sizes), so every namespace is listed whole once a rotation. The share is
    # sized by the pace cycles run at, so at the reconcile pace each cycle lists more.
    full_interval = DEFAULTS["full_listing_interval_seconds"].default

    def rotation_share(pace: float) -> int:
        return math.ceil(labs_listed / math.ceil(full_interval / max(pace, poll_interval)))

    cycle_cost = poll_cost + rotation_share(poll_interval)
    reconcile_cost = poll_cost + rotation_share(reconcile)
    refresh_per_hour = labs_listed / refresh_hours
    detail = pushed["detail_calls_per_launch"]
    per_hour_polling = 3600 / poll_interval * cycle_cost + refresh_per_hour
    per_hour_webhooks = (
        3600 / reconcile * reconcile_cost
        + refresh_per_hour
        + launches_per_hour * detail
        + 3600 / CHECK_INTERVAL_SECONDS
    )
    # The busiest 5 minutes: a poll and a count refresh landing together (and, with
    # webhooks, every launch of the hour arriving in those 5 minutes).
    peak_polling = cycle_cost * max(1, 300 // poll_interval) + labs_listed
    peak_webhooks = reconcile_cost + labs_listed + launches_per_hour * detail + 1
    return {
        "poll_requests": poll_cost,
        "rotation_share_per_cycle": rotation_share(poll_interval),
        "rotation_share_per_reconcile": rotation_share(reconcile),
        "rotation_hours_with_webhooks": round(max(full_interval, reconcile) / 3600, 1),
        "per_hour_polling": round(per_hour_polling),
        "per_hour_webhooks": round(per_hour_webhooks),
        "peak_5min_polling": round(peak_polling),
        "peak_5min_webhooks": round(peak_webhooks),
        "assumed_launches_per_hour": launches_per_hour,
    }


def main() -> None:
    options = parse_options(__doc__.splitlines()[0], configure)
    if options.quick:
        options.launches = 3
        options.poll_interval = 3.0
    with tempfile.TemporaryDirectory(prefix="bench-detection-") as tmp:
        pushed = run_mode(options, webhooks=True, workdir=Path(tmp))
        polled = run_mode(options, webhooks=False, workdir=Path(tmp))
    cost = hub_cost(polled, pushed, launches_per_hour=10)
    bound = polled["poll_interval_s"] + 2
    targets = {
        "webhooks_p50": Target(pushed["latency"]["p50_ms"], 3000, unit=" ms"),
        "webhooks_p99": Target(pushed["latency"]["p99_ms"], 10000, unit=" ms"),
        "polling_max_vs_interval_plus_2s": Target(polled["latency_max_s"], bound, unit=" s"),
        "alerts_missed": Target(
            pushed["launches"] - pushed["alerted"] + polled["launches"] - polled["alerted"], 0
        ),
        "duplicate_alerts": Target(pushed["duplicates"] + polled["duplicates"], 0),
        "hub_peak_5min_polling": Target(cost["peak_5min_polling"], HUB_BUDGET_PER_5_MIN),
        "hub_peak_5min_webhooks": Target(cost["peak_5min_webhooks"], HUB_BUDGET_PER_5_MIN),
    }
    report(
        "detection_latency",
        quick=options.quick,
        figures={"webhooks": pushed, "polling": polled, "hub_requests": cost},
        targets=targets,
        notes=[
            f"Hub requests per hour at defaults: {cost['per_hour_polling']} polling, "
            f"{cost['per_hour_webhooks']} with webhooks (a poll costs "
            f"{cost['poll_requests']} requests for {polled['labs']} namespaces)",
        ],
    )


if __name__ == "__main__":
    run_main(main)
