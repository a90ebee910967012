"""The domain: labs, facts, notability, releases, outbox, digest — no Slack, HTTP or TinyDB."""
