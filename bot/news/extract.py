"""Article pages: main text through trafilatura, rel=canonical, and telling a blocked page from an article.

A page is "blocked" when we did not get the article: an access-denied status (401, 402, 403, 451), a bot
challenge (Cloudflare, DataDome, PerimeterX, Imperva ...), or a paywall (schema.org `isAccessibleForFree: false`, or
a subscription prompt where the text should be). The reason is kept, so logs never call a bot challenge a paywall.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import trafilatura
from tld import get_fld

from bot.news.normalize import canonical_url, strip_invisible
from bot.news.parse import decode_body

log = logging.getLogger(__name__)

BLOCKING_STATUSES = frozenset({401, 402, 403, 451})
# Lower-case markers of interstitial pages that stand between a bot and the article.
CHALLENGE_MARKERS = (
    "<title>just a moment...</title>",
    "cf-browser-verification",
    "cf_chl_",
    "/cdn-cgi/challenge-platform/",
    "attention required! | cloudflare",
    "captcha-delivery.com",  # DataDome
    "px-captcha",  # PerimeterX / HUMAN
    "_incapsula_resource",  # Imperva
    "please enable js and disable any ad blocker",
    "verify you are human",
    "are you a robot",
)
PAYWALL_MARKERS = re.compile(r"subscribe to (continue|read)|to continue reading|already a subscriber|paywall", re.I)
NOT_FREE = re.compile(r"[\"']?isAccessibleForFree[\"']?\s*[:=]\s*[\"']?false", re.I)
# Extracted text shorter than this is treated as no article at all (cookie banners, teasers, error stubs), unless
# it carries the feed's teaser and more (`_carries_teaser`): a short article is still the article.
MIN_ARTICLE_CHARS = 300
MIN_ADDED_CHARS = 80  # what a short page must add to the teaser to count as the article
SCAN_BYTES = 200_000  # markers are looked for in the head of the page only


class BlockReason(enum.StrEnum):
    """Why a page did not give us the article."""

    ACCESS_DENIED = "access denied"
    BOT_CHALLENGE = "bot challenge"
    PAYWALL = "paywall"


@dataclass(frozen=True)
class PageExtract:
    """What an article page gave: its main text (empty when blocked or when nothing usable was found)."""

    text: str
    canonical_url: str | None  # from <link rel="canonical">, made canonical in turn
    blocked: BlockReason | None = None
    title: str | None = None  # the page's headline, when its metadata gives one


def blocked_by_status(status: int) -> BlockReason | None:
    """The block reason an HTTP error status means, or None for other failures (404, 5xx, ...)."""
    return BlockReason.ACCESS_DENIED if status in BLOCKING_STATUSES else None


class _CanonicalFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link" or self.href is not None:
            return
        values = {name: value or "" for name, value in attrs}
        if "canonical" in values.get("rel", "").lower().split() and values.get("href"):
            self.href = values["href"]


def registrable_domain(host: str) -> str:
    """The part of a host name that one owner registered ("news.bbc.co.uk" -> "bbc.co.uk"), by the Public Suffix
    List; an IP address, or a name under a suffix the list does not know, stands for itself (its last two labels)."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    domain = get_fld(host, fail_silently=True, fix_protocol=True)
    return str(domain) if domain else ".".join(host.split(".")[-2:])


def same_site(url: str, other: str) -> bool:
    """Whether two URLs are on the same registrable domain (www.x.com and m.x.com are; x.com and y.com are not)."""
    host, other_host = urlsplit(url).hostname or "", urlsplit(other).hostname or ""
    return bool(host) and registrable_domain(host) == registrable_domain(other_host)


def _page_canonical(page: str, url: str) -> str | None:
    finder = _CanonicalFinder()
    finder.feed(page[:SCAN_BYTES])
    canonical = canonical_url(finder.href, base=url) if finder.href else None
    if canonical is not None and not same_site(canonical, url):
        # A page may not claim another site's article: its text would be stored under that URL, and the real
        # article dropped later as a duplicate.
        log.info("page %s names a canonical URL on another site (%s); ignored", url, canonical)
        return None
    return canonical


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def _carries_teaser(text: str, teaser: str) -> bool:
    """Whether extracted text holds the feed's teaser (a cut one without its final ellipsis) and a sentence's worth
    more: then it is the article, however short, and not a banner or an error stub, which do not repeat the item's
    own words (and one that repeats a teaser of a few words, such as a date, adds little to it)."""
    teaser = _folded(teaser).removesuffix("[...]").removesuffix("...").removesuffix("…").strip()
    folded = _folded(text)
    return any(char.isalnum() for char in teaser) and teaser in folded and len(folded) >= len(teaser) + MIN_ADDED_CHARS


def extract_page(body: bytes, *, url: str, http_charset: str | None = None, teaser: str = "") -> PageExtract:
    """Extract the main text of an article page, and say whether the page is a block rather than the article.

    Args:
        body: the page, undecoded.
        url: the page's final URL (relative canonical links resolve against it).
        http_charset: the charset the server declared, if any.
        teaser: the text the feed gave for the item: a page shorter than ``MIN_ARTICLE_CHARS`` that holds it and
            more is a short article, not a stub.
    """
    page = decode_body(body, http_charset)
    head = page[:SCAN_BYTES].lower()
    if any(marker in head for marker in CHALLENGE_MARKERS):
        return PageExtract("", None, BlockReason.BOT_CHALLENGE)
    canonical = _page_canonical(page, url)
    if NOT_FREE.search(page[:SCAN_BYTES]):
        return PageExtract("", canonical, BlockReason.PAYWALL)
    document = trafilatura.bare_extraction(
        page, url=url, include_comments=False, include_tables=False, favor_precision=True, with_metadata=True
    )
    text = strip_invisible(str(getattr(document, "text", None) or "")).strip()
    title = strip_invisible(str(getattr(document, "title", None) or "")).strip() or None
    if len(text) < MIN_ARTICLE_CHARS:
        if PAYWALL_MARKERS.search(head):
            return PageExtract("", canonical, BlockReason.PAYWALL, title)
        if not _carries_teaser(text, teaser):
            return PageExtract("", canonical, None, title)
    return PageExtract(text, canonical, title=title)
