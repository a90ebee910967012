"""Slack surfaces, one module each, built from `blocks` (builders and Slack's limits)."""
