"""Hub webhooks: the receiver, the payload model, and keeping the Hub's webhooks in step."""
