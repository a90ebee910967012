"""`radar db` and `radar webhooks`: the operator's upkeep commands (no poll, no Core).

`db upgrade` applies PostgreSQL schema steps and `db migrate` copies a TinyDB file into an
empty PostgreSQL; `webhooks sync|status` keeps the Hub's webhooks watching the tracked
labs. `bot.cli` parses the command line and calls these.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from bot.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from bot.config import Settings, is_postgres_url

# ------------------------------------------------------------------------------- db


def db_command(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
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


# ------------------------------------------------------------------------- webhooks


def webhooks_command(action: str, settings: Settings, out: TextIO, err: TextIO) -> int:
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
