"""`radar demo`: a week of releases on a simulated Hub, offline, in a couple of seconds.

The newcomer's question is "what would this bot post in my channel?". The demo answers it
with the real wiring (`build_core`: tracker, policy, release grouping, digest) over a
bundled sample of Hub-shaped records, a memory store and a clock that jumps a day at a
time. Nothing reads tokens, the environment or `.env`, nothing touches the network or the
disk besides reading the sample that ships inside the package.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.config import Settings
from bot.hub.parse import repo_from_json, repos_from_list
from bot.radar.digest import build_digest
from bot.radar.models import HubRepo
from bot.radar.ports import SourceNotFound
from bot.store.memory import MemoryStore
from bot.textview import digest_text, event_text, filtered_counts, filtered_text, plural, when

SAMPLE_RESOURCE = "data/sample/release_week.json"
SORT_FIELDS = {
    "createdAt": "created_at",
    "lastModified": "last_modified",
    "downloads": "downloads",
    "likes": "likes",
    "trendingScore": "trending_score",
}
RELATIONS = ("adapter", "merge", "quantized", "finetune")
# Fields the Hub computes on the detail call only; a listing never carries them.
DETAIL_ONLY_FIELDS = ("baseModels", "childrenModelCount")


@dataclass(frozen=True)
class SampleWeek:
    """The bundled sample: repos with the hour they appear, and when the radar looks."""

    start: datetime
    poll_times: list[datetime]
    digest_time: datetime
    repos: list[dict[str, Any]]  # Hub-shaped JSON, each with "visible_at_hours"

    def visible_at(self, repo: dict[str, Any]) -> datetime:
        return self.start + timedelta(hours=float(repo.get("visible_at_hours", 0)))


def load_sample_week(path: Path | None = None) -> SampleWeek:
    """Read the sample shipped in the package (or another file of the same shape)."""
    if path is None:
        text = resources.files("bot.radar").joinpath(SAMPLE_RESOURCE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    document = json.loads(text)
    start = datetime.fromisoformat(document["start"].replace("Z", "+00:00"))
    return SampleWeek(
        start=start,
        poll_times=[start + timedelta(hours=h) for h in document["poll_hours"]],
        digest_time=start + timedelta(hours=document["digest_hour"]),
        repos=list(document["repos"]),
    )


class DemoClock:
    """A clock the demo moves by hand, shared by the tracker and the simulated Hub."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class SampleHub:
    """A `HubSource` over the sample: a repo exists from its `visible_at_hours` on.

    Listings carry what the Hub's list endpoint carries (no lineage, no derivative counts);
    `get_repo` adds both, computed from the repos visible at that moment, as the Hub does.
    """

    def __init__(self, week: SampleWeek, clock: DemoClock) -> None:
        self._clock = clock
        self._raw = {repo["id"].lower(): repo for repo in week.repos}
        self._visible_from = {key: week.visible_at(repo) for key, repo in self._raw.items()}
        listed = [
            {k: v for k, v in repo.items() if k not in DETAIL_ONLY_FIELDS} for repo in week.repos
        ]
        self._listed = {repo.id.lower(): repo for repo in repos_from_list(listed)}
        self.requests = 0

    def _visible(self) -> list[HubRepo]:
        now = self._clock()
        return [
            repo
            for key, repo in self._listed.items()
            if self._visible_from[key] <= now and not repo.private
        ]

    @staticmethod
    def _sorted(repos: Iterable[HubRepo], sort: str) -> list[HubRepo]:
        field = SORT_FIELDS.get(sort, "created_at")

        def value(repo: HubRepo) -> tuple[bool, Any]:
            current = getattr(repo, field)
            return (current is not None, current if current is not None else 0)

        return sorted(repos, key=value, reverse=True)

    def list_lab_repos(self, author: str, *, limit: int, sort: str = "createdAt") -> list[HubRepo]:
        self.requests += 1
        wanted = author.lower()
        own = [repo for repo in self._visible() if repo.author.lower() == wanted]
        return self._sorted(own, sort)[:limit]

    def list_all(
        self,
        author: str,
        *,
        sort: str = "createdAt",
        max_pages: int = 10,
        page_size: int = 100,
        light: bool = False,
    ) -> list[HubRepo]:
        wanted = author.lower()
        own = self._sorted(
            (repo for repo in self._visible() if repo.author.lower() == wanted), sort
        )
        pages = max(1, -(-len(own) // page_size))
        self.requests += min(pages, max_pages)
        return own[: max_pages * page_size]

    def list_trending(self, *, limit: int) -> list[HubRepo]:
        self.requests += 1
        trending = [repo for repo in self._visible() if (repo.trending_score or 0) > 0]
        return self._sorted(trending, "trendingScore")[:limit]

    def search(self, text: str, *, limit: int) -> list[HubRepo]:
        self.requests += 1
        needle = text.lower()
        hits = [repo for repo in self._visible() if needle in repo.id.lower()]
        return self._sorted(hits, "downloads")[:limit]

    def get_repo(self, repo_id: str) -> HubRepo:
        self.requests += 1
        key = repo_id.lower()
        raw = self._raw.get(key)
        if raw is None or self._visible_from[key] > self._clock() or raw.get("private"):
            raise SourceNotFound(f"{repo_id} is not on the sample Hub")
        detail = dict(raw)
        lineage = _lineage(raw)
        if lineage is not None:
            detail["baseModels"] = lineage
        detail["childrenModelCount"] = self._children(raw["id"])
        return repo_from_json(detail, detailed=True)

    def _children(self, repo_id: str) -> dict[str, int]:
        """Derivative counts: visible repos whose tags name this one as their base."""
        wanted = {f"base_model:{relation}:{repo_id}".lower(): relation for relation in RELATIONS}
        counts: Counter[str] = Counter()
        now = self._clock()
        for key, raw in self._raw.items():
            if self._visible_from[key] > now:
                continue
            for tag in raw.get("tags") or []:
                relation = wanted.get(str(tag).lower())
                if relation:
                    counts[relation] += 1
        return dict(counts)


def _lineage(raw: dict[str, Any]) -> dict[str, Any] | None:
    """`baseModels` as the Hub derives it from `base_model:<relation>:<id>` tags."""
    relation: str | None = None
    bases: list[str] = []
    for tag in raw.get("tags") or []:
        parts = str(tag).split(":", 2)
        if len(parts) == 3 and parts[0] == "base_model" and parts[1] in RELATIONS:
            relation = relation or parts[1]
            if parts[2] not in bases:
                bases.append(parts[2])
    if not bases:
        return None
    return {"relation": relation, "models": [{"id": base} for base in bases]}


class DemoSettings(Settings):
    """Settings from explicit values only: no environment, no `.env`.

    A stray `PORT=abc` or `HF_TOKEN` in the user's shell must neither break the demo nor
    leak into it; the demo behaves the same on every machine.
    """

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def demo_settings() -> Settings:
    return DemoSettings(
        _env_file=None,
        hf_endpoint="https://huggingface.co",
        hf_token=None,
        slack_bot_token=None,
        slack_signing_secret=None,
        slack_app_token=None,
        radar_db_path=Path("demo-uses-memory-only.json"),
        radar_timezone="UTC",
        hub_concurrency=4,
        log_level="WARNING",
    )


def _day_heading(moment: datetime, new_repos: int, alerts: int, filtered: int) -> str:
    summary = (
        f"{plural(new_repos, 'new repo')} seen, {plural(alerts, 'alert')}, {filtered} filtered out"
    )
    return f"── {when(moment)} ── {summary}"


def run_demo(out: TextIO, *, week: SampleWeek | None = None) -> int:
    """Replay the sample week through the real tracker and print what channels would see."""
    from bot.runtime import build_core  # the same wiring as `serve` and `poll`

    week = week or load_sample_week()
    clock = DemoClock(week.start)
    hub = SampleHub(week, clock)
    store = MemoryStore()
    core = build_core(demo_settings(), store=store, hub=hub, clock=clock)
    history = sum(1 for repo in week.repos if week.visible_at(repo) <= week.start)
    arriving = len(week.repos) - history

    def emit(text: str = "") -> None:
        print(text, file=out)

    emit("Open Model Radar · offline demo")
    emit(
        f"A simulated Hub holds {history} repos; {arriving} more appear during one release "
        "week. No tokens, no network, nothing written to disk."
    )
    emit()
    bootstrap = core.tracker.poll_cycle()
    emit(
        f"── {when(week.start)} ── first look at {len(bootstrap.bootstrapped)} lab namespaces "
        f"and the trending list: {plural(len(store.models), 'existing repo')} recorded silently "
        "(no alerts for history)."
    )
    emit()

    week_filtered: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for poll_time in week.poll_times:
        clock.now = poll_time
        known = {record.key for record in store.models.values()}
        report = core.tracker.poll_cycle()
        fresh = [record for record in store.models.values() if record.key not in known]
        filtered = filtered_counts(fresh)
        week_filtered.update(filtered)
        kinds.update(event.kind for event in report.events)
        emit(_day_heading(poll_time, len(fresh), len(report.events), sum(filtered.values())))
        for event in report.events:
            emit()
            emit(event_text(event, core.service.members(event.release)))
        if filtered:
            emit()
            emit(filtered_text(filtered))
        emit()

    seen = sum(1 for record in store.models.values() if record.first_seen >= week.start)
    emit(
        f"The week: {seen} new repos seen, {plural(kinds['new_release'], 'release alert')} and "
        f"{plural(kinds['release_updated'], 'thread update')}."
    )
    emit(filtered_text(week_filtered, indent=""))
    emit()
    clock.now = week.digest_time
    digest = build_digest(store, now=clock(), days=7)
    emit(digest_text(digest, core.service.members))
    emit()
    emit(_next_steps(hub.requests))
    core.close()
    return 0


def _next_steps(requests: int) -> str:
    lines: Sequence[str] = (
        f"(The simulated Hub answered {requests} requests; the real one was never contacted.)",
        "Next: `radar labs` lists the tracked labs, `radar poll` runs one cycle against the",
        "real Hub (the first one records history silently), `radar model qwen3 8b` shows a",
        "model card, and `radar serve` starts the Slack app once the tokens are set.",
    )
    return "\n".join(lines)
