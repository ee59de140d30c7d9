"""What the application runner needs from a chat platform adapter."""

from __future__ import annotations

from typing import Protocol

from bot.digests.outbox import Publisher


class Platform(Protocol):
    """A running adapter: it answers commands through the service layer and publishes digests."""

    name: str  # the ChannelRef.platform it serves: "discord" or "slack"

    @property
    def publisher(self) -> Publisher:
        """Posts digests to this platform's channels."""
        ...

    async def run(self) -> None:
        """Connect and serve commands until cancelled (return at once if this process only publishes)."""
        ...

    async def close(self) -> None:
        """Disconnect and release resources."""
        ...
