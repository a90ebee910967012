"""The radar's records: plain pydantic types shared by every layer.

These types know nothing of Slack, HTTP or TinyDB. Storage persists them with
`model_dump(mode="json")` and reads them back with `model_validate`, so every field must
be JSON-friendly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already (how the store writes them)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Region(StrEnum):
    US = "us"
    CHINA = "china"
    EU = "eu"
    OTHER = "other"


class LicenseClass(StrEnum):
    PERMISSIVE = "permissive"
    RESTRICTED = "restricted"
    NON_COMMERCIAL = "non-commercial"
    UNKNOWN = "unknown"


class Openness(StrEnum):
    WEIGHTS = "open weights"
    OPEN_SOURCE = "weights + data + code"
    UNKNOWN = "unknown"


class Record(BaseModel):
    """Base for everything the store keeps; `key` is the primary key in its collection."""

    model_config = ConfigDict(extra="ignore", validate_assignment=False)

    @property
    def key(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


class Lab(Record):
    """A lab we track, keyed by its canonical Hugging Face namespace."""

    namespace: str
    name: str
    country: str | None = None  # ISO 3166 alpha-2
    region: Region = Region.OTHER
    tier: int = Field(default=2, ge=1, le=3)
    aliases: list[str] = Field(default_factory=list)
    # Aliases that still publish new repos, so they are listed too: an alias says "same
    # lab", not "stopped publishing" (THUDM for zai-org, AIDC-AI for ATH-MaaS …).
    listed_aliases: list[str] = Field(default_factory=list)
    source: Literal["builtin", "user"] = "builtin"
    removed: bool = False  # a user "untrack" of a built-in lab

    @property
    def key(self) -> str:
        return self.namespace.lower()


class ModelRecord(Record):
    """One Hub repo as the radar knows it, with the facts we display."""

    id: str
    author: str
    hub_oid: str | None = None  # the Hub's `_id`: the same across a namespace rename
    lab: str | None = None  # canonical lab namespace when tracked
    first_seen: datetime
    created_at: datetime | None = None
    last_modified: datetime | None = None
    sha: str | None = None
    private: bool = False
    pipeline_tag: str | None = None
    library_name: str | None = None
    tags: list[str] = Field(default_factory=list)
    base_models: list[str] = Field(default_factory=list)
    license: str | None = None
    license_name: str | None = None
    license_class: LicenseClass = LicenseClass.UNKNOWN
    gated: bool = False
    openness: Openness = Openness.UNKNOWN
    params_total: int | None = None
    params_active: int | None = None
    # "8x22B" names: experts and the size of each, kept when no total is known (never
    # multiplied; `vocabulary.size_text` words them "8×22B").
    params_experts: int | None = None
    params_expert_size: int | None = None
    downloads: int = 0
    downloads_all_time: int | None = None
    likes: int = 0
    trending_score: float | None = None
    children: dict[str, int] = Field(default_factory=dict)
    detailed: bool = False  # True once a detail call filled the facts
    notable: bool = False
    reasons: list[str] = Field(default_factory=list)
    release_id: str | None = None

    @property
    def key(self) -> str:
        return self.id.lower()

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[-1]


class Release(Record):
    """A notable release: one lab's family of repos first seen together (72 h window)."""

    id: str
    lab: str  # canonical lab namespace, or the raw author for a breakout
    lab_name: str
    country: str | None = None
    region: Region | None = None
    title: str
    stem: str
    members: list[str] = Field(default_factory=list)
    first_seen: datetime
    updated_at: datetime
    reasons: list[str] = Field(default_factory=list)
    breakout: bool = False

    @property
    def key(self) -> str:
        return self.id


def lead_member(members: Sequence[ModelRecord]) -> ModelRecord | None:
    """The member that stands for a release (its list link, its "Model details" card).

    The largest by total parameters; among equal or unknown sizes the most downloaded; then
    the first listed. One rule, so every surface opens the same model.
    """
    best: ModelRecord | None = None
    for member in members:
        if best is None or (member.params_total or 0, member.downloads) > (
            best.params_total or 0,
            best.downloads,
        ):
            best = member
    return best


class Filters(BaseModel):
    """Subscription filters; all present criteria must match (OR within one criterion)."""

    orgs: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    regions: list[Region] = Field(default_factory=list)
    min_params_b: float | None = None
    tasks: list[str] = Field(default_factory=list)
    follow_ups: bool = True  # `follow-ups:off`: no day-7/30/90 adoption replies in threads

    def canonical(self) -> str:
        """A stable text form, so the same filters given twice are one subscription."""
        parts = [f"org:{o.lower()}" for o in sorted(set(self.orgs), key=str.lower)]
        parts += [f"country:{c.upper()}" for c in sorted(set(self.countries))]
        parts += [f"region:{r.value}" for r in sorted(set(self.regions))]
        if self.min_params_b is not None:
            parts.append(f"min-params:{self.min_params_b:g}B")
        parts += [f"task:{t}" for t in sorted(set(self.tasks))]
        if not self.follow_ups:
            parts.append("follow-ups:off")
        return " ".join(parts)

    @property
    def is_empty(self) -> bool:
        return not self.canonical()


def workspace_key(team_id: str, *parts: str) -> str:
    """A per-channel record's key: the workspace first when there is one.

    The single-workspace key `""` leaves the key exactly as it was before workspaces
    existed, so an older database reads unchanged; a Slack Connect channel seen from two
    workspaces (one channel id) gets two independent keys.
    """
    return "|".join((team_id, *parts) if team_id else parts)


class Subscription(Record):
    id: str
    channel_id: str
    team_id: str = ""  # the workspace key (`bot.slack.workspaces`); "" in single mode
    filters: Filters = Field(default_factory=Filters)
    created_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    paused_reason: str | None = None  # set when Slack says the channel is unusable

    @property
    def key(self) -> str:
        return workspace_key(self.team_id, self.id)


class Mute(Record):
    channel_id: str
    team_id: str = ""
    lab: str  # canonical namespace, lower-cased
    until: datetime | None = None  # None: until unmuted
    created_by: str | None = None

    @property
    def key(self) -> str:
        return workspace_key(self.team_id, self.channel_id, self.lab.lower())

    def active(self, now: datetime) -> bool:
        return self.until is None or self.until > now


class DigestSchedule(Record):
    channel_id: str
    team_id: str = ""
    weekday: int = Field(default=0, ge=0, le=6)  # Monday = 0
    time: str = "09:00"
    timezone: str = "UTC"
    enabled: bool = True
    last_sent_period: str | None = None  # ISO date of the last digest's scheduled local day

    @property
    def key(self) -> str:
        return workspace_key(self.team_id, self.channel_id)


# `failed`: the deliverer gave up after `MAX_ATTEMPTS` transient failures; the row ends
# there (its reason in `last_error`) so the channel's later alerts are not held behind it.
DeliveryStatus = Literal["pending", "posting", "sent", "paused", "dropped", "failed"]


class Delivery(Record):
    """The outbox row for one (channel, release): written before posting, marked after."""

    channel_id: str
    release_id: str
    team_id: str = ""  # the workspace whose client posts it
    status: DeliveryStatus = "pending"
    ts: str | None = None  # Slack message ts once posted
    posted_members: list[str] = Field(default_factory=list)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # An adoption follow-up (a thread reply at day 7, 30 or 90) rides the same outbox:
    # its own row per (channel, release, day), replying in the alert's thread.
    follow_up_day: int | None = None
    thread_ts: str | None = None

    @property
    def key(self) -> str:
        return delivery_key(
            self.channel_id, self.release_id, self.follow_up_day, team_id=self.team_id
        )


def delivery_key(
    channel_id: str, release_id: str, follow_up_day: int | None = None, *, team_id: str = ""
) -> str:
    """An outbox row's key: one alert per (workspace, channel, release), one follow-up per
    day."""
    if follow_up_day is not None:
        return workspace_key(team_id, channel_id, release_id, f"d{follow_up_day}")
    return workspace_key(team_id, channel_id, release_id)


class StateEntry(Record):
    """Small named documents: poll state per lab, last poll status, schema notes."""

    name: str
    value: dict = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.name


class AdoptionSeries(Record):
    """Daily snapshots of one release's (or one tracked lab's) Hub downloads.

    `days` are UTC epoch day numbers (ascending, real snapshots only: gaps are interpolated
    when read, never stored); `totals` the summed `downloadsAllTime` of the release's
    members (of the lab's most downloaded models) on those days; `recent` the summed
    30-day `downloads` (labs only). Old points are thinned (see `bot.radar.adoption.thin`).
    """

    id: str  # "release:<release id>" or "lab:<namespace>"
    kind: Literal["release", "lab"]
    region: Region | None = None
    start_day: int  # release: the UTC day first seen; lab: the first snapshot's day
    from_launch: bool = False  # the radar saw the release go public (day-0 baseline)
    offset: int = 0  # downloadsAllTime of the members when first seen (not "since")
    members: list[str] = Field(default_factory=list)  # lower ids counted so far
    days: list[int] = Field(default_factory=list)
    totals: list[int] = Field(default_factory=list)
    recent: list[int] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return self.id


class ReleaseEvent(BaseModel):
    """What a poll cycle hands to the delivery layer."""

    kind: Literal["new_release", "release_updated"]
    release: Release
    new_members: list[str] = Field(default_factory=list)


class HubRepo(BaseModel):
    """A repo as one Hub call reported it. Fields the call did not include stay None.

    The Hub client turns raw JSON into this shape (tolerating missing and mistyped fields);
    the domain never sees raw JSON.
    """

    id: str
    author: str
    hub_oid: str | None = None  # `_id`: kept when the Hub moves a repo to a new namespace
    created_at: datetime | None = None
    last_modified: datetime | None = None
    sha: str | None = None
    private: bool = False
    disabled: bool = False
    gated: bool = False
    pipeline_tag: str | None = None
    library_name: str | None = None
    tags: list[str] = Field(default_factory=list)
    downloads: int | None = None
    downloads_all_time: int | None = None
    likes: int | None = None
    trending_score: float | None = None
    card_data: dict = Field(default_factory=dict)
    safetensors_total: int | None = None
    base_models: list[str] = Field(default_factory=list)
    base_model_relation: str | None = None
    children: dict[str, int] | None = None
    detailed: bool = False  # True when it came from GET /api/models/{id}

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[-1]
