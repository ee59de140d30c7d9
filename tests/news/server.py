"""A real HTTP server on 127.0.0.1 for the news tests: feed files, article pages and every hostile case.

Routes are aiohttp handlers keyed by path; `serve_bytes` and friends build the usual ones. Every request is
recorded (path, headers, loop time) so tests can assert on retries, conditional GET and politeness.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
from aiohttp import web

DATA = Path(__file__).parent / "data"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class FeedServer:
    """The test server; `url(path)` gives an absolute URL, `routes[path] = handler` adds a route."""

    routes: dict[str, Handler] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    port: int = 0
    streamed_bytes: int = 0  # bytes written by the endless-body routes before the client hung up

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        return sum(1 for hit in self.hits if hit.path == path)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(Hit(request.path, dict(request.headers), asyncio.get_running_loop().time()))
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="not found")
        return await handler(request)

    # --- builders for common routes ---

    def serve_bytes(self, path: str, body: bytes, content_type: str = "application/rss+xml", **headers: str) -> str:
        """Serve `body` at `path`, answering If-None-Match / If-Modified-Since with 304; returns the URL."""
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        last_modified = "Wed, 31 Jan 2018 20:15:15 GMT"

        async def handler(request: web.Request) -> web.StreamResponse:
            validators = {"ETag": etag, "Last-Modified": last_modified}
            # As RFC 9110 says: If-None-Match, when sent, decides; If-Modified-Since only counts without it.
            if_none_match = request.headers.get("If-None-Match")
            if if_none_match == etag or (
                if_none_match is None and request.headers.get("If-Modified-Since") == last_modified
            ):
                return web.Response(status=304, headers=validators)
            response = web.Response(body=body, headers={**validators, **headers})
            response.headers["Content-Type"] = content_type
            return response

        self.routes[path] = handler
        return self.url(path)

    def serve_file(self, name: str, content_type: str = "application/rss+xml") -> str:
        """Serve tests/news/data/`name` at /data/`name`."""
        return self.serve_bytes(f"/data/{name}", (DATA / name).read_bytes(), content_type)

    def serve_html(self, path: str, html: str, status: int = 200) -> str:
        async def handler(_request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, text=html, content_type="text/html", charset="utf-8")

        self.routes[path] = handler
        return self.url(path)

    def serve_status(self, path: str, status: int, **headers: str) -> str:
        async def handler(_request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, text=f"status {status}", headers=headers)

        self.routes[path] = handler
        return self.url(path)

    def serve_redirect(self, path: str, location: str, status: int = 302) -> str:
        async def handler(_request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": location})

        self.routes[path] = handler
        return self.url(path)

    def serve_flaky(self, path: str, failures: int, body: bytes, status: int = 503, **headers: str) -> str:
        """Answer `status` to the first `failures` requests, then `body`."""
        seen = 0

        async def handler(_request: web.Request) -> web.StreamResponse:
            nonlocal seen
            seen += 1
            if seen <= failures:
                return web.Response(status=status, text="try later", headers=headers)
            return web.Response(body=body, content_type="application/rss+xml")

        self.routes[path] = handler
        return self.url(path)

    def serve_endless(self, path: str, declare_length: int | None = None) -> str:
        """An endless body of zeros, generated lazily and streamed until the client hangs up."""
        chunk = b"\0" * 65536

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            if declare_length is not None:
                response.content_length = declare_length
            await response.prepare(request)
            try:
                for _ in range(100_000):  # 6.5 GB at most, never held in memory
                    await response.write(chunk)
                    self.streamed_bytes += len(chunk)
            except ConnectionError:  # the client hung up, as it should
                pass
            return response

        self.routes[path] = handler
        return self.url(path)

    def serve_hanging(self, path: str) -> str:
        """Accept the request and never answer."""

        async def handler(_request: web.Request) -> web.StreamResponse:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        self.routes[path] = handler
        return self.url(path)

    def serve_trickle(self, path: str, interval: float) -> str:
        """Send one byte every `interval` seconds, forever: each read succeeds, the whole never ends."""

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
            await response.prepare(request)
            try:
                while True:
                    await response.write(b" ")
                    await asyncio.sleep(interval)
            except ConnectionError:
                pass
            return response

        self.routes[path] = handler
        return self.url(path)


async def start_server() -> tuple[FeedServer, web.AppRunner]:
    server = FeedServer()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", server.dispatch)
    runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.port = runner.addresses[0][1]
    return server, runner


async def start_silent_server() -> tuple[asyncio.Server, int]:
    """A TCP server that accepts connections and never sends a byte."""

    async def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            writer.close()

    silent = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    return silent, silent.sockets[0].getsockname()[1]


class RoutedNetwork(httpcore.AsyncNetworkBackend):
    """The network edge for tests: connections to public addresses are routed to loopback servers.

    `routes` maps a public IP to the (host, port) that answers for it; `connects` records each (ip, port) the client
    asked for, so a test sees which address a request really went to.
    """

    def __init__(self, routes: dict[str, tuple[str, int]]) -> None:
        self.routes = routes
        self.connects: list[tuple[str, int]] = []
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        if host not in self.routes:
            raise httpcore.ConnectError(f"no route to {host}")
        real_host, real_port = self.routes[host]
        return await self._inner.connect_tcp(real_host, real_port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
