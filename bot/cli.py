"""Command line: `radar serve | poll | model | digest | adoption | labs | webhooks | demo | db`
(same as `python -m bot`).

Every command but `demo` reads the same settings as the Slack app. Output is for people by
default; `--json` prints the shapes scripts rely on (see `bot.textview`). Exit codes: 0 ok,
1 the work failed (Hub down, model not found, unusable database), 2 the input or the
configuration is wrong, 130 interrupted. Messages for people go to stderr, results to stdout.

This module parses and dispatches; the commands live in `bot.cli_reports` (poll, model,
digest, adoption, labs) and `bot.cli_upkeep` (db, webhooks), imported only when run, so
`--help` and `demo` load none of the bot.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.config import ConfigError, Settings, load_settings
from bot.radar.ports import StoreError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_DIGEST_DAYS = 90
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
    from bot.cli_upkeep import db_command

    try:
        if args.command == "serve":
            from bot.watch import watch

            if not slack_app:
                return watch(settings, out, err)
            from bot.serve import serve

            return serve(settings)
        if args.command == "db":
            return db_command(args, settings, out, err)
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
    from bot.cli_reports import (
        adoption_command,
        country_filter,
        digest_command,
        labs_command,
        model_command,
        poll_command,
        progress_printer,
    )
    from bot.cli_upkeep import webhooks_command
    from bot.runtime import build_core

    country: str | None = None
    if args.command == "labs":
        country, problem = country_filter(args.country)
        if problem:
            print(problem, file=err)
            return EXIT_USAGE
    if args.command == "webhooks":
        return webhooks_command(args.action, settings, out, err)
    if args.command == "model" and not " ".join(args.query).strip():
        print("radar: give a repo id or some words, e.g. `radar model qwen3 8b`", file=err)
        return EXIT_USAGE

    progress = progress_printer(err) if args.command == "poll" and not args.json else None
    core = build_core(settings, progress=progress)
    try:
        if args.command == "poll":
            return poll_command(core, args.json, out, err)
        if args.command == "model":
            return model_command(core, " ".join(args.query).strip(), args, out, err)
        if args.command == "digest":
            return digest_command(core, args.days, args.json, out)
        if args.command == "adoption":
            return adoption_command(core, args.json, out)
        return labs_command(core, country, args.json, out)
    finally:
        core.close()


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
        settings.slack_client_secret,
        settings.slack_state_secret,
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
