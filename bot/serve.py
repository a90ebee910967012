"""`python -m bot serve`: the Slack app with its scheduler, in HTTP or Socket Mode.

Without any Slack setting `serve` watches the Hub in the terminal instead (`bot.watch`).

HTTP mode serves Slack at `POST /slack/events` through uvicorn. Socket Mode (when
SLACK_APP_TOKEN is set) needs no public URL; `/healthz` is served in both modes so a
container orchestrator can watch the poller.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import uvicorn
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings, is_set
from bot.runtime import Core, build_core
from bot.schedule import build_scheduler
from bot.slack.app import build_slack
from bot.slack.server import build_asgi
from bot.store import StoreError, check_writable
from bot.store.leadership import AdvisoryLeader, Leadership, SoleLeader
from bot.webhooks.receiver import build_receiver

log = logging.getLogger(__name__)


class _GracefulServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so a bot that already
    stopped cleanly would still die by the signal (exit status -15). Here a handled signal
    ends `serve` normally, with exit code 0, which is what supervisors expect."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def missing_settings(settings: Settings) -> list[str]:
    """The Slack settings `serve` still needs (an empty value counts as missing)."""

    missing = []
    if not is_set(settings.slack_bot_token) and not settings.oauth:  # OAuth: a token a workspace
        missing.append("SLACK_BOT_TOKEN")
    if not settings.socket_mode and not is_set(settings.slack_signing_secret):
        missing.append("SLACK_SIGNING_SECRET")
    return missing


def socket_mode_problem(client: WebClient, app_token: str) -> str | None:
    """Ask Slack for a Socket Mode URL once, so a bad app token is one clear line at start."""
    try:
        client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "error"
        return (
            f"Slack refused SLACK_APP_TOKEN for Socket Mode (apps.connections.open: {error}); "
            "it must be an "
            "app-level token (xapp-…) with connections:write"
        )
    except OSError as exc:
        return f"cannot reach Slack to open Socket Mode ({exc}); check SLACK_API_URL"
    return None


def freeze_long_lived(core: Core) -> None:
    """Move what lives as long as the process out of the cyclic collector's generations.

    The loaded store and the search index are hundreds of thousands of objects that are
    never garbage; a full collection (which stops every thread, acks included) would walk
    them again and again. Frozen, it does not; refcounting still frees a record that is
    replaced. Done now for the store, and after each rebuild of the index.
    """
    gc.freeze()
    core.service.index.after_build = gc.freeze


def log_installations(settings: Settings, core: Core) -> None:
    """OAuth mode has no one token to check: say which workspaces are installed instead."""
    installed = core.store.slack_installs.values()
    named = sorted(f"{r.team_name or '?'} ({r.workspace})" for r in installed)
    names = ", ".join(named[:10]) + (f" and {len(named) - 10} more" if len(named) > 10 else "")
    where = settings.radar_public_url or "https://<your public URL>"
    log.info(
        "OAuth mode (client id %s): %d workspace(s) installed%s; new ones install at %s%s",
        settings.slack_client_id,
        len(installed),
        f": {names}" if names else "",
        where,
        "/slack/install",
    )


def serve(settings: Settings) -> int:
    missing = missing_settings(settings)
    if missing:
        print(
            f"radar: serve needs {', '.join(missing)} (see .env.example); "
            "`python -m bot demo` runs without any.",
            file=sys.stderr,
        )
        return 2
    if settings.postgres_url is None:
        check_writable(settings.radar_db_path)
    core = build_core(settings)
    freeze_long_lived(core)
    app, radar = build_slack(core)
    scheduler = None

    def took_over() -> None:
        """What this process remembers of jobs' data may be stale: another replica led."""
        core.outbox.forget()
        core.store.forget_caches()
        core.registry.reload(core.store)
        if scheduler is not None:
            scheduler.modify_job("poll", next_run_time=datetime.now(UTC))

    leadership: Leadership = (
        AdvisoryLeader(settings.postgres_url, on_gain=took_over)
        if settings.postgres_url
        else SoleLeader()
    )
    if settings.oauth:
        log_installations(settings, core)
    else:
        try:
            identity = app.client.auth_test()
            log.info("connected to Slack as %s in %s", identity.get("user"), identity.get("team"))
        except (SlackApiError, OSError) as exc:
            log.warning("auth.test failed (%s); carrying on, alerts wait in the outbox", exc)
    # Hub webhooks need a public URL, so Socket Mode installs keep polling. With several
    # replicas, a follower hands what it receives to the leader through the database.
    hub_webhook = build_receiver(
        core,
        radar.deliverer.drain,
        leader=leadership.is_leader if leadership.shared else None,
    )
    scheduler = build_scheduler(core, radar, leadership, hub_webhook)
    socket_handler = None
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        app_token = settings.slack_app_token.get_secret_value()
        problem = socket_mode_problem(app.client, app_token)
        if problem is not None:
            print(f"radar: {problem}", file=sys.stderr)
            core.close()
            return 2
        socket_handler = SocketModeHandler(app, app_token)

    def start() -> None:
        if socket_handler is not None:
            socket_handler.connect()
            log.info("Socket Mode connected")
        leadership.check()
        scheduler.start()
        if hub_webhook is not None:
            hub_webhook.start()
        log.info(
            "Open Model Radar serving on port %d (%s mode), polling every %d s",
            settings.port,
            "Socket" if socket_handler else "HTTP",
            settings.poll_interval_seconds,
        )

    def stop() -> None:
        log.info("shutting down: finishing the job in progress")
        core.stop()
        if hub_webhook is not None:
            hub_webhook.stop()
        scheduler.shutdown(wait=True)
        leadership.close()
        if socket_handler is not None:
            socket_handler.close()
        try:
            core.close()
        except StoreError as exc:
            log.error("could not save on shutdown: %s", exc)
        log.info("stopped cleanly")

    asgi = build_asgi(
        app,
        core.store,
        poll_interval=settings.poll_interval_seconds,
        clock=core.clock,
        signing_secret=(
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None
        ),
        on_startup=start,
        on_shutdown=stop,
        gate=radar.ack_first,
        hub_webhook=hub_webhook,
        leader=leadership.is_leader,
    )
    config = uvicorn.Config(
        asgi,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
    )
    _GracefulServer(config).run()
    return 0
