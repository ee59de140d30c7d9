"""The console channel and its publisher: digests through the outbox to a text stream, as to any channel."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

from bot.digests.model import ChannelRef, Digest
from bot.platforms.console.render import render_digest, render_update

CONSOLE_CHANNEL = ChannelRef("console", "local", "terminal")


class ConsolePublisher:
    """Publishes digests to a text stream (standard output by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.posted = 0

    async def publish(
        self, channel: ChannelRef, digest: Digest, idempotency_key: str, *, retry_since: datetime | None = None
    ) -> str:
        """Write the digest (an update as a reply under its story); the message id is a running count."""
        text = render_update(digest) if digest.kind == "update" else render_digest(digest)
        self.stream.write(text + "\n")
        self.stream.flush()
        self.posted += 1
        return f"console-{self.posted}"
