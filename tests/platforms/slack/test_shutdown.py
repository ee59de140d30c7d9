"""SIGTERM stops the running bot cleanly: a subprocess runs `python -m bot run` against the fake Slack."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.digests.model import ChannelRef
from bot.digests.subscriptions import Actor, SubscriptionRequest, subscribe
from bot.storage import Article, Database, Delivery, DeliveryStatus, Feed, Story, utcnow
from tests.intelligence.conftest import NOW
from tests.platforms.slack.conftest import CHANNEL, TEAM, command_payload
from tests.platforms.slack.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow  # a whole bot process: imports and the encoder load take several seconds


def _bring_up_to_date(database: Database) -> None:
    """Move the archive's dates to now, so the channel's digest has stories, and stop its feeds from polling."""
    shift = utcnow() - NOW
    with database.session() as session:
        for article in session.scalars(select(Article)):
            article.published_at += shift
            article.fetched_at += shift
        for story in session.scalars(select(Story)):
            story.first_seen_at += shift
            story.updated_at += shift
            if story.first_published_at:
                story.first_published_at += shift
            if story.last_published_at:
                story.last_published_at += shift
        for feed in session.scalars(select(Feed)):
            feed.enabled = False
    subscribe(database, ChannelRef("slack", TEAM, CHANNEL), SubscriptionRequest(), Actor("U1", can_manage=True))


async def test_sigterm_finishes_the_delivery_in_flight_and_exits_cleanly(fake_slack: FakeSlack, archive_copy, tmp_path):
    """SIGTERM while a digest is being posted: the post completes and is marked sent once, the Socket Mode
    connection is closed with 1000, one line is logged, and the process exits with status 0."""
    _bring_up_to_date(archive_copy)
    (tmp_path / "feeds.toml").write_text("feeds = []\n")
    fake_slack.slow["chat.postMessage"] = 2.0
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": str(archive_copy.engine.url),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_APP_TOKEN": "xapp-test-token",
        "SLACK_API_URL": f"{fake_slack.base}/api/",
        "FEEDS": str(tmp_path / "feeds.toml"),
        "ENCODER_THREADS": "2",
        "ENCODER_BF16": "false",
        "HF_HUB_OFFLINE": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await fake_slack.wait_for(lambda fake: fake.socket_connected, timeout=90)
        await fake_slack.send_envelope("slash_commands", command_payload(fake_slack, "digest"))
        await fake_slack.wait_for(lambda fake: "chat.postMessage" in fake.started, timeout=30)
        process.send_signal(signal.SIGTERM)  # while Slack is still answering the post
        signalled = asyncio.get_running_loop().time()
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        print(f"exit status {process.returncode}, {asyncio.get_running_loop().time() - signalled:.1f} s after SIGTERM")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = output.decode()
    assert process.returncode == 0, log
    assert log.count("SIGTERM received") == 1, log
    assert "Traceback" not in log and "[ERROR" not in log, log
    assert len(fake_slack.api("chat.postMessage")) == 1
    assert fake_slack.socket_close_codes == [1000]
    with archive_copy.session() as session:
        (delivery,) = session.scalars(select(Delivery))
        assert delivery.status is DeliveryStatus.SENT and delivery.attempts == 1
        assert delivery.platform_message_id
