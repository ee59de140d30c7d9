"""Normalisation: canonical URLs, HTML to text, dates, language and content hashes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.news.normalize import canonical_url, content_hash, detect_language, html_to_text, primary_language, to_utc

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?utm_source=rss&utm_medium=feed", "https://example.org/a"),
        ("HTTPS://WWW.Example.ORG:443/World/Story", "https://www.example.org/World/Story"),
        ("http://example.org:80/a#comments", "http://example.org/a"),
        ("https://www.francetvinfo.fr/monde/x.html#xtor=RSS-3-[lestitres]", "https://www.francetvinfo.fr/monde/x.html"),
        (
            "http://www.heise.de/developer/meldung/WildFly-3088438.html?wt_mc=rss.developer.beitrag.atom",
            "http://www.heise.de/developer/meldung/WildFly-3088438.html",
        ),
        ("https://example.org/a?b=2&fbclid=x&a=1&gclid=y", "https://example.org/a?a=1&b=2"),
        ("https://example.org/search?q=red%20sea", "https://example.org/search?q=red%20sea"),
        ("https://user:pw@example.org/a", "https://example.org/a"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
    ],
)
def test_canonical_url(url: str, expected: str):
    """Tracking parameters, fragments, default ports and case differences disappear; the rest stays."""
    assert canonical_url(url) == expected


def test_canonical_url_resolves_relative_links():
    """A relative link is resolved against the page or feed it came from."""
    assert canonical_url("../b?ocid=x", base="https://example.org/world/a") == "https://example.org/b"


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "mailto:desk@example.org", "ftp://example.org/a", "", "http://"]
)
def test_canonical_url_refuses_non_web_links(url: str):
    """Only http(s) links with a host identify articles."""
    assert canonical_url(url) is None


def test_html_to_text_keeps_paragraphs_and_drops_scripts():
    """Blocks become lines, entities are decoded, scripts, styles and 'Continue reading' go."""
    html = (
        "<p>The president’s &amp; <b>new</b> speech</p><style>p{}</style>"
        "<p>Second<br>line <script>alert('<p>')</script>para</p><a href='x'>Continue reading...</a>"
    )
    assert html_to_text(html) == "The president’s & new speech\nSecond\nline para"


def test_html_to_text_survives_hostile_markup():
    """Deep nesting and broken tags produce text, not a crash."""
    assert html_to_text("<div>" * 50_000 + "deep" + "</div>" * 10) == "deep"
    assert html_to_text("<p>unclosed <b>bold <i>text") == "unclosed bold text"
    assert html_to_text("a < b and c > d") == "a < b and c > d"


def test_to_utc_handles_missing_and_future_dates():
    """A missing date or one far in the future becomes 'now'; a near-future one (clock skew) is kept."""
    past = time.struct_time((2026, 2, 28, 9, 30, 0, 5, 59, 0))
    assert to_utc(past, NOW) == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    assert to_utc(None, NOW) == NOW
    far = (NOW + timedelta(days=2)).timetuple()
    assert to_utc(far, NOW) == NOW
    near = (NOW + timedelta(minutes=5)).timetuple()
    assert to_utc(near, NOW) == NOW + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Die Außenminister der Europäischen Union haben sich in Brüssel auf neue Sanktionen geeinigt.", "de"),
        ("Les ministres des Affaires étrangères se sont réunis à Genève pour discuter du cessez-le-feu.", "fr"),
        ("Foreign ministers met in Geneva on Tuesday to discuss a ceasefire proposal for the region.", "en"),
        ("Os ministros das Relações Exteriores se reuniram em Genebra para discutir o cessar-fogo.", "pt"),
    ],
)
def test_detect_language(text: str, expected: str):
    """Languages are told apart on a sentence of news."""
    assert detect_language(text) == expected


def test_detect_language_falls_back_on_short_text():
    """Too little text uses the feed's language, reduced to its primary subtag."""
    assert detect_language("Live", fallback="en-GB") == "en"
    assert primary_language("pt_BR") == "pt"
    assert primary_language("") is None


def test_content_hash_ignores_case_and_spacing_but_not_the_site():
    """The same title and text on one site hash alike; another site printing them does not."""
    text = "Foreign ministers met in Geneva on Tuesday to discuss a ceasefire proposal."
    one = content_hash("https://www.example.org/a/1", "Ceasefire talks", text)
    assert one == content_hash("https://example.org/b/2", "ceasefire  TALKS", text.upper())
    assert one != content_hash("https://other.example/a/1", "Ceasefire talks", text)


def test_content_hash_of_a_bare_title_depends_on_the_url():
    """Without text, two 'Live updates' items on one site are not the same article."""
    assert content_hash("https://example.org/live/1", "Live updates", "") != content_hash(
        "https://example.org/live/2", "Live updates", ""
    )
