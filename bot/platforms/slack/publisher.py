"""SlackPublisher: posts a digest with chat.postMessage, continuing a long one in the first message's thread.

Rate limits are waited out by the Web API client's retry handlers (`build_client`). What still fails is sorted for
the outbox: a channel the bot cannot post to raises `ChannelUnavailableError` with a reason people can act on (the
subscription pauses and `/news settings` shows why); anything else raises `PublishError` (the delivery stays
pending and is retried with backoff).

Slack has no idempotency key for chat.postMessage, so a repeat is prevented by looking first. The first message of a
digest carries the outbox's delivery key in its `metadata`; a retry (the outbox passes `retry_since`: the earlier
attempt may have reached Slack and its answer been lost to a crash, a timeout or a dropped connection) reads the
channel's history from the delivery's record time on and returns the earlier post when it is there. For the same
reason the client never repeats a post by itself after a dropped connection or a 5xx (only after a 429, which Slack
answers without posting): the outbox retries it, with the look-up.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.digests.model import ChannelRef, Digest
from bot.digests.outbox import ChannelUnavailableError, Posted, PublishError
from bot.platforms.slack.render import Message, render_digest, render_update

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 3  # each waits Slack's Retry-After; chat.postMessage allows about one post a second per channel
SERVER_ERROR_RETRIES = 1  # then the outbox backs off for longer
CONNECTION_RETRIES = 1  # the outbox retries later anyway
TIMEOUT_SECONDS = 30

METADATA_EVENT = "geobrief_digest"  # the metadata event_type of a digest's first message
HISTORY_PAGE = 200  # messages per conversations.history page
HISTORY_PAGES = 5  # pages read before giving up the look-up (a very busy channel): then it posts
CLOCK_SKEW = 300.0  # seconds read before the record time, for a difference between our clock and Slack's
# Methods whose repeat after a dropped connection or a 5xx could post twice: the outbox retries them instead.
UNSAFE_TO_REPEAT = ("chat.postMessage",)

SLACK_FAILURES = (SlackApiError, SlackClientError, ClientError, TimeoutError)

_REINVITE = "invite the app to the channel (/invite @app), then run /news subscribe again"

# Slack error codes that mean "this channel cannot take our posts until someone acts", with what to tell them.
CHANNEL_ERRORS = {
    "channel_not_found": "Slack cannot find this channel, or the app cannot see it; " + _REINVITE,
    "not_in_channel": "the app is not a member of this channel (or was removed); " + _REINVITE,
    "is_archived": "the channel is archived; unarchive it, then run /news subscribe again",
    "channel_is_archived": "the channel is archived; unarchive it, then run /news subscribe again",
    "account_inactive": "the app's bot user was deactivated or the app uninstalled; reinstall it",
    "token_revoked": "the app was uninstalled from this workspace; reinstall it",
    "team_access_not_granted": "the app has no access to this channel's workspace",
    "restricted_action": "workspace settings do not allow the app to post in this channel",
    "restricted_action_read_only_channel": "the channel is read-only for the app",
    "restricted_action_thread_only_channel": "the channel only allows replies in threads",
    "restricted_action_non_threadable_channel": "the channel does not allow threads, which long digests need",
    "ekm_access_denied": "the workspace's encryption keys deny access to this channel",
    "missing_scope": "the app lacks the chat:write scope; reinstall it from slack-manifest.yml",
    "not_allowed_token_type": "the app's token cannot post here; check SLACK_BOT_TOKEN is a bot token (xoxb-)",
}


# Slack's answers to a reply whose parent message was deleted.
ORIGINAL_GONE = frozenset({"thread_not_found", "message_not_found"})


class _NeverRepeatAPost(AsyncRetryHandler):
    """Refuses to retry a post, whose request may have reached Slack; defers to the next handler class otherwise."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.endswith(UNSAFE_TO_REPEAT):
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


class _ReadRetry(_NeverRepeatAPost, AsyncServerErrorRetryHandler):
    """Retries a 500/503, except for a post (Slack may have taken it)."""


class _ReadReconnect(_NeverRepeatAPost, AsyncConnectionErrorRetryHandler):
    """Retries a dropped connection, except for a post (the request may have reached Slack)."""


def build_client(token: str, base_url: str) -> AsyncWebClient:
    """The Web API client: rate limits waited out (Retry-After); a 500/503 and dropped connections retried once,
    except for posts, whose retry the outbox makes after looking for the earlier post."""
    if not base_url.endswith("/"):
        base_url += "/"  # the client appends method names to it
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            _ReadRetry(max_retry_count=SERVER_ERROR_RETRIES),
            _ReadReconnect(max_retry_count=CONNECTION_RETRIES),
        ],
    )


class SlackPublisher:
    """Delivers digests to Slack channels for the outbox."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._bot_id: str | None = None

    async def publish(
        self, channel: ChannelRef, digest: Digest, idempotency_key: str, *, retry_since: datetime | None = None
    ) -> str | Posted:
        """Post the digest (the rest of a long one in its thread) and return the first message's ts.

        `idempotency_key` goes into the first message's metadata; with `retry_since` the channel's history from
        then on is searched for it first, and an earlier post found there is returned instead of posting again.
        """
        if digest.kind == "update" and digest.follow_up is not None:
            return await self._publish_update(channel, digest, idempotency_key, retry_since)
        first, *rest = render_digest(digest)
        try:
            if retry_since is not None:
                earlier = await self._find_post(channel, idempotency_key, retry_since)
                if earlier is not None:
                    log.info("%s is already in %s as %s; not posted again", idempotency_key, channel, earlier)
                    return earlier
            ts = await self._post(channel, first, metadata=_delivery_metadata(idempotency_key))
        except SLACK_FAILURES as error:
            raise _publish_error(error) from error
        except Exception as error:  # an odd reply (e.g. a text/plain 500) must not escape the outbox
            log.exception("%s to %s failed unexpectedly", idempotency_key, channel)
            raise PublishError(f"Slack did not take the digest: {type(error).__name__}") from error
        log.info("%s posted to %s as %s (%d parts)", idempotency_key, channel, ts, 1 + len(rest))
        for number, part in enumerate(rest, start=2):
            try:
                await self._post(channel, part, thread_ts=ts)
            except Exception as error:
                # The digest is already in the channel; raising would make the outbox post it twice.
                log.warning("%s part %d in %s's thread failed: %s", idempotency_key, number, channel, _code(error))
                break
        return ts

    async def _publish_update(
        self, channel: ChannelRef, digest: Digest, idempotency_key: str, retry_since: datetime | None
    ) -> str | Posted:
        """Reply in the thread of the message that carried the story; when that message is gone, post the update
        as a new message that names the earlier one (and later updates reply to it).

        Both carry the delivery key in their metadata. A retried update that went out on its own is looked up in the
        channel's history like a digest; a thread reply is not (the history lists a thread's parent only).
        """
        assert digest.follow_up is not None
        reply_to = digest.follow_up.reply_to
        metadata = _delivery_metadata(idempotency_key)
        try:
            if reply_to:
                try:
                    ts = await self._post(channel, render_update(digest), thread_ts=reply_to, metadata=metadata)
                    log.info("%s: update posted in %s's thread %s", idempotency_key, channel, reply_to)
                    return ts
                except SlackApiError as error:
                    if _code(error) not in ORIGINAL_GONE:
                        raise
                    log.info(
                        "%s: thread %s in %s is gone; posting the update on its own", idempotency_key, reply_to, channel
                    )
            earlier = await self._find_post(channel, idempotency_key, retry_since) if retry_since else None
            if earlier is not None:
                return Posted(earlier, {item.story_id: earlier for item in digest.items})
            ts = await self._post(channel, render_update(digest, standalone=True), metadata=metadata)
        except SLACK_FAILURES as error:
            raise _publish_error(error) from error
        except Exception as error:  # an odd reply must not escape the outbox
            log.exception("%s to %s failed unexpectedly", idempotency_key, channel)
            raise PublishError(f"Slack did not take the update: {type(error).__name__}") from error
        return Posted(ts, {item.story_id: ts for item in digest.items})

    async def _post(
        self,
        channel: ChannelRef,
        message: Message,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        response = await self.client.chat_postMessage(
            channel=channel.channel_id,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            metadata=metadata,
            **message.payload(),
        )
        return str(response["ts"])

    async def _find_post(self, channel: ChannelRef, idempotency_key: str, since: datetime) -> str | None:
        """The ts of this bot's message carrying `idempotency_key` posted since `since`, if any.

        A look-up Slack refuses for lack of the history scope or access to the channel is skipped (the post then
        goes out, as before the scope existed, or fails with the channel's own error); any other failure is raised,
        so the delivery waits for a look-up that works rather than risk a second post.
        """
        try:
            if self._bot_id is None:
                self._bot_id = str((await self.client.auth_test()).get("bot_id") or "")
            cursor: str | None = None
            for _page in range(HISTORY_PAGES):
                response = await self.client.conversations_history(
                    channel=channel.channel_id,
                    oldest=f"{since.timestamp() - CLOCK_SKEW:.6f}",
                    include_all_metadata=True,
                    limit=HISTORY_PAGE,
                    cursor=cursor,
                )
                for message in response.get("messages") or []:
                    if self._bot_id and message.get("bot_id") != self._bot_id:
                        continue
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == METADATA_EVENT and payload.get("delivery") == idempotency_key:
                        return str(message["ts"])
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not response.get("has_more") or cursor is None:
                    return None
        except SlackApiError as error:
            if _code(error) != "missing_scope" and _code(error) not in CHANNEL_ERRORS:
                raise
            log.warning(
                "%s: cannot read %s's history (%s); posting without a look-up", idempotency_key, channel, _code(error)
            )
            return None
        log.warning(
            "%s: not among %s's last %d messages; posting", idempotency_key, channel, HISTORY_PAGE * HISTORY_PAGES
        )
        return None


def _delivery_metadata(idempotency_key: str) -> dict[str, Any]:
    """The message metadata that lets a retry find this delivery's post in the channel's history."""
    return {"event_type": METADATA_EVENT, "event_payload": {"delivery": idempotency_key}}


def _code(error: Exception) -> str:
    """Slack's error code ("not_in_channel"), else the HTTP status or the kind of failure."""
    if isinstance(error, SlackApiError):
        data = error.response.data
        code = data.get("error") if isinstance(data, dict) else None
        return str(code or f"HTTP {error.response.status_code}")
    if isinstance(error, TimeoutError):
        return "timed out"
    return type(error).__name__


def _publish_error(error: Exception) -> PublishError:
    """The outbox's view of a failed post: a paused channel with a reason, or a retry later."""
    code = _code(error)
    reason = CHANNEL_ERRORS.get(code)
    if reason is not None:
        return ChannelUnavailableError(f"{reason} (Slack said: {code})")
    return PublishError(f"Slack did not take the digest: {code}")
