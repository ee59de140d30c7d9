"""Subscriptions, digests and their delivery through the outbox."""
