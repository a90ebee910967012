"""Shared pieces of the reliability suites: scripted releases, the bot as a child process,
and the measurements the suites report.

Everything here drives the real bot from the outside (HTTP, files, signals) or reads what
a user would see (Slack messages, `/healthz`, exit codes, log lines); none of it stands in
for the bot's own code.
"""

from __future__ import annotations

import contextlib
import logging
import math
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.radar.labs import LabRegistry
from bot.radar.releases import family_stem
from tests.doubles.hub_fixtures import B, model_json
from tests.doubles.slack_server import SlackStandIn
from tests.harness import RadarHarness
from tests.pg import reopen

ALERT_METADATA = "radar_release"
DIGEST_METADATA = "radar_digest"
GENERIC_FAILURE = "something went wrong on my side"

# Tracked labs of tier 1 or 2 (every original text model of theirs is notable), with the
# country the built-in registry gives them, so expectations per filter can be derived.
LAB_ROTATION: tuple[tuple[str, str], ...] = (
    ("Qwen", "CN"),
    ("meta-llama", "US"),
    ("mistralai", "FR"),
    ("deepseek-ai", "CN"),
    ("google", "US"),
    ("zai-org", "CN"),
    ("nvidia", "US"),
    ("moonshotai", "CN"),
    ("allenai", "US"),
    ("swiss-ai", "CH"),
    ("openai", "US"),
    ("tencent", "CN"),
)
FAMILY_NAMES = (
    "Vega",
    "Orion",
    "Lyra",
    "Draco",
    "Cygnus",
    "Pavo",
    "Hydra",
    "Aquila",
    "Carina",
    "Lepus",
    "Norma",
    "Volans",
)
EU_COUNTRIES = frozenset({"FR", "DE", "CH", "PT", "IT", "ES", "NL"})


# --------------------------------------------------------------------- scripted releases


@dataclass(frozen=True)
class ScriptedRelease:
    """One lab's family launch, and optionally an official build published later."""

    lab: str
    country: str
    family: str
    records: tuple[dict[str, Any], ...]
    late_records: tuple[dict[str, Any], ...] = ()

    @property
    def key(self) -> str:
        """The release id without its date: `lab/stem` (see `release_key`)."""
        return f"{self.lab.lower()}/{family_stem(self.family)}"

    @property
    def member_count(self) -> int:
        return len(self.records) + len(self.late_records)


def family_records(
    lab: str, family: str, created_at: datetime, sizes: Sequence[int] = (8, 32)
) -> list[dict[str, Any]]:
    """Base and Instruct repos in each size: one release, several repos."""
    records: list[dict[str, Any]] = []
    for offset, size in enumerate(sizes):
        base = f"{lab}/{family}-{size}B-Base"
        moment = created_at + timedelta(minutes=3 * offset)
        records.append(model_json(base, created_at=moment, params=size * B, likes=40))
        records.append(
            model_json(
                f"{lab}/{family}-{size}B-Instruct",
                created_at=moment + timedelta(minutes=1),
                params=size * B,
                base_model=base,
                relation="finetune",
                likes=150,
                trending=30,
            )
        )
    return records


def official_build(lab: str, family: str, created_at: datetime, size: int) -> dict[str, Any]:
    """The lab's own FP8 build of an Instruct model: it joins the existing release."""
    instruct = f"{lab}/{family}-{size}B-Instruct"
    return model_json(
        f"{instruct}-FP8",
        created_at=created_at,
        params=size * B,
        base_model=instruct,
        relation="quantized",
        likes=20,
    )


def release_week(
    now: datetime, count: int, *, late_builds: bool = False, sizes: Sequence[int] = (8, 32)
) -> list[ScriptedRelease]:
    """`count` launches from different tracked labs (US, China, Europe), dated around `now`."""
    week: list[ScriptedRelease] = []
    for index in range(count):
        lab, country = LAB_ROTATION[index % len(LAB_ROTATION)]
        family = f"{FAMILY_NAMES[index % len(FAMILY_NAMES)]}-{index // len(FAMILY_NAMES) + 2}"
        created = now - timedelta(minutes=30)
        late = (official_build(lab, family, now - timedelta(minutes=5), sizes[0]),)
        week.append(
            ScriptedRelease(
                lab=lab,
                country=country,
                family=family,
                records=tuple(family_records(lab, family, created, sizes)),
                late_records=late if late_builds else (),
            )
        )
    return week


def release_key(release_id: str) -> str:
    """`qwen/vega-2@2026-11-23` -> `qwen/vega-2`: the date depends on when the bot saw it."""
    return release_id.split("@", 1)[0]


# ---------------------------------------------------------------- what Slack shows


def _metadata(message: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    metadata = message.get("metadata") or {}
    return metadata.get("event_type"), metadata.get("event_payload") or {}


def alerts_by_channel(slack: SlackStandIn) -> dict[str, list[str]]:
    """Top-level release alerts per channel, as release keys, in the order Slack shows them."""
    shown: dict[str, list[str]] = defaultdict(list)
    for message in slack.messages():
        kind, payload = _metadata(message)
        if message["thread_ts"] is None and kind == ALERT_METADATA:
            shown[message["channel"]].append(release_key(str(payload.get("release_id"))))
    return dict(shown)


def alert_texts(slack: SlackStandIn) -> dict[tuple[str, str], str]:
    """(channel, release key) -> the alert's text as it reads now (after any edits)."""
    texts: dict[tuple[str, str], str] = {}
    for message in slack.messages():
        kind, payload = _metadata(message)
        if message["thread_ts"] is None and kind == ALERT_METADATA:
            key = release_key(str(payload.get("release_id")))
            texts[(message["channel"], key)] = message["text"] or ""
    return texts


def thread_reply_members(slack: SlackStandIn) -> dict[tuple[str, str], list[str]]:
    """Repo ids announced in each alert's thread ("New in X: a, b"), by (channel, release key).

    A thread reply says which repos joined a release; one repo announced twice is a
    repeated message for the channel.
    """
    parents: dict[tuple[str, str], str] = {}
    for message in slack.messages():
        kind, payload = _metadata(message)
        if message["thread_ts"] is None and kind == ALERT_METADATA:
            parents[(message["channel"], message["ts"])] = release_key(
                str(payload.get("release_id"))
            )
    announced: dict[tuple[str, str], list[str]] = defaultdict(list)
    for message in slack.messages():
        parent = parents.get((message["channel"], message["thread_ts"]))
        if parent is not None:
            _, _, names = (message["text"] or "").partition(": ")
            announced[(message["channel"], parent)] += [n for n in names.split(", ") if n]
    return dict(announced)


def digests_by_channel(slack: SlackStandIn) -> Counter[str]:
    return Counter(
        message["channel"]
        for message in slack.messages()
        if _metadata(message)[0] == DIGEST_METADATA
    )


def repeated(items: Sequence[str]) -> dict[str, int]:
    """Items shown more than once, with their counts: what a user would see twice."""
    return {item: count for item, count in Counter(items).items() if count > 1}


# ------------------------------------------------------------ the bot as a process


def run_cli(
    args: Sequence[str], env: Mapping[str, str], *, cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` as a user runs it; returns exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# ------------------------------------------------------------------------ logging


class LogCollector(logging.Handler):
    """Counts records by level and keeps the errors, plus the first `keep` lines of all."""

    def __init__(self, keep: int = 5_000) -> None:
        super().__init__(logging.DEBUG)
        self.keep = keep
        self.counts: Counter[str] = Counter()
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.with_traceback: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname] += 1
        if len(self.lines) < self.keep:
            self.lines.append(self.format(record)[:2000])
        if record.levelno >= logging.ERROR:
            self.errors.append(self.format(record)[:2000])
        if record.exc_info:
            self.with_traceback.append(self.format(record)[:4000])

    def messages(self) -> list[str]:
        return self.errors + self.with_traceback


@contextlib.contextmanager
def collecting_logs(level: int = logging.WARNING, keep: int = 5_000) -> Iterator[LogCollector]:
    """Attach a collector to the root logger, which logs from `level` up, for a block.

    Long runs pass ERROR: thousands of expected warnings would otherwise pile up in
    pytest's own log capture and show up as memory growth.
    """
    root = logging.getLogger()
    collector = LogCollector(keep)
    previous = root.level
    root.addHandler(collector)
    root.setLevel(level)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        root.setLevel(previous)


@contextlib.contextmanager
def restored_logging(names: Sequence[str] = ()) -> Iterator[None]:
    """Undo `bot.logs.setup_logging` (root handlers and levels) after a block."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    level = root.level
    noisy = ("httpx", "httpcore", "apscheduler", "slack_bolt", "slack_sdk", "urllib3", *names)
    levels = {name: logging.getLogger(name).level for name in noisy}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, value in levels.items():
            logging.getLogger(name).setLevel(value)


# -------------------------------------------------------------------- measurements


def rss_bytes() -> int:
    """Resident memory of this process, from /proc (no psutil needed)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value at or above `fraction` of the samples."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def report(suite: str, **figures: object) -> None:
    """One line of measured figures (shown with `pytest -rP`; the README quotes them)."""
    shown = ", ".join(f"{name}={value}" for name, value in figures.items())
    print(f"\n[reliability] {suite}: {shown}")


# ------------------------------------------------------------------ in-process bot


def use_hub_client(harness: RadarHarness, client: Any) -> None:
    """Give the harness's bot another Hub client (short timeouts for the soak).

    The harness builds its client with a 2 s timeout; a 200-cycle soak with injected
    timeouts needs a shorter one. The bot holds its `HubSource` in three places.
    """
    previous = harness.core.hub
    harness.core.hub = client
    harness.core.tracker.hub = client
    harness.core.service.hub = client
    harness.hub_client = client
    close = getattr(previous, "close", None)
    if close is not None:
        close()


def keep_only_labs(db_path: Path, namespaces: Sequence[str]) -> int:
    """Untrack every other lab in the database, as `/radar untrack` would; returns how many.

    Suites that run hundreds of cycles poll a dozen labs instead of all of them: the fault
    rate per request is what matters, not the number of requests.
    """
    keep = {namespace.lower() for namespace in namespaces}
    with reopen(db_path) as store:
        registry = LabRegistry.from_store(store)
        dropped = [ns for ns in registry.poll_namespaces() if ns.lower() not in keep]
        for namespace in dropped:
            registry.untrack(store, namespace)
        store.commit()
    return len(dropped)
