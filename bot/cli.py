"""Command line: `radar serve | poll | model | digest | adoption | labs | webhooks | demo | db`
(same as `python -m bot`).

Every command but `demo` reads the same settings as the Slack app. Output is for people by
default; `--json` prints the shapes scripts rely on (see `bot.textview`). Exit codes: 0 ok,
1 the work failed (Hub down, model not found, unusable database), 2 the input or the
configuration is wrong, 130 interrupted. Messages for people go to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from bot.config import ConfigError, Settings, is_postgres_url, load_settings
from bot.radar.ports import SourceError, StoreError

if TYPE_CHECKING:  # imported lazily at run time: `--help` and `demo` need none of it
    from bot.runtime import Core

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_DIGEST_DAYS = 90
MAX_ERRORS_SHOWN = 5
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _days(text: str) -> int:
    """`--days` as a whole number from 1 to 90, with a message people understand."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_DIGEST_DAYS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of days from 1 to {MAX_DIGEST_DAYS}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="radar",
        description="Open Model Radar: notable open-weight model releases, by lab and country.",
        epilog="New here? `radar demo` replays a sample release week offline in a few seconds.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "serve",
        help="run the Slack app (HTTP mode, or Socket Mode with SLACK_APP_TOKEN); "
        "without Slack settings, watch the Hub and print alerts here",
    )
    poll = sub.add_parser("poll", help="run one poll cycle and print new releases with reasons")
    poll.add_argument("--json", action="store_true", help="one JSON object per event per line")
    model = sub.add_parser("model", help="print the model card of a repo id or free text")
    model.add_argument("query", nargs="+", help="repo id (org/name) or words, e.g. qwen3 8b")
    model.add_argument("--json", action="store_true", help="print one JSON object")
    model.add_argument(
        "--offline", action="store_true", help="answer from the database only, never the Hub"
    )
    digest = sub.add_parser("digest", help="print this week's digest and regional scoreboard")
    digest.add_argument(
        "--days",
        type=_days,
        default=7,
        metavar="N",
        help=f"cover the last N days instead of 7 (1 to {MAX_DIGEST_DAYS})",
    )
    digest.add_argument("--json", action="store_true", help="print one JSON object")
    adoption = sub.add_parser(
        "adoption", help="each release's downloads since first seen, rank in class and score"
    )
    adoption.add_argument("--json", action="store_true", help="one JSON object per release")
    labs = sub.add_parser("labs", help="list tracked labs, optionally of one country")
    labs.add_argument("country", nargs="*", help="ISO code or name: CN, china, us, france …")
    labs.add_argument("--json", action="store_true", help="print a JSON list")
    sub.add_parser("demo", help="replay a bundled sample week offline: no tokens, no network")
    webhooks = sub.add_parser(
        "webhooks", help="keep Hub webhooks watching the tracked labs (alerts in seconds)"
    )
    webhooks.add_argument(
        "action",
        choices=("sync", "status"),
        help="sync: create or update them (HF_TOKEN with write access); status: list them",
    )
    db = sub.add_parser("db", help="database upkeep: `db upgrade`, `db migrate --from --to`")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply pending schema steps to DATABASE_URL's database")
    move = db_sub.add_parser("migrate", help="copy a TinyDB file into an empty PostgreSQL")
    move.add_argument("--from", dest="source", required=True, help="the TinyDB file")
    move.add_argument("--to", dest="target", required=True, help="postgresql://… (empty)")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one command; returns the exit code (the console script passes it to exit)."""
    out = out or _tolerant(sys.stdout)
    err = err or _tolerant(sys.stderr)
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and what was wrong
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(out)
        return EXIT_USAGE
    try:
        if args.command == "demo":
            from bot.demo import run_demo

            return run_demo(out)
        return _run_configured(args, out, err)
    except KeyboardInterrupt:
        print("radar: interrupted", file=err)
        return EXIT_INTERRUPTED


def _run_configured(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        settings = load_settings()
        from bot.watch import no_slack_settings

        # Without Slack, `serve` prints alerts in the terminal: keep it for them.
        slack_app = args.command == "serve" and not no_slack_settings(settings)
        level = _log_level(settings, serving=slack_app)
    except ConfigError as exc:
        print(f"radar: {str(exc).replace('Value error, ', '')}", file=err)
        return EXIT_USAGE
    from bot.logs import setup_logging

    setup_logging(level, _secrets(settings), stream=err)
    try:
        if args.command == "serve":
            from bot.watch import watch

            if not slack_app:
                return watch(settings, out, err)
            from bot.serve import serve

            return serve(settings)
        if args.command == "db":
            return _db(args, settings, out, err)
        return _run_core_command(args, settings, out, err)
    except StoreError as exc:
        print(f"radar: {exc}", file=err)
        return EXIT_ERROR


def _log_level(settings: Settings, *, serving: bool) -> str:
    """The Slack app logs at LOG_LEVEL; one-shot commands keep the terminal for results
    and only show warnings, unless LOG_LEVEL=DEBUG asks for everything."""
    level = settings.log_level  # validated by Settings
    if serving or level == "DEBUG":
        return level
    return "WARNING" if LOG_LEVELS.index(level) < LOG_LEVELS.index("WARNING") else level


def _run_core_command(
    args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO
) -> int:
    from bot.runtime import build_core

    country: str | None = None
    if args.command == "labs":
        country, problem = _country_filter(args.country)
        if problem:
            print(problem, file=err)
            return EXIT_USAGE
    if args.command == "webhooks":
        return _webhooks(args.action, settings, out, err)
    if args.command == "model" and not " ".join(args.query).strip():
        print("radar: give a repo id or some words, e.g. `radar model qwen3 8b`", file=err)
        return EXIT_USAGE

    progress = _progress_printer(err) if args.command == "poll" and not args.json else None
    core = build_core(settings, progress=progress)
    try:
        if args.command == "poll":
            return _poll(core, args.json, out, err)
        if args.command == "model":
            return _model(core, " ".join(args.query).strip(), args, out, err)
        if args.command == "digest":
            return _digest(core, args.days, args.json, out)
        if args.command == "adoption":
            return _adoption(core, args.json, out)
        return _labs(core, country, args.json, out)
    finally:
        core.close()


# ------------------------------------------------------------------------------- db


def _db(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    """`db upgrade` (schema steps of DATABASE_URL) and `db migrate` (TinyDB -> PostgreSQL)."""
    from bot.store.postgres import PG_SCHEMA_VERSION, open_postgres, redact

    if args.db_command == "upgrade":
        url = settings.postgres_url
        if url is None:
            print(
                "radar: db upgrade needs DATABASE_URL=postgresql://…; the TinyDB file "
                "upgrades itself when the bot opens it",
                file=err,
            )
            return EXIT_USAGE
        open_postgres(url).close()
        print(f"{redact(url)} is at schema version {PG_SCHEMA_VERSION}", file=out)
        return EXIT_OK
    from pathlib import Path

    from bot.store.transfer import migrate_tinydb_to_postgres

    if not is_postgres_url(args.target):
        print("radar: --to must be a postgresql://user:password@host/database URL", file=err)
        return EXIT_USAGE
    counts = migrate_tinydb_to_postgres(Path(args.source), args.target)
    moved = ", ".join(f"{count} {name}" for name, count in counts.items())
    print(f"moved {args.source} to {redact(args.target)}: {moved}", file=out)
    print("set DATABASE_URL to that URL and start the bot", file=out)
    return EXIT_OK


# ----------------------------------------------------------------------------- poll


def _poll(core: Core, as_json: bool, out: TextIO, err: TextIO) -> int:
    from bot.textview import event_json, event_text, filtered_counts, filtered_text, plural

    known = set(core.store.models.keys())
    report = core.tracker.poll_cycle()
    if core.snapshots is not None:  # as serve's scheduler does: cron installs get adoption
        core.snapshots.after_poll()
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


def _progress_printer(err: TextIO) -> Callable[[int, int], None] | None:
    """`polling 12/81 sources…` on one rewritten line, only when a person is watching."""
    isatty = getattr(err, "isatty", None)
    if isatty is None or not isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\rpolling {done}/{total} Hub listings…", end=end, file=err, flush=True)

    return show


# ---------------------------------------------------------------------------- model


def _model(core: Core, query: str, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
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


def _digest(core: Core, days: int, as_json: bool, out: TextIO) -> int:
    from bot.radar.digest import build_digest
    from bot.textview import digest_json, digest_text

    digest = build_digest(core.store, now=core.clock(), days=days)
    if as_json:
        print(json.dumps(digest_json(digest)), file=out)
    else:
        print(digest_text(digest, core.service.members), file=out)
    return EXIT_OK


# ------------------------------------------------------------------------- adoption


def _adoption(core: Core, as_json: bool, out: TextIO) -> int:
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


def _country_filter(words: Sequence[str]) -> tuple[str | None, str | None]:
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


def _labs(core: Core, country: str | None, as_json: bool, out: TextIO) -> int:
    from bot.textview import labs_json, labs_text

    labs = core.registry.labs(country)
    if as_json:
        print(json.dumps(labs_json(labs)), file=out)
    else:
        print(labs_text(labs, country), file=out)
    return EXIT_OK


# ------------------------------------------------------------------------- webhooks


def _webhooks(action: str, settings: Settings, out: TextIO, err: TextIO) -> int:
    """`radar webhooks sync|status`: the Hub's webhooks for this bot, lab by lab."""
    from bot.hub.webhooks import WebhookAdminError
    from bot.radar.labs import LabRegistry
    from bot.store import open_database
    from bot.webhooks.sync import admin_for, describe, receiver_url, status, sync_webhooks

    try:
        url = receiver_url(settings)
        admin = admin_for(settings)
    except WebhookAdminError as exc:
        print(f"radar: {exc}", file=err)
        return EXIT_USAGE
    store = open_database(settings.radar_db_path, settings.postgres_url)
    try:
        registry = LabRegistry.from_store(store)
        with admin:
            if action == "status":
                ours, missing = status(admin, registry, url)
            else:
                secret = settings.hf_webhook_secret.get_secret_value()  # type: ignore[union-attr]
                result = sync_webhooks(
                    admin, registry, url, secret, settings.webhook_labs_per_hook
                )
                ours, missing = result.webhooks, []
                print(
                    f"Synced {len(ours)} webhooks to {url}: {len(result.created)} created, "
                    f"{len(result.updated)} updated, {len(result.enabled)} re-enabled, "
                    f"{len(result.deleted)} deleted.",
                    file=out,
                )
    except WebhookAdminError as exc:
        print(f"radar: {exc}", file=err)
        return EXIT_ERROR
    finally:
        store.close()
    if not ours:
        print(f"No webhook points at {url}; `radar webhooks sync` creates them.", file=out)
    for line in describe(ours, registry):
        print(line, file=out)
    if missing:
        print(f"Not watched by an enabled webhook: {', '.join(missing)}", file=out)
    return EXIT_ERROR if action == "status" and (missing or not ours) else EXIT_OK


# ---------------------------------------------------------------------------- plumbing


def _tolerant(stream: TextIO) -> TextIO:
    """Flags and arrows must not crash a console whose encoding lacks them."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="replace")
    return stream


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.hf_token,
        settings.hf_webhook_secret,
    ]
    secrets = [v.get_secret_value() for v in values if v is not None]
    url = settings.postgres_url
    if url:  # the whole URL, and its password wherever it shows up alone
        from urllib.parse import urlsplit

        secrets.append(url)
        with contextlib.suppress(ValueError):
            password = urlsplit(url).password
            if password:
                secrets.append(password)
    return secrets
