"""Block Kit rendering: escaping, links, limits, and long digests split into thread-sized parts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.digests.model import ChannelRef, Digest, DigestItem, SourceLink, SummaryLine
from bot.digests.subscriptions import SubscriptionInfo
from bot.intelligence.results import Answer, CitedSentence
from bot.news.feeds import FeedHealth
from bot.platforms.slack import render
from bot.replies import LinkSummary
from bot.storage import TextKind
from tests.platforms.slack.blockkit import message_problems

WHEN = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
EVIL = "Hamas & Fatah <!everyone> <@U0BADBAD> <!here> <https://evil.example|click> a > b"


def make_item(story_id: int, *, title: str = "", text: str = "", sources: int = 2, lines: int = 3) -> DigestItem:
    links = tuple(
        SourceLink(
            outlet=f"Outlet {n}",
            title=f"Article {n}",
            url=f"https://outlet{n}.example/news/{story_id}?a=1&b=2",
            published_at=WHEN - timedelta(hours=n),
            text_kind=TextKind.FULL_TEXT if n else TextKind.TEASER,
        )
        for n in range(sources)
    )
    summary = tuple(SummaryLine(text or f"Sentence {n} of story {story_id}.", n % sources) for n in range(lines))
    return DigestItem(
        story_id=story_id,
        title=title or f"Story {story_id}",
        summary=summary,
        sources=links,
        updated_at=WHEN,
        countries=("Japan", "Taiwan"),
        topics=("nuclear and missiles",),
    )


def make_digest(items: list[DigestItem], *, style: str = "short") -> Digest:
    return Digest(heading="Morning brief", generated_at=WHEN, items=tuple(items), style=style)  # type: ignore[arg-type]


def story_sections(message: render.Message) -> list[render.Block]:
    """The section blocks that open a story ("*1. Title*")."""
    return [block for block in message.blocks if block["type"] == "section" and block["text"]["text"].startswith("*")]


def assert_clean(message: render.Message) -> None:
    problems = message_problems(message.payload())
    assert not problems, "\n".join(problems)


def test_escape_disarms_mentions_and_entities():
    """&, < and > become entities, so <!everyone> and <@U…> from a feed show as text and notify nobody."""
    assert render.escape("a & <!everyone> <@U1>") == "a &amp; &lt;!everyone&gt; &lt;@U1&gt;"


@pytest.mark.parametrize(
    ("url", "label", "expected"),
    [
        ("https://a.example/x?b=1&c=2", "A & B", "<https://a.example/x?b=1&amp;c=2|A &amp; B>"),
        ("https://a.example/x|y>z", "x", "<https://a.example/x%7Cy&gt;z|x>"),
        ("javascript:alert(1)", "bad", "bad"),
        ("https://a.example/" + "x" * 2000, "long", "long"),
    ],
)
def test_link_escapes_url_and_label_and_refuses_other_schemes(url, label, expected):
    """Links are escaped on both sides; non-http URLs and absurdly long ones are shown as plain labels."""
    assert render.link(url, label) == expected


def test_escape_clipped_never_cuts_an_entity():
    """Clipping counts escaped characters and never leaves half of "&amp;"."""
    for limit in range(5, 40):
        clipped = render.escape_clipped("&" * 50, limit)
        assert len(clipped) <= limit
        assert clipped.replace("&amp;", "").rstrip("…") == ""


def test_digest_escapes_article_text_everywhere():
    """Titles, summary lines and outlets with & and <!everyone> are escaped; the checker finds nothing raw."""
    source = SourceLink(EVIL, EVIL, "https://x.example/?q=<a>&b", WHEN, TextKind.FULL_TEXT)
    item = replace(make_item(1, title=EVIL), summary=(SummaryLine(EVIL, 0),), sources=(source,))
    (message,) = render.render_digest(make_digest([item], style="detailed"))
    assert_clean(message)
    mrkdwn = [block["text"]["text"] for block in message.blocks if block["type"] == "section"]
    mrkdwn += [
        element["text"] for block in message.blocks if block["type"] == "context" for element in block["elements"]
    ]
    joined = "\n".join(mrkdwn)
    assert "&lt;!everyone&gt;" in joined and "Hamas &amp; Fatah" in joined and "&lt;@U0BADBAD&gt;" in joined
    assert "<https://x.example/?q=&lt;a&gt;&amp;b|[1]>" in joined
    assert "<!everyone>" not in joined and "<@U0BADBAD>" not in joined


def test_digest_header_is_plain_text_and_clipped():
    """The header is plain text (nothing interpreted) and at most 150 characters."""
    digest = Digest(heading="H" * 400, generated_at=WHEN, items=(make_item(1),))
    header = render.render_digest(digest)[0].blocks[0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert len(header["text"]["text"]) == 150


def test_digest_item_shows_labels_and_numbered_sources():
    """Each story: bold title, bullet lines citing [n], then context with outlets, text label, tags and sources."""
    (message,) = render.render_digest(make_digest([make_item(7)]))
    section = story_sections(message)[0]
    context = message.blocks[message.blocks.index(section) + 1]
    assert section["text"]["text"].startswith("*1. Story 7*\n• Sentence 0 of story 7. <https://outlet0.example/")
    labels = " ".join(element["text"] for element in context["elements"])
    assert "2 outlets" in labels and "full text" in labels and "Japan" in labels and "nuclear and missiles" in labels
    assert "[1] Outlet 0>" in labels and "(feed teaser only)" in labels


def test_short_style_shows_two_lines_detailed_shows_all():
    """Short digests keep two summary lines per story; detailed ones keep them all."""
    short = story_sections(render.render_digest(make_digest([make_item(1, lines=5)]))[0])[0]["text"]["text"]
    detailed_digest = make_digest([make_item(1, lines=5)], style="detailed")
    detailed = story_sections(render.render_digest(detailed_digest)[0])[0]["text"]["text"]
    assert short.count("•") == 2
    assert detailed.count("•") == 5


def test_oversized_digest_splits_within_limits_without_splitting_stories():
    """60 long stories become several messages of at most 50 blocks, each section within 3000 characters."""
    long_text = "A very long sentence about the talks & the sanctions <maybe>. " * 60
    items = [make_item(n, title="T" * 500, text=long_text, sources=15, lines=8) for n in range(60)]
    messages = render.render_digest(make_digest(items, style="detailed"))
    assert len(messages) >= 3
    for message in messages:
        assert_clean(message)
        assert len(message.blocks) <= 50
    assert messages[0].blocks[0]["type"] == "header"
    for number, message in enumerate(messages[1:], start=2):
        assert f"continued, part {number} of {len(messages)}" in message.blocks[0]["elements"][0]["text"]
    story_numbers = [
        int(block["text"]["text"][1:].split(".", 1)[0]) for message in messages for block in story_sections(message)
    ]
    assert story_numbers == list(range(1, 61))


def test_empty_digest_says_so():
    """A digest with no stories shows its empty message."""
    (message,) = render.render_digest(Digest(heading="Brief", generated_at=WHEN, items=(), empty_message="None <x>"))
    assert_clean(message)
    assert "None &lt;x&gt;" in str(message.blocks)


def _cited(text: str, url: str, outlet: str = "Tokyo Daily") -> CitedSentence:
    return CitedSentence(text, 1, "ICBM lands & sinks", outlet, url, WHEN, TextKind.FULL_TEXT, 0.9)


def test_answer_numbers_each_article_once_and_says_as_of():
    """Sentences from the same article share a number; sources and "as of" go in context blocks."""
    answer = Answer(
        question="What did <Japan> say?",
        sentences=(
            _cited("One.", "https://a.example/1"),
            _cited("Two.", "https://b.example/2"),
            _cited("Three.", "https://a.example/1"),
        ),
        as_of=WHEN,
        found=True,
        message="From 2 articles:",
        searched=38,
    )
    message = render.render_answer(answer)
    assert_clean(message)
    body = message.blocks[1]["text"]["text"]
    assert "One. <https://a.example/1|[1]>" in body and "Three. <https://a.example/1|[1]>" in body
    assert "Two. <https://b.example/2|[2]>" in body
    assert "What did &lt;Japan&gt; say?" in message.blocks[0]["text"]["text"]
    assert "ICBM lands &amp; sinks" in message.blocks[2]["elements"][0]["text"]
    assert "As of 26 Nov 2026 11:00 UTC · 38 articles searched" in message.blocks[3]["elements"][0]["text"]


def test_answer_with_nothing_found_is_plain():
    """No sentences: the message and the as-of label only."""
    answer = Answer("Mars?", (), WHEN, False, "I have nothing on that in the archive.", 12)
    message = render.render_answer(answer)
    assert_clean(message)
    assert "nothing on that" in message.blocks[1]["text"]["text"]


def test_link_summary_shows_what_it_was_based_on():
    """The page title as header, bullets, and a context of site link, text label and method."""
    summary = LinkSummary(
        "https://n.example/a?x=1&y=2",
        "Talks & tensions",
        "n.example",
        ("First.", "Second."),
        TextKind.TEASER,
        "extractive",
        "The page holds only a short text; this is most of it.",
    )
    message = render.render_link_summary(summary)
    assert_clean(message)
    assert message.blocks[0]["text"]["text"] == "Talks & tensions"
    elements = [element["text"] for element in message.blocks[2]["elements"]]
    assert elements == [
        "<https://n.example/a?x=1&amp;y=2|n.example>",
        "based on: feed teaser only",
        "method: extractive",
    ]


def test_subscription_shows_pause_reason_and_next_time_in_its_timezone():
    """Settings show schedule, filters, size, the next digest in local time, or why they are paused."""
    info = SubscriptionInfo(
        1,
        ChannelRef("slack", "T1", "C1"),
        "08:00, 18:00",
        "Europe/Berlin",
        {"countries": ["JP"]},
        {"countries": ["Japan"]},
        5,
        "short",
        None,
        datetime(2026, 11, 27, 7, 0, tzinfo=UTC),
    )
    message = render.render_subscription(info)
    assert_clean(message)
    text = str(message.blocks)
    assert "08:00, 18:00 (Europe/Berlin)" in text and "Fri 27 Nov 08:00" in text and "countries: Japan" in text
    paused = render.render_subscription(
        SubscriptionInfo(**{**info.__dict__, "paused_reason": "gone <now>", "next_digest_at": None})
    )
    assert_clean(paused)
    assert "*Paused:* gone &lt;now&gt;" in str(paused.blocks)
    assert "no news subscription" in render.render_subscription(None).text


def test_many_sources_stay_within_limits():
    """Hundreds of feeds are listed in as many sections as fit, then "+N more"."""
    feeds = [
        FeedHealth(
            f"https://f{n}.example/rss?a&b",
            f"Feed {n} & co " + "x" * 80,
            "JP",
            "en",
            True,
            None,
            None,
            5,
            "HTTP 503 <oops>",
            None,
        )
        for n in range(2000)
    ]
    message = render.render_sources(feeds)
    assert_clean(message)
    assert len(message.blocks) <= 50
    assert "more sources not shown" in str(message.blocks[-2])
