"""Slack error codes, classified once: retry, pause the channel, or ask for an invite."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.slack import errors


def failure(status: int, body: dict, headers: dict | None = None) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.test/api/chat.postMessage",
        req_args={},
        data=body,
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("failed", response)


def test_rate_limits_and_server_errors_are_transient_with_retry_after() -> None:
    limited = failure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"})
    assert errors.is_rate_limited(limited) and errors.is_transient(limited)
    assert errors.retry_after(limited) == 7.0
    assert errors.retry_after(failure(429, {"ok": False})) == 1.0
    assert errors.is_transient(failure(503, {"ok": False, "error": "service_unavailable"}))
    assert errors.is_transient(failure(200, {"ok": False, "error": "internal_error"}))
    assert not errors.is_transient(failure(200, {"ok": False, "error": "channel_not_found"}))


def test_channel_errors_pause_explain_and_make_a_digest_undeliverable() -> None:
    gone = failure(200, {"ok": False, "error": "channel_not_found"})
    code = errors.error_code(gone)
    assert code == "channel_not_found"
    assert "no longer exists" in errors.CHANNEL_UNUSABLE[code]
    assert code in errors.UNDELIVERABLE and code in errors.NEEDS_INVITE
    assert "method_not_supported_for_channel_type" in errors.UNDELIVERABLE
    assert "/invite" in errors.CHANNEL_UNUSABLE["not_in_channel"]
    assert errors.TRANSIENT.isdisjoint(errors.UNDELIVERABLE)
