"""The HTTP front door: Slack requests at `POST /slack/events`, health at `GET /healthz`.

Bolt's own Starlette adapter runs `app.dispatch` on the event loop, which would make every
request wait for the one before it; here dispatch runs on a worker thread, so acks stay
fast under concurrency. Bolt verifies each signature (HMAC, 5-minute window); on top of
that a signature already used is refused, so a captured request cannot be replayed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.radar.tracker import POLL_STATE
from bot.slack.context import AckFirst
from bot.store.base import Store

if TYPE_CHECKING:
    from bot.webhooks.receiver import HubWebhookReceiver

REPLAY_WINDOW = 5 * 60
MAX_BODY = 1_000_000


class ReplayGuard:
    """Remembers signatures seen in the last five minutes (Slack's own tolerance)."""

    def __init__(self, window: float = REPLAY_WINDOW, clock: Callable[[], float] = time.time):
        self.window = window
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, signature: str) -> bool:
        with self._lock:
            self._expire()
            return signature in self._seen

    def remember(self, signature: str) -> None:
        with self._lock:
            self._seen[signature] = self.clock()
            self._expire()

    def _expire(self) -> None:
        cutoff = self.clock() - self.window
        while self._seen and next(iter(self._seen.values())) < cutoff:
            self._seen.popitem(last=False)


def health(
    store: Store, *, poll_interval: int, started_at: datetime, now: datetime
) -> tuple[int, dict]:
    """200 while polls succeed; 503 once the last good poll is older than 3 intervals."""
    entry = store.state.get(POLL_STATE)
    state = dict(entry.value) if entry else {}
    last_success = state.get("last_success_at")
    reference = datetime.fromisoformat(last_success) if last_success else started_at
    stale = now - reference > timedelta(seconds=3 * poll_interval)
    body = {
        "status": "unhealthy" if stale else (state.get("status") or "starting"),
        "last_poll_at": state.get("last_poll_at"),
        "last_success_at": last_success,
        "last_status": state.get("status"),
        "errors": state.get("errors") or {},
        "poll_interval_seconds": poll_interval,
    }
    if body["status"] == "failed":
        body["status"] = "degraded"
    return (503 if stale else 200), body


def build_asgi(
    app: App,
    store: Store,
    *,
    poll_interval: int,
    clock: Callable[[], datetime],
    on_startup: Callable[[], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
    gate: AckFirst | None = None,
    hub_webhook: HubWebhookReceiver | None = None,
) -> Starlette:
    started_at = clock()
    guard = ReplayGuard()
    # Requests in flight hold answers back (`gate`); Socket Mode and bare apps have none.
    in_flight = gate.acking if gate is not None else nullcontext

    async def slack_events(request: Request) -> Response:
        with in_flight():  # answers wait for a quiet moment (bot.slack.context.AckFirst)
            return await _slack_events(request)

    async def _slack_events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "request too large"}, status_code=413)
        signature = request.headers.get("x-slack-signature", "")
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        if (signature and guard.seen(signature)) or (timestamp and not timestamp.isdigit()):
            return JSONResponse({"error": "invalid request"}, status_code=401)
        bolt_response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
        if signature and bolt_response.status != 401:
            guard.remember(signature)
        return to_starlette_response(bolt_response)

    async def healthz(request: Request) -> Response:
        interval = hub_webhook.health.interval() if hub_webhook is not None else poll_interval
        status, body = health(store, poll_interval=interval, started_at=started_at, now=clock())
        if hub_webhook is not None:  # push mode: the last delivery and the poll's pace
            body["webhooks"] = hub_webhook.health.snapshot()
        return JSONResponse(body, status_code=status)

    @asynccontextmanager
    async def lifespan(_app: Starlette):
        if on_startup is not None:
            await run_in_threadpool(on_startup)
        try:
            yield
        finally:
            if on_shutdown is not None:
                await run_in_threadpool(on_shutdown)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if hub_webhook is not None:  # HF_WEBHOOK_SECRET set; otherwise the path is a 404
        routes.append(Route("/hub/webhook", hub_webhook.endpoint, methods=["POST"]))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
    )
