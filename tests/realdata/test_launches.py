"""Launches as they really happened, replayed: ATOM's release-date corrections and
same-launch sets from public record (ids from ATOM's `models.csv`).

`tests/data/atom/release_date_corrections.csv` is derived from the ATOM Project's
`Interconnects-AI/tracked-models` (commit 3cd8020, Apache-2.0): ids and dates, no notes.
Each corrected launch is replayed through the real tracker and `HubClient` against the
Hub stand-in: its repo is created privately as many days before the launch as ATOM says,
in a lab that publishes several public repos a day meanwhile, and turns public at the
launch. Every one must be alerted once, dated when the radar first saw it public, within
the README's guarantee. Figures are printed on failure.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.hub.client import HubClient
from bot.radar.models import ModelRecord, Release
from bot.radar.releases import place_in_release
from bot.runtime import Core, build_core
from bot.store import MemoryStore
from tests.conftest import ManualClock, settings_for, track_only
from tests.doubles.hub_fixtures import B, model_json
from tests.doubles.hub_server import HubStandIn

pytestmark = pytest.mark.realdata

DATA = Path(__file__).resolve().parents[1] / "data" / "atom"
POLL_SECONDS = 300  # the default poll interval: the guarantee is stated for it
POLL = timedelta(seconds=POLL_SECONDS)
NOISE_PER_DAY = 4
NOISE_TASKS = ("feature-extraction", "automatic-speech-recognition", "image-segmentation")
FLIP = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def corrections() -> list[tuple[str, date, date]]:
    """(model id, Hub createdAt day, actual public release day) for each ATOM row."""
    with (DATA / "release_date_corrections.csv").open(encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return [
        (row["model_id"], date.fromisoformat(row["hf_created_at"]),
         date.fromisoformat(row["actual_release_date"]))
        for row in csv.DictReader(lines)
    ]  # fmt: skip


def atom_ids() -> set[str] | None:
    """ATOM's mainline ids, when the `models.csv` fixture is present (issue 9, registry)."""
    path = DATA / "models.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return {row["modelId"] for row in csv.DictReader(lines)}


@pytest.fixture
def world(hub: HubStandIn, tmp_path: Path) -> Iterator[tuple[Core, ManualClock]]:
    clock = ManualClock(FLIP - timedelta(days=40))
    hub.visibility_clock = clock
    client = HubClient(hub.url, timeout=5.0, max_retries=1, sleep=lambda _s: None)
    settings = settings_for(hub.url, tmp_path, poll_interval_seconds=POLL_SECONDS)
    core = build_core(settings, store=MemoryStore(), hub=client, clock=clock)
    yield core, clock
    core.close()


def test_every_backdated_launch_is_alerted_once_dated_when_first_seen_public(
    hub: HubStandIn, world: tuple[Core, ManualClock]
) -> None:
    """All 40 corrected launches turn public at the same moment (each in its own lab's
    stream, created as many days early as ATOM records: up to 33), while each lab
    publishes NOISE_PER_DAY public repos a day. The newest listing shows the launches
    created a few days early; the full rotation must find the rest."""
    core, clock = world
    rows = corrections()
    labs = sorted({repo_id.split("/")[0] for repo_id, _c, _r in rows})
    track_only(core.registry, core.store, labs)
    for lab in labs:
        if core.registry.resolve(lab) is None:  # tracked here to replay its launch
            core.registry.track(core.store, lab, None)
    core.store.commit()
    early: dict[str, int] = {}
    for repo_id, created, released in rows:
        days = max(0, (released - created).days)
        early[repo_id] = days
        hub.add_private_until(
            model_json(repo_id, created_at=FLIP - timedelta(days=days), params=30 * B, likes=500),
            FLIP,
        )
    for lab in labs:
        for day in range(40):
            hub.add_many(
                model_json(
                    f"{lab}/Research-Tool-{day}-{index}",
                    created_at=FLIP - timedelta(days=40 - day, hours=-index),
                    pipeline_tag=NOISE_TASKS[index % len(NOISE_TASKS)],
                    params=300_000_000,
                )
                for index in range(NOISE_PER_DAY)
            )

    core.tracker.poll_cycle()  # first look: the labs' public repos are history
    while clock() < FLIP - timedelta(hours=12):  # the weeks before: a poll every 12 h
        clock.advance(hours=12)
        assert core.tracker.poll_cycle().events == []
    clock.now = FLIP - timedelta(minutes=1)
    core.tracker.poll_cycle()
    guarantee = core.tracker.full_listing_interval + POLL
    events = []
    while clock() < FLIP + guarantee:
        clock.advance(seconds=POLL.total_seconds())
        events += [(clock(), event) for event in core.tracker.poll_cycle().events]

    announced: dict[str, list[datetime]] = defaultdict(list)
    for at, event in events:
        for member in event.new_members:
            announced[member].append(at)
    problems = []
    for repo_id, _created, _released in rows:
        record = core.store.models.get(repo_id.lower())
        times = announced.get(repo_id, [])
        if len(times) != 1 or record is None or record.first_seen != times[0]:
            problems.append(
                f"{repo_id} ({early[repo_id]} d early): alerted at "
                f"{[str(t - FLIP) for t in times]}, first seen "
                f"{record.first_seen - FLIP if record else None}, "
                f"verdict {record.reasons if record else None}"
            )
    latest = max((t for times in announced.values() for t in times), default=FLIP) - FLIP
    print(
        f"{len(rows)} launches, {sum(1 for d in early.values() if d > 0)} created early "
        f"(median {sorted(early.values())[len(early) // 2]} d, max {max(early.values())} d); "
        f"alerted {len(announced)} repos, the last {latest} after turning public"
    )
    assert not problems, "\n".join(problems)
    assert latest <= guarantee
    new_releases = [event for _at, event in events if event.kind == "new_release"]
    assert len({event.release.id for event in new_releases}) == len(new_releases)


# ------------------------------------------------------------------ launches in time

# Launches from public record: (ATOM ids, launch day). Every set is one release.
SAME_LAUNCH: list[tuple[str, str, list[str]]] = [
    ("mistralai", "2025-12-02", [
        "Mistral-Large-3-675B-Instruct-2512", "Mistral-Large-3-675B-Base-2512",
        "Ministral-3-14B-Instruct-2512", "Ministral-3-14B-Base-2512",
        "Ministral-3-14B-Reasoning-2512", "Ministral-3-8B-Instruct-2512",
        "Ministral-3-3B-Instruct-2512", "Ministral-3-3B-Base-2512",
    ]),
    ("tencent", "2025-06-27", ["Hunyuan-A13B-Instruct", "Hunyuan-A13B-Pretrain"]),
    ("inclusionAI", "2025-08-11", ["GroveMoE-Base", "GroveMoE-Inst"]),
    ("microsoft", "2024-08-20", [
        "Phi-3.5-mini-instruct", "Phi-3.5-MoE-instruct", "Phi-3.5-vision-instruct",
    ]),
    ("microsoft", "2025-02-26", ["Phi-4-mini-instruct", "Phi-4-multimodal-instruct"]),
    ("google", "2025-05-20", ["medgemma-4b-it", "medgemma-27b-text-it"]),
    ("meta-llama", "2024-09-25", [
        "Llama-3.2-1B", "Llama-3.2-1B-Instruct", "Llama-3.2-3B", "Llama-3.2-3B-Instruct",
        "Llama-3.2-11B-Vision", "Llama-3.2-11B-Vision-Instruct", "Llama-3.2-90B-Vision",
        "Llama-3.2-90B-Vision-Instruct",
    ]),
    ("meta-llama", "2025-04-05", [
        "Llama-4-Scout-17B-16E", "Llama-4-Scout-17B-16E-Instruct",
        "Llama-4-Scout-17B-16E-Original", "Llama-4-Maverick-17B-128E",
        "Llama-4-Maverick-17B-128E-Instruct", "Llama-4-Maverick-17B-128E-Instruct-FP8",
        "Llama-4-Maverick-17B-128E-Instruct-Original",
    ]),
    ("google", "2026-04-02", ["gemma-4-E2B-it", "gemma-4-E4B-it", "gemma-4-26B-A4B-it",
                              "gemma-4-31B-it"]),
    ("baidu", "2025-06-30", [
        "ERNIE-4.5-0.3B-PT", "ERNIE-4.5-0.3B-Base-PT", "ERNIE-4.5-21B-A3B-PT",
        "ERNIE-4.5-21B-A3B-Base-PT", "ERNIE-4.5-300B-A47B-PT", "ERNIE-4.5-300B-A47B-Base-PT",
        "ERNIE-4.5-300B-A47B-Base-Paddle",
    ]),
    ("deepseek-ai", "2026-04-24", [
        "DeepSeek-V4-Flash", "DeepSeek-V4-Flash-Base", "DeepSeek-V4-Pro", "DeepSeek-V4-Pro-Base",
    ]),
    ("nvidia", "2025-12-15", [
        "NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "NVIDIA-Nemotron-3-Nano-30B-A3B-Base-BF16",
        "NVIDIA-Nemotron-3-Nano-30B-A3B-FP8",
    ]),
    ("moonshotai", "2025-07-11", ["Kimi-K2-Base", "Kimi-K2-Instruct"]),
    ("allenai", "2025-11-20", [
        "Olmo-3-7B-Instruct", "Olmo-3-7B-Think", "Olmo-3-32B-Think", "Olmo-3-7B-Think-SFT",
        "Olmo-3-7B-Think-DPO",
    ]),
    ("openai", "2025-08-05", ["gpt-oss-120b", "gpt-oss-20b"]),
]  # fmt: skip

# New weights months after a launch of the same family: each is a new release.
LATE_NEW_MODELS: list[tuple[str, str, str]] = [
    ("microsoft/Phi-4-mini-instruct", "2025-02-26", "microsoft/Phi-4-mini-reasoning@2025-04-30"),
    ("baidu/ERNIE-4.5-21B-A3B-PT", "2025-06-30", "baidu/ERNIE-4.5-21B-A3B-Thinking@2025-09-09"),
    ("moonshotai/Kimi-K2-Instruct", "2025-07-11", "moonshotai/Kimi-K2-Thinking@2025-11-06"),
    ("moonshotai/Kimi-K2-Instruct", "2025-07-11", "moonshotai/Kimi-K2-Instruct-0905@2025-09-05"),
    ("google/medgemma-4b-it", "2025-05-20", "google/medgemma-27b-it@2025-07-09"),
]
# Official format builds by the lab itself, published weeks later: each joins as an update.
LATE_FORMAT_BUILDS: list[tuple[str, str, str]] = [
    ("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "2025-12-15",
     "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4@2026-01-28"),
    ("mistralai/Ministral-3-3B-Instruct-2512", "2025-12-02",
     "mistralai/Ministral-3-3B-Instruct-2512-ONNX@2026-01-20"),
    ("tencent/Hunyuan-A13B-Instruct", "2025-06-27", "tencent/Hunyuan-A13B-Instruct-FP8@2025-08-04"),
    ("Qwen/Qwen3-235B-A22B-Instruct-2507", "2025-07-21",
     "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8@2025-09-01"),
]  # fmt: skip


def day(text: str, hours: float = 9) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) + timedelta(hours=hours)


def place_all(records: list[ModelRecord], core: Core) -> dict[str, Release]:
    """Records through `place_in_release` as the tracker does, each lab's releases kept."""
    releases: dict[str, Release] = {}
    for record in sorted(records, key=lambda r: r.first_seen):
        lab = core.registry.resolve(record.author)
        placed = place_in_release(
            record, lab, releases.values(), now=record.first_seen,
            window=core.tracker.release_window, reasons=["r"],
        )  # fmt: skip
        releases[placed.release.id] = placed.release
    return releases


@pytest.fixture
def registry_core(hub: HubStandIn, tmp_path: Path) -> Iterator[Core]:
    client = HubClient(hub.url, timeout=2.0, max_retries=0, sleep=lambda _s: None)
    settings = settings_for(hub.url, tmp_path, poll_interval_seconds=POLL_SECONDS)
    core = build_core(settings, store=MemoryStore(), hub=client)
    yield core
    core.close()


def test_ids_come_from_atom() -> None:
    known = atom_ids()
    if known is None:
        pytest.skip("tests/data/atom/models.csv not present")
    ids = [f"{lab}/{name}" for lab, _d, names in SAME_LAUNCH for name in names]
    ids += [late.split("@")[0] for _m, _d, late in LATE_NEW_MODELS + LATE_FORMAT_BUILDS]
    assert sorted(set(ids) - known) == []


def test_same_launch_sets_are_one_release_each(registry_core: Core) -> None:
    """Members first seen over a launch day (some hours apart) group into one release."""
    assert len(SAME_LAUNCH) >= 10
    problems = []
    for lab, launch_day, names in SAME_LAUNCH:
        records = [
            ModelRecord(
                id=f"{lab}/{name}", author=lab, first_seen=day(launch_day, hours=index * 1.5)
            )
            for index, name in enumerate(names)
        ]
        releases = place_all(records, registry_core)
        if len(releases) != 1:
            problems.append(
                f"{lab} {launch_day}: {len(releases)} releases "
                f"{[(r.title, r.members) for r in releases.values()]}"
            )
    print(f"{len(SAME_LAUNCH) - len(problems)} of {len(SAME_LAUNCH)} launches are one release")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("member", "launch_day", "late"), LATE_NEW_MODELS)
def test_late_new_weights_are_a_new_release(
    registry_core: Core, member: str, launch_day: str, late: str
) -> None:
    late_id, late_day = late.split("@")
    releases = place_all(
        [
            ModelRecord(id=member, author=member.split("/")[0], first_seen=day(launch_day)),
            ModelRecord(id=late_id, author=late_id.split("/")[0], first_seen=day(late_day)),
        ],
        registry_core,
    )
    assert len(releases) == 2, [(r.title, r.members) for r in releases.values()]


@pytest.mark.parametrize(("member", "launch_day", "late"), LATE_FORMAT_BUILDS)
def test_late_official_format_builds_join(
    registry_core: Core, member: str, launch_day: str, late: str
) -> None:
    late_id, late_day = late.split("@")
    releases = place_all(
        [
            ModelRecord(id=member, author=member.split("/")[0], first_seen=day(launch_day)),
            ModelRecord(id=late_id, author=late_id.split("/")[0], first_seen=day(late_day)),
        ],
        registry_core,
    )
    assert [r.members for r in releases.values()] == [[member, late_id]]
