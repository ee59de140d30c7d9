"""Fixtures for the summariser tests: the real MiniLM (loaded once per session) and the data files."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from summarizer.encoder import Encoder
from tests.intelligence.shared import shared_encoder

DATA = Path(__file__).resolve().parent / "data"
DEV_SAMPLE = DATA / "dev-sample.jsonl"  # 10 articles of shared/data/summ-dev (CNN/DailyMail test split)
SEED = DATA / "seed-article.txt"


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The real all-MiniLM-L6-v2 in fp32, shared with the other NLP tests (one load per session)."""
    return shared_encoder()


@pytest.fixture(scope="session")
def dev_rows() -> list[dict[str, str]]:
    """The 10 dev articles with their reference highlights."""
    return [json.loads(line) for line in DEV_SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def seed_text() -> str:
    """The seed article (a headline line, then paragraphs)."""
    return SEED.read_text(encoding="utf-8")


ARTICLE_HTML = """<html><head><title>Talks end without deal</title></head><body>
<nav>Home | World | Business</nav>
<article><h1>Talks end without deal</h1>
<p>Negotiators from both sides left Geneva on Friday without an agreement on a ceasefire, officials said.</p>
<p>The talks, the third round this year, were meant to prepare a meeting of foreign ministers next month.</p>
<p>Both delegations said they would report to their governments and were ready to meet again.</p>
</article><footer>Copyright 2026</footer><script>var tracking = 1;</script></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        routes = {
            "/article.html": (200, "text/html; charset=utf-8", ARTICLE_HTML.encode()),
            "/plain.txt": (200, "text/plain; charset=utf-8", b"One plain sentence. Another plain sentence."),
            "/big.txt": (200, "text/plain", b"x" * 5000),
            "/image.png": (200, "image/png", b"\x89PNG"),
        }
        if self.path == "/to-ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://example.org/file.txt")
            self.end_headers()
            return
        if self.path not in routes:
            self.send_error(404)
            return
        status, ctype, body = routes[self.path]
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A local HTTP server with an article page, plain text, a large file, an image, a 404 and a redirect."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
