"""Block Kit builders, one module per surface: pure functions from domain objects to Slack
payloads (card, forms, announcements, timeline, lists, updates; common holds the shared parts)."""
