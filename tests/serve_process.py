"""`python -m bot serve` as a child process, run the way an operator runs it.

The suites that test the real process (serve, Socket Mode, crash safety, load, secrets in
logs) share this: an environment built only from the stand-ins' addresses, a process that
can be stopped with SIGTERM or killed with SIGKILL at any moment, and one log file that
collects every run's output for the test to read afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from bot.config import Settings
from tests.harness import BOT_TOKEN, SIGNING_SECRET, free_port

REPO_ROOT = Path(__file__).resolve().parents[1]


def serve_env(
    *, hub_url: str, slack_url: str, db_path: Path, port: int | None = None, **extra: str
) -> dict[str, str]:
    """The environment of `serve`, with no setting inherited from the developer's shell.

    `extra` adds or overrides variables; an empty value removes one (`SLACK_SIGNING_SECRET=""`
    starts the bot without a signing secret).
    """
    settings_names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in settings_names}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        PYTHONUNBUFFERED="1",
        MPLCONFIGDIR=str(db_path.parent / "matplotlib"),
        HF_ENDPOINT=hub_url,
        SLACK_API_URL=slack_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        RADAR_DB_PATH=str(db_path),
        PORT=str(port or free_port()),
        HOST="127.0.0.1",
        POLL_INTERVAL_SECONDS="1",
        HUB_TIMEOUT_SECONDS="2",
        HUB_MAX_RETRIES="1",
    )
    if os.environ.get("DATABASE_URL"):  # the suite runs on PostgreSQL (tests/pg.py)
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    env.update(extra)
    return {name: value for name, value in env.items() if value}


def standin_env(hub: Any, slack: Any, workdir: Path, **extra: str) -> dict[str, str]:
    """`serve_env` for a Hub and a Slack stand-in, with the database in `workdir`.

    A failing Hub fails fast here (no retries), so SIGTERM is never kept waiting by one.
    """
    settings = {"HUB_MAX_RETRIES": "0", **extra}
    return serve_env(
        hub_url=hub.url, slack_url=slack.url, db_path=workdir / "radar.json", **settings
    )


def wait_until(check: Callable[[], Any], timeout: float, interval: float = 0.02) -> Any:
    """Re-check `check` until it is truthy or `timeout` passes; returns its last value.

    A server that is not listening yet counts as "not yet", not as a failure.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except httpx.TransportError:
            result = None
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


class BotProcess:
    """`python -m bot serve` as a child process on a fixed port, killable at any moment.

    Every run appends its output to one log file, so a test can scan all of it afterwards.
    """

    def __init__(self, env: Mapping[str, str], log_path: Path, *, cwd: Path) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd  # no stray .env file can leak in from the repository
        self.url = f"http://127.0.0.1:{self.env['PORT']}"
        self.db_path = Path(self.env["RADAR_DB_PATH"])
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    def start(self) -> BotProcess:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 20.0) -> dict[str, Any]:
        """Wait for `/healthz` to answer; a process that dies first fails with its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise AssertionError(f"the bot exited early:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                return self.health()[1]
            time.sleep(0.02)
        raise AssertionError(f"the bot did not answer /healthz in {timeout} s:\n{self.log_tail()}")

    def health(self) -> tuple[int, dict[str, Any]]:
        response = httpx.get(f"{self.url}/healthz", timeout=2.0)
        return response.status_code, response.json()

    def health_when(
        self, accept: Callable[[int, dict[str, Any]], bool], *, what: str, timeout: float = 15
    ) -> tuple[int, dict[str, Any]]:
        """The first `/healthz` answer that `accept(status, body)` likes."""

        def accepted() -> tuple[int, dict[str, Any]] | None:
            status, body = self.health()
            return (status, body) if accept(status, body) else None

        answer = wait_until(accepted, timeout, interval=0.05)
        if answer is None:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        return answer

    def kill9(self) -> None:
        """SIGKILL: no handler, no flush, no shutdown hook runs."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._close_log()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as an orchestrator sends it; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        finally:
            if self.running:
                self.kill9()
            self._close_log()
        return code

    def close(self) -> None:
        if self.running:
            self.kill9()
        self._close_log()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


@contextmanager
def serving(env: Mapping[str, str], workdir: Path) -> Iterator[BotProcess]:
    """One started `serve`, killed on the way out if the test did not stop it."""
    bot = BotProcess(env, workdir / "serve.log", cwd=workdir).start()
    try:
        yield bot
    finally:
        bot.close()
