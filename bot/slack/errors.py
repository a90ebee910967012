"""Slack Web API error codes, classified once: what each means for a post and what to do.

The deliverer, the digest poster and the `digest now` command all meet the same codes;
this is where it is decided which are worth a retry, which mean a channel cannot take
messages (pause it, or give up on it for the week), and which an invite would fix.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

# Retrying later can work: Slack is overloaded, or asked us to slow down.
TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

# The channel (or the token) cannot take messages until someone fixes it; retrying cannot.
# The words explain it to whoever reads the log or the paused subscription.
CHANNEL_UNUSABLE: dict[str, str] = {
    "channel_not_found": "the channel no longer exists or the bot cannot see it",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "invalid_auth": "Slack rejected the bot token (invalid_auth)",
    "account_inactive": "the bot's Slack account is inactive",
    "token_revoked": "the bot token was revoked",
    "not_in_channel": "the bot is not in this private channel: /invite @Open Model Radar",
    "restricted_action": "posting is restricted in this channel",
}

# A digest that meets one of these is recorded as done for its period (with a log line):
# the channel is not tried again every minute of the week.
UNDELIVERABLE = frozenset(CHANNEL_UNUSABLE) | {"method_not_supported_for_channel_type"}

# The bot cannot post here until it is invited (what `digest now` tells the user).
NEEDS_INVITE = frozenset(
    {"not_in_channel", "channel_not_found", "method_not_supported_for_channel_type"}
)


def error_code(exc: SlackApiError) -> str:
    """The `error` field of a failed call; "" when the body is not Slack's JSON."""
    response = exc.response
    try:
        return str(response.get("error", "")) if response is not None else ""
    except Exception:  # a non-JSON body
        return ""


def http_status(exc: SlackApiError) -> int:
    return exc.response.status_code if exc.response is not None else 0


def is_rate_limited(exc: SlackApiError) -> bool:
    return http_status(exc) == 429 or error_code(exc) == "ratelimited"


def is_transient(exc: SlackApiError) -> bool:
    """Worth trying again after a pause: a rate limit, a 5xx, or a transient code."""
    return is_rate_limited(exc) or http_status(exc) >= 500 or error_code(exc) in TRANSIENT


def retry_after(exc: SlackApiError, default: float = 1.0) -> float:
    """Seconds Slack asked us to wait (the `Retry-After` header), else `default`."""
    headers = exc.response.headers if exc.response is not None else {}
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value if not isinstance(value, list) else value[0]))
            except (TypeError, ValueError):
                break
    return default
