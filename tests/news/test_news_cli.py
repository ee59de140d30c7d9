"""`python -m bot ingest --once` and `python -m bot feeds`, run as users run them, against a loopback server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.news.opml import parse_opml
from tests.news.feeds import Item, rss
from tests.news.server import FeedServer

ROOT = Path(__file__).resolve().parents[2]


async def run_bot(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run the CLI in a subprocess without blocking the loop, so the test server keeps answering."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, stdout.decode(), stderr.decode()


async def test_ingest_once_prints_the_report_and_feeds_shows_health(server: FeedServer, tmp_path: Path):
    """One pass stores the backlog, fetches its pages up to the cap and prints the tables; `feeds` then shows which
    feed is ok, which failing, and what still waits for its page."""
    items = [
        Item("Talks", server.url("/talks"), guid="1", published=None),
        Item("Vote", server.url("/vote"), guid="2", published=None),
    ]
    good = server.serve_bytes("/good.rss", rss(items))
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "FEEDS": f"{good},{server.url('/gone.rss')}",
        "HTTP_POLITENESS_DELAY_SECONDS": "0",
        "HTTP_MAX_RETRIES": "0",
        "BACKLOG_PAGES_PER_FEED": "1",
        "LOG_LEVEL": "ERROR",
    }
    code, stdout, _ = await run_bot("ingest", "--once", "--no-process", env=env)
    assert code == 0
    lines = [" ".join(line.split()) for line in stdout.splitlines()]
    assert "ok 1" in lines and "failed 1" in lines and "backlog (first fetch) 2" in lines
    assert "HTTP 404 Not Found (1 in a row; next try after" in stdout
    assert "Backlog pages" in lines and "teaser only 1" in lines and "still waiting 1" in lines  # /talks: 404
    assert "Processed" not in stdout

    code, stdout, _ = await run_bot("feeds", env=env)
    assert code == 0
    assert any(line.startswith("ok") and good in line for line in stdout.splitlines())
    assert "└ HTTP 404 Not Found" in stdout
    assert "└ 1 backlog article(s) waiting for their page" in stdout
    assert "2 feeds, 0 failing, 1 backlog article(s) waiting for their page (times in UTC)" in stdout

    code, stdout, _ = await run_bot("feeds", "add", "https://news.example/rss", "--name", "Example", env=env)
    assert (code, stdout) == (
        0,
        "Added Example <https://news.example/rss>; its current items will be stored as backlog.\n",
    )
    code, _, stderr = await run_bot("feeds", "add", "http://192.168.1.1/rss", env=env)
    assert code == 1
    assert "private network" in stderr
    code, stdout, _ = await run_bot("feeds", "remove", good, env=env)
    assert code == 0
    code, stdout, _ = await run_bot("feeds", "list", "--all", env=env)
    assert any(line.startswith("removed") and good in line for line in stdout.splitlines())


async def test_feeds_import_and_export_opml(tmp_path: Path):
    """`feeds import FILE.opml` adds what `feeds add` would, all or nothing; `feeds export` writes it back."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "FEEDS": "https://seed.example/rss",
        "LOG_LEVEL": "ERROR",
    }
    reader = tmp_path / "reader.opml"
    reader.write_text(
        "<opml version='2.0'><body><outline text='News'>"
        "<outline type='rss' text='Example World' xmlUrl='https://news.example/world.rss' language='en'/>"
        "<outline type='rss' text='Seed' xmlUrl='https://seed.example/rss'/>"
        "</outline></body></opml>"
    )
    code, stdout, _ = await run_bot("feeds", "import", str(reader), env=env)
    assert code == 0, stdout
    assert stdout.splitlines() == [
        "Added Example World <https://news.example/world.rss>",
        "Already listed: https://seed.example/rss",
        "1 feeds added, 1 already listed; the current items of new feeds will be stored as backlog.",
    ]

    bad = tmp_path / "bad.opml"
    bad.write_text(
        "<opml><body><outline xmlUrl='https://ok.example/rss'/><outline xmlUrl='http://10.0.0.1/'/></body></opml>"
    )
    code, stdout, stderr = await run_bot("feeds", "import", str(bad), env=env)
    assert (code, stdout) == (1, "")
    assert "Nothing was imported: 1 of 2 feeds is invalid." in stderr and "#2 http://10.0.0.1/" in stderr
    code, _, stderr = await run_bot("feeds", "import", str(tmp_path / "feeds.toml"), env=env)
    assert code == 1 and "Cannot read" in stderr and "Traceback" not in stderr

    exported = tmp_path / "export.opml"
    code, _, stderr = await run_bot("feeds", "export", str(exported), env=env)
    assert code == 0 and "Wrote 2 feeds" in stderr
    code, stdout, _ = await run_bot("feeds", "export", env=env)
    assert code == 0 and parse_opml(stdout.encode()) == parse_opml(exported.read_bytes())
    assert 'xmlUrl="https://news.example/world.rss" language="en"' in stdout
    assert "ok.example" not in stdout  # the refused import added nothing


async def test_feeds_mistakes_are_one_line_that_says_what_to_do(tmp_path: Path):
    """A loopback feed refused for its address points to --allow-private; an export to a missing folder is one
    line, not a traceback."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", "FEEDS": "https://seed.example/rss"}
    code, _, stderr = await run_bot("feeds", "add", "http://127.0.0.1:9/feed.rss", env=env)
    assert code == 1
    assert stderr.strip().splitlines() == [
        "Cannot add that feed: that address is on a private network; only public feeds can be added. "
        "Use --allow-private for an intranet feed."
    ]
    code, _, stderr = await run_bot("feeds", "add", "ftp://seed.example/rss", env=env)
    assert code == 1 and "--allow-private" not in stderr  # the address is not what is wrong
    code, _, stderr = await run_bot("feeds", "add", "--allow-private", "http://127.0.0.1:9/feed.rss", env=env)
    assert code == 0, stderr
    target = tmp_path / "no-such-folder" / "feeds.opml"
    code, _, stderr = await run_bot("feeds", "export", str(target), env=env)
    assert code == 1
    assert stderr.strip().splitlines()[-1] == f"Cannot write {target}: No such file or directory."
    assert "Traceback" not in stderr


async def test_feeds_list_keeps_its_columns_with_wide_and_long_names(tmp_path: Path):
    """The bundled NHK feed's name has CJK characters (two columns each) and ECFR's is too long: the URL column
    still starts where the header says, and a cut name ends with an ellipsis."""
    code, stdout, _ = await run_bot("feeds", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"})
    assert code == 0
    lines = stdout.splitlines()
    nhk = next(line for line in lines if "nhk.or.jp" in line)
    assert nhk.startswith("new       NHK – 国際" + " " * 22 + " -")  # 10 columns of name, padded to 32
    ecfr = next(line for line in lines if "ecfr.eu" in line)
    assert ecfr.startswith("new       European Council on Foreign Rel… -")
    header = next(line for line in lines if line.startswith("STATUS"))
    assert ecfr.index("https://") == header.index("URL")


async def test_feeds_export_to_stdout_is_only_the_opml(tmp_path: Path):
    """On a new database the configured feeds are added (and logged) first: the log goes to stderr, so
    `feeds export > feeds.opml` is a valid OPML document."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", "LOG_LEVEL": "INFO"}
    code, stdout, stderr = await run_bot("feeds", "export", env=env)
    assert code == 0
    assert stdout.startswith("<?xml") and len(parse_opml(stdout.encode())) == 27
    assert "added 27 configured feeds" in stderr
