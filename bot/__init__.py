"""Open Model Radar: a Slack bot for notable open-weight model releases."""

__version__ = "0.1.0"
