"""The Slack surface: Bolt app, listeners, views, delivery of alerts and digests."""
