"""Logging set-up with one guarantee: configured secrets never reach a log line.

A filter on the root handler replaces every secret value (tokens, signing secret) and any
Slack or Hugging Face token-shaped string with `[redacted]`, whatever module logged it
(ours, slack_sdk's debug output, or a library's exception text).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

# Rotating tokens (OAuth installs with token rotation) look like `xoxe.xoxb-1-…`, their
# refresh tokens `xoxe-1-…`.
TOKEN_SHAPES = re.compile(
    r"\b(xoxe\.xox[abposr]-[\w-]+|xox[abposre]-[\w-]+|xapp-[\w-]+|hf_[A-Za-z0-9]{10,})"
)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return TOKEN_SHAPES.sub("[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = self.redact(message)
        record.args = None
        return True


def setup_logging(level: str = "INFO", secrets: Iterable[str] = (), stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "slack_bolt", "slack_sdk", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
