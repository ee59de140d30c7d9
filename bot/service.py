"""The one service layer that every platform calls: Discord, Slack and the console behave the same through it.

Platforms parse a command, call a method here, render what it returns and send it. Every method is async:
model work and database queries run in worker threads (model work one at a time), so the event loop keeps
serving the gateway, Socket Mode and HTTP requests while a summary is computed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache, cached_property, partial
from typing import TYPE_CHECKING, Literal, ParamSpec, TypeVar
from urllib.parse import urlsplit

from bot.config import Settings
from bot.digests.dispatch import Dispatcher
from bot.digests.model import ChannelRef, Digest
from bot.digests.outbox import Outbox, Publisher, SendResult
from bot.digests.subscriptions import (
    Actor,
    AlertRule,
    FilterKind,
    SubscriptionInfo,
    SubscriptionRequest,
    get_subscription,
    known_names,
    label_language,
    require_manager,
    resolve_languages,
    subscribe,
    unsubscribe,
)
from bot.errors import UserInputError
from bot.intelligence.briefing import brief
from bot.intelligence.encoder import encoder_for, question_encoder_for
from bot.intelligence.pending import pending_note
from bot.intelligence.processing import ProcessReport
from bot.intelligence.results import Answer
from bot.intelligence.search import ASK_WINDOW, ask
from bot.intelligence.storyview import StoryView, story_view
from bot.intelligence.vector_index import vector_index
from bot.news.extract import extract_page
from bot.news.feeds import FeedHealth, add_feed, list_feeds, remove_feed
from bot.news.http import FetchBudget, FetchError, HttpClient
from bot.news.normalize import detect_language
from bot.replies import DigestNow, DigestOutcome, LinkSummary
from bot.storage import Database, DeliveryStatus, TextKind, utcnow
from bot.tasks import process_articles_job
from summarizer.encoder import covered_languages
from summarizer.languages import ENGLISH, encoder_covers

if TYPE_CHECKING:
    from summarizer.extractive import ExtractiveSummarizer
    from summarizer.seq2seq import Seq2SeqSummarizer

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

LINK_SUMMARY_SENTENCES = 3
MAX_URL_CHARS = 2048
AUTOCOMPLETE_CHOICES = 25  # Discord shows at most 25 choices; Slack's external selects take 100
COMMON_TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Kyiv",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
PLATFORM_NAMES = {"discord": "Discord", "slack": "Slack", "console": "The console"}


class NewsService:
    """Briefs, answers, link summaries, subscriptions, sources and digests for every platform."""

    def __init__(
        self, settings: Settings, database: Database, http: HttpClient, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.settings = settings
        self.database = database
        self.http = http
        self.clock = clock
        self.outbox = Outbox(database, {}, clock=clock)
        self.dispatcher = Dispatcher(database, self.outbox, clock=clock)
        self._model_slot = asyncio.Semaphore(1)  # the encoder uses every core: one model call at a time
        # Pages people ask for have their own budget, so a burst of them cannot starve feed polling.
        self.user_fetches = FetchBudget(settings.user_fetch_concurrency, settings.user_fetches_per_minute)

    @property
    def alert_defaults(self) -> AlertRule:
        """The breaking-alert rule of subscriptions that turn alerts on without giving one (ALERT_* settings)."""
        start, _, end = self.settings.alert_quiet_hours.partition("-")
        return AlertRule(
            min_outlets=self.settings.alert_min_outlets,
            min_countries=self.settings.alert_min_countries,
            window_hours=self.settings.alert_window_hours,
            per_day=self.settings.alerts_per_day,
            quiet_start=start,
            quiet_end=end,
        )

    async def serve_alerts(self) -> list[SendResult]:
        """Post the breaking alerts due now to the channels of the platforms this process publishes to."""
        return await self.dispatcher.serve_alerts(list(self.outbox.publishers))

    def add_publisher(self, platform: str, publisher: Publisher) -> None:
        """Let this process deliver digests to `platform`."""
        self.outbox.publishers = {**self.outbox.publishers, platform: publisher}

    @cached_property
    def summarizer(self) -> ExtractiveSummarizer | Seq2SeqSummarizer:
        """The summariser for links: extractive by default, seq2seq when SUMMARIZER_MODEL names one."""
        encoder = encoder_for(self.settings)
        if self.settings.summarizer_model:
            from summarizer.seq2seq import Seq2SeqSummarizer

            return Seq2SeqSummarizer(
                self.settings.summarizer_model, device=self.settings.summarizer_device, guard_encoder=encoder
            )
        from summarizer.extractive import ExtractiveSummarizer

        return ExtractiveSummarizer(encoder)

    # ParamSpec, so mypy checks every domain call's arguments as if it were made directly.
    async def _model(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._model_slot:
            return await asyncio.to_thread(partial(function, *args, **kwargs))

    async def _db(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(partial(function, *args, **kwargs))

    # -- reading the news --------------------------------------------------------------------------------------
    async def brief(self, query: str = "", *, limit: int = 5, languages: Sequence[str] = ()) -> Digest:
        """The top stories on a topic, country or region ("" for everything), as a digest to render.

        ``languages`` (names or codes; empty: all) keeps stories in those languages; items in a language other
        than the first of them (English when none is given) are labelled with it.
        """
        codes = resolve_languages(languages)
        result = await self._db(brief, self.database, query, now=self.clock(), limit=limit, languages=codes)
        channel_language = codes[0] if codes else ENGLISH
        about = result.description or "top stories"
        return Digest(
            heading=f"Brief: {about}",
            generated_at=result.as_of,
            items=tuple(label_language(story.item, channel_language) for story in result.stories),
            style="detailed",
            empty_message=result.message or "No stories in the archive yet.",
            as_of=result.as_of,
        )

    async def story(self, query: str) -> StoryView:
        """One story in full, by id or words: timeline, related storylines, and how each outlet tells it."""
        return await self._db(story_view, self.database, query, now=self.clock())

    async def ask(self, question: str) -> Answer:
        """Answer from stored articles with citations, or say plainly that the archive has nothing on it."""
        encoder = question_encoder_for(self.settings)  # float32: steady latency on a single sentence
        answer = await self._model(ask, self.database, encoder, question, now=self.clock())
        note = await self._db(pending_note, self.database)  # articles stored but not searchable yet
        return replace(answer, note=note) if note else answer

    async def summarize_url(self, url: str, *, requester: str = "", allow_private: bool = False) -> LinkSummary:
        """Fetch a page that a user gave (never a private address) and summarise it, saying what it was based on.

        `requester` names the person ("slack:T1:U1"); each may have USER_FETCHES_PER_MINUTE pages fetched a minute.
        `allow_private` lets an operator on the command line reach an intranet or loopback page; never from chat.
        """
        url = url.strip().strip("<>")
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname or len(url) > MAX_URL_CHARS:
            raise UserInputError("Give a full http:// or https:// link to a news article.")
        try:
            async with self.user_fetches.slot(requester, url):
                response = await self.http.get(
                    url, accept="text/html, application/xhtml+xml;q=0.9", allow_private=allow_private
                )
        except FetchError as error:
            raise UserInputError(f"I could not fetch that page: {error}") from None
        page = await self._db(extract_page, response.content, url=response.url, http_charset=response.charset)
        site = urlsplit(response.url).hostname or parts.hostname
        title = page.title or site
        if page.blocked is not None:
            note = f"The page did not give me the article ({page.blocked.value}), so there is nothing to summarise."
            return LinkSummary(response.url, title, site, (), TextKind.BLOCKED, "none", note)
        if not page.text:
            raise UserInputError("I found no article text on that page.")
        language = await self._db(detect_language, f"{page.title or ''}\n{page.text}")
        if encoder_covers(covered_languages(encoder_for(self.settings)), language):
            summary = await self._model(
                self.summarizer.summarize, page.text, title=page.title, max_sentences=LINK_SUMMARY_SENTENCES
            )
        else:  # the encoder's similarities mean nothing in this language: the article's own lead, said as such
            from summarizer.extractive import LeadSummarizer

            lead = LeadSummarizer(language).summarize(page.text, max_sentences=LINK_SUMMARY_SENTENCES + 1)
            kept = tuple(s for s in lead.sentences if s.text.strip() != (page.title or "").strip())
            summary = replace(lead, sentences=kept[:LINK_SUMMARY_SENTENCES])  # the headline is no summary line
        kind = TextKind.TEASER if summary.from_teaser else TextKind.FULL_TEXT
        note = "The page holds only a short text; this is most of it." if summary.from_teaser else ""
        sentences = tuple(sentence.text for sentence in summary.sentences)
        return LinkSummary(response.url, title, site, sentences, kind, summary.method, note)

    async def load_models(self) -> None:
        """Load the encoders and the recent articles' vectors now rather than on the first command, then exempt
        everything loaded so far from garbage collection: with torch in memory a full collection otherwise takes
        about 250 ms, a visible stall."""
        await asyncio.to_thread(encoder_for(self.settings).load)
        await asyncio.to_thread(question_encoder_for(self.settings).load)
        await self._db(self._fill_vector_index)
        gc.collect()
        gc.freeze()

    def _fill_vector_index(self) -> None:
        now = self.clock()
        with self.database.session() as session:
            vector_index(self.database).fill(session, now - ASK_WINDOW, now)

    async def process_new_articles(self) -> ProcessReport:
        """Tag, embed and cluster newly stored articles into stories, in this process (see `bot.tasks`)."""
        return await self._model(process_articles_job, self.database, encoder_for(self.settings))

    # -- subscriptions -----------------------------------------------------------------------------------------
    async def subscribe(self, channel: ChannelRef, request: SubscriptionRequest, actor: Actor) -> SubscriptionInfo:
        """Create or replace the channel's subscription (managers only)."""
        return await self._db(
            subscribe,
            self.database,
            channel,
            request,
            actor,
            default_timezone=self.settings.default_timezone,
            alert_defaults=self.alert_defaults,
            now=self.clock(),
        )

    async def unsubscribe(self, channel: ChannelRef, actor: Actor) -> bool:
        """Remove the channel's subscription (managers only); False when it had none."""
        return await self._db(unsubscribe, self.database, channel, actor)

    async def subscription(self, channel: ChannelRef) -> SubscriptionInfo | None:
        """The channel's subscription with its next due time and any pause reason."""
        return await self._db(get_subscription, self.database, channel, self.clock())

    async def digest_now(self, channel: ChannelRef) -> DigestNow:
        """Post the channel's digest now through the outbox, or, without a subscription, a digest to show."""
        info = await self.subscription(channel)
        if info is None:
            digest = await self.brief()
            message = "This channel has no subscription; here are the top stories."
            return DigestNow(DigestOutcome.SHOWN, message, digest=digest)
        if info.paused_reason:
            message = f"Digests to this channel are paused: {info.paused_reason}"
            return DigestNow(DigestOutcome.PAUSED, message, "Fix that, then run `/news subscribe` again.")
        if channel.platform not in self.outbox.publishers:
            return DigestNow(DigestOutcome.NO_PUBLISHER, "This process cannot post to that platform.")
        result = await self.dispatcher.post_now(info.id)
        if result is None:
            message = "Nothing new for this channel: no story it has not had yet passes its filters."
            return DigestNow(DigestOutcome.NOTHING_NEW, message)
        error = result.error or ""
        if result.status is DeliveryStatus.SENT:
            return DigestNow(DigestOutcome.POSTED, "Posted this channel's digest.")
        if result.status is DeliveryStatus.FAILED:
            message = f"I could not post here, so digests to this channel are paused: {error}"
            return DigestNow(DigestOutcome.FAILED, message, "Fix that, then run `/news subscribe` again.")
        platform = PLATFORM_NAMES.get(channel.platform, channel.platform)
        message = f"{platform} did not take the digest yet; it stays queued and will be retried."
        return DigestNow(DigestOutcome.QUEUED, message, error)

    # -- sources -----------------------------------------------------------------------------------------------
    async def sources(self) -> list[FeedHealth]:
        """The feeds with their health."""
        return await self._db(list_feeds, self.database)

    async def add_source(self, url: str, actor: Actor) -> FeedHealth:
        """Add a feed that a user gave (managers only; it stays behind the private-address guard)."""
        require_manager(actor)
        return await self._db(add_feed, self.database, url)

    async def remove_source(self, url: str, actor: Actor) -> FeedHealth:
        """Stop polling a feed (managers only); its articles stay."""
        require_manager(actor)
        return await self._db(remove_feed, self.database, url)

    # -- autocomplete ------------------------------------------------------------------------------------------
    def suggest(self, kind: FilterKind | Literal["any"], typed: str) -> list[str]:
        """Names that start with (then contain) what the user typed, for autocomplete."""
        kinds: tuple[FilterKind, ...] = ("topic", "region", "country") if kind == "any" else (kind,)
        return _matching([name for each in kinds for name in known_names(each)], typed)

    def suggest_timezones(self, typed: str) -> list[str]:
        """IANA timezone names that start with, then contain, what was typed (common ones when nothing is)."""
        return _matching(_timezones(), typed) if typed.strip() else list(COMMON_TIMEZONES)


@cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _matching(names: Sequence[str], typed: str) -> list[str]:
    """The names that start with what was typed, then those that contain it, at most AUTOCOMPLETE_CHOICES."""
    folded = typed.strip().lower()
    starts = [name for name in names if name.lower().startswith(folded)]
    contains = [name for name in names if folded in name.lower() and name not in starts]
    return (starts + contains)[:AUTOCOMPLETE_CHOICES]
