"""Article pages: main text, rel=canonical, and blocked pages told apart from articles."""

from __future__ import annotations

import pytest

from bot.news.extract import MIN_ARTICLE_CHARS, BlockReason, blocked_by_status, extract_page, same_site
from tests.news.feeds import ARTICLE_TEXT, article_page

CLOUDFLARE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    "<div id='challenge'><script src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1'></script>"
    "Checking your browser before accessing the site.</div></body></html>"
)
PAYWALL_JSON_LD = '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": false}</script>'
SUBSCRIBE = (
    "<html><head><title>Talks</title></head><body><article><h1>Talks</h1><p>Foreign ministers met.</p>"
    "<div class='paywall'>Subscribe to continue reading. Already a subscriber? Log in.</div></article></body></html>"
)


def test_article_text_is_extracted_without_boilerplate():
    """The article's paragraphs come out; navigation and footer do not."""
    page = extract_page(article_page("Ceasefire talks").encode(), url="https://news.example/a")
    assert page.blocked is None
    assert "humanitarian corridors" in page.text
    assert "Privacy policy" not in page.text
    assert len(page.text) >= 0.8 * len(ARTICLE_TEXT)


def test_rel_canonical_is_honoured_and_normalised():
    """rel=canonical is resolved against the page and cleaned like any URL."""
    html = article_page("Talks", canonical="/world/talks?utm_campaign=x")
    page = extract_page(html.encode(), url="https://news.example/amp/talks")
    assert page.canonical_url == "https://news.example/world/talks"


def test_bot_challenge_is_blocked_not_paywall():
    """A Cloudflare interstitial is a bot challenge, which is not a paywall."""
    page = extract_page(CLOUDFLARE.encode(), url="https://news.example/a")
    assert (page.blocked, page.text) == (BlockReason.BOT_CHALLENGE, "")


def test_schema_org_paywall_is_blocked():
    """isAccessibleForFree: false marks a paywall even when some text is visible."""
    page = extract_page(article_page("Talks", extra_head=PAYWALL_JSON_LD).encode(), url="https://news.example/a")
    assert page.blocked is BlockReason.PAYWALL


def test_subscription_prompt_instead_of_text_is_blocked():
    """A short page whose body is a subscription prompt is a paywall."""
    assert extract_page(SUBSCRIBE.encode(), url="https://news.example/a").blocked is BlockReason.PAYWALL


def test_page_without_article_is_neither_text_nor_blocked():
    """A page with no article text gives no text and no block: the teaser stays, labelled a teaser."""
    page = extract_page(b"<html><body><nav>Home</nav></body></html>", url="https://news.example/a")
    assert (page.text, page.blocked) == ("", None)


@pytest.mark.parametrize(("status", "blocked"), [(401, True), (402, True), (403, True), (451, True), (404, False)])
def test_blocking_statuses(status: int, blocked: bool):
    """Access-denied statuses mean blocked; a 404 is just a failure."""
    assert (blocked_by_status(status) is BlockReason.ACCESS_DENIED) is blocked


@pytest.mark.parametrize(
    ("url", "other", "same"),
    [
        ("https://www.bbc.co.uk/news/1", "https://m.bbc.co.uk/news/1", True),
        ("https://news.example.com/a", "https://example.com/a", True),
        ("https://bbc.co.uk/a", "https://itv.co.uk/a", False),
        ("https://alice.github.io/a", "https://bob.github.io/a", False),  # a private suffix: separate owners
        ("http://127.0.0.1:8000/a", "http://127.0.0.1:9000/b", True),
        ("http://127.0.0.1/a", "http://127.0.0.2/a", False),
    ],
)
def test_same_site_compares_registrable_domains(url: str, other: str, same: bool):
    """Canonical links are accepted within one registrable domain only (Public Suffix List, private suffixes too)."""
    assert same_site(url, other) is same


SHORT_ARTICLE = (
    "Sunday, 21 July 2013. A fire has badly damaged the supermarket in the High Street. "
    "Eight crews fought the blaze, which broke out in the early hours. It is not known how long it will be closed."
)


def test_short_page_that_carries_the_teaser_is_the_article():
    """A page under the length floor that holds the feed's teaser and more is a short article, kept in full."""
    page = extract_page(article_page("Fire", SHORT_ARTICLE).encode(), url="https://news.example/a",
                        teaser="Sunday, 21 July 2013")  # fmt: skip
    assert len(page.text) < MIN_ARTICLE_CHARS
    assert "Eight crews fought the blaze" in page.text
    assert page.blocked is None


def test_short_page_without_the_teaser_stays_no_article():
    """Without the teaser in it, short text is a banner or a stub: no text, as before."""
    page = extract_page(article_page("Fire", SHORT_ARTICLE).encode(), url="https://news.example/a",
                        teaser="Council votes on the new budget")  # fmt: skip
    assert (page.text, page.blocked) == ("", None)
    assert extract_page(article_page("Fire", SHORT_ARTICLE).encode(), url="https://news.example/a").text == ""
    # a stub that repeats a teaser of a few words (a date) with a line of its own is no article either
    stub = article_page("Not found", "Sunday, 21 July 2013. Sorry, this page could not be found.")
    assert extract_page(stub.encode(), url="https://news.example/a", teaser="Sunday, 21 July 2013").text == ""


def test_short_page_with_teaser_and_subscription_prompt_is_a_paywall():
    """The teaser above a subscription prompt is what a paywall shows: blocked, not a short article."""
    page = extract_page(SUBSCRIBE.encode(), url="https://news.example/a", teaser="Foreign ministers met.")
    assert (page.text, page.blocked) == ("", BlockReason.PAYWALL)
