"""A loopback news site for the demo: one RSS feed per outlet of the bundle, and an HTML page per article.

It plays a feed's life in two rounds. In round 1 each feed carries only its oldest items, which is what the bot
finds when it sees a feed for the first time (and stores as backlog). In round 2 the feeds carry everything: the
items published since are news, and the bot fetches their pages for the full text. Items without a page answer
404, so the bot keeps their feed teaser. Publish dates are counted back from the server's start.
"""

from __future__ import annotations

import email.utils
import html
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from types import TracebackType

from aiohttp import web

from bot.demo.bundle import Bundle, DemoArticle, DemoOutlet
from bot.storage import utcnow

HOST = "127.0.0.1"
FEED_FILE = "feed.xml"

PAGE = """<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<title>{title} | {outlet}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{outlet}">
<meta property="article:published_time" content="{published}">
<link rel="canonical" href="{url}">
</head>
<body>
<header><nav><a href="/{path}/">{outlet}</a> · World · Politics</nav></header>
<main>
<header class="headline"><h1>{title}</h1><p class="byline">{outlet} · {published_text}</p></header>
<article>
{paragraphs}
</article>
</main>
<footer><p>Sample page served by the geobrief demo on this computer.</p></footer>
</body>
</html>
"""


class DemoNewsServer:
    """Serves the bundle on 127.0.0.1 at a free port; use it as an async context manager.

    Args:
        bundle: the outlets and articles to serve.
        now: the moment that `hours_ago` counts back from (default: when the server is made).
    """

    def __init__(self, bundle: Bundle, *, now: datetime | None = None) -> None:
        self.bundle = bundle
        self.now = now or utcnow()
        self.round = 1
        self.page_requests = 0  # article pages asked for (served or 404), to show what ingestion fetched
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._outlets = {outlet.path: outlet for outlet in bundle.outlets}
        self._articles = {(article.outlet, article.slug): article for article in bundle.articles}

    async def __aenter__(self) -> DemoNewsServer:
        await self.start()
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _error: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on 127.0.0.1 at a port the system picks."""
        app = web.Application()
        app.router.add_get("/{outlet}/" + FEED_FILE, self._feed)
        app.router.add_get("/{outlet}/{slug}", self._page)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close the listening socket and open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """The site's root URL."""
        return f"http://{HOST}:{self.port}"

    def feed_url(self, outlet: DemoOutlet) -> str:
        """The outlet's RSS feed."""
        return f"{self.base_url}/{outlet.path}/{FEED_FILE}"

    def article_url(self, article: DemoArticle) -> str:
        """The article's page."""
        return f"{self.base_url}/{article.outlet}/{article.slug}"

    def published_at(self, article: DemoArticle) -> datetime:
        """The article's (re-dated) publish time."""
        return self.now - timedelta(hours=article.hours_ago)

    def serves(self, article: DemoArticle) -> bool:
        """Whether the feeds of the current round carry the article."""
        return article.round <= self.round

    def feed_xml(self, outlet: DemoOutlet) -> bytes:
        """The outlet's RSS 2.0 feed for the current round, newest item first."""
        rss = ET.Element("rss", version="2.0")
        channel = ET.SubElement(rss, "channel")
        ET.SubElement(channel, "title").text = outlet.name
        ET.SubElement(channel, "link").text = f"{self.base_url}/{outlet.path}/"
        ET.SubElement(channel, "description").text = f"{outlet.name}: world and politics (geobrief demo sample)"
        ET.SubElement(channel, "language").text = outlet.language
        for article in self.bundle.articles_of(outlet):
            if not self.serves(article):
                continue
            item = ET.SubElement(channel, "item")
            url = self.article_url(article)
            ET.SubElement(item, "title").text = article.title
            ET.SubElement(item, "link").text = url
            ET.SubElement(item, "guid", isPermaLink="true").text = url
            ET.SubElement(item, "pubDate").text = email.utils.format_datetime(self.published_at(article), usegmt=True)
            # HTML in the description, as real feeds send it, so that the teaser keeps its paragraphs.
            ET.SubElement(item, "description").text = _paragraphs(article.teaser.splitlines())
        body: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
        return body

    def page_html(self, article: DemoArticle) -> str:
        """The article's HTML page (only for articles with a text)."""
        assert article.text is not None
        outlet = self._outlets[article.outlet]
        published = self.published_at(article)
        return PAGE.format(
            language=outlet.language,
            title=html.escape(article.title),
            outlet=html.escape(outlet.name),
            path=outlet.path,
            url=self.article_url(article),
            published=published.isoformat(),
            published_text=published.strftime("%d %B %Y %H:%M UTC"),
            paragraphs=_paragraphs(article.text.split("\n\n"), "\n"),
        )

    async def _feed(self, request: web.Request) -> web.Response:
        outlet = self._outlets.get(request.match_info["outlet"])
        if outlet is None:
            raise web.HTTPNotFound()
        return web.Response(body=self.feed_xml(outlet), content_type="application/rss+xml", charset="utf-8")

    async def _page(self, request: web.Request) -> web.Response:
        self.page_requests += 1
        article = self._articles.get((request.match_info["outlet"], request.match_info["slug"]))
        # A page exists only once its item is published, and only for outlets whose pages the bundle has.
        if article is None or article.text is None or not self.serves(article):
            raise web.HTTPNotFound()
        return web.Response(text=self.page_html(article), content_type="text/html", charset="utf-8")


def _paragraphs(parts: list[str], separator: str = "") -> str:
    return separator.join(f"<p>{html.escape(part.strip())}</p>" for part in parts if part.strip())
