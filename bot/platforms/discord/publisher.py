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
from typing import Literal

import aiohttp
import discord

from bot.digests.model import ChannelRef, Digest
from bot.digests.outbox import ChannelUnavailableError, Posted, PublishError
from bot.platforms.discord.render import DiscordMessage, fit, plain, render_digest, render_update

log = logging.getLogger(__name__)

NONCE_CHARS = 25  # Discord's limit for a message nonce

# Discord's JSON error codes for a channel the bot cannot post to.
UNKNOWN_CHANNEL = 10003
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
# ...and for threads on a story's message.
UNKNOWN_MESSAGE = 10008
INVALID_FORM_BODY = 50035  # a reply to a message that no longer exists
THREAD_ALREADY_CREATED = 160004
THREAD_NAME_CHARS = 100
THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080  # a week: a developing story's thread stays open between digests


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
    ) -> Posted:
        """Post `digest` as one or more messages; return the first message's id and the message of each story.

        An update goes to a thread started on the message that carried its story (see `_publish_update`).
        A retry (`retry_since` set) needs no look-up: the same nonces make Discord return the earlier messages.
        """
        if self.client.user is None or self.client.is_closed():
            raise PublishError("not logged in to Discord yet")
        if digest.kind == "update" and digest.follow_up is not None:
            return await self._publish_update(channel, digest, idempotency_key)
        target = self._target(channel, channel.channel_id)
        first_id = ""
        story_messages: dict[int, str] = {}
        items = iter(digest.items)
        for index, message in enumerate(render_digest(digest)):
            sent_id = await self._send(target, message, message_nonce(idempotency_key, index))
            first_id = first_id or sent_id
            for _embed, item in zip(message.embeds, items, strict=False):  # one card per story, in order
                story_messages[item.story_id] = sent_id
            log.debug("%s: message %s of %s posted as %s", idempotency_key, index + 1, channel, sent_id)
        return Posted(first_id, story_messages)

    async def _publish_update(self, channel: ChannelRef, digest: Digest, idempotency_key: str) -> Posted:
        """Post an update in the thread of the story's message: started on it, or the one already there (a thread
        started on a message has the message's id). Where the bot may not start threads, the update replies to the
        message; when the message is gone, it is a new post that names the earlier one, and later updates go to it.
        """
        assert digest.follow_up is not None
        story_id = digest.items[0].story_id if digest.items else 0
        reply_to = digest.follow_up.reply_to
        nonce = message_nonce(idempotency_key, 0)
        here = self._target(channel, channel.channel_id)
        if reply_to:
            where = await self._thread_for(channel, reply_to, digest)
            if where == "thread":
                (message,) = render_update(digest)
                return Posted(await self._send(self._target(channel, reply_to), message, nonce))
            if where == "reply":
                (message,) = render_update(digest)
                reference = discord.MessageReference(
                    message_id=int(reply_to), channel_id=int(channel.channel_id), fail_if_not_exists=True
                )
                try:
                    return Posted(await self._send(here, message, nonce, reference))
                except _OriginalGone:
                    pass
        (message,) = render_update(digest, standalone=True)
        sent_id = await self._send(here, message, message_nonce(idempotency_key, 1))
        return Posted(sent_id, {story_id: sent_id})

    async def _thread_for(self, channel: ChannelRef, message_id: str, digest: Digest) -> str:
        """Start a thread on the story's message: "thread" (started, or there already), "reply" (threads are not
        allowed here) or "gone" (the message was deleted)."""
        title = digest.items[0].title if digest.items else digest.heading
        try:
            await self.client.http.start_thread_with_message(
                int(channel.channel_id),
                int(message_id),
                name=fit(plain(title), THREAD_NAME_CHARS) or "Story updates",
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.HTTPException as error:
            if error.code == THREAD_ALREADY_CREATED:
                return "thread"
            if error.code == UNKNOWN_MESSAGE:
                return "gone"
            if error.code == UNKNOWN_CHANNEL or error.status == 404:
                raise ChannelUnavailableError(unavailable_reason(error)) from error
            if error.status in {400, 403}:  # no Create Public Threads permission, or a channel without threads
                log.info("cannot start a thread in %s (code %s); replying instead", channel, error.code)
                return "reply"
            raise PublishError(f"Discord answered HTTP {error.status} (code {error.code})") from error
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise PublishError(f"could not reach Discord ({type(error).__name__})") from error
        return "thread"

    def _target(self, channel: ChannelRef, channel_id: str) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(int(channel_id), guild_id=int(channel.workspace_id))

    async def _send(
        self,
        target: discord.PartialMessageable,
        message: DiscordMessage,
        nonce: str,
        reference: discord.MessageReference | None = None,
    ) -> str:
        """Send one message with its nonce; Discord's refusals become the outbox's errors."""
        content, embeds, mentions = message.content or None, list(message.embeds), discord.AllowedMentions.none()
        try:
            if reference is None:
                sent = await target.send(content=content, embeds=embeds, nonce=nonce, allowed_mentions=mentions)
            else:  # a reply that pings nobody, its author included
                sent = await target.send(
                    content=content,
                    embeds=embeds,
                    nonce=nonce,
                    allowed_mentions=mentions,
                    reference=reference,
                    mention_author=False,
                )
        except (discord.NotFound, discord.Forbidden) as error:
            raise ChannelUnavailableError(unavailable_reason(error)) from error
        except discord.HTTPException as error:
            if reference is not None and error.code == INVALID_FORM_BODY:  # the referenced message is gone
                raise _OriginalGone from error
            raise PublishError(f"Discord answered HTTP {error.status} (code {error.code})") from error
        except discord.RateLimited as error:
            raise PublishError(f"rate limited by Discord for {error.retry_after:.0f} s") from error
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise PublishError(f"could not reach Discord ({type(error).__name__})") from error
        except discord.DiscordException as error:  # anything else discord.py raises: retry later, keep the digest
            raise PublishError(f"discord.py failed: {type(error).__name__}") from error
        return str(sent.id)


class _OriginalGone(Exception):
    """The message an update replies to no longer exists."""
