"""Command line: `python -m bot serve | poll | model | digest | labs | demo`.

Every command reads the same settings as the Slack app. Output is for people by default;
`--json` prints the documented shapes for scripts (see README, "Scripting").
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.config import ConfigError, Settings, load_settings
from bot.radar.digest import build_digest
from bot.radar.ports import SourceError
from bot.store.base import StoreError
from bot.textview import digest_text, event_json, event_text, labs_text, model_json, model_text

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="radar",
        description="Open Model Radar: notable open-weight model releases, by lab and country.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "serve", help="run the Slack app (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)"
    )
    poll = sub.add_parser("poll", help="run one poll cycle and print new releases with reasons")
    poll.add_argument("--json", action="store_true", help="one JSON object per event per line")
    model = sub.add_parser("model", help="print the model card of a repo id or free text")
    model.add_argument("query", nargs="+", help="repo id (org/name) or words, e.g. deepseek r1")
    model.add_argument("--json", action="store_true")
    model.add_argument("--offline", action="store_true", help="answer from the database only")
    digest = sub.add_parser("digest", help="print this week's digest")
    digest.add_argument("--days", type=int, default=7, choices=range(1, 91), metavar="1..90")
    digest.add_argument("--json", action="store_true")
    labs = sub.add_parser("labs", help="list tracked labs, optionally of one country")
    labs.add_argument("country", nargs="*", help="ISO code or name: CN, china, us, france …")
    labs.add_argument("--json", action="store_true")
    sub.add_parser("demo", help="an offline run over a bundled sample week: no tokens, no network")
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        return EXIT_USAGE
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(out)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"radar: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from bot.logs import setup_logging

    setup_logging(settings.log_level, _secrets(settings))
    try:
        if args.command == "serve":
            from bot.serve import serve

            return serve(settings)
        return _run_core_command(args, settings, out)
    except StoreError as exc:
        print(f"radar: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _run_core_command(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from bot.runtime import build_core

    progress = _progress_printer() if args.command == "poll" and not args.json else None
    core = build_core(settings, progress=progress)
    try:
        if args.command == "poll":
            return _poll(core, args.json, out)
        if args.command == "model":
            return _model(core, " ".join(args.query), args.json, args.offline, out)
        if args.command == "digest":
            digest = build_digest(core.store, now=core.clock(), days=args.days)
            if args.json:
                print(json.dumps(_digest_json(digest)), file=out)
            else:
                print(digest_text(digest), file=out)
            return EXIT_OK
        if args.command == "labs":
            return _labs(core, " ".join(args.country), args.json, out)
    finally:
        core.close()
    return EXIT_USAGE


def _poll(core, as_json: bool, out: TextIO) -> int:
    report = core.tracker.poll_cycle()
    for event in report.events:
        if as_json:
            print(json.dumps(event_json(event)), file=out)
        else:
            print(event_text(event, core.service.members(event.release)), file=out)
            print(file=out)
    if not as_json:
        summary = (
            f"{report.status}: {report.new_repos} new repos, {len(report.events)} release events"
        )
        if report.bootstrapped:
            summary += f"; first look at {len(report.bootstrapped)} sources recorded silently"
        print(summary, file=out)
        for source, error in report.errors.items():
            print(f"  {source}: {error}", file=sys.stderr)
    return EXIT_OK if report.status != "failed" else EXIT_ERROR


def _model(core, query: str, as_json: bool, offline: bool, out: TextIO) -> int:
    query = query.strip()
    if not query:
        print(
            "radar: give a repo id or some words, e.g. `radar model deepseek r1`", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        lookup = core.service.lookup_model(query, use_hub=not offline)
    except SourceError as exc:  # pragma: no cover - lookup_model already degrades
        print(f"radar: the Hub could not be asked: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if as_json:
        print(json.dumps(model_json(lookup)), file=out)
    else:
        print(model_text(lookup), file=out)
    return EXIT_OK if lookup.found else EXIT_ERROR


def _labs(core, country_text: str, as_json: bool, out: TextIO) -> int:
    from bot.radar.labs import parse_country

    country = None
    if country_text:
        country = parse_country(country_text)
        if country is None:
            print(
                f"radar: `{country_text}` is not a country I know (try CN, US, FR, china)",
                file=sys.stderr,
            )
            return EXIT_USAGE
    labs = core.registry.labs(country)
    if as_json:
        print(json.dumps([lab.model_dump(mode="json") for lab in labs]), file=out)
    else:
        print(labs_text(labs), file=out)
    return EXIT_OK


def _digest_json(digest) -> dict:
    return {
        "period_start": digest.period_start.isoformat(),
        "period_end": digest.period_end.isoformat(),
        "releases": {
            region.value: [r.id for r in releases]
            for region, releases in digest.releases_by_region.items()
        },
        "scoreboard": [
            {
                "region": s.region.value,
                "releases": s.releases,
                "downloads": s.downloads,
                "release_share": s.release_share,
                "download_share": s.download_share,
                "top_release": s.top_release.id if s.top_release else None,
            }
            for s in digest.scoreboard.regions
        ],
        "most_adopted": [{"release_id": r.id, "downloads": d} for r, d in digest.most_adopted],
    }


def _progress_printer():
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\rpolling {done}/{total} sources…", end=end, file=sys.stderr, flush=True)

    return show


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.hf_token,
    ]
    return [v.get_secret_value() for v in values if v is not None]
