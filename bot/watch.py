"""`radar serve` without Slack: watch the Hub and print each alert in the terminal.

A newcomer's first command should do the main job even before a Slack app exists: poll the
Hub on the usual schedule and print every notable release with the same words and reasons
an alert carries in Slack (`bot.textview.event_text`), plus one line on how to connect
Slack. SIGTERM or Ctrl-C stops it after the poll in progress.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from bot.config import Settings, is_set
from bot.runtime import Core, build_core, poll_once
from bot.store import check_writable

log = logging.getLogger(__name__)

CONNECT_SLACK = (
    "radar: no Slack settings, so alerts are printed here. To post them in Slack, set "
    "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) in .env: "
    "see README, \"Create the Slack app\"."
)


def no_slack_settings(settings: Settings) -> bool:
    """True when nothing of Slack is configured, empty values included (`.env.example`
    leaves them empty); a half-configured Slack is an error `serve` reports."""
    secrets = (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token)
    # OAuth mode has no bot token, yet is Slack.
    return not (any(is_set(secret) for secret in secrets) or settings.oauth)


def watch(settings: Settings, out: TextIO, err: TextIO) -> int:
    """Poll every POLL_INTERVAL_SECONDS and print what is new until told to stop."""
    if settings.postgres_url is None:  # the file's directory; PostgreSQL says so at open
        check_writable(settings.radar_db_path)
    core = build_core(settings)
    print(CONNECT_SLACK, file=err, flush=True)
    try:
        with _stop_on_signals(core.stopping):
            while not core.stopping.is_set():
                poll_and_print(core, out)
                core.stopping.wait(settings.poll_interval_seconds)
    finally:
        core.close()
    print("radar: stopped", file=err, flush=True)
    return 0


def poll_and_print(core: Core, out: TextIO) -> None:
    """One poll step (`runtime.poll_once`); each new or grown release printed as its alert
    would read."""
    from bot.textview import event_text, plural

    try:
        report = poll_once(core)
    except Exception:  # the next poll tries again, as the scheduler's job would
        log.exception("poll failed; trying again at the next interval")
        return
    for event in report.events:
        print(event_text(event, core.service.members(event.release)), file=out)
        print(file=out, flush=True)
    if report.bootstrapped:
        print(
            f"First look at {plural(len(report.bootstrapped), 'lab namespace')}: what is "
            "already on the Hub is recorded silently; new notable releases are printed here.",
            file=out,
            flush=True,
        )
    for source, error in list(report.errors.items())[:5]:
        log.warning("Hub listing %s failed: %s", source, error)


@contextmanager
def _stop_on_signals(stopping: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set `stopping` (the poll in progress finishes its write)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handled = (signal.SIGINT, signal.SIGTERM)
    original = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in handled}
    try:
        yield
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)
