"""`radar poll | model | digest | adoption | labs`: printing what the radar knows.

Each takes the wired `Core` (`bot.runtime.build_core`) and prints for people, or with
`--json` the shapes scripts rely on (`bot.textview`). `bot.cli` parses the command line,
builds the core and calls these; their return value is the exit code.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from bot.cli import EXIT_ERROR, EXIT_OK
from bot.radar.ports import SourceError

if TYPE_CHECKING:
    from bot.runtime import Core

MAX_ERRORS_SHOWN = 5


# ----------------------------------------------------------------------------- poll


def poll_command(core: Core, as_json: bool, out: TextIO, err: TextIO) -> int:
    from bot.runtime import poll_once
    from bot.textview import event_json, event_text, filtered_counts, filtered_text, plural

    known = set(core.store.models.keys())
    report = poll_once(core)  # as serve's scheduler does: cron installs get counts, adoption
    for event in report.events:
        if as_json:
            print(json.dumps(event_json(event)), file=out)
        else:
            print(event_text(event, core.service.members(event.release)), file=out)
            print(file=out)
    if report.errors:
        failed = list(report.errors.items())
        shown = "; ".join(f"{source}: {error}" for source, error in failed[:MAX_ERRORS_SHOWN])
        more = (
            f" (+{len(failed) - MAX_ERRORS_SHOWN} more)" if len(failed) > MAX_ERRORS_SHOWN else ""
        )
        print(
            f"radar: {len(failed)} of {report.sources} Hub listings failed: {shown}{more}",
            file=err,
        )
    if as_json:
        return EXIT_ERROR if report.status == "failed" else EXIT_OK

    ids = core.store.models.keys()
    fresh = list(core.store.models.get_many(key for key in ids if key not in known).values())
    history = len(fresh) - report.new_repos
    created = sum(1 for event in report.events if event.kind == "new_release")
    updated = len(report.events) - created
    if report.bootstrapped:
        print(
            f"First look at {plural(len(report.bootstrapped), 'lab namespace')}: "
            f"{plural(history, 'existing repo')} recorded silently, no alerts for history. "
            "The next poll reports what is new.",
            file=out,
        )
    print(
        f"Poll {report.status}: {plural(report.new_repos, 'new repo')}, "
        f"{plural(created, 'new release')}, {plural(updated, 'updated release')}.",
        file=out,
    )
    counts = filtered_counts(record for record in fresh if record.first_seen >= report.started_at)
    if counts:
        print(filtered_text(counts, indent=""), file=out)
    return EXIT_ERROR if report.status == "failed" else EXIT_OK


def progress_printer(err: TextIO) -> Callable[[int, int], None] | None:
    """`polling 12/81 sources…` on one rewritten line, only when a person is watching."""
    isatty = getattr(err, "isatty", None)
    if isatty is None or not isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\rpolling {done}/{total} Hub listings…", end=end, file=err, flush=True)

    return show


# ---------------------------------------------------------------------------- model


def model_command(
    core: Core, query: str, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    from bot.textview import model_json, model_text

    try:
        lookup = core.service.lookup_model(query, use_hub=not args.offline)
    except SourceError as exc:  # lookup_model degrades on its own; this is a safety net
        print(f"radar: the Hub could not be asked: {exc}", file=err)
        return EXIT_ERROR
    if args.json:
        print(json.dumps(model_json(lookup)), file=out)
    else:
        print(model_text(lookup, hub_url=core.settings.hf_endpoint), file=out)
    return EXIT_OK if lookup.found else EXIT_ERROR


# --------------------------------------------------------------------------- digest


def digest_command(core: Core, days: int, as_json: bool, out: TextIO) -> int:
    from bot.radar.digest import build_digest
    from bot.textview import digest_json, digest_text

    digest = build_digest(core.store, now=core.clock(), days=days)
    if as_json:
        print(json.dumps(digest_json(digest)), file=out)
    else:
        print(digest_text(digest, core.service.members), file=out)
    return EXIT_OK


# ------------------------------------------------------------------------- adoption


def adoption_command(core: Core, as_json: bool, out: TextIO) -> int:
    from bot.radar.adoption import adoption_rows

    rows = adoption_rows(core.store, core.clock())
    for row in rows:
        if as_json:
            print(json.dumps(row), file=out)
            continue
        score = row["adoption_score"]
        standing = (
            f"#{row['rank_in_class']} of {row['class_size']} {row['size_class']}, "
            f"score {score:.2f}"
            if score is not None
            else "no score (launch not seen, size unknown, or no snapshot yet)"
        )
        downloads = row["downloads_since_first_seen"]
        print(
            f"{row['release_id']}  day {row['days'] if row['days'] is not None else '?'}  "
            f"{downloads if downloads is not None else '?'} downloads since first seen  "
            f"{standing}",
            file=out,
        )
    if not rows and not as_json:
        print("No releases recorded yet: run `radar poll` first.", file=out)
    return EXIT_OK


# ----------------------------------------------------------------------------- labs


def country_filter(words: Sequence[str]) -> tuple[str | None, str | None]:
    """(ISO code or None for all labs, error message or None)."""
    from bot.radar.countries import parse_country

    text = " ".join(words).strip()
    if not text:
        return None, None
    code = parse_country(text)
    if code is None:
        return None, (
            f"radar: `{text}` is not a country I know; try an ISO code or a name, "
            "e.g. `radar labs CN`, `radar labs france`, `radar labs united states`"
        )
    return code, None


def labs_command(core: Core, country: str | None, as_json: bool, out: TextIO) -> int:
    from bot.textview import labs_json, labs_text

    labs = core.registry.labs(country)
    if as_json:
        print(json.dumps(labs_json(labs)), file=out)
    else:
        print(labs_text(labs, country), file=out)
    return EXIT_OK
