"""Posting scheduled digests to Discord channels for the outbox.

Each message carries a nonce derived from the outbox's delivery id with `enforce_nonce`, so when a send is retried
after Discord took it but before the outbox could mark it sent, Discord returns the first message instead of posting a
second one (it remembers nonces for a few minutes; the outbox retries 30 s after an error, 2 min after a crash).
Discord's 429s are waited out by discord.py's rate limiter; a wait longer than the client's limit becomes a
`PublishError` and the outbox retries later. A channel that is gone or closed to the bot becomes a
`ChannelUnavailableError` whose message says why and what to do: the outbox pauses the subscription with it, and
`/news settings` shows it.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

import aiohttp
import discord

from bot.digests.model import ChannelRef, Digest
from bot.digests.outbox import ChannelUnavailableError, PublishError
from bot.platforms.discord.render import render_digest

log = logging.getLogger(__name__)

NONCE_CHARS = 25  # Discord's limit for a message nonce

# Discord's JSON error codes for a channel the bot cannot post to.
UNKNOWN_CHANNEL = 10003
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013


def message_nonce(idempotency_key: str, index: int) -> str:
    """The nonce of the `index`-th message of a delivery: the same on every retry, at most 25 characters."""
    nonce = f"{idempotency_key}.{index}"
    if len(nonce) <= NONCE_CHARS:
        return nonce
    return hashlib.sha256(nonce.encode()).hexdigest()[:NONCE_CHARS]


def unavailable_reason(error: discord.HTTPException) -> str:
    """Why Discord refused a channel, in words a channel manager can act on."""
    if error.status == 404 or error.code == UNKNOWN_CHANNEL:
        return "the channel no longer exists or I can no longer reach it (Discord: Unknown Channel)."
    if error.code == MISSING_ACCESS:
        return "I can no longer see this channel (Discord: Missing Access). Give me the View Channel permission here."
    if error.code == MISSING_PERMISSIONS:
        return (
            "I am missing a permission to post here (Discord: Missing Permissions). "
            "I need View Channel, Send Messages and Embed Links (and Send Messages in Threads in a thread)."
        )
    return f"Discord refused my post here (HTTP {error.status}, code {error.code})."


class DiscordPublisher:
    """Delivers digests to Discord channels through the bot's REST client."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def publish(
        self, channel: ChannelRef, digest: Digest, idempotency_key: str, *, retry_since: datetime | None = None
    ) -> str:
        """Post `digest` as one or more messages; return the first message's id.

        A retry (`retry_since` set) needs no look-up: the same nonces make Discord return the earlier messages.
        """
        if self.client.user is None or self.client.is_closed():
            raise PublishError("not logged in to Discord yet")
        target = self.client.get_partial_messageable(int(channel.channel_id), guild_id=int(channel.workspace_id))
        first_id = ""
        for index, message in enumerate(render_digest(digest)):
            try:
                sent = await target.send(
                    content=message.content or None,
                    embeds=list(message.embeds),
                    nonce=message_nonce(idempotency_key, index),
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            except (discord.NotFound, discord.Forbidden) as error:
                raise ChannelUnavailableError(unavailable_reason(error)) from error
            except discord.HTTPException as error:
                raise PublishError(f"Discord answered HTTP {error.status} (code {error.code})") from error
            except discord.RateLimited as error:
                raise PublishError(f"rate limited by Discord for {error.retry_after:.0f} s") from error
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                raise PublishError(f"could not reach Discord ({type(error).__name__})") from error
            except discord.DiscordException as error:  # anything else discord.py raises: retry later, keep the digest
                raise PublishError(f"discord.py failed: {type(error).__name__}") from error
            first_id = first_id or str(sent.id)
            log.debug("%s: message %s of %s posted as %s", idempotency_key, index + 1, channel, sent.id)
        return first_id
