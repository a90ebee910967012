"""The HTTP front door: Slack requests at `POST /slack/events`, health at `GET /healthz`,
and in OAuth mode the install pages `GET /slack/install` and `GET /slack/oauth_redirect`
(handed to Bolt's `OAuthFlow`, as Bolt's own adapters do).

Bolt's own Starlette adapter reads the whole body and lets Bolt parse it before the
signature is checked, so an unsigned 64 MB body, or one that does not parse, cost memory,
CPU and a traceback before its 401. Here each request goes through, in order:

1. limits before reading: a declared length over `MAX_BODY` is refused at once (413), as
   is a request without plausible signature headers (401); the body is then read with a
   running cap and a deadline (`bot.request_body.read_capped`: 413, 408);
2. the HMAC over the raw bytes (401), then the replay guard, which records the signature
   in the same step as it checks it, before any handler runs (401 for a second copy);
3. decoding and a check of the payload's shape (400, one log line, no traceback);
4. Bolt, on a worker thread (the event loop stays free for other acks). A payload type
   the bot has no listener for is acknowledged (200) and logged at debug, and a handler
   that fails still answers 200, with an apology where Slack shows the ack's text.

Only signed requests count as in flight for `AckFirst`, from the moment their body is in:
a body held open, or a flood of unsigned junk, holds no answer back.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.radar.poll_status import read_poll_status
from bot.radar.ports import Store
from bot.replay_guard import ReplayGuard
from bot.request_body import MAX_BODY, BodyBudget, BodyRefused, declared_length, read_capped
from bot.slack import inbound
from bot.slack.context import AckFirst
from bot.slack.oauth_stores import TooManyInstalls

if TYPE_CHECKING:
    from bot.webhooks.receiver import HubWebhookReceiver

log = logging.getLogger(__name__)

REPLAY_WINDOW = inbound.TOLERANCE
# Signatures remembered at most; Slack sends far fewer in a replay window (Events API:
# 30,000 an hour per workspace), and only correctly signed requests are ever recorded.
MAX_REMEMBERED = 100_000
# A refused request's body up to this size is read before the answer (see `slack_events`).
DRAIN_BYTES = 64 * 1024
DRAIN_SECONDS = 1.0
APOLOGY = (
    "Sorry, something went wrong on my side with that request. "
    "Try again in a minute; the problem has been logged."
)


def health(
    store: Store,
    *,
    poll_interval: int,
    started_at: datetime,
    now: datetime,
    leader: Callable[[], bool] | None = None,
) -> tuple[int, dict]:
    """200 while polls succeed; 503 once the last good poll is older than 3 intervals.

    The poll state is shared by every replica of one database, so each answers the same;
    `leader` says whether this replica is the one running the jobs."""
    state = read_poll_status(store)
    last_success, last_poll = state.last_success_at, state.last_poll_at
    stale = now - (last_success or started_at) > timedelta(seconds=3 * poll_interval)
    body = {
        "status": "unhealthy" if stale else (state.status or "starting"),
        "last_poll_at": last_poll.isoformat() if last_poll else None,
        "last_success_at": last_success.isoformat() if last_success else None,
        "last_status": state.status,
        "errors": dict(state.errors),
        "poll_interval_seconds": poll_interval,
    }
    if leader is not None:
        body["leader"] = leader()
    if body["status"] == "failed":
        body["status"] = "degraded"
    return (503 if stale else 200), body


def build_asgi(
    app: App,
    store: Store,
    *,
    poll_interval: int,
    clock: Callable[[], datetime],
    signing_secret: str | None,
    on_startup: Callable[[], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
    gate: AckFirst | None = None,
    hub_webhook: HubWebhookReceiver | None = None,
    guard: ReplayGuard | None = None,
    leader: Callable[[], bool] | None = None,
) -> Starlette:
    """The ASGI app. Without `signing_secret` (Socket Mode) every Slack POST gets 401."""
    started_at = clock()
    guard = guard if guard is not None else ReplayGuard(REPLAY_WINDOW, max_entries=MAX_REMEMBERED)
    budget = BodyBudget()
    secret = signing_secret.encode("utf-8") if signing_secret else None
    # Requests in flight hold answers back (`gate`); Socket Mode and bare apps have none.
    in_flight = gate.acking if gate is not None else nullcontext

    async def slack_events(request: Request) -> Response:
        signature = request.headers.get("x-slack-signature", "")
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        try:
            declared = declared_length(request)
            if (declared or 0) > MAX_BODY:
                raise BodyRefused(413, "request too large")
            problem = inbound.header_problem(signature, timestamp, time.time())
            if problem is None and secret is None:
                problem = "no signing secret configured"
            if problem is not None:
                log.debug("refused a request to /slack/events: %s (401)", problem)
                if declared is not None and declared <= DRAIN_BYTES:
                    # A small body is taken in first (uvicorn has most of it already): a
                    # connection closed on unread data is reset, and the sender, perhaps
                    # Slack with a late request, could lose the 401 with it.
                    with contextlib.suppress(BodyRefused):
                        await read_capped(request, limit=DRAIN_BYTES, timeout=DRAIN_SECONDS)
                return _unauthorized()
            body = await read_capped(request, budget=budget)
        except BodyRefused as refused:  # before any signature check: debug, like a 401
            log.debug("refused a request to /slack/events: %s (%d)", refused, refused.status)
            return refused.response()
        assert secret is not None
        if len(body) > 64_000:  # hashlib lets go of the GIL for big inputs: off the loop
            valid = await run_in_threadpool(
                inbound.signature_matches, secret, timestamp, body, signature
            )
        else:
            valid = inbound.signature_matches(secret, timestamp, body, signature)
        if not valid:
            log.debug("refused a request to /slack/events: bad signature (401)")
            return _unauthorized()
        if not guard.claim(signature, int(timestamp)):
            log.info("refused a replayed Slack request (401)")
            return _unauthorized()
        with in_flight():  # answers wait for a quiet moment (bot.slack.context.AckFirst)
            return await _dispatch(request, body)

    async def _dispatch(request: Request, body: bytes) -> Response:
        try:
            text, payload = inbound.decode(body, request.headers.get("content-type"))
            problem = inbound.shape_problem(payload)
            if problem is not None:
                raise inbound.Malformed(problem)
            what = inbound.kind(payload)
            if what not in inbound.HANDLED:
                log.debug("acknowledged a %r payload the bot does not handle", what or "untyped")
                return Response(status_code=200)
            bolt_request = inbound.bolt_request(
                text, payload, request.url.query, dict(request.headers.items())
            )
        except Exception as exc:  # Malformed, or anything Bolt trips on in the payload
            log.warning("refused a signed Slack request: %s (400)", _short(exc))
            return JSONResponse({"error": "malformed request"}, status_code=400)
        try:
            bolt_response: BoltResponse = await run_in_threadpool(app.dispatch, bolt_request)
        except Exception:
            log.exception("a Slack request failed outside its listener")
            return _apology(what)
        if bolt_response.status == 404:
            log.debug("acknowledged a %r request no listener handles", what)
            return Response(status_code=200)
        if bolt_response.status >= 500:  # the listener's error handler has logged it
            return _apology(what)
        return to_starlette_response(bolt_response)

    async def healthz(request: Request) -> Response:
        interval = hub_webhook.health.interval() if hub_webhook is not None else poll_interval
        status, body = health(
            store, poll_interval=interval, started_at=started_at, now=clock(), leader=leader
        )
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

    oauth_flow = app.oauth_flow

    async def oauth_page(request: Request) -> Response:
        """The install start or Slack's redirect back: Bolt's flow, off the event loop."""
        assert oauth_flow is not None
        bolt_request = BoltRequest(
            body="",
            query=request.url.query,
            headers={name: value for name, value in request.headers.items()},
        )
        handle = (
            oauth_flow.handle_installation
            if request.url.path == oauth_flow.install_path
            else oauth_flow.handle_callback
        )
        try:
            bolt_response: BoltResponse = await run_in_threadpool(handle, bolt_request)
        except TooManyInstalls:
            return HTMLResponse(_OAUTH_BUSY, status_code=503, headers={"Retry-After": "600"})
        except Exception:
            log.exception("an OAuth install page failed")
            return HTMLResponse(_OAUTH_FAILED, status_code=500)
        return to_starlette_response(bolt_response)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if oauth_flow is not None:  # OAuth mode; otherwise these paths are a 404
        routes.append(Route(oauth_flow.install_path, oauth_page, methods=["GET"]))
        routes.append(Route(oauth_flow.redirect_uri_path, oauth_page, methods=["GET"]))
    if hub_webhook is not None:  # HF_WEBHOOK_SECRET set; otherwise the path is a 404
        routes.append(Route("/hub/webhook", hub_webhook.endpoint, methods=["POST"]))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
    )


_OAUTH_FAILED = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Not installed</title></head>"
    "<body><h1>Not installed</h1><p>Something went wrong on our side; nothing was "
    "installed. Try again in a minute; the problem has been logged.</p></body></html>"
)


_OAUTH_BUSY = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Not installed</title></head>"
    "<body><h1>Not installed</h1><p>Too many installs are under way right now; nothing was "
    "installed. Try again in a few minutes.</p></body></html>"
)


def _unauthorized() -> Response:
    # `Connection: close`: without it uvicorn reads (and parses) the rest of a refused body
    # to keep the connection alive; a sender of junk should not get that service.
    return JSONResponse(
        {"error": "invalid request"}, status_code=401, headers={"Connection": "close"}
    )


def _apology(kind: str) -> Response:
    """200 whatever broke: Slack retries other answers. A slash command's ack text is
    shown to the user, so it carries the apology; other acks are not shown anywhere."""
    if kind == "command":
        return JSONResponse({"response_type": "ephemeral", "text": APOLOGY})
    return Response(status_code=200)


def _short(exc: Exception) -> str:
    """One line about `exc`, never a payload: an exception's text may quote the body."""
    if isinstance(exc, inbound.Malformed):
        return str(exc)
    return f"{type(exc).__name__} while reading the payload"
