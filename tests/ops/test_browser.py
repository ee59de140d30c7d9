"""The status page in a real headless browser (Debian's chromium and chromedriver), against the running bot.

The bot runs as `python -m bot run` runs it (`bot.app.run_bot`, role all): Slack in Socket Mode against the fake
Slack, so its status page is served by its own server on PORT, bound to 127.0.0.1. Its news comes from a loopback
feed (a first empty fetch, then six articles), plus a feed that answers 404. A manager subscribes the channel and
asks for a digest over Socket Mode; the browser then loads the page, reads the feeds table and the channel's
delivery row, and saves a screenshot in the test's temporary folder.

`.ci/run` installs chromium and chromium-driver when they are missing; without them this test is skipped.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import shutil
import socket
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.app import run_bot
from bot.config import Settings
from bot.intelligence import process_new_articles
from bot.news.feeds import sync_sources
from bot.news.http import HttpClient, HttpPolicy
from bot.news.ingest import IngestOptions, run_ingest_pass
from bot.news.sources import configured_sources
from bot.storage import Database, utcnow
from tests.intelligence.shared import fixture_articles, shared_encoder
from tests.news.feeds import Item, rss
from tests.news.server import start_server
from tests.platforms.slack.fake_slack import FakeSlack

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MANAGER = "UMANAGER"
EVENTS = ("nk-icbm-launch", "eu-sanctions-package")
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these three, chromium's own background connections are refused here many at a time.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,1500",
)


def _missing() -> str:
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (make installs requirements-dev.txt)"
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} not found: install Debian's chromium and chromium-driver (.ci/run does)"
    return ""


pytestmark = pytest.mark.skipif(bool(_missing()), reason=_missing() or "browser present")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def browse(url: str, profile: Path, screenshot: Path) -> dict[str, list[str]]:
    """Load the page in headless chromium; return each table's row texts and save a screenshot."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.get(url)
        assert driver.title == "Geobrief status"
        tables = {
            table: [row.text for row in driver.find_elements(By.CSS_SELECTOR, f"table#{table} tbody tr")]
            for table in ("feeds", "deliveries", "stories", "jobs")
        }
        driver.save_screenshot(str(screenshot))
        return tables
    finally:
        driver.quit()


async def test_status_page_in_headless_chromium_against_the_running_bot(tmp_path: Path):
    """Feeds with their health and the channel's delivery row, as a browser shows them; a screenshot is saved."""
    feeds, feed_runner = await start_server()
    fake = FakeSlack()
    await fake.start()
    now = utcnow()
    good = feeds.serve_bytes("/world.rss", rss([], title="World Desk"))
    feed_list = tmp_path / "feeds.toml"
    feed_list.write_text(
        f'[[feeds]]\nname = "World Desk"\nurl = "{good}"\ncountry = "GB"\nlanguage = "en"\n\n'
        f'[[feeds]]\nname = "Gone Gazette"\nurl = "{feeds.url("/gone.rss")}"\n'
    )
    database = Database(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    database.upgrade()
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        feeds=str(feed_list),
        fetch_article_pages=False,
        http_politeness_delay_seconds=0,
        http_max_retries=0,
        slack_bot_token="xoxb-test-token",
        slack_app_token="xapp-test-token",
        slack_api_url=f"{fake.base}/api/",
        slack_subscription_managers=MANAGER,
        port=_free_port(),
        encoder_threads=2,
        encoder_bf16=False,
    )
    task: asyncio.Task[None] | None = None
    try:
        # The feed's first fetch is its backlog (here: nothing); what it carries next is news.
        sync_sources(database, configured_sources(settings.feeds))
        async with HttpClient(HttpPolicy.from_settings(settings)) as http:
            await run_ingest_pass(database, http, IngestOptions.from_settings(settings))
            articles = [article for article in fixture_articles() if article.event in EVENTS]
            items = [
                Item(a.title, a.url, guid=a.key, content=a.text, published=now - timedelta(minutes=5 * n))
                for n, a in enumerate(articles)
            ]
            feeds.serve_bytes("/world.rss", rss(items, title="World Desk"))
            await run_ingest_pass(database, http, IngestOptions.from_settings(settings), feed_urls=[good])
        await asyncio.to_thread(process_new_articles, database, shared_encoder())

        task = asyncio.create_task(run_bot(settings, database, "all"))
        await fake.wait_for(lambda fake: fake.socket_connected, timeout=60)
        channel = {"team_id": "T1", "channel_id": "C1", "user_id": MANAGER, "user_name": "manager"}
        base = {"command": "/news", "api_app_id": "A1", "trigger_id": "1.2.3", **channel}
        await fake.send_envelope(
            "slash_commands", {**base, "text": 'subscribe schedule="08:00"', "response_url": f"{fake.base}/respond/1"}
        )
        await fake.wait_for(lambda fake: len(fake.responses) >= 1)
        await fake.send_envelope("slash_commands", {**base, "text": "digest", "response_url": f"{fake.base}/respond/2"})
        await fake.wait_for(lambda fake: len(fake.posts) >= 1 and len(fake.responses) >= 2)

        url = f"http://127.0.0.1:{settings.port}/status"
        async with httpx.AsyncClient() as client:
            assert (await client.get(url)).status_code == 200  # served by the bot's own status server
        screenshot = tmp_path / "status-page.png"
        tables = await asyncio.to_thread(browse, url, tmp_path / "chromium-profile", screenshot)
    finally:
        if task is not None:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        await fake.stop()
        await feed_runner.cleanup()
        database.dispose()

    world = next(row for row in tables["feeds"] if good in row)
    assert world.split()[:3] == ["ok", "World", "Desk"]
    # Articles, then the last success (the bot's own poll may have just run again: "now").
    assert world.split()[4] == str(len(articles)) and re.search(r" (now|\d+ (s|min) ago) ", world)
    gone = next(row for row in tables["feeds"] if "Gone Gazette" in row)
    assert gone.split()[0] in ("erroring", "failing") and "HTTP 404 Not Found" in gone
    (delivery,) = tables["deliveries"]
    assert delivery.split()[:6] == ["slack", "T1", "/", "C1", "08:00", "UTC"]
    assert delivery.split()[6:10] == ["1", "0", "0", "0"]  # sent, pending, failed, skipped
    assert "active" in delivery
    assert tables["stories"] and all("World Desk" in row for row in tables["stories"])
    assert any(row.startswith("outbox:resume") for row in tables["jobs"])
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
