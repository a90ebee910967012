"""Read an HTTP request body without letting the sender choose how much memory it takes.

Starlette's `request.body()` reads whatever arrives, however large and however slowly,
before the route can look at it: one 64 MB POST raised the bot's peak memory by 128 MB.
`read_capped` refuses a declared `Content-Length` over the cap before reading a byte,
stops a body without one (chunked) as soon as it passes the cap, and gives up on a body
that takes longer than `timeout` to arrive. A `BodyBudget` shared by a route bounds what
all its requests in progress hold together. Any route that takes a body from the network
(`POST /slack/events`, a webhook) reads it here.
"""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

MAX_BODY = 1_000_000  # bytes; Slack's largest payloads (a full modal view) are far smaller
BODY_SECONDS = 5.0  # Slack itself gives up on an answer after 3 s
BUDGET_BYTES = 32 * MAX_BODY  # all bodies being read at once, together


class BodyRefused(Exception):
    """The body was not read whole; `status` and `reason` are the answer to send."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> Response:
        # `Connection: close`: the rest of an unread body must not be taken as a next request.
        return JSONResponse(
            {"error": self.reason}, status_code=self.status, headers={"Connection": "close"}
        )


class BodyBudget:
    """Bytes held by the bodies being read right now, across requests, up to `limit`.

    Only touched from the event loop, so it needs no lock.
    """

    def __init__(self, limit: int = BUDGET_BYTES) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


def declared_length(request: Request) -> int | None:
    """The `Content-Length` header as a number, None when absent; BodyRefused when absurd."""
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise BodyRefused(400, "invalid content-length")
    return int(raw)


async def read_capped(
    request: Request,
    *,
    limit: int = MAX_BODY,
    timeout: float = BODY_SECONDS,
    budget: BodyBudget | None = None,
) -> bytes:
    """The whole body, at most `limit` bytes, read within `timeout` seconds.

    Raises `BodyRefused`: 413 when the body is (or is declared) larger than `limit`, 408
    when it does not arrive in time, 503 when `budget` is spent by other requests, 400
    when the client hangs up half-way or declares a nonsense length.
    """
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise BodyRefused(413, "request too large")
    chunks: list[bytes] = []
    size = 0
    reserved = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyRefused(413, "request too large")
                if budget is not None:
                    if not budget.take(len(chunk)):
                        raise BodyRefused(503, "server busy")
                    reserved += len(chunk)
                if chunk:
                    chunks.append(chunk)
    except TimeoutError:
        raise BodyRefused(408, "request body too slow") from None
    except ClientDisconnect:
        raise BodyRefused(400, "client disconnected") from None
    finally:
        if budget is not None:
            budget.give_back(reserved)
    return b"".join(chunks)
