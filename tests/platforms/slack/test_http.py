"""The HTTP endpoint end to end: signed `/news` requests to the real aiohttp server, a real NewsService, fake Slack.

Every payload the fake receives and every ack body passes the Block Kit checker (see conftest and fake_slack).
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlencode

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from bot.log import FORMAT
from bot.platforms.slack.commands import APOLOGY, PERMISSION_DETAIL, WORKING
from bot.storage import Delivery, DeliveryStatus, Subscription
from tests.intelligence.shared import fixture_articles, store_pending
from tests.platforms.slack.conftest import ADMIN, CHANNEL, MANAGER, MEMBER, command_body, signed_headers

SUBSCRIBE = 'subscribe schedule="08:00, 18:00" tz=Europe/Berlin countries="Japan, Taiwan" topics=nuclear max=5'


async def test_bad_signature_gets_401_and_does_nothing(make_bot, archive, fake_slack):
    """A request signed with another secret is refused before any listener runs or any API call is made."""
    bot = await make_bot(archive.database)
    body = command_body(fake_slack, "brief")
    response = await bot.post(body, signed_headers(body, secret="not-the-secret"))
    assert response.status_code == 401
    await asyncio.sleep(0.2)
    assert fake_slack.calls == []


async def test_stale_timestamp_gets_401_and_does_nothing(make_bot, archive, fake_slack):
    """A correctly signed request older than five minutes (a replay) is refused."""
    bot = await make_bot(archive.database)
    body = command_body(fake_slack, "brief")
    response = await bot.post(body, signed_headers(body, timestamp=int(time.time()) - 600))
    assert response.status_code == 401
    unsigned = await bot.post(body, {"content-type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 401
    await asyncio.sleep(0.2)
    assert fake_slack.calls == []


async def test_healthz_answers_200(make_bot, archive):
    """`GET /healthz` says the process serves."""
    bot = await make_bot(archive.database)
    response = await bot.client.get(f"{bot.base}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "platform": "slack"}


async def test_help_and_unknown_input_are_answered_in_the_ack(make_bot, archive, fake_slack):
    """`/news`, `/news help` and malformed input get usage help in the ack itself, and nothing else happens."""
    bot = await make_bot(archive.database)
    for text, expected in [
        ("", "/news brief"),
        ("help", "/news subscribe key=value"),
        ("frobnicate now", "I don't know `frobnicate`"),
        ("subscribe colour=red", "I don't understand `colour=red`"),
        ("ask", "What is your question?"),
    ]:
        response = await bot.command(text)
        assert expected in response.text, text
        assert "response_type" not in response.json()  # ephemeral: only the person who typed it sees it
    await asyncio.sleep(0.1)
    assert fake_slack.responses == []
    assert fake_slack.posts == []


async def test_brief_acks_first_then_posts_the_digest_in_channel(make_bot, archive):
    """The ack says "Working on it…"; the brief arrives at the response_url as Block Kit, visible to the channel."""
    bot = await make_bot(archive.database)
    (reply,) = await bot.ask("brief max=3")
    assert reply.payload["response_type"] == "in_channel"
    assert reply.payload["unfurl_links"] is False
    assert reply.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Brief: top stories", "emoji": True},
    }
    assert reply.all_text.count("*1. ") == 1 and "*3. " in reply.all_text and "*4. " not in reply.all_text
    assert "outlets" in reply.all_text and "full text" in reply.all_text


async def test_slow_command_is_acknowledged_before_the_work_is_done(make_bot, archive, fake_slack):
    """While the model is busy, the HTTP response is already the ack; the answer follows at the response_url."""
    bot = await make_bot(archive.database)
    async with bot.service._model_slot:  # the model is busy with someone else's request
        response = await bot.command("ask What did Japan say about the ICBM test?")
        assert response.json() == {"text": WORKING, "response_type": "ephemeral"}
        await asyncio.sleep(0.3)
        assert fake_slack.responses == []
    await fake_slack.wait_for(lambda fake: len(fake.responses) == 1)
    (reply,) = fake_slack.responses
    assert reply.payload["response_type"] == "in_channel"
    assert "*Question:* What did Japan say about the ICBM test?" in reply.all_text
    assert "<https://tokyodaily.example/" in reply.all_text
    assert "articles searched" in reply.all_text


async def test_summarize_a_page_end_to_end(make_bot, archive, fake_slack):
    """`/news summarize <url>`: the page is fetched (fake network), summarised, and shown with its label."""
    from bot.config import Settings
    from bot.news.http import HttpClient, HttpPolicy

    story = fixture_articles()[0]
    paragraphs = "".join(f"<p>{paragraph}</p>" for paragraph in story.text.split("\n") if paragraph.strip())
    page = (
        f"<html><head><title>{story.title} &amp; more</title></head><body><article>{paragraphs}</article></body></html>"
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=page.encode(), headers={"content-type": "text/html; charset=utf-8"})

    async def resolver(_host: str, _port: int) -> list[str]:
        return ["93.184.216.34"]

    policy = HttpPolicy.from_settings(Settings(_env_file=None))
    http = HttpClient(policy, transport=httpx.MockTransport(handler), resolver=resolver)
    bot = await make_bot(archive.database, http=http)
    (reply,) = await bot.ask("summarize <https://news.example/story?a=1&amp;b=2|news.example/story>")
    assert reply.payload["response_type"] == "in_channel"
    assert reply.blocks[0]["type"] == "header"
    assert "<https://news.example/story?a=1&amp;b=2|news.example>" in reply.all_text
    assert "based on:" in reply.all_text and "•" in reply.all_text


async def test_service_refusal_is_shown_ephemerally(make_bot, archive):
    """A BotError from the service (here: the SSRF guard) reaches the user as is, only to them."""
    bot = await make_bot(archive.database)
    (reply,) = await bot.ask("summarize http://127.0.0.1:9/admin")
    assert reply.payload["response_type"] == "ephemeral"
    assert "I could not fetch that page" in reply.all_text


async def test_summarize_of_an_unencodable_host_is_refused_politely(make_bot, archive):
    """A host with a 64-character label gets a short reason, not an apology for an internal error."""
    bot = await make_bot(archive.database)
    (reply,) = await bot.ask(f"summarize https://{'a' * 64}.example.com/story")
    assert reply.payload["response_type"] == "ephemeral"
    assert "I could not fetch that page: not a valid host name" in reply.all_text


async def test_non_admin_cannot_subscribe_and_nothing_changes(make_bot, sqlite_database, fake_slack):
    """A member who is not an admin gets a polite ephemeral refusal, and no subscription is stored."""
    bot = await make_bot(sqlite_database)
    (reply,) = await bot.ask(SUBSCRIBE, user=MEMBER)
    assert reply.payload["response_type"] == "ephemeral"
    assert "Only people who can manage this channel" in reply.all_text
    assert PERMISSION_DETAIL.split(",")[0] in reply.all_text
    assert [call.payload["user"] for call in fake_slack.api("users.info")] == [MEMBER]
    with sqlite_database.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0
    (unsub,) = await bot.ask("unsubscribe", user=MEMBER)
    assert "Only people who can manage this channel" in unsub.all_text


async def test_admin_subscribes_and_settings_show_it(make_bot, sqlite_database, fake_slack):
    """A workspace admin subscribes (announced in the channel); `/news settings` shows it; users.info is cached."""
    bot = await make_bot(sqlite_database)
    (reply,) = await bot.ask(SUBSCRIBE, user=ADMIN)
    assert reply.payload["response_type"] == "in_channel"
    assert f"<@{ADMIN}> set this channel's news digest." in reply.all_text
    assert "08:00, 18:00 (Europe/Berlin)" in reply.all_text
    assert "countries: Japan, Taiwan" in reply.all_text and "topics: nuclear and missiles" in reply.all_text
    (again,) = await bot.ask("subscribe max=3 style=detailed", user=ADMIN)
    assert "up to 3 stories, detailed" in again.all_text
    assert len(fake_slack.api("users.info")) == 1  # the second command used the cached answer
    (settings,) = await bot.ask("settings", user=MEMBER)
    assert settings.payload["response_type"] == "ephemeral"
    assert "up to 3 stories, detailed" in settings.all_text and "Next digest" in settings.all_text


async def test_listed_manager_needs_no_admin_lookup(make_bot, sqlite_database, fake_slack):
    """SLACK_SUBSCRIPTION_MANAGERS users may subscribe and unsubscribe; users.info is not asked."""
    bot = await make_bot(sqlite_database)
    (reply,) = await bot.ask("subscribe", user=MANAGER)
    assert "set this channel's news digest" in reply.all_text
    (gone,) = await bot.ask("unsubscribe", user=MANAGER)
    assert f"<@{MANAGER}> stopped this channel's news digest." in gone.all_text
    (none,) = await bot.ask("settings")
    assert "no news subscription" in none.all_text
    assert fake_slack.api("users.info") == []


async def test_invalid_filter_gets_suggestions(make_bot, sqlite_database):
    """An unknown country is refused with close names, and nothing is stored."""
    bot = await make_bot(sqlite_database)
    (reply,) = await bot.ask("subscribe countries=Japn", user=MANAGER)
    assert reply.payload["response_type"] == "ephemeral"
    assert 'Unknown country "Japn". Did you mean Japan' in reply.all_text


async def test_digest_posts_through_the_outbox(make_bot, archive_copy, fake_slack):
    """`/news digest` posts the channel's digest with chat.postMessage (no unfurls) and confirms to the user."""
    bot = await make_bot(archive_copy)
    await bot.ask("subscribe max=3", user=MANAGER)
    (reply,) = await bot.ask("digest")
    assert "Posted this channel's digest." in reply.all_text
    (post,) = fake_slack.posts
    assert post.payload["channel"] == CHANNEL
    assert post.payload["unfurl_links"] is False and post.payload["unfurl_media"] is False
    assert post.headers["Authorization"] == "Bearer xoxb-test-token"
    assert post.all_text.count("*1. ") == 1 and "*3. " in post.all_text


async def test_not_in_channel_pauses_with_the_reason_in_settings(make_bot, archive_copy, fake_slack):
    """Slack says not_in_channel: the subscription pauses, and `/news settings` and `/news digest` say why."""
    bot = await make_bot(archive_copy)
    await bot.ask("subscribe", user=MANAGER)
    fake_slack.fail("chat.postMessage", error="not_in_channel")
    (reply,) = await bot.ask("digest")
    assert "digests to this channel are paused" in reply.all_text and "not a member of this channel" in reply.all_text
    (settings,) = await bot.ask("settings")
    assert "*Paused:* the app is not a member of this channel" in settings.all_text
    assert "Slack said: not_in_channel" in settings.all_text
    (again,) = await bot.ask("digest")
    assert "Digests to this channel are paused" in again.all_text
    assert [call.ok for call in fake_slack.api("chat.postMessage")] == [False]  # paused: no second attempt


async def test_server_error_leaves_the_delivery_pending(make_bot, archive_copy, fake_slack):
    """A 500 keeps the digest in the outbox for a later attempt (the client does not repeat a post: Slack may have
    taken it, and the outbox's retry looks for it first)."""
    bot = await make_bot(archive_copy)
    await bot.ask("subscribe", user=MANAGER)
    fake_slack.fail("chat.postMessage", status=500, error="internal_error")
    (reply,) = await bot.ask("digest")
    assert "stays queued and will be retried" in reply.all_text
    with archive_copy.session() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.status is DeliveryStatus.PENDING
        assert delivery.last_error == "Slack did not take the digest: internal_error"
        assert session.scalars(select(Subscription)).one().paused_reason is None
    assert len(fake_slack.api("chat.postMessage", status=500)) == 1
    assert fake_slack.posts == []


async def test_digest_without_subscription_shows_top_stories(make_bot, archive, fake_slack):
    """With no subscription, `/news digest` shows the top stories in the channel and says why."""
    bot = await make_bot(archive.database)
    (reply,) = await bot.ask("digest")
    assert reply.payload["response_type"] == "in_channel"
    assert "This channel has no subscription; here are the top stories." in reply.all_text
    assert fake_slack.posts == []


async def test_sources_list_and_manager_only_changes(make_bot, archive):
    """`/news sources` lists the feeds; a member may not add one."""
    bot = await make_bot(archive.database)
    (listing,) = await bot.ask("sources")
    assert listing.payload["response_type"] == "ephemeral"
    assert "News sources (" in listing.all_text and "Tokyo Daily" in listing.all_text
    (refused,) = await bot.ask("sources add https://feeds.example/rss")
    assert "Only people who can manage this channel" in refused.all_text


async def test_unexpected_error_gets_an_apology(make_bot, sqlite_database, fake_slack):
    """A bug (here: the database is gone) is logged and the user gets a short apology, not a traceback."""
    bot = await make_bot(sqlite_database)
    sqlite_database.engine.dispose()
    with sqlite_database.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE subscriptions")
    (reply,) = await bot.ask("settings")
    assert reply.payload["response_type"] == "ephemeral"
    assert APOLOGY in reply.all_text
    assert "Traceback" not in reply.all_text


async def test_commands_are_timed_and_refusals_counted_for_metrics(make_bot, archive, fake_slack):
    """Each /news command lands in the duration histogram by platform and command; a refusal is counted too."""

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, {"platform": "slack", **labels}) or 0.0

    timed = sample("geobrief_command_duration_seconds_count", command="sources")
    refused = sample("geobrief_command_errors_total", command="subscribe", kind="refused")
    bot = await make_bot(archive.database)
    await bot.ask("sources")
    await bot.ask("subscribe")  # a member who may not manage the channel
    for _ in range(100):  # the count follows the reply by a moment: the listener ends after its last post
        if sample("geobrief_command_errors_total", command="subscribe", kind="refused") > refused:
            break
        await asyncio.sleep(0.02)
    assert sample("geobrief_command_duration_seconds_count", command="sources") == timed + 1
    assert sample("geobrief_command_errors_total", command="subscribe", kind="refused") == refused + 1
    assert sample("geobrief_command_duration_seconds_count", command="subscribe") >= 1


FORGED = "T1\n[2026-11-26 12:00:00] [ERROR  ] bot.app: forged line"
MALFORMED = {
    "non-numeric timestamp": (
        lambda body: {**signed_headers(body), "x-slack-request-timestamp": "soon"},
        "text=brief&team_id=T1",
        401,
    ),
    "unicode digits in timestamp": (
        lambda body: {**signed_headers(body), "x-slack-request-timestamp": "١٧٠٠٠٠٠٠٠٠".encode()},
        "text=brief&team_id=T1",
        401,
    ),
    "non-UTF-8 body": (lambda body: signed_headers("x"), b"text=\xff\xfe\xfa&team_id=T1", 400),
    "unknown charset": (
        lambda body: {
            **signed_headers(body, secret="wrong"),
            "content-type": "application/x-www-form-urlencoded; charset=klingon",
        },
        "text=brief&team_id=T1",
        401,  # the label is ignored (Slack sends UTF-8), so the request is judged by its signature
    ),
    "newline in team_id": (
        lambda body: {**signed_headers(body), "x-slack-request-timestamp": "soon"},
        urlencode({"team_id": FORGED, "channel_id": "C1\r\nforged"}),
        401,
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_unsigned_requests_are_refused_without_a_traceback(make_bot, sqlite_database, caplog, case):
    """Garbage from anyone on the internet gets 401/400, logs no ERROR or traceback, and forges no log line."""
    headers, body, status = MALFORMED[case]
    bot = await make_bot(sqlite_database)
    raw = body.encode() if isinstance(body, str) else body
    response = await bot.client.post(f"{bot.base}/slack/events", content=raw, headers=headers(body))
    assert response.status_code == status
    await asyncio.sleep(0.1)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    handler_output = "\n".join(logging.Formatter(FORMAT, style="{").format(r) for r in caplog.records)
    assert "\n[2026-11-26 12:00:00]" not in handler_output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subscribe tz=America", 'Unknown timezone "America"'),
        ("subscribe tz=Etc", 'Unknown timezone "Etc"'),
        (f"subscribe tz={'A' * 300}", "Unknown timezone"),
        ("subscribe max=³", "`max` must be a whole number"),
        ("subscribe max=١٢", "`max` must be a whole number"),
        ('subscribe schedule="every ٣h"', "is not a schedule I understand"),
    ],
)
async def test_odd_timezones_and_numbers_get_a_polite_answer(make_bot, sqlite_database, fake_slack, text, expected):
    """A timezone that is a directory or too long, or digits that are not ASCII, get usage help, not a 500."""
    bot = await make_bot(sqlite_database)
    body = command_body(fake_slack, text, user=MANAGER)
    before = len(fake_slack.responses)
    response = await bot.post(body, signed_headers(body))
    assert response.status_code == 200
    if expected not in response.text:  # refused after the ack: the reply goes to the response_url
        await fake_slack.wait_for(lambda fake: len(fake.responses) > before)
        assert expected in fake_slack.responses[-1].all_text
    with sqlite_database.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0


async def test_brief_with_unicode_digits_gets_usage_help(make_bot, sqlite_database):
    """`/news brief max=³` (str.isdigit() is true, int() fails) is answered with usage help in the ack."""
    bot = await make_bot(sqlite_database)
    response = await bot.command("brief max=³")
    assert "`max` must be a number from 1 to 10" in response.text


async def test_question_while_articles_are_pending_says_so_in_one_line(make_bot, archive_copy, fake_slack):
    """Articles stored but not searchable yet (one not processed, one waiting for its page): the answer says so."""
    store_pending(archive_copy, processing=1, pages=1)
    bot = await make_bot(archive_copy)
    (reply,) = await bot.ask("ask How many tankers did the EU blacklist?")
    assert "117" in reply.all_text
    assert reply.all_text.count("not searched yet") == 1
    assert "2 stored articles are not searched yet: 1 still being processed, 1 from newly added feeds" in reply.all_text
