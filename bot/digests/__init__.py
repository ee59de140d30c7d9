"""Subscriptions, digests, how a digest item is presented (`present`), and their delivery through the outbox."""
