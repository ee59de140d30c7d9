"""URL fetching for the command line: scheme and address checks, size cap, redirects, extraction."""

from __future__ import annotations

import pytest

from summarizer.errors import FetchError
from summarizer.webtext import check_url, extract_text, fetch_text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8080/x",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_and_loopback_addresses_are_refused(url):
    """The SSRF guard refuses local, private, link-local and unspecified addresses."""
    with pytest.raises(FetchError, match="private or local"):
        check_url(url)
    check_url(url, allow_private=True)  # allowed when asked for explicitly


@pytest.mark.parametrize("url", ["ftp://example.org/a", "file:///etc/passwd", "javascript:alert(1)", "example.org"])
def test_only_http_and_https_are_fetched(url):
    """Other schemes are refused even with allow_private."""
    with pytest.raises(FetchError, match="only http and https"):
        check_url(url, allow_private=True)


def test_public_literal_address_passes():
    """A public address needs no flag (checked without any network traffic)."""
    check_url("https://93.184.216.34/news")


def test_html_page_gives_the_article_text_and_title(server):
    """The main text is extracted without navigation, footer or scripts."""
    fetched = fetch_text(server + "/article.html", allow_private=True)
    assert "without an agreement on a ceasefire" in fetched.text
    assert "tracking" not in fetched.text and "Home | World" not in fetched.text
    assert fetched.title == "Talks end without deal"


def test_plain_text_is_returned_as_is(server):
    """A text/plain page is the text itself."""
    assert fetch_text(server + "/plain.txt", allow_private=True).text.startswith("One plain sentence.")


@pytest.mark.parametrize(
    ("path", "kwargs", "message"),
    [
        ("/big.txt", {"max_bytes": 1000}, "larger than 1000 bytes"),
        ("/missing", {}, "HTTP 404"),
        ("/image.png", {}, "not a text or HTML page"),
        ("/to-ftp", {}, "only http and https"),
    ],
)
def test_fetch_failures_are_clear_errors(server, path, kwargs, message):
    """Size cap, HTTP errors, binary content and redirects to other schemes become FetchError."""
    with pytest.raises(FetchError, match=message):
        fetch_text(server + path, allow_private=True, **kwargs)


def test_local_server_is_refused_without_the_flag(server):
    """The same local page is refused by default."""
    with pytest.raises(FetchError, match="private or local"):
        fetch_text(server + "/plain.txt")


def test_tiny_pages_still_give_their_paragraphs():
    """A page too small for trafilatura falls back to the tag stripper: paragraphs kept, scripts dropped."""
    text, title = extract_text("<title>T</title><p>First para.</p><script>x()</script><p>Second para.</p>")
    assert "First para." in text and "Second para." in text and "x()" not in text
    assert title == "T"
