"""Normalisation of what feeds and pages give us: canonical URLs, plain text, UTC dates, language, content hashes.

Everything here is a pure function, so the dedup rules can be read (and tested) in one place.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Query parameters that only track where a click came from; they never change the article.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
        "mkt_tok", "_ga", "_gl", "ref", "ref_src", "ref_url", "cmpid", "cmp", "ocid", "xtor", "ito", "icid", "smid",
        "s_cid", "sr_share", "spm", "__twitter_impression", "rss",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_", "_hs", "ns_", "wt_", "wt.", "at_", "itm_", "oly_", "vero_")

# Elements whose text is never article text.
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "iframe", "template", "svg", "object", "form", "head"})
# Elements that start a new line of text.
BLOCK_TAGS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr",
        "section", "article", "header", "footer", "figure", "figcaption", "hr", "dd", "dt", "dl", "aside", "main",
    }
)  # fmt: skip
# Invisible characters that only ever disguise text: bidi embeddings, overrides and isolates (which can make a title
# read backwards), zero-width spaces, word joiners, invisible operators and stray byte-order marks. Zero-width
# (non-)joiners and the left-to-right/right-to-left marks stay: Persian, Arabic, Hebrew and emoji need them.
INVISIBLE = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, *range(0x2060, 0x2065), 0xFEFF])
READ_MORE = re.compile(r"^(continue reading|read more|read the full (story|article)|weiterlesen|leia mais)\W*$", re.I)

# A publish time this far in the future is a publisher's clock or time-zone error, not a scheduled story.
FUTURE_TOLERANCE = timedelta(minutes=15)
# Texts shorter than this say too little for language detection; the feed's language is used instead.
MIN_LANGUAGE_SAMPLE = 40
MIN_LANGUAGE_CONFIDENCE = 0.5
# Below this much text, a content hash would match unrelated items with the same title.
MIN_HASHED_TEXT = 50


def valid_host(host: str) -> bool:
    """Whether `host` is an IP address or a name that DNS can carry: labels of 1 to 63 characters once IDNA-encoded,
    253 in all. A link to anything else can never be fetched (and makes the IDNA codec raise)."""
    host = host.strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        encoded = host.encode("idna")
    except UnicodeError:
        return False
    return 0 < len(encoded) <= 253 and all(0 < len(label) <= 63 for label in encoded.split(b"."))


def canonical_url(url: str, base: str | None = None) -> str | None:
    """The URL that identifies an article: absolute http(s), lower-case host, no default port, credentials,
    fragment or tracking parameters, and the remaining query parameters sorted.

    Returns None when `url` (resolved against `base`) is not an http(s) URL with a valid host.
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in {"http", "https"} or not host or not valid_host(host):
        return None
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() not in TRACKING_PARAMS and not name.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(sorted(query), quote_via=quote), ""))


class _TextCollector(HTMLParser):
    """Collects the text of an HTML fragment; a stream parser, so nesting depth costs nothing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0  # depth inside elements whose text is dropped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:  # <br/>, <hr/>; a self-closed skipped tag has no text to skip
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: scripts and styles dropped, one line per block, whitespace collapsed."""
    if "<" not in html and "&" not in html:
        return _tidy_lines(html)
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return _tidy_lines("".join(collector.parts))


def strip_invisible(text: str) -> str:
    """`text` without bidi overrides, isolates, zero-width spaces and other invisible characters (see INVISIBLE)."""
    return text.translate(INVISIBLE)


def _tidy_lines(text: str) -> str:
    lines = (" ".join(line.split()) for line in strip_invisible(text).splitlines())
    return "\n".join(line for line in lines if line and not READ_MORE.match(line))


def to_utc(parsed: time.struct_time | None, now: datetime) -> datetime:
    """A feed's parsed publish time (feedparser gives UTC) as an aware datetime.

    A missing or impossible time, or one more than FUTURE_TOLERANCE ahead of `now`, becomes `now`: the article
    is dated when we first saw it, so it neither jumps the queue nor gets lost.
    """
    if parsed is None:
        return now
    try:
        when = datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return now
    return now if when > now + FUTURE_TOLERANCE else when


_identifier_lock = threading.Lock()
_identifier: LanguageIdentifier | None = None


def _language_identifier() -> LanguageIdentifier:
    # Loaded once, on first use: about half a second and 100 MB. The lock keeps worker threads that ask at the
    # same moment from each loading a copy. Normalised probabilities give a usable confidence.
    global _identifier
    with _identifier_lock:
        if _identifier is None:
            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def primary_language(tag: str | None) -> str | None:
    """The primary subtag of a language tag, lower case ('en-GB' -> 'en'), or None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def detect_language(text: str, fallback: str | None = None) -> str | None:
    """The ISO 639-1 code of `text`'s language, or `fallback` when the text is too short or the guess too weak."""
    sample = text[:2000]
    if len(sample.strip()) < MIN_LANGUAGE_SAMPLE:
        return primary_language(fallback)
    language, confidence = _language_identifier().classify(sample)
    if confidence < MIN_LANGUAGE_CONFIDENCE:
        return primary_language(fallback)
    return str(language)


def content_hash(url: str, title: str, text: str) -> str:
    """A fingerprint of an article's content within its site: same site, title and text give the same hash,
    whatever the GUID, URL path or date. The site is part of it, so two outlets printing one wire story stay two
    articles (story clustering groups them later). Without enough text, a title alone ("Live updates") says too
    little, so the whole URL takes the site's place.
    """
    scope = (urlsplit(url).hostname or "").removeprefix("www.") if len(text) >= MIN_HASHED_TEXT else url
    normalised = "\n".join(" ".join(part.lower().split()) for part in (scope, title, text[:5000]))
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
