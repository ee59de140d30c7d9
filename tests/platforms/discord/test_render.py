"""Rendering for Discord: oversized input split within every limit, Markdown and mentions neutralised, labels shown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.digests.model import ChannelRef, Digest, DigestItem, SourceLink, SummaryLine
from bot.digests.subscriptions import SubscriptionInfo
from bot.intelligence.results import Answer, CitedSentence
from bot.news.feeds import FeedHealth
from bot.platforms.discord.render import (
    DiscordMessage,
    clean,
    fit,
    link,
    render_answer,
    render_digest,
    render_link_summary,
    render_sources,
    render_subscription,
)
from bot.replies import LinkSummary
from bot.storage import TextKind
from tests.platforms.discord.limits import LIVE_MENTION, assert_within_limits, message_problems

WHEN = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
HOSTILE = "@everyone @here <@123456789012345678> <@&123456789012345678> **bold** [click](https://evil.example) `x`"


def _payload(message: DiscordMessage) -> dict[str, Any]:
    return {"content": message.content, "embeds": [embed.to_dict() for embed in message.embeds]}


def _check(messages: list[DiscordMessage]) -> list[dict[str, Any]]:
    payloads = [_payload(message) for message in messages]
    for payload in payloads:
        assert_within_limits(payload, require_no_mentions=False)
        assert not any(LIVE_MENTION.search(text) for text in _strings(payload)), payload
    return payloads


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _source(n: int, *, kind: TextKind = TextKind.FULL_TEXT, url_length: int = 40) -> SourceLink:
    url = f"https://outlet{n}.example/{'p' * url_length}"
    return SourceLink(f"Outlet number {n} " + "O" * 60, f"Title {n}", url, WHEN, kind)


def _item(n: int, *, lines: int, sources: int, title_chars: int, line_chars: int) -> DigestItem:
    summary = tuple(SummaryLine(f"Sentence {i} " + "w" * line_chars, i % sources) for i in range(lines))
    return DigestItem(
        story_id=n,
        title=f"Story {n} " + "T" * title_chars,
        summary=summary,
        sources=tuple(_source(i, url_length=300) for i in range(sources)),
        updated_at=WHEN,
        countries=("Japan", "South Korea", "North Korea", "China", "Russia"),
        regions=("East Asia",),
        topics=("nuclear and missiles", "diplomacy"),
    )


@pytest.mark.parametrize("style", ["short", "detailed"])
def test_oversized_digest_is_split_within_every_limit(style):
    """Ten huge stories (long titles, many long sentences and sources) split over messages, in order, within limits."""
    items = tuple(_item(n, lines=15, sources=30, title_chars=600, line_chars=900) for n in range(1, 11))
    digest = Digest(heading="Geopolitics briefing " + "H" * 3000, generated_at=WHEN, items=items, style=style)
    messages = render_digest(digest)
    payloads = _check(messages)
    assert len(payloads) >= 2
    numbers = [embed["title"].split(".")[0] for payload in payloads for embed in payload["embeds"]]
    assert numbers == [str(n) for n in range(1, 11)]  # every story once, in order
    assert all(payload["content"].startswith("**Geopolitics briefing") for payload in payloads)
    assert payloads[0]["content"].endswith(f"(1/{len(payloads)})")
    card = payloads[0]["embeds"][0]
    assert card["description"].startswith("• Sentence 0")
    assert ("more sentences" in card["description"]) == (style == "detailed")  # short shows two lines by design
    sources = card["fields"][0]["value"]
    assert sources.startswith("[1] [Outlet number 0") and "more" in sources.splitlines()[-1]


def test_typical_short_digest_fits_one_message_with_labels_and_links():
    """Five ordinary stories are one message: a card each, with cited lines, linked sources and their labels."""
    items = tuple(
        DigestItem(
            story_id=n,
            title=f"Leaders meet over security pact {n}",
            summary=(SummaryLine("The leaders met on Tuesday.", 0), SummaryLine("They agreed to talk again.", 1)),
            sources=(_source(1), _source(2, kind=TextKind.TEASER), _source(3), _source(4)),
            updated_at=WHEN,
            countries=("Japan",),
            topics=("diplomacy",),
        )
        for n in range(1, 6)
    )
    (message,) = render_digest(Digest(heading="Morning briefing", generated_at=WHEN, items=items))
    (payload,) = _check([message])
    assert payload["content"] == f"**Morning briefing**\n-# 5 stories · as of <t:{int(WHEN.timestamp())}:f>"
    card = payload["embeds"][0]
    assert card["title"] == "1. Leaders meet over security pact 1"
    assert card["url"] == _source(1).url
    assert card["description"] == "• The leaders met on Tuesday. [1]\n• They agreed to talk again. [2]"
    sources = card["fields"][0]["value"].splitlines()
    assert sources[0] == f"[1] [Outlet number 1 {'O' * 60}]({_source(1).url}) · full text"
    assert sources[1].endswith("· feed teaser only") and sources[-1] == "+1 more"
    assert card["footer"]["text"] == "4 outlets · based on full text · Japan · diplomacy · more: /news story 1"


def test_empty_digest_says_so():
    """A digest with nothing new is one short text message."""
    (message,) = render_digest(Digest(heading="Brief: Sahel", generated_at=WHEN, items=(), empty_message="Nothing."))
    assert message == DiscordMessage("**Brief: Sahel**\nNothing.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@everyone and @here", "@\u200beveryone and @\u200bhere"),
        ("<@123456789012345678>", "<@\u200b123456789012345678>"),
        ("<@&123456789012345678>", "<@\u200b&123456789012345678>"),
        ("**bold** _it_ ~~s~~ `c` ||spoiler||", "\\*\\*bold\\*\\* \\_it\\_ \\~\\~s\\~\\~ \\`c\\` \\|\\|spoiler\\|\\|"),
        ("[click](https://evil.example)", "\\[click\\](https://evil.example)"),
        ("# Heading", "\\# Heading"),
        ("> quote", "\\> quote"),
        ("- item", "\\- item"),
        ("1. first", "1\\. first"),
        ("line\n\n# two", "line # two"),  # joined into one line, so no longer a heading
    ],
)
def test_clean_neutralises_markdown_and_mentions(text, expected):
    """Outside text cannot format a message or mention anyone."""
    assert clean(text) == expected


def test_hostile_text_everywhere_renders_harmlessly():
    """Mentions and Markdown in titles, sentences, outlets, questions and notes never survive rendering."""
    source = SourceLink(HOSTILE, HOSTILE, "https://example.org/a", WHEN, TextKind.FULL_TEXT)
    item = DigestItem(1, HOSTILE, (SummaryLine(HOSTILE, 0),), (source,), WHEN, countries=(HOSTILE,))
    cited = CitedSentence(HOSTILE, 1, HOSTILE, HOSTILE, "https://example.org/a", WHEN, TextKind.TEASER, 0.9)
    answer = Answer(HOSTILE, (cited,), WHEN, True, "From 1 sentence in the archive:", 12)
    summary = LinkSummary("https://example.org/a", HOSTILE, HOSTILE, (HOSTILE,), TextKind.FULL_TEXT, "lead", HOSTILE)
    messages = [
        *render_digest(Digest(heading=HOSTILE, generated_at=WHEN, items=(item,))),
        *render_answer(answer),
        *render_link_summary(summary),
    ]
    for payload in _check(messages):
        # Footers show text as is (no Markdown there); everywhere else the link must be escaped.
        for embed in payload["embeds"]:
            embed.pop("footer", None)
        assert "[click](https://evil.example)" not in str(payload)


def test_fit_never_exceeds_and_never_leaves_a_dangling_escape():
    """Cutting text keeps it within the limit, on a word boundary, without a trailing backslash."""
    assert fit("short", 10) == "short"
    cut = fit("word " * 100, 50)
    assert len(cut) <= 50 and cut.endswith("word…")
    assert fit("a" * 48 + "\\*" + "b" * 10, 50) == "a" * 48 + "…"


def test_links_stay_well_formed():
    """Parentheses in a URL are encoded, and a non-http URL is shown as plain text."""
    assert link("BBC", "https://example.org/a_(b)") == "[BBC](https://example.org/a_%28b%29)"
    assert link("BBC", "javascript:alert(1)") == "BBC"


def test_answer_cites_each_article_once_and_lists_it():
    """Sentences from the same article share its number; the sources field links each article with its label."""
    sentences = tuple(
        CitedSentence(
            f"Sentence {n}.",
            n % 2,
            f"Title {n % 2}",
            f"Outlet {n % 2}",
            f"https://o{n % 2}.example/a",
            WHEN,
            TextKind.FULL_TEXT,
            0.5,
        )
        for n in range(3)
    )
    (message,) = render_answer(Answer("Who met?", sentences, WHEN, True, "From 3 sentences in the archive:", 40))
    (payload,) = _check([message])
    (card,) = payload["embeds"]
    assert card["description"].splitlines() == [
        "From 3 sentences in the archive:",
        "• Sentence 0. [1]",
        "• Sentence 1. [2]",
        "• Sentence 2. [1]",
    ]
    assert card["fields"][0]["value"].splitlines()[0].startswith("[1] [Outlet 0](https://o0.example/a) · Title 0")
    assert "searched 40 articles" in card["footer"]["text"]


def test_answer_with_nothing_found_says_so_plainly():
    """No relevant article: the card says so, without sources."""
    (message,) = render_answer(Answer("What about Mars?", (), WHEN, False, "I have nothing on that in the archive.", 9))
    (card,) = _check([message])[0]["embeds"]
    assert card["description"] == "I have nothing on that in the archive." and "fields" not in card


def test_blocked_link_summary_shows_the_note_and_the_label():
    """A page that gave no article shows why, labelled "fetch blocked"."""
    summary = LinkSummary(
        "https://x.example/a", "Paywalled", "x.example", (), TextKind.BLOCKED, "none", "Blocked (403)."
    )
    (card,) = _check(render_link_summary(summary))[0]["embeds"]
    assert card["description"] == "*Blocked (403).*"
    assert card["footer"]["text"] == "x.example · based on fetch blocked"


def test_paused_subscription_shows_its_reason_first():
    """Settings of a paused subscription lead with the reason and how to resume."""
    info = SubscriptionInfo(
        id=1,
        channel=ChannelRef("discord", "1", "2"),
        schedule="08:00",
        timezone="Europe/Berlin",
        filters={},
        filter_names={"countries": ["Japan"]},
        paused_reason="the channel no longer exists (Discord: Unknown Channel).",
    )
    (message,) = render_subscription(info)
    (card,) = _check([message])[0]["embeds"]
    assert card["description"].startswith("⏸️ **Paused:** the channel no longer exists")
    fields = {field["name"]: field["value"] for field in card["fields"]}
    assert fields == {
        "Schedule": "08:00 (Europe/Berlin)",
        "Next digest": "paused",
        "Stories": "up to 5, short",
        "Filters": "countries: Japan",
        "Follow-ups": "updates in the story's thread; no breaking alerts",
    }


def test_many_sources_split_over_cards_and_messages():
    """Hundreds of feeds fill several cards and messages, every one within the limits."""
    feeds = [
        FeedHealth(
            f"https://feed{n}.example/rss",
            f"Feed {n} " + "N" * 40,
            "GB",
            "en",
            n % 7 != 0,
            WHEN,
            WHEN,
            n % 3,
            "HTTP 503 " + "e" * 200 if n % 3 else None,
            None,
        )
        for n in range(300)
    ]
    payloads = _check(render_sources(feeds))
    assert len(payloads) >= 2
    lines = [line for payload in payloads for embed in payload["embeds"] for line in embed["description"].splitlines()]
    assert len(lines) == sum(feed.enabled for feed in feeds)
    assert payloads[0]["embeds"][0]["title"] == "News sources"


def test_checker_reports_each_broken_limit():
    """The shared checker itself catches oversize parts, too many embeds, and missing mention suppression."""
    embed = {"title": "t" * 257, "description": "d" * 4097, "fields": [{"name": "n", "value": "v" * 1025}] * 26}
    problems = message_problems({"content": "c" * 2001, "embeds": [embed] * 11})
    text = "\n".join(problems)
    for expected in [
        "content has 2001",
        "11 embeds",
        "title has 257",
        "description has 4097",
        "26 fields",
        "value has 1025",
        "together",
        "allowed_mentions is None",
    ]:
        assert expected in text
    assert message_problems({"content": "@everyone", "allowed_mentions": {"parse": []}}) == [
        "live mention in '@everyone'"
    ]
