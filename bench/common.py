"""Shared plumbing for the benchmarks: options, statistics, the one-line JSON report,
servers hosted in child processes, stand-ins fit for large data, and synthetic databases.

Why child processes: on a 2-core machine the bot, the load generator and the stand-ins all
want the GIL. Measuring the bot while a load generator or a stand-in shares its interpreter
would mostly measure GIL hand-offs (a waiting thread can sit out a whole 5 ms switch
interval), not the bot. So every server that is not the thing being timed runs in its own
interpreter, and the parent drives it over a pipe (`Child`, `child_main`).

Importing this module also puts the repository root on `sys.path`, so `python bench/x.py`
can import `bot` and `tests` without an installed package.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib
import json
import math
import os
import platform
import queue
import resource
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.radar.channels import subscription_id  # noqa: E402
from bot.radar.countries import region_for_country  # noqa: E402
from bot.radar.labs import LabRegistry  # noqa: E402
from bot.radar.models import (  # noqa: E402
    Delivery,
    DigestSchedule,
    Filters,
    Lab,
    LicenseClass,
    ModelRecord,
    Openness,
    Region,
    Release,
    StateEntry,
    Subscription,
)
from bot.radar.releases import family_stem, release_id, release_title  # noqa: E402
from bot.radar.tracker import LAB_STATE, TRENDING_KEY  # noqa: E402
from bot.store.tinydb_store import TinyDBStore  # noqa: E402
from tests.doubles.hub_fixtures import model_json  # noqa: E402
from tests.doubles.hub_server import HubStandIn, Reply, sort_value  # noqa: E402
from tests.doubles.slack_server import SlackStandIn  # noqa: E402

# The harness's FakeClock starts here; synthetic data is dated relative to it.
BENCH_NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

# ------------------------------------------------------------------------------ options


def parse_options(
    description: str,
    configure: Callable[[argparse.ArgumentParser], None] | None = None,
    argv: Sequence[str] | None = None,
) -> argparse.Namespace:
    """`--quick` (or `BENCH_QUICK=1`, how CI asks) plus whatever the benchmark adds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and one run, to prove the benchmark still works (also BENCH_QUICK=1)",
    )
    if configure is not None:
        configure(parser)
    options = parser.parse_args(argv)
    options.quick = bool(options.quick) or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    return options


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Iterable[float]) -> float:
    collected = list(values)
    return statistics.median(collected) if collected else math.nan


def ms(seconds: float) -> float:
    """Seconds to milliseconds, rounded for a readable report."""
    return round(seconds * 1000, 2)


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Count and percentiles in milliseconds: what a latency figure in the report holds."""
    return {
        "n": len(seconds),
        "p50_ms": ms(percentile(seconds, 0.50)),
        "p90_ms": ms(percentile(seconds, 0.90)),
        "p99_ms": ms(percentile(seconds, 0.99)),
        "max_ms": ms(max(seconds)) if seconds else math.nan,
        "mean_ms": ms(statistics.fmean(seconds)) if seconds else math.nan,
    }


def growth_exponent(sizes: Sequence[float], values: Sequence[float]) -> float | None:
    """Least-squares slope of log(value) over log(size): 1.0 is linear, 2.0 quadratic."""
    points = [(math.log(s), math.log(v)) for s, v in zip(sizes, values, strict=True) if v > 0]
    if len(points) < 2:
        return None
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return round(slope, 2)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# ------------------------------------------------------------------------------ report


@dataclass(frozen=True)
class Target:
    """One goal from the issue: the measured value, the limit and which side is good."""

    value: float | int | None
    limit: float | int
    op: Literal["<=", ">=", "=="] = "<="
    unit: str = ""

    @property
    def met(self) -> bool:
        if self.value is None or (isinstance(self.value, float) and not math.isfinite(self.value)):
            return False
        if self.op == "<=":
            return self.value <= self.limit
        if self.op == ">=":
            return self.value >= self.limit
        return self.value == self.limit

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "limit": self.limit,
            "op": self.op,
            "unit": self.unit,
            "met": self.met,
        }


def machine_info() -> dict[str, Any]:
    """Where the figures came from: they only compare across runs on similar machines."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 0
    return {
        "nproc": cores,
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        # Other work on a shared machine skews every absolute figure: say how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def report(
    bench: str,
    *,
    quick: bool,
    figures: dict[str, Any],
    targets: dict[str, Target],
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """Print the one JSON line on stdout, then a human summary on stderr; return the line."""
    line = {
        "bench": bench,
        "quick": quick,
        "figures": figures,
        "targets": {name: target.as_json() for name, target in targets.items()},
        "machine": machine_info(),
    }
    print(json.dumps(_without_nan(line), allow_nan=False), flush=True)
    met = sum(target.met for target in targets.values())
    mode = "quick mode: sizes too small for the figures to mean anything" if quick else "full"
    summary = [f"{bench} ({mode}): {met}/{len(targets)} targets met"]
    for name, target in targets.items():
        mark = "met   " if target.met else "MISSED"
        summary.append(
            f"  {mark} {name}: {_shown(target.value)}{target.unit} "
            f"(target {target.op} {_shown(target.limit)}{target.unit})"
        )
    summary.extend(f"  {note}" for note in notes)
    print("\n".join(summary), file=sys.stderr, flush=True)
    return line


def _without_nan(value: Any) -> Any:
    """NaN (a percentile of nothing) and infinity are not JSON; they are reported as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nan(item) for item in value]
    return value


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def run_main(main: Callable[[], None]) -> None:
    """Exit 0 after a measurement (targets missed or not); 1 only when the benchmark broke."""
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception:
        traceback.print_exc()
        raise SystemExit(1) from None
    raise SystemExit(0)


# ------------------------------------------------------------------- child processes


@dataclass
class Hosted:
    """What a child's entry function returns: facts for the parent (URLs), the operations
    the parent may call by name, and how to shut down."""

    info: dict[str, Any]
    operations: dict[str, Callable[..., Any]] = field(default_factory=dict)
    close: Callable[[], None] = lambda: None


_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from bench.common import child_main; child_main(sys.argv[2], sys.argv[3])"
)


class Child:
    """A server hosted by `module:function` in a fresh interpreter, driven over a pipe.

    Start several children first and read `.info` afterwards: their start-ups overlap.
    """

    def __init__(self, entry: str, **arguments: Any) -> None:
        self.entry = entry
        self._process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(ROOT), entry, json.dumps(arguments)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read_lines, daemon=True)
        self._reader.start()
        self._info: dict[str, Any] | None = None

    def _read_lines(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _receive(self, timeout: float) -> Any:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"{self.entry} did not answer within {timeout:.0f} s") from None
        if line is None:
            raise RuntimeError(f"{self.entry} exited (code {self._process.wait()})")
        message = json.loads(line)
        if not message.get("ok"):
            raise RuntimeError(f"{self.entry} failed:\n{message.get('error')}")
        return message.get("result")

    @property
    def info(self) -> dict[str, Any]:
        """What the child reported once its servers were up (waits for it)."""
        if self._info is None:
            self._info = self._receive(timeout=300)
        return self._info

    @property
    def pid(self) -> int:
        return self._process.pid

    def call(self, operation: str, timeout: float = 300, **arguments: Any) -> Any:
        self.info  # noqa: B018 - the ready message comes first on the pipe
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"op": operation, "args": arguments}) + "\n")
        self._process.stdin.flush()
        return self._receive(timeout)

    def close(self) -> None:
        if self._process.poll() is None and self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def child_main(entry: str, raw_arguments: str) -> None:
    """The child side: host `entry`, report ready, answer operations until stdin closes."""
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # stray prints must not corrupt the protocol

    def send(ok: bool, payload: Any) -> None:
        key = "result" if ok else "error"
        protocol.write(json.dumps({"ok": ok, key: payload}) + "\n")

    module_name, function_name = entry.split(":")
    try:
        host = getattr(importlib.import_module(module_name), function_name)
        hosted: Hosted = host(**json.loads(raw_arguments))
    except Exception:
        send(False, traceback.format_exc())
        return
    send(True, hosted.info)
    try:
        for line in sys.stdin:
            request = json.loads(line)
            try:
                result = hosted.operations[request["op"]](**request.get("args", {}))
            except Exception:
                send(False, traceback.format_exc())
            else:
                send(True, result)
    finally:
        hosted.close()


# ---------------------------------------------------------------------------- stand-ins


class IndexedHubStandIn(HubStandIn):
    """The Hub stand-in, answering listings and details from indexes.

    The stand-in scans and deep-copies every stored model on each listing and each detail
    call: free with the dozens of models a test uses, seconds per request with 30,000. A
    benchmark would then time the stand-in rather than the bot. This subclass hands the
    unchanged request logic a copy of itself that holds only the models the request can
    see (the author's, the top of the trending list, or one repo and its derivatives), and
    reuses a listing's reply until that author's models change, as the Hub's cache does.
    """

    TRENDING_POOL = 1000

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._by_author: dict[str, dict[str, dict[str, Any]]] = {}
        self._children_of: dict[str, dict[str, dict[str, Any]]] = {}
        self._author_version: dict[str, int] = {}
        self._version = 0
        self._replies: dict[tuple, tuple[tuple, Reply]] = {}  # request -> (scope, reply)

    def add(self, model_json: dict[str, Any]) -> dict[str, Any]:
        record = super().add(model_json)
        with self._lock:
            author = record["id"].split("/", 1)[0].lower()
            self._by_author.setdefault(author, {})[record["id"]] = record
            for tag in record.get("tags") or []:
                parts = tag.split(":", 2) if isinstance(tag, str) else []
                if len(parts) == 3 and parts[0] == "base_model":
                    self._children_of.setdefault(parts[2].lower(), {})[record["id"]] = record
        self._changed(record["id"])
        return record

    def update(self, repo_id: str, **fields: Any) -> None:
        super().update(repo_id, **fields)
        self._changed(repo_id)

    def remove(self, repo_id: str) -> None:
        with self._lock:
            record = self._existing(repo_id)
            super().remove(repo_id)
            self._by_author.get(record["id"].split("/", 1)[0].lower(), {}).pop(record["id"], None)
            for derivatives in self._children_of.values():
                derivatives.pop(record["id"], None)
        self._changed(repo_id)

    def _changed(self, repo_id: str) -> None:
        with self._lock:
            author = repo_id.split("/", 1)[0].lower()
            self._author_version[author] = self._author_version.get(author, 0) + 1
            self._version += 1

    def _scoped(self, models: Iterable[dict[str, Any]]) -> HubStandIn:
        view = copy.copy(self)
        view.models = {model["id"]: model for model in models}
        return view

    def _list(self, pairs: list[tuple[str, str]]) -> Reply:
        names = {key for key, _ in pairs}
        author = next((value for key, value in reversed(pairs) if key == "author"), None)
        sort = next((value for key, value in reversed(pairs) if key == "sort"), None)
        if names & {"search", "filter", "pipeline_tag"}:
            return super()._list(pairs)
        with self._lock:
            if author is not None:
                scope: tuple = ("author", author.lower(), self._author_version.get(author.lower()))
            elif sort == "trendingScore" and "cursor" not in names:
                scope = ("trending", self._version)
            else:
                return super()._list(pairs)
            request = tuple(pairs)
            cached_scope, cached = self._replies.get(request, ((), None))
            if cached is None or cached_scope != scope:
                if author is not None:
                    pool = list(self._by_author.get(author.lower(), {}).values())
                else:
                    pool = self._trending_pool()
                cached = HubStandIn._list(self._scoped(pool), pairs)
                if cached.status == 200:
                    self._replies[request] = (scope, cached)
        return Reply(cached.status, cached.payload, dict(cached.headers))

    def _trending_pool(self) -> list[dict[str, Any]]:
        """The first `TRENDING_POOL` public models in the order a trending listing uses."""
        public = [m for m in self.models.values() if not m.get("private")]
        public.sort(key=lambda m: m.get("id", ""))
        public.sort(key=lambda m: sort_value(m.get("trendingScore")), reverse=True)
        return public[: self.TRENDING_POOL]

    def _detail(self, repo_id: str, pairs: list[tuple[str, str]]) -> Reply:
        with self._lock:
            record = self.get(repo_id)
            if record is None:
                return super()._detail(repo_id, pairs)
            derivatives = self._children_of.get(record["id"].lower(), {}).values()
            view = self._scoped([record, *derivatives])
        return HubStandIn._detail(view, repo_id, pairs)


class TimedSlackStandIn(SlackStandIn):
    """The Slack stand-in, also noting when each `response_url` answer arrived.

    Times come from `time.monotonic()`, which on Linux is the system-wide CLOCK_MONOTONIC,
    so the parent can subtract the time it sent the slash command in another process.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.arrivals: dict[str, float] = {}

    def _handle_response_url(self, name: str, payload: Any):  # type: ignore[override]
        arrived = time.monotonic()
        reply = super()._handle_response_url(name, payload)
        if reply.status == 200:
            with self._condition:
                self.arrivals.setdefault(name, arrived)
        return reply


def host_hub(
    *, latency: float = 0.0, namespaces: Sequence[str] = (), per_lab: int = 0, now: str = ""
) -> Hosted:
    """Child entry: the indexed Hub stand-in, seeded with `synthetic_hub_models`."""
    hub = IndexedHubStandIn(latency=latency)
    moment = datetime.fromisoformat(now) if now else BENCH_NOW
    hub.add_many(synthetic_hub_models(namespaces, per_lab, moment))
    hub.start()

    def detail_paths() -> list[str]:
        with hub._lock:
            return [r.path for r in hub.requests if r.path.rstrip("/") != "/api/models"]

    def add_many(records: list[dict[str, Any]]) -> int:
        hub.add_many(records)
        return len(records)

    return Hosted(
        info={"url": hub.url, "models": len(hub.models)},
        operations={
            "add_many": add_many,
            "reset_log": hub.reset_log,
            "request_count": lambda: hub.request_count,
            "detail_paths": detail_paths,
        },
        close=hub.stop,
    )


def host_slack(*, latency: float = 0.0) -> Hosted:
    """Child entry: the Slack stand-in, with arrival times of `response_url` answers."""
    slack = TimedSlackStandIn(latency=latency)
    slack.start()

    def arrivals() -> dict[str, float]:
        with slack._condition:
            return dict(slack.arrivals)

    def wait_answers(count: int, timeout: float = 60.0) -> int:
        slack.wait_for(lambda: len(slack.arrivals) >= count, timeout=timeout)
        return len(slack.arrivals)

    def violations() -> list[str]:
        with slack._condition:
            return [f"{v.method}: {v.error}" for v in slack.violations]

    def messages_by_channel() -> dict[str, dict[str, Any]]:
        """Per channel: top-level messages, thread replies and post times (monotonic)."""
        summary: dict[str, dict[str, Any]] = {}
        for message in slack.messages():
            entry = summary.setdefault(
                message["channel"], {"top_level": 0, "replies": 0, "post_times": []}
            )
            entry["replies" if message["thread_ts"] else "top_level"] += 1
        for channel, entry in summary.items():
            entry["post_times"] = slack.post_times(channel)
        return summary

    def call_counts() -> dict[str, int]:
        counts: dict[str, int] = {}
        with slack._condition:
            for method, _params in slack.calls:
                counts[method] = counts.get(method, 0) + 1
        return counts

    def reset() -> None:
        slack.reset()
        with slack._condition:
            slack.arrivals.clear()

    return Hosted(
        info={"url": slack.url, "root": slack.root},
        operations={
            "arrivals": arrivals,
            "wait_answers": wait_answers,
            "violations": violations,
            "messages_by_channel": messages_by_channel,
            "call_counts": call_counts,
            "reset": reset,
        },
        close=slack.stop,
    )


# ----------------------------------------------------------------------- synthetic data

FAMILY_WORDS = (
    "Nova", "Orion", "Atlas", "Lyra", "Vega", "Helix", "Quill", "Ember",
    "Aurora", "Zephyr", "Cobalt", "Sable", "Tundra", "Mosaic", "Pulse", "Rune",
)  # fmt: skip
SIZES_B = (1, 3, 4, 7, 8, 14, 24, 32, 70, 120, 235, 480)
THIRD_PARTY = (
    # (namespace, suffix, relation): the usual derivative flood of a popular release
    ("unsloth", "GGUF", "quantized"),
    ("bartowski", "GGUF", "quantized"),
    ("mlx-community", "4bit", "quantized"),
    ("lmstudio-community", "GGUF", "quantized"),
    ("huihui-ai", "abliterated", "finetune"),
    ("RedHatAI", "FP8-dynamic", "quantized"),
    ("merge-lab", "slerp", "merge"),
)
NOTABLE_TAGS = (
    "transformers",
    "safetensors",
    "text-generation",
    "conversational",
    "license:apache-2.0",
    "region:us",
)
EXTRA_LAB_COUNTRIES = ("US", "CN", "FR", "DE", "GB", "JP", "KR", "IN", "CA", "AE")


def bench_labs(count: int, first: Sequence[str] = ()) -> list[Lab]:
    """`count` labs: the built-in ones (those named in `first` leading), then synthetic
    ones (`bench-lab-NNN`) once the built-in list runs out."""
    builtin = LabRegistry.builtin().labs()
    wanted = {namespace.lower() for namespace in first}
    builtin.sort(key=lambda lab: lab.key not in wanted)  # stable: the rest keep their order
    labs = list(builtin[:count])
    for index in range(count - len(labs)):
        country = EXTRA_LAB_COUNTRIES[index % len(EXTRA_LAB_COUNTRIES)]
        labs.append(
            Lab(
                namespace=f"bench-lab-{index:03d}",
                name=f"Bench Lab {index:03d}",
                country=country,
                region=region_for_country(country),
                tier=2,
                source="user",
            )
        )
    return labs


def synthetic_hub_models(
    namespaces: Sequence[str], per_lab: int, now: datetime
) -> list[dict[str, Any]]:
    """`per_lab` Hub-shaped repos for each namespace, all older than a day.

    Each lab's repos are families of sizes with Instruct and Base builds, dated newest
    first, with downloads, likes and a small trending score, like a lab's page on the Hub.
    """
    records: list[dict[str, Any]] = []
    for lab_index, namespace in enumerate(namespaces):
        for index in range(per_lab):
            word = FAMILY_WORDS[(index // 6) % len(FAMILY_WORDS)]
            generation = index // (6 * len(FAMILY_WORDS)) + 1
            size = SIZES_B[(index // 2) % 3 * 4 + lab_index % 4]
            variant = "Instruct" if index % 2 == 0 else "Base"
            records.append(
                model_json(
                    f"{namespace}/{word}{generation}-{size}B-{variant}",
                    created_at=now - timedelta(days=1 + index * 3, hours=lab_index % 24),
                    params=size * 1_000_000_000,
                    downloads=(lab_index * 7919 + index * 104_729) % 2_000_000,
                    likes=(lab_index * 31 + index * 17) % 3_000,
                    trending=(lab_index + index) % 40,
                )
            )
    return records


@dataclass
class DatabaseFacts:
    """What `build_database` wrote, and realistic `/model` queries against it."""

    path: str
    models: int
    releases: int
    subscriptions: int
    channels: list[str]
    exact_queries: list[str]
    fuzzy_queries: list[str]
    build_seconds: float


def build_database(
    path: Path,
    *,
    models: int,
    releases: int,
    subscriptions: int,
    now: datetime = BENCH_NOW,
    span_days: int = 730,
    members_per_release: int = 3,
    deliveries_per_release: int = 2,
) -> DatabaseFacts:
    """Write a TinyDB database shaped like one after two years of running.

    `releases` releases of `members_per_release` notable repos each (spread over
    `span_days`, newest first, across the built-in labs); the rest of the `models` are
    third-party derivatives of those repos (quantizations, fine-tunes, merges), which is
    what most repos the radar sees are. `subscriptions` are spread two per channel with
    a mix of filters; each release has `deliveries_per_release` sent outbox rows.
    """
    started = time.perf_counter()
    labs = LabRegistry.builtin().labs()
    notable_total = min(models, releases * members_per_release)
    releases = math.ceil(notable_total / members_per_release) if notable_total else 0
    store = TinyDBStore(path)
    notable_ids: list[tuple[str, Lab, int]] = []  # (repo id, lab, size)
    exact_queries: list[str] = []
    fuzzy_queries: list[str] = []
    span = timedelta(days=span_days)
    with store.lock:
        for r in range(releases):
            lab = labs[r % len(labs)]
            round_ = r // len(labs)
            word = FAMILY_WORDS[round_ % len(FAMILY_WORDS)]
            generation = round_ // len(FAMILY_WORDS) + 1
            first_seen = now - span * (r / max(releases, 1)) - timedelta(hours=1)
            members: list[ModelRecord] = []
            for j in range(min(members_per_release, notable_total - r * members_per_release)):
                size = SIZES_B[(r + j * 5) % len(SIZES_B)]
                suffix = "Instruct" if j % 3 != 2 else "Instruct-FP8"
                repo_id = f"{lab.namespace}/{word}{generation}-{size}B-{suffix}"
                seen = first_seen + timedelta(minutes=j)
                members.append(
                    ModelRecord(
                        id=repo_id,
                        author=lab.namespace,
                        lab=lab.namespace,
                        first_seen=seen,
                        created_at=seen - timedelta(hours=2),
                        last_modified=seen,
                        sha=f"{r:020d}{j:020d}",
                        pipeline_tag="text-generation",
                        library_name="transformers",
                        tags=list(NOTABLE_TAGS),
                        license="apache-2.0",
                        license_class=LicenseClass.PERMISSIVE,
                        openness=Openness.WEIGHTS,
                        params_total=size * 1_000_000_000,
                        downloads=(r * 7919 + j * 104_729) % 3_000_000,
                        downloads_all_time=(r * 7919 + j * 104_729) % 9_000_000,
                        likes=(r * 31 + j) % 4_000,
                        trending_score=float((r + j) % 50),
                        detailed=True,
                        notable=True,
                        reasons=[f"{lab.name} is a tracked lab", f"{size}B params"],
                    )
                )
                notable_ids.append((repo_id, lab, size))
            stem = family_stem(members[0].name)
            release = Release(
                id=release_id(lab.namespace, stem, first_seen),
                lab=lab.namespace,
                lab_name=lab.name,
                country=lab.country,
                region=lab.region,
                title=release_title(lab.name, [m.id for m in members]),
                stem=stem,
                members=[m.id for m in members],
                first_seen=first_seen,
                updated_at=first_seen,
                reasons=[f"{lab.name} is a tracked lab"],
            )
            store.releases.put(release)
            for member in members:
                member.release_id = release.id
                store.models.put(member)
            if r % max(1, releases // 40) == 0:
                sized = members[0]
                exact_queries.append(sized.id)
                size_word = sized.name.split("-")[1].lower()
                fuzzy_queries.append(f"{word.lower()}{generation} {size_word}")
        for d in range(models - notable_total):
            base_id, _lab, size = notable_ids[d % len(notable_ids)]
            round_ = d // len(notable_ids)
            namespace, suffix, relation = THIRD_PARTY[round_ % len(THIRD_PARTY)]
            if round_ >= len(THIRD_PARTY):
                suffix = f"{suffix}-v{round_ // len(THIRD_PARTY) + 1}"
            base_name = base_id.replace("/", "-")  # two labs may both have a "Nova1-8B"
            seen = now - span * ((d % max(releases, 1)) / max(releases, 1))
            store.models.put(
                ModelRecord(
                    id=f"{namespace}/{base_name}-{suffix}",
                    author=namespace,
                    first_seen=seen,
                    created_at=seen,
                    pipeline_tag="text-generation",
                    library_name="gguf" if "GGUF" in suffix else "transformers",
                    tags=[
                        f"base_model:{base_id}",
                        f"base_model:{relation}:{base_id}",
                        "text-generation",
                        "region:us",
                    ],
                    base_models=[base_id],
                    params_total=size * 1_000_000_000,
                    downloads=(d * 37) % 40_000,
                    likes=d % 30,
                    reasons=[f"{relation} of {base_id}"],
                )
            )
        channels = _add_subscriptions(store, subscriptions, labs, now)
        all_releases = store.releases.values()
        for index, release in enumerate(all_releases):
            for k in range(deliveries_per_release if channels else 0):
                channel = channels[(index + k) % len(channels)]
                store.deliveries.put(
                    Delivery(
                        channel_id=channel,
                        release_id=release.id,
                        status="sent",
                        ts=f"{1_700_000_000 + index}.{k:06d}",
                        posted_members=list(release.members),
                        created_at=release.first_seen,
                        updated_at=release.first_seen,
                    )
                )
        lab_state = {lab.namespace.lower(): {"last_success": now.isoformat()} for lab in labs}
        lab_state[TRENDING_KEY] = {"last_success": now.isoformat()}
        store.state.put(StateEntry(name=LAB_STATE, value=lab_state))
        store.commit()
    store.close()
    if (len(store.models), len(store.releases)) != (models, releases):
        raise RuntimeError(f"built {len(store.models)} models, {len(store.releases)} releases")
    return DatabaseFacts(
        path=str(path),
        models=models,
        releases=releases,
        subscriptions=subscriptions,
        channels=channels,
        exact_queries=exact_queries,
        fuzzy_queries=fuzzy_queries,
        build_seconds=round(time.perf_counter() - started, 2),
    )


def _add_subscriptions(
    store: TinyDBStore, count: int, labs: Sequence[Lab], now: datetime
) -> list[str]:
    """Two subscriptions a channel with a mix of filters, and each channel's digest."""
    channels: list[str] = []
    kinds = (
        lambda i: Filters(),
        lambda i: Filters(regions=[Region.CHINA]),
        lambda i: Filters(regions=[Region.US]),
        lambda i: Filters(orgs=[labs[i % len(labs)].namespace]),
        lambda i: Filters(countries=["FR"]),
        lambda i: Filters(min_params_b=30.0),
    )
    for index in range(count):
        channel = f"C{index // 2:07d}"
        if not channels or channels[-1] != channel:
            channels.append(channel)
            store.digests.put(DigestSchedule(channel_id=channel, last_sent_period="2026-11-16"))
        filters = kinds[index % len(kinds)](index)
        store.subscriptions.put(
            Subscription(
                id=subscription_id(channel, filters),
                channel_id=channel,
                filters=filters,
                created_by="U_BENCH",
                created_at=now - timedelta(days=200),
            )
        )
    return channels
