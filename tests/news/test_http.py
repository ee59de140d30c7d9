"""The HTTP client against a real loopback server: limits, retries, redirects, conditional GET, SSRF guard."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib

import httpx
import pytest
from aiohttp import web

from bot.news.http import (
    BlockedURLError,
    ConnectionFailedError,
    ContentEncodingError,
    FetchTimeoutError,
    HttpClient,
    HTTPStatusError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from tests.news.conftest import USER_AGENT, fast_policy
from tests.news.server import FeedServer, RoutedNetwork, start_silent_server


async def test_get_returns_body_and_sends_honest_user_agent(server: FeedServer, http: HttpClient):
    """A plain GET returns the body, the final URL and the validators, and says who we are."""
    url = server.serve_file("guardian.rss")
    response = await http.get(url, allow_private=True, accept="application/rss+xml")
    assert response.status == 200
    assert response.content.startswith(b"<?xml")
    assert response.url == url
    assert response.etag and response.last_modified
    assert response.media_type == "application/rss+xml"
    assert server.hits[0].headers["User-Agent"] == USER_AGENT
    assert server.hits[0].headers["Accept"] == "application/rss+xml"


async def test_conditional_get_returns_not_modified(server: FeedServer, http: HttpClient):
    """ETag and Last-Modified from the first answer make the second one a 304 with an empty body."""
    url = server.serve_file("heise.atom")
    first = await http.get(url, allow_private=True)
    second = await http.get(url, allow_private=True, etag=first.etag)
    third = await http.get(url, allow_private=True, last_modified=first.last_modified)
    assert (second.status, second.not_modified, second.content) == (304, True, b"")
    assert third.not_modified
    assert server.hits[1].headers["If-None-Match"] == first.etag


async def test_declared_huge_body_is_refused_before_reading(server: FeedServer, http: HttpClient):
    """A Content-Length above the cap fails at once, without downloading the body."""
    url = server.serve_endless("/huge-declared", declare_length=5 * 1024**3)
    with pytest.raises(ResponseTooLargeError):
        await http.get(url, allow_private=True)


async def test_endless_body_is_cut_at_the_cap(server: FeedServer, http: HttpClient):
    """A multi-GB chunked body is cut while streaming, long before it ends."""
    url = server.serve_endless("/huge")
    started = time.monotonic()
    with pytest.raises(ResponseTooLargeError, match="larger than 1000000 bytes"):
        await http.get(url, allow_private=True)
    assert time.monotonic() - started < 2
    await asyncio.sleep(0.05)
    assert server.streamed_bytes < 50_000_000


async def test_server_that_never_answers_times_out():
    """A server that accepts the connection and stays silent is cut by the read timeout."""
    silent, port = await start_silent_server()
    try:
        async with HttpClient(fast_policy(timeout=0.3)) as client:
            started = time.monotonic()
            with pytest.raises(FetchTimeoutError):
                await client.get(f"http://127.0.0.1:{port}/feed", allow_private=True)
            assert time.monotonic() - started < 1.5  # timeouts are not retried
    finally:
        silent.close()


async def test_handler_that_never_answers_times_out(server: FeedServer, http: HttpClient):
    """An HTTP server that reads the request and never responds times out too."""
    with pytest.raises(FetchTimeoutError):
        await http.get(server.serve_hanging("/hang"), allow_private=True)


async def test_trickling_server_hits_the_deadline(server: FeedServer):
    """A byte every 0.1 s never trips the read timeout, so the overall deadline stops it."""
    async with HttpClient(fast_policy(timeout=0.5, deadline=0.6)) as client:
        with pytest.raises(FetchTimeoutError, match=r"within 0\.6 s"):
            await client.get(server.serve_trickle("/trickle", 0.1), allow_private=True)


async def test_redirect_loop_fails(server: FeedServer, http: HttpClient):
    """A redirect loop stops at the hop limit."""
    url = server.serve_redirect("/loop", "/loop")
    with pytest.raises(TooManyRedirectsError):
        await http.get(url, allow_private=True)
    assert server.count("/loop") == 4  # the first request and 3 redirects


async def test_redirect_chain_within_limit_is_followed(server: FeedServer, http: HttpClient):
    """Relative and absolute redirects are followed; the response names the final URL."""
    final = server.serve_file("heise.atom")
    server.serve_redirect("/a", "/b", status=301)
    server.serve_redirect("/b", final, status=308)
    response = await http.get(server.url("/a"), allow_private=True)
    assert response.url == final


async def test_5xx_is_retried_then_succeeds(server: FeedServer, http: HttpClient):
    """Two 503s and then a 200: the client retries with backoff and returns the 200."""
    url = server.serve_flaky("/flaky", failures=2, body=b"<rss/>")
    response = await http.get(url, allow_private=True)
    assert response.content == b"<rss/>"
    assert server.count("/flaky") == 3


async def test_persistent_5xx_gives_up_after_bounded_retries(server: FeedServer, http: HttpClient):
    """A server that always fails gets 1 + max_retries requests, then an HTTPStatusError."""
    url = server.serve_status("/down", 502)
    with pytest.raises(HTTPStatusError) as raised:
        await http.get(url, allow_private=True)
    assert raised.value.status == 502
    assert str(raised.value) == "HTTP 502 Bad Gateway"
    assert server.count("/down") == 3


async def test_4xx_is_not_retried(server: FeedServer, http: HttpClient):
    """A 404 fails at once."""
    with pytest.raises(HTTPStatusError) as raised:
        await http.get(server.url("/missing"), allow_private=True)
    assert raised.value.status == 404
    assert server.count("/missing") == 1


async def test_429_retry_after_is_honoured(server: FeedServer, http: HttpClient):
    """A 429 with Retry-After: 1 is retried after about a second."""
    url = server.serve_flaky("/limited", failures=1, body=b"ok", status=429, **{"Retry-After": "1"})
    started = time.monotonic()
    response = await http.get(url, allow_private=True)
    assert response.content == b"ok"
    assert time.monotonic() - started >= 0.95


async def test_retry_after_beyond_the_cap_fails_at_once(server: FeedServer, http: HttpClient):
    """A Retry-After longer than the cap is not waited out: the error carries it for the caller's backoff."""
    url = server.serve_status("/later", 503, **{"Retry-After": "3600"})
    with pytest.raises(HTTPStatusError) as raised:
        await http.get(url, allow_private=True)
    assert raised.value.retry_after == 3600
    assert server.count("/later") == 1


async def test_connection_refused_is_retried_and_reported():
    """A closed port gives a ConnectionFailedError after the bounded retries."""
    silent, port = await start_silent_server()
    silent.close()
    await silent.wait_closed()
    async with HttpClient(fast_policy()) as client:
        with pytest.raises(ConnectionFailedError, match="could not connect"):
            await client.get(f"http://127.0.0.1:{port}/", allow_private=True)


async def test_a_name_that_does_not_resolve_is_reported_as_such():
    """A trusted feed whose host has no address (.invalid never resolves, RFC 6761) says so, not "[Errno -2]"."""
    async with HttpClient(fast_policy()) as client:
        with pytest.raises(ConnectionFailedError, match=r"^could not resolve feeds\.geobrief\.invalid$"):
            await client.get("http://feeds.geobrief.invalid/rss", allow_private=True)


async def test_per_host_concurrency_is_limited(server: FeedServer):
    """No more than `per_host_concurrency` requests to one host are in flight at once."""
    in_flight = peak = 0

    async def slow(_request: web.Request) -> web.StreamResponse:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return web.Response(text="ok")

    server.routes["/slow"] = slow
    async with HttpClient(fast_policy(per_host_concurrency=2)) as client:
        await asyncio.gather(*(client.get(server.url("/slow"), allow_private=True) for _ in range(6)))
    assert peak == 2


async def test_politeness_delay_spaces_requests_to_one_host(server: FeedServer):
    """Requests to one host start at least `politeness_delay` apart, even when issued together."""
    url = server.serve_bytes("/p", b"ok")
    async with HttpClient(fast_policy(politeness_delay=0.15)) as client:
        started = time.monotonic()
        await asyncio.gather(*(client.get(url, allow_private=True) for _ in range(3)))
        elapsed = time.monotonic() - started
    # Measured at the client: on a busy machine the server may handle spaced requests back to back.
    assert len(server.hits) == 3
    assert elapsed >= 2 * 0.15 - 0.01


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://10.1.2.3/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/feed",
        "http://[::ffff:127.0.0.1]/feed",
        "http://0.0.0.0/feed",
        "http://224.0.0.1/feed",
        "http://[2002:7f00:1::]/feed",  # 6to4 around 127.0.0.1
        "http://[2002:a9fe:a9fe::1]/latest/",  # 6to4 around 169.254.169.254
        "http://[64:ff9b::7f00:1]/feed",  # NAT64 around 127.0.0.1
        "http://[::127.0.0.1]/feed",  # IPv4-compatible
    ],
)
async def test_ssrf_guard_refuses_non_public_addresses(url: str, http: HttpClient):
    """User-given URLs that point at loopback, private, link-local, multicast or unspecified addresses are refused."""
    with pytest.raises(BlockedURLError, match="not a public internet address"):
        await http.get(url)


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "file:///etc/passwd", "not a url"])
async def test_non_http_schemes_are_refused(url: str, http: HttpClient):
    """Only http and https can be fetched, whatever allow_private says."""
    with pytest.raises(BlockedURLError):
        await http.get(url, allow_private=True)


async def test_ssrf_guard_resolves_names(server: FeedServer):
    """A host name is resolved and refused when it points at loopback (here: localhost)."""
    server.serve_bytes("/feed", b"secret")
    async with HttpClient(fast_policy()) as client:
        with pytest.raises(BlockedURLError):
            await client.get(f"http://localhost:{server.port}/feed")
    assert server.hits == []


async def test_ssrf_guard_checks_every_redirect_hop():
    """A public page that redirects to a private address is refused at the redirect (fake DNS and transport)."""
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://internal.example/admin"})

    async def resolver(host: str, _port: int) -> list[str]:
        return {"news.example": ["93.184.216.34"], "internal.example": ["192.168.1.10"]}[host]

    async with HttpClient(fast_policy(), transport=httpx.MockTransport(handler), resolver=resolver) as client:
        with pytest.raises(BlockedURLError, match=r"internal\.example"):
            await client.get("http://news.example/story")
    assert requested == ["http://news.example/story"]


async def test_compression_bomb_is_cut_at_the_cap(server: FeedServer, http: HttpClient):
    """A small gzip body that inflates to 50 MB is cut by the cap on decompressed bytes."""
    bomb = gzip.compress(b"\0" * 50_000_000)

    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})

    server.routes["/bomb"] = handler
    assert len(bomb) < 100_000
    with pytest.raises(ResponseTooLargeError):
        await http.get(server.url("/bomb"), allow_private=True)


def _bomb_route(server: FeedServer, path: str, body: bytes, encoding: str) -> str:
    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, headers={"Content-Encoding": encoding, "Content-Type": "application/rss+xml"})

    server.routes[path] = handler
    return server.url(path)


@pytest.mark.parametrize("encoding", ["gzip, gzip", "deflate, gzip"])
async def test_stacked_encoding_bomb_is_cut_with_bounded_memory(server: FeedServer, http: HttpClient, encoding: str):
    """Two stacked encodings of 100 MB of zeros (a few KB on the wire) are cut at the cap while decoding.

    httpx would decode a whole network chunk through every layer before any size check; the peak memory here stays
    within a few times the 1 MB cap.
    """
    inner = gzip.compress(b"\0" * 100_000_000) if encoding.startswith("gzip") else zlib.compress(b"\0" * 100_000_000)
    bomb = gzip.compress(inner)
    url = _bomb_route(server, "/stacked", bomb, encoding)
    assert len(bomb) < 10_000
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError):
            await http.get(url, allow_private=True)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"{encoding}: {len(bomb)} bytes on the wire, peak traced memory {peak / 1e6:.1f} MB")
    assert peak < 5 * http.policy.max_bytes


async def test_more_than_two_stacked_encodings_are_refused(server: FeedServer, http: HttpClient):
    """Three layers of gzip are refused before decoding anything, as a FetchError."""
    url = _bomb_route(server, "/triple", gzip.compress(gzip.compress(gzip.compress(b"<rss/>"))), "gzip, gzip, gzip")
    with pytest.raises(ContentEncodingError, match="stacked"):
        await http.get(url, allow_private=True)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "gzip, identity"])
async def test_compressed_bodies_are_decoded(server: FeedServer, http: HttpClient, encoding: str):
    """Ordinary gzip and deflate bodies (zlib-wrapped or raw deflate) come back decoded."""
    body = b"<rss>" + b"news " * 50_000 + b"</rss>"
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    encoded = {
        "gzip": gzip.compress(body),
        "deflate": raw_deflate.compress(body) + raw_deflate.flush(),
        "gzip, identity": gzip.compress(body),
    }[encoding]
    response = await http.get(_bomb_route(server, "/ok", encoded, encoding), allow_private=True)
    assert response.content == body


async def test_unknown_or_corrupt_encoding_is_a_fetch_error(server: FeedServer, http: HttpClient):
    """A body in an encoding the client did not offer, or a corrupt gzip stream, fails as a FetchError."""
    with pytest.raises(ContentEncodingError, match="unsupported"):
        await http.get(_bomb_route(server, "/br", b"\x1b\x00", "br"), allow_private=True)
    with pytest.raises(ContentEncodingError, match="corrupt"):
        await http.get(_bomb_route(server, "/bad", b"\x1f\x8bnot gzip at all", "gzip"), allow_private=True)
    assert server.hits[0].headers["Accept-Encoding"] == "gzip, deflate"


async def test_one_total_deadline_bounds_retries_and_waits(server: FeedServer):
    """A server that answers a slow 503 with Retry-After every time cannot hold one get() past the total deadline.

    Without it, 1 + 10 retries of (0.3 s answer + 1 s Retry-After) would take about 14 s.
    """
    calls = 0

    async def slow_unavailable(_request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)
        return web.Response(status=503, text="busy", headers={"Retry-After": "1"})

    server.routes["/busy"] = slow_unavailable
    async with HttpClient(fast_policy(max_retries=10, total_deadline=2.0)) as client:
        started = time.monotonic()
        with pytest.raises(HTTPStatusError):
            await client.get(server.url("/busy"), allow_private=True)
        elapsed = time.monotonic() - started
    print(f"total deadline 2.0 s: gave up after {elapsed:.2f} s and {calls} attempts")
    assert elapsed < 2.5
    assert calls == 2  # the third attempt's wait would not fit in the deadline


async def test_total_deadline_cuts_a_slow_redirect_chain(server: FeedServer):
    """Each hop of a redirect chain answers slowly; the chain as a whole is cut at the total deadline."""

    async def slow_hop(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.4)
        return web.Response(status=302, headers={"Location": f"/hop{int(request.path[4:]) + 1}"})

    for hop in range(10):
        server.routes[f"/hop{hop}"] = slow_hop
    async with HttpClient(fast_policy(max_redirects=9, total_deadline=1.0)) as client:
        started = time.monotonic()
        with pytest.raises(FetchTimeoutError, match=r"within 1 s"):
            await client.get(server.url("/hop0"), allow_private=True)
        assert time.monotonic() - started < 1.5


async def test_dns_rebinding_to_loopback_is_refused_at_connect(server: FeedServer):
    """A name that answers a public address to the guard's look-up and loopback to the next one never reaches the
    loopback page: the connection goes only to an address the guard vetted (here the system's localhost would be
    127.0.0.1, where the secret page is)."""
    server.serve_bytes("/internal", b"internal secret")
    answers = [["93.184.216.34"], ["127.0.0.1"]]

    async def rebinding(_host: str, _port: int) -> list[str]:
        return answers.pop(0) if answers else ["127.0.0.1"]

    async with HttpClient(fast_policy(max_retries=0), resolver=rebinding) as client:
        with pytest.raises(BlockedURLError, match="not a public internet address"):
            await client.get(f"http://localhost:{server.port}/internal")
    assert server.hits == []


async def test_connection_goes_to_the_vetted_address_with_the_host_name(server: FeedServer):
    """The request is sent to the address the guard resolved, once, and still names the host in its Host header."""
    server.serve_bytes("/story", b"<html>story</html>", content_type="text/html")
    network = RoutedNetwork({"93.184.216.34": ("127.0.0.1", server.port)})
    lookups: list[str] = []

    async def resolver(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["93.184.216.34"]

    async with HttpClient(fast_policy(), resolver=resolver, network=network) as client:
        response = await client.get("http://news.example/story")
    assert response.content == b"<html>story</html>"
    assert network.connects == [("93.184.216.34", 80)]
    assert server.hits[0].headers["Host"] == "news.example"


@pytest.mark.parametrize("allow_private", [False, True])
async def test_host_with_an_overlong_label_is_refused_cleanly(http: HttpClient, allow_private: bool):
    """A 64-character label cannot be encoded (IDNA): a BlockedURLError, not a UnicodeError."""
    with pytest.raises(BlockedURLError, match="not a valid host name"):
        await http.get(f"http://{'a' * 64}.example.com/story", allow_private=allow_private)
