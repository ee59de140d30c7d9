"""The status page over real HTTP on loopback: what it shows, and who may see it (local only, or with the token)."""

from __future__ import annotations

import logging
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.news.http import HttpClient, HttpPolicy
from bot.ops.status import read_status
from bot.ops.web import COOKIE, SESSION_SECONDS, Access, StatusServer, StatusSite, ago, listen_host
from bot.platforms.slack import SlackPlatform
from bot.service import NewsService
from bot.storage import Database, Subscription, utcnow
from tests.ops.conftest import BODY_MARKER, NOW, TOKEN, ServeFactory, fill

# What only an authorised visitor may see: feed names and URLs, channel ids, story titles, errors.
PRIVATE = ("Good News", "bad.example", "CACTIVE", "CPAUSED", "Leaders agree", "Missing Access", "HTTP 503")


def _row(html: str, table: str, containing: str) -> str:
    """The text of the first row of `table` that contains `containing`, tags removed and spaces squeezed."""
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    rows = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]
    return next(row for row in rows if containing in row)


async def test_page_shows_feeds_deliveries_stories_and_jobs(filled: Database, serve: ServeFactory):
    """Feed health, deliveries per channel with a paused one's reason, recent stories with outlets and countries."""
    served = await serve(filled)
    response = await served.get("/status")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    html = response.text
    assert "Backfill waiting</th>" in html
    assert _row(html, "feeds", "Bad Feed") == (
        "failing Bad Feed https://bad.example/rss 0 – 4 in 2 h 0 HTTP 503 Service Unavailable"
    )
    assert _row(html, "feeds", "Good News") == "ok Good News https://good.example/rss 3 5 min ago 0 – 1"
    assert _row(html, "deliveries", "CACTIVE") == "slack T1 / CACTIVE 08:00 UTC 2 1 0 0 now active HTTP 503"
    assert _row(html, "deliveries", "CPAUSED") == "discord G1 / CPAUSED every 6h UTC 0 0 1 0 – paused Missing Access"
    assert (
        _row(html, "stories", "Leaders")
        == "Leaders agree to resume talks Good News, Other Wire Japan, South Korea 2 1 h ago"
    )
    assert "No jobs: the scheduler has not run on this database yet." in html
    assert "3</b>" in html and "1 full text · 1 teaser · 1 blocked" in html
    assert BODY_MARKER not in html


async def test_scheduled_jobs_are_read_from_the_job_store(sqlite_database: Database):
    """The jobs the scheduler stored in the database are listed soonest first, with their kinds counted."""
    from bot.scheduler import build_scheduler, poll_feed, serve_digest

    soon, later = utcnow() + timedelta(days=1), utcnow() + timedelta(days=2)
    scheduler = build_scheduler(sqlite_database)
    scheduler.start(paused=True)
    try:
        scheduler.add_job(serve_digest, "date", run_date=later, args=[7], id="digest:7")
        scheduler.add_job(
            poll_feed, "date", run_date=soon, args=["https://a.example/rss"], id="feed:https://a.example/rss"
        )
    finally:
        scheduler.shutdown(wait=False)
    report = read_status(sqlite_database, NOW)
    assert [(job.id, job.kind) for job in report.jobs] == [
        ("feed:https://a.example/rss", "feed"),
        ("digest:7", "digest"),
    ]
    assert [job.next_run_at for job in report.jobs] == [soon, later]
    assert report.job_kinds == {"feed": 1, "digest": 1}
    html = StatusSite(sqlite_database, clock=lambda: NOW).render()
    assert "digest: 1 · feed: 1" in html


async def test_without_a_token_only_this_machine_may_look(filled: Database, serve: ServeFactory):
    """Loopback is served; a proxied request, or a page that rebinds its own host name to 127.0.0.1, is refused."""
    served = await serve(filled)
    assert (await served.get("/status")).status_code == 200
    assert (await served.get("/metrics")).status_code == 200
    for headers in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}, {"Host": "evil.example"}):
        for path in ("/status", "/metrics"):
            refused = await served.get(path, headers=headers)
            assert refused.status_code == 403, (path, headers)
            assert "only on this machine" in refused.text
            assert not any(private in refused.text for private in PRIVATE)
    login = await served.get("/status/login")
    assert (login.status_code, login.headers["Location"]) == (303, "/status")


async def test_with_a_token_an_unauthenticated_visitor_sees_only_the_login_form(filled: Database, serve: ServeFactory):
    """No token, a wrong one or a forged cookie: 401 and the login form, with no feed, channel or story in it."""
    served = await serve(filled, token=TOKEN)
    attempts = [
        {},
        {"headers": {"Authorization": "Bearer wrong-token-0123456789"}},
        {"headers": {"Authorization": f"Basic {TOKEN}"}},
        {"headers": {"Cookie": f"{COOKIE}=1764590400.forged"}},
    ]
    for attempt in attempts:
        page = await served.get("/status", **attempt)
        assert page.status_code == 401, attempt
        assert '<form method="post" action="/status/login">' in page.text
        assert not any(private in page.text for private in PRIVATE), attempt
        metrics = await served.get("/metrics", **attempt)
        assert metrics.status_code == 401
        assert metrics.headers["WWW-Authenticate"] == 'Bearer realm="geobrief"'
        assert "geobrief_" not in metrics.text


async def test_the_token_opens_the_page_as_a_bearer_token_or_through_the_login_form(
    filled: Database, serve: ServeFactory, caplog: pytest.LogCaptureFixture
):
    """Prometheus sends the bearer token; people sign in once and get a session cookie. The token is never echoed."""
    caplog.set_level(logging.DEBUG)
    served = await serve(filled, token=TOKEN)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert (await served.get("/status", headers=bearer)).status_code == 200
    metrics = await served.get("/metrics", headers=bearer)
    assert metrics.status_code == 200 and "geobrief_stories 1.0" in metrics.text

    wrong = await served.client.post(served.base + "/status/login", data={"token": "not-the-token-at-all"})
    assert wrong.status_code == 401 and "That token is not right." in wrong.text
    signed_in = await served.client.post(served.base + "/status/login", data={"token": TOKEN})
    assert (signed_in.status_code, signed_in.headers["Location"]) == (303, "/status")
    cookie = signed_in.cookies[COOKIE]
    set_cookie = signed_in.headers["Set-Cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie and f"max-age={SESSION_SECONDS}" in set_cookie
    page = await served.get("/status", headers={"Cookie": f"{COOKIE}={cookie}"})
    assert page.status_code == 200 and "Good News" in page.text and BODY_MARKER not in page.text

    everything = "".join([page.text, metrics.text, wrong.text, str(signed_in.headers), cookie, caplog.text])
    assert TOKEN not in everything
    assert "wrong token from 127.0.0.1" in caplog.text


def test_session_cookies_expire_and_die_with_a_new_token():
    """A session lasts SESSION_SECONDS; it is signed with the token, so another token does not accept it."""
    clock = [1_000_000.0]
    access = Access(TOKEN, clock=lambda: clock[0])
    cookie = access.session_cookie()
    assert access.valid_session(cookie)
    assert not Access("another-token-0123456789", clock=lambda: clock[0]).valid_session(cookie)
    assert not access.valid_session(cookie.replace(".", ".0"))
    clock[0] += SESSION_SECONDS
    assert not access.valid_session(cookie)
    assert not Access(None).valid_session(cookie)


def test_own_server_listens_locally_unless_a_token_guards_it():
    """Without STATUS_TOKEN the standalone server binds 127.0.0.1 only; with it, every interface."""
    assert listen_host(Settings(_env_file=None)) == "127.0.0.1"
    assert listen_host(Settings(_env_file=None, status_token=TOKEN)) == "0.0.0.0"


async def test_own_server_gives_way_when_the_port_is_taken(sqlite_database: Database, caplog):
    """A taken PORT costs the page, not the bot: run() logs why and returns."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = StatusServer(StatusSite(sqlite_database), host="127.0.0.1", port=taken.getsockname()[1])
        await server.run()
    assert "status page not served: cannot listen on 127.0.0.1" in caplog.text


async def test_slack_http_server_serves_the_page_beside_its_events(filled: Database):
    """In Slack HTTP mode one server on PORT answers /slack/events, /healthz, /status and /metrics."""
    import httpx

    settings = Settings(
        _env_file=None, slack_bot_token="xoxb-test", slack_signing_secret="secret", slack_api_url="http://127.0.0.1:9/"
    )
    async with HttpClient(HttpPolicy.from_settings(settings)) as http:
        service = NewsService(settings, filled, http)
        platform = SlackPlatform(settings, service, status=StatusSite(filled))
        port = await platform.start_http("127.0.0.1", 0)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                assert (await client.get("/healthz")).json() == {"status": "ok", "platform": "slack"}
                assert (await client.post("/slack/events", content="command=/news")).status_code == 401
                assert "Good News" in (await client.get("/status")).text
                assert "geobrief_feeds" in (await client.get("/metrics")).text
        finally:
            await platform.close()


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(-3, "now"), (40, "in 40 s"), (-300, "5 min ago"), (-7200, "2 h ago"), (3 * 86400, "in 3 d"), (5400, "in 1 h")],
)
def test_times_read_as_short_relative_words(seconds: int, expected: str):
    """Relative times fit a phone's column."""
    assert ago(NOW + timedelta(seconds=seconds), NOW) == expected


def test_unfilled_database_page_says_what_is_missing(sqlite_database: Database):
    """An empty database renders with a line per empty table instead of failing."""
    html = StatusSite(sqlite_database, clock=lambda: NOW).render()
    assert "No feeds yet." in html and "No channel is subscribed yet." in html and "No stories yet" in html
    fill(sqlite_database)
    assert "No feeds yet." not in StatusSite(sqlite_database, clock=lambda: NOW).render()


def test_channel_list_puts_attention_first_and_is_capped(filled: Database):
    """Paused channels and those with deliveries waiting come first; past the limit the page links to the rest."""
    with filled.session() as session:
        session.add(Subscription(platform="slack", workspace_id="T1", channel_id="CQUIET", schedule="08:00"))
    with filled.session() as session:
        session.execute(text("UPDATE subscriptions SET id = 0 WHERE channel_id = 'CQUIET'"))  # subscribed first
    report = read_status(filled, NOW, channel_rows=2)
    assert ([row.channel_id for row in report.channels], report.channel_count) == (["CACTIVE", "CPAUSED"], 3)
    assert [row.channel_id for row in read_status(filled, NOW, channel_rows=None).channels][-1] == "CQUIET"
    site = StatusSite(filled, clock=lambda: NOW)
    assert "CQUIET" in site.render(all_channels=True) and "more channels not listed" not in site.render()
