"""What the service layer hands platforms besides digests and answers: link summaries and command outcomes.

Renderers import these types, never `bot.service`. Each outcome carries the sentence to show, worded once here in
the service's terms, so Discord, Slack and the console say the same thing; adapters only choose how to show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.digests.model import TEXT_KIND_LABELS, Digest
from bot.storage.models import TextKind


@dataclass(frozen=True)
class LinkSummary:
    """The summary of one web page that a user gave (`/news summarize`)."""

    url: str
    title: str
    site: str
    sentences: tuple[str, ...]
    text_kind: TextKind
    method: str
    note: str = ""

    @property
    def label(self) -> str:
        """What the summary was based on, in words."""
        return TEXT_KIND_LABELS[self.text_kind]


def source_change(action: str, name: str, url: str) -> str:
    """What `/news sources add|remove` did, in one sentence ("add" or "remove")."""
    if action == "add":
        return f"Added the feed {name} ({url}); it is polled from the next sync on."
    return f"Stopped polling {name} ({url}); its articles stay in the archive."


class DigestOutcome(StrEnum):
    """What `/news digest` did."""

    SHOWN = "shown"  # the channel has no subscription: `digest` holds the top stories to show in reply
    PAUSED = "paused"  # the subscription is paused; nothing was posted
    NO_PUBLISHER = "no_publisher"  # this process cannot post to the channel's platform
    NOTHING_NEW = "nothing_new"  # nothing new since the channel's last digest
    POSTED = "posted"  # the platform took the digest
    QUEUED = "queued"  # the platform did not take it yet; the outbox keeps it and retries
    FAILED = "failed"  # the channel refused it for good; the subscription is now paused


@dataclass(frozen=True)
class DigestNow:
    """The outcome of `/news digest`, with the sentence to show and, for some outcomes, small print.

    Attributes:
        outcome: what happened.
        message: one sentence for the person who asked.
        detail: what to do about it, or the platform's error ("" when there is nothing to add).
        digest: with `DigestOutcome.SHOWN` only, the digest to show in reply.
    """

    outcome: DigestOutcome
    message: str
    detail: str = ""
    digest: Digest | None = None
