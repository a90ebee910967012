"""Typed failures of the Hub client.

Every class derives from `bot.radar.ports.SourceError`, so the domain can catch Hub trouble
without importing HTTP code. Messages name the method, path and reason; they never carry the
token (the client builds them itself and never includes request headers).
"""

from __future__ import annotations

from bot.radar.ports import SourceError, SourceNotFound


class HubError(SourceError):
    """Any Hub failure; the poll cycle skips this call and carries on.

    `status` is the HTTP status of the Hub's last answer, None when no answer came
    (timeouts, connection errors) or the failure was not the status's fault.
    """

    status: int | None = None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class RepoNotFound(HubError, SourceNotFound):
    """The repo does not exist, is private or gated for us, or its id is not a valid id."""

    def __init__(self, repo_id: str, message: str | None = None) -> None:
        self.repo_id = repo_id
        super().__init__(message or f"repository {repo_id!r} not found on the Hub")


class RateLimited(HubError):
    """The Hub asked us to wait longer than we are willing to block a poll cycle."""

    status: int | None = 429

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ServerError(HubError):
    """The Hub kept answering 5xx after every retry."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, status=status)


class BadResponse(HubError):
    """The Hub answered, but not with something we can use (bad JSON, wrong shape, 400)."""


class HubUnavailable(HubError):
    """We could not get an answer at all: timeouts or connection errors after every retry."""
