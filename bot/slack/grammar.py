"""The `/radar` grammar: text in, a typed command out, or a `UsageError` that says what to type.

Parsing is kept apart from the listeners so every typo path is a plain unit test, and so
the listener stays "parse, call the domain, render".
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.radar.countries import parse_country
from bot.radar.filters import FilterError, parse_filters
from bot.radar.labs import LabRegistry
from bot.radar.models import Filters
from bot.radar.vocabulary import WEEKDAY_NAMES

MAX_TEXT = 2000  # longer input is refused before parsing, never echoed back whole
NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")
DURATION = re.compile(r"^(\d{1,4})\s*(m|min|h|d|w)$", re.IGNORECASE)
HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
STATS_WINDOWS = {"7d": 7, "30d": 30, "90d": 90}
WEEKDAY_WORDS = tuple(name.lower() for name in WEEKDAY_NAMES)  # what people may type
MAX_MUTE = timedelta(days=365)
_REGION_VIEW = frozenset(
    {"region", "regions", "race", "us", "usa", "china", "eu", "europe", "other", "world"}
)


class UsageError(Exception):
    """Bad input; `str(exc)` is the friendly sentence, `usage` the form to type."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Help:
    not_understood: str | None = None


@dataclass(frozen=True)
class Latest:
    count: int = 10
    filters: Filters = field(default_factory=Filters)


@dataclass(frozen=True)
class Compare:
    queries: tuple[str, ...]


@dataclass(frozen=True)
class Stats:
    days: int = 30


@dataclass(frozen=True)
class Adoption:
    """`adoption [<release or model> | <lab> | region]`; no target: the regions."""

    target: str | None = None


@dataclass(frozen=True)
class Subscribe:
    filters: Filters


@dataclass(frozen=True)
class Unsubscribe:
    target: str


@dataclass(frozen=True)
class ListSubscriptions:
    pass


@dataclass(frozen=True)
class MuteLab:
    org: str
    duration: timedelta | None


@dataclass(frozen=True)
class UnmuteLab:
    org: str


@dataclass(frozen=True)
class DigestNow:
    pass


@dataclass(frozen=True)
class DigestWeekly:
    weekday: int
    time: str
    timezone: str | None


@dataclass(frozen=True)
class DigestOff:
    pass


@dataclass(frozen=True)
class Labs:
    country: str | None


@dataclass(frozen=True)
class Track:
    namespace: str
    country: str


@dataclass(frozen=True)
class Untrack:
    namespace: str


RadarCommand = (
    Help
    | Latest
    | Compare
    | Stats
    | Adoption
    | Subscribe
    | Unsubscribe
    | ListSubscriptions
    | MuteLab
    | UnmuteLab
    | DigestNow
    | DigestWeekly
    | DigestOff
    | Labs
    | Track
    | Untrack
)

USAGE = {
    "latest": "latest [N] [filters]  (N from 1 to 25)",
    "compare": "compare <model> <model> [<model>]",
    "stats": "stats [7d|30d|90d]",
    "adoption": "adoption [<release or model> | <lab> | region]",
    "subscribe": "subscribe [filters]",
    "unsubscribe": "unsubscribe <id|all>",
    "mute": "mute <org> [<duration> like 7d or 12h]",
    "unmute": "unmute <org>",
    "digest": "digest now | digest weekly <mon..sun> <HH:MM> [<IANA timezone>] | digest off",
    "labs": "labs [country]",
    "track": "track <namespace> <country>",
    "untrack": "untrack <namespace>",
}


def tokenize(text: str) -> list[str]:
    """Shell-like words (quotes group), falling back to whitespace on unbalanced quotes."""
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2018", "'")
    text = text.replace("\u2019", "'")
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def parse_radar(text: str, registry: LabRegistry) -> RadarCommand:
    if len(text) > MAX_TEXT:
        raise UsageError(f"That is {len(text):,} characters; commands are much shorter.")
    words = tokenize(text.strip())
    if not words:
        return Help()
    verb, args = words[0].lower(), words[1:]
    parser = _PARSERS.get(verb)
    if parser is None:
        return Help(not_understood=words[0])
    return parser(args, registry)


def parse_duration(text: str) -> timedelta:
    match = DURATION.match(text.strip())
    if not match:
        raise UsageError(f"`{text}` is not a duration.", "a number and a unit: 30m, 12h, 7d, 2w")
    amount, unit = int(match.group(1)), match.group(2).lower()
    delta = {
        "m": timedelta(minutes=amount),
        "min": timedelta(minutes=amount),
        "h": timedelta(hours=amount),
        "d": timedelta(days=amount),
        "w": timedelta(weeks=amount),
    }[unit]
    if delta <= timedelta(0) or delta > MAX_MUTE:
        raise UsageError(f"`{text}` is out of range.", "between 1m and 365d")
    return delta


def _filters(args: list[str], registry: LabRegistry, verb: str) -> Filters:
    try:
        return parse_filters(args, registry)
    except FilterError as exc:
        raise UsageError(str(exc), USAGE[verb]) from None


def _latest(args: list[str], registry: LabRegistry) -> Latest:
    count = 10
    if args and args[0].lstrip("-").isdigit():
        count = int(args[0])
        if not 1 <= count <= 25:
            raise UsageError(f"I can list 1 to 25 releases, not {count}.", USAGE["latest"])
        args = args[1:]
    return Latest(count=count, filters=_filters(args, registry, "latest"))


def _compare(args: list[str], _registry: LabRegistry) -> Compare:
    if not 2 <= len(args) <= 3:
        raise UsageError(
            f"Compare takes two or three models, you gave {len(args)}.",
            USAGE["compare"] + '  (quote free text: "deepseek r1")',
        )
    return Compare(queries=tuple(args))


def _stats(args: list[str], _registry: LabRegistry) -> Stats:
    if not args:
        return Stats()
    window = args[0].lower()
    if len(args) > 1 or window not in STATS_WINDOWS:
        raise UsageError(f"`{' '.join(args)}` is not a time window.", USAGE["stats"])
    return Stats(days=STATS_WINDOWS[window])


def _adoption(args: list[str], _registry: LabRegistry) -> Adoption:
    target = " ".join(args).strip()
    if len(target) > 200:
        raise UsageError("That is far longer than any release, model or lab name.",
                         USAGE["adoption"])  # fmt: skip
    if not target or target.lower() in _REGION_VIEW:
        return Adoption()  # the regions side by side (one region alone is half the story)
    return Adoption(target=target)


def _subscribe(args: list[str], registry: LabRegistry) -> Subscribe:
    return Subscribe(filters=_filters(args, registry, "subscribe"))


def _unsubscribe(args: list[str], _registry: LabRegistry) -> Unsubscribe:
    if len(args) != 1:
        raise UsageError("Tell me which subscription to remove.", USAGE["unsubscribe"])
    return Unsubscribe(target=args[0])


def _subscriptions(args: list[str], _registry: LabRegistry) -> ListSubscriptions:
    return ListSubscriptions()


def namespace(text: str, verb: str) -> str:
    """A Hugging Face namespace (`org:` and slashes forgiven), typed or from a button."""
    text = text.removeprefix("org:").strip("/")
    if not NAMESPACE.match(text):
        shown = text if len(text) <= 100 else text[:100] + "…"
        raise UsageError(f"`{shown}` is not a Hugging Face namespace.", USAGE[verb])
    return text


def lab_namespace(text: str, registry: LabRegistry, verb: str) -> str:
    """The lab a user names (by any of its namespaces) as its canonical namespace; the
    namespace itself for a lab the radar does not track. `/radar mute` and the alerts'
    "Mute lab" button both go through here, so a button cannot store what typing cannot."""
    org = namespace(text, verb)
    lab = registry.resolve(org)
    return lab.namespace if lab else org


def model_query(text: str) -> str:
    """What `/model` (or a model button) asks for: stripped, present, of a sane length."""
    query = text.strip()
    if not query:
        raise UsageError("Tell me which model.", "a repo id like `org/name`, or a few words")
    if len(query) > MAX_TEXT:
        raise UsageError("That is far longer than any model name.")
    return query


def _mute(args: list[str], registry: LabRegistry) -> MuteLab:
    if not 1 <= len(args) <= 2:
        raise UsageError("Tell me which lab to mute.", USAGE["mute"])
    org = lab_namespace(args[0], registry, "mute")
    duration = parse_duration(args[1]) if len(args) == 2 else None
    return MuteLab(org=org, duration=duration)


def _unmute(args: list[str], registry: LabRegistry) -> UnmuteLab:
    if len(args) != 1:
        raise UsageError("Tell me which lab to unmute.", USAGE["unmute"])
    return UnmuteLab(org=lab_namespace(args[0], registry, "unmute"))


def _weekday(text: str) -> int | None:
    """Monday is 0. Any start of a day's name from three letters ("tue", "Thurs") counts,
    so "monkey" is not read as Monday."""
    word = text.lower()
    if len(word) < 3:
        return None
    for index, name in enumerate(WEEKDAY_WORDS):
        if name.startswith(word):
            return index
    return None


def _digest(args: list[str], _registry: LabRegistry) -> DigestNow | DigestWeekly | DigestOff:
    mode = args[0].lower() if args else ""
    if mode == "now" and len(args) == 1:
        return DigestNow()
    if mode == "off" and len(args) == 1:
        return DigestOff()
    if mode == "weekly" and 3 <= len(args) <= 4:
        day = _weekday(args[1])
        if day is None:
            raise UsageError(f"`{args[1]}` is not a day of the week.", USAGE["digest"])
        time_match = HHMM.match(args[2])
        if not time_match:
            raise UsageError(f"`{args[2]}` is not a time like 09:00.", USAGE["digest"])
        timezone = args[3] if len(args) == 4 else None
        if timezone is not None:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise UsageError(
                    f"`{timezone}` is not an IANA timezone.",
                    "for example Europe/Paris, America/New_York, Asia/Shanghai, UTC",
                ) from None
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        return DigestWeekly(weekday=day, time=f"{hour:02d}:{minute:02d}", timezone=timezone)
    raise UsageError("I did not understand that digest setting.", USAGE["digest"])


def _labs(args: list[str], _registry: LabRegistry) -> Labs:
    if not args:
        return Labs(country=None)
    country = parse_country(" ".join(args))
    if country is None:
        raise UsageError(f"`{' '.join(args)}` is not a country I know.", USAGE["labs"])
    return Labs(country=country)


def _track(args: list[str], _registry: LabRegistry) -> Track:
    if len(args) < 2:
        raise UsageError("Tell me the namespace and the lab's country.", USAGE["track"])
    name = namespace(args[0], "track")
    country = parse_country(" ".join(args[1:]))
    if country is None:
        raise UsageError(f"`{' '.join(args[1:])}` is not a country I know.", USAGE["track"])
    return Track(namespace=name, country=country)


def _untrack(args: list[str], _registry: LabRegistry) -> Untrack:
    if len(args) != 1:
        raise UsageError("Tell me which namespace to stop tracking.", USAGE["untrack"])
    return Untrack(namespace=namespace(args[0], "untrack"))


_PARSERS = {
    "help": lambda args, registry: Help(),
    "latest": _latest,
    "compare": _compare,
    "stats": _stats,
    "adoption": _adoption,
    "subscribe": _subscribe,
    "unsubscribe": _unsubscribe,
    "subscriptions": _subscriptions,
    "mute": _mute,
    "unmute": _unmute,
    "digest": _digest,
    "labs": _labs,
    "track": _track,
    "untrack": _untrack,
}
