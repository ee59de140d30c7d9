"""Fetch an article's text from a URL for the command line (stdlib urllib only; the bot has its own client).

Kept deliberately small: http/https only, a timeout, a size cap, at most a few redirects, and every host
(including each redirect target) must resolve to public addresses unless ``allow_private`` is set. The
main text is extracted with trafilatura when it is installed, with a crude tag stripper otherwise.
Known limit: the address is checked before urllib connects, so a DNS answer that changes in between
(rebinding) is not caught; the bot's fetcher is the place for that.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from http.client import HTTPMessage
from typing import IO

from summarizer.errors import FetchError

__all__ = ["MAX_BYTES", "TIMEOUT_SECONDS", "FetchedText", "check_url", "extract_text", "fetch_text"]

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15.0  # per network operation; a news page that takes longer is not worth waiting for
MAX_BYTES = 5 * 1024 * 1024  # 5 MiB: far above any article page, small enough to hold in memory
MAX_REDIRECTS = 5
USER_AGENT = "geobrief-summarizer/0.1 (Python urllib)"


@dataclass(frozen=True, slots=True)
class FetchedText:
    """The text found at a URL."""

    url: str
    text: str
    title: str | None


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Raise ``FetchError`` unless ``url`` is http(s) and its host resolves only to public addresses."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(url, f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise FetchError(url, "the URL has no host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = str(info[4][0])
        if not _is_public(address):
            raise FetchError(
                url,
                f"{parts.hostname} resolves to a private or local address ({address}); "
                "pass --allow-private to fetch it anyway",
            )


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow at most MAX_REDIRECTS redirects, each to a URL that passes ``check_url``."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        check_url(newurl, allow_private=self.allow_private)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _TextOnly(HTMLParser):
    """Crude HTML to text: paragraphs and headings on their own lines, scripts and styles dropped."""

    _skip = frozenset({"script", "style", "noscript", "nav", "footer", "header", "aside", "form"})
    _block = frozenset({"p", "br", "div", "li", "h1", "h2", "h3", "h4", "article", "section", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: str | None = None
        self._depth_skipped = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._skip:
            self._depth_skipped += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self._block:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._skip and self._depth_skipped:
            self._depth_skipped -= 1
        elif tag == "title":
            self._in_title = False
        elif tag in self._block:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
        elif not self._depth_skipped:
            self.parts.append(data)


def extract_text(html: str) -> tuple[str, str | None]:
    """Return (main text, title) of an HTML page: trafilatura if installed, else a plain tag stripper."""
    try:
        import trafilatura
    except ImportError:
        log.debug("trafilatura is not installed; stripping tags instead")
    else:
        text = trafilatura.extract(html, include_comments=False, include_tables=False)
        meta = trafilatura.extract_metadata(html)
        title = getattr(meta, "title", None) if meta is not None else None
        if text:
            return text, title
    parser = _TextOnly()
    parser.feed(html)
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line), parser.title


def fetch_text(
    url: str, *, allow_private: bool = False, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES
) -> FetchedText:
    """Download ``url`` and return its main text.

    Raises:
        FetchError: bad scheme, private address (without ``allow_private``), HTTP error, timeout, too large,
            or no text found.
    """
    check_url(url, allow_private=allow_private)
    opener = urllib.request.build_opener(_CheckedRedirects(allow_private))
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html, text/plain"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - check_url allowed http(s) only
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(url, f"the page is larger than {max_bytes} bytes")
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchError(url, f"the page is larger than {max_bytes} bytes")
            content_type = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as exc:
        raise FetchError(url, f"HTTP {exc.code}", status=exc.code) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(url, str(reason)) from exc
    decoded = body.decode(charset, errors="replace")
    if content_type == "text/plain":
        text, title = decoded, None
    elif content_type in ("text/html", "application/xhtml+xml"):
        text, title = extract_text(decoded)
    else:
        raise FetchError(url, f"not a text or HTML page ({content_type})")
    if not text.strip():
        raise FetchError(url, "no article text found on the page")
    return FetchedText(url=url, text=text, title=title)
