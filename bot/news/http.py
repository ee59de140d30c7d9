"""The one outbound HTTP module of the bot.

Every request to the outside world goes through `HttpClient`, which wraps shared `httpx.AsyncClient`s and adds
what a polite and robust fetcher needs: explicit timeouts, a deadline per attempt and one total deadline per fetch
(retries, redirects and backoff waits included), a response-size cap counted on decoded bytes while decoding,
bounded retries with exponential backoff and jitter (connect errors, 5xx, 429 with a capped Retry-After), a per-host
concurrency limit and politeness delay, redirects followed by hand up to a limit, conditional GET, an honest
User-Agent, and an SSRF guard for URLs that users give.

Errors carry the URL; their messages are short and safe to show to users:

    FetchError                   (a BotError) the request produced no usable response
     ├── BlockedURLError         not http(s), or the host is private/loopback/link-local/... (SSRF guard)
     ├── FetchTimeoutError       a connect/read timeout, or a deadline (per attempt or in total) passed
     ├── ConnectionFailedError   DNS failure, refused connection, broken connection or protocol
     ├── ResponseTooLargeError   the body is larger than the cap (counted after decoding)
     ├── ContentEncodingError    the body's Content-Encoding is unknown, stacked more than twice, or corrupt
     ├── TooManyRedirectsError   the redirect limit was reached (loops included)
     ├── HTTPStatusError         the final status is 4xx/5xx; carries `status` and `retry_after`
     └── FetchBudgetError        a person asked for too many fetches, or too many are in flight for people at once
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import math
import random
import socket
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import httpcore
import httpx

from bot.errors import BotError
from bot.news.normalize import valid_host

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Hosts whose gates are kept once idle; beyond this, idle gates are forgotten so user-given URLs cannot grow memory.
MAX_TRACKED_HOSTS = 1024
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")

# The client decodes bodies itself, a bounded step at a time, so the size cap counts decoded bytes as they appear:
# httpx would decode a whole network chunk through every layer first (a few hundred bytes of `gzip, gzip` can
# inflate to gigabytes in one call).
ACCEPT_ENCODING = "gzip, deflate"
MAX_STACKED_ENCODINGS = 2
DECODE_STEP = 64 * 1024  # most bytes one decompression call may produce

Resolver = Callable[[str, int], Awaitable[list[str]]]


class FetchError(BotError):
    """The request produced no usable response; `url` is the URL that failed."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(message)
        self.url = url


class BlockedURLError(FetchError):
    """The URL is not http(s), or its host is not a public address and private addresses were not allowed."""


class FetchTimeoutError(FetchError):
    """The server did not answer in time."""


class ConnectionFailedError(FetchError):
    """The connection could not be made or broke; `during_connect` says whether it failed before any request."""

    def __init__(self, url: str, message: str, *, during_connect: bool) -> None:
        super().__init__(url, message)
        self.during_connect = during_connect


class ResponseTooLargeError(FetchError):
    """The response body is larger than the configured cap."""


class ContentEncodingError(FetchError):
    """The body's Content-Encoding is one the client did not offer, more than two stacked, or corrupt data."""


class TooManyRedirectsError(FetchError):
    """More redirects than allowed, which includes every redirect loop."""


class HTTPStatusError(FetchError):
    """The final response had a 4xx or 5xx status; `retry_after` is the server's Retry-After in seconds, if any."""

    def __init__(self, url: str, status: int, *, retry_after: float | None = None) -> None:
        try:
            phrase = httpx.codes.get_reason_phrase(status)
        except ValueError:
            phrase = ""
        super().__init__(url, f"HTTP {status} {phrase}".strip())
        self.status = status
        self.retry_after = retry_after


class FetchBudgetError(FetchError):
    """The fetches people ask for are over budget: this person's rate, or everyone's concurrency."""


@dataclass(frozen=True)
class HttpPolicy:
    """How `HttpClient` behaves; every request is bounded in time, size, retries and redirects."""

    user_agent: str
    timeout: float = 10.0  # seconds for each of connect, read (between two chunks), write and pool
    deadline: float = 30.0  # seconds for one whole attempt, so a server that trickles bytes is cut off too
    # Seconds for one whole get(): every attempt, redirect and backoff or Retry-After wait. Waiting for a turn at a
    # host (per-host concurrency and politeness, our own queue) does not count.
    total_deadline: float = 60.0
    max_bytes: int = 5_000_000
    max_retries: int = 3
    max_redirects: int = 5
    max_connections: int = 100  # per pool (one for trusted feeds, one for everything behind the SSRF guard)
    per_host_concurrency: int = 2
    politeness_delay: float = 1.0  # seconds between the starts of two requests to one host
    backoff_base: float = 0.5  # first retry waits about this long, then twice as long each time
    backoff_max: float = 30.0
    retry_after_max: float = 60.0  # a longer Retry-After is not waited out: the request fails and says when to retry

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpPolicy:
        """The policy the settings describe."""
        return cls(
            user_agent=settings.http_user_agent,
            timeout=settings.http_timeout_seconds,
            deadline=min(3 * settings.http_timeout_seconds, settings.http_total_deadline_seconds),
            total_deadline=settings.http_total_deadline_seconds,
            max_bytes=settings.http_max_bytes,
            max_retries=settings.http_max_retries,
            max_redirects=settings.http_max_redirects,
            per_host_concurrency=settings.http_per_host_concurrency,
            politeness_delay=settings.http_politeness_delay_seconds,
        )


@dataclass(frozen=True)
class HttpResponse:
    """A successful (2xx) or not-modified (304) response, its body read in full."""

    url: str  # the final URL, after redirects
    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def not_modified(self) -> bool:
        """Whether the server answered 304 to a conditional GET."""
        return self.status == 304

    @property
    def etag(self) -> str | None:
        """The ETag to send as If-None-Match next time."""
        value: str | None = self.headers.get("etag")
        return value

    @property
    def last_modified(self) -> str | None:
        """The Last-Modified value to send as If-Modified-Since next time."""
        value: str | None = self.headers.get("last-modified")
        return value

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower case ('' when absent)."""
        content_type: str = self.headers.get("content-type", "")
        return content_type.split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset parameter of the Content-Type, if any."""
        content_type: str = self.headers.get("content-type", "")
        for parameter in content_type.split(";")[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


@dataclass(frozen=True)
class _Redirect:
    location: str


class _Budget:
    """What is left of one fetch's total deadline; time spent queueing at a host gate is given back."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = asyncio.get_running_loop().time() + seconds

    def remaining(self) -> float:
        """Seconds left (negative once the deadline has passed)."""
        return self.end - asyncio.get_running_loop().time()

    def give_back(self, seconds: float) -> None:
        """Do not count `seconds` spent waiting for our own turn."""
        self.end += seconds


class _HostGate:
    """Concurrency limit and politeness spacing for one host."""

    def __init__(self, concurrency: int) -> None:
        self.semaphore = asyncio.Semaphore(concurrency)
        self.next_start = 0.0  # event-loop time before which no new request may start
        self.active = 0


async def _resolve_host(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and is routed to: 6to4 (2002::/16), Teredo, NAT64 (64:ff9b::/96)."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    blocked = ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
    return ip.is_global and not blocked and not ip.is_unspecified


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _is_public_ip(ip.ipv4_mapped)
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not _is_public_ip(embedded):
            return False
    return _is_public_ip(ip)


class _RefusedAddressError(Exception):
    """Raised inside the connection pool when a host resolves to an address the guard refuses."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


class _GuardedNetwork(httpcore.AsyncNetworkBackend):
    """Resolves each host once, checks every address, and connects to a vetted one (DNS rebinding defence).

    The connection pool asks it for a TCP stream to a host name; it answers with a stream to one of the addresses
    it checked, never to whatever a second look-up might return. The pool still sends the name in the Host header
    and as the TLS server name, so virtual hosts and certificate checks work as usual.
    """

    def __init__(self, resolve: Resolver, network: httpcore.AsyncNetworkBackend) -> None:
        self._resolve = resolve
        self._network = network

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A stream to a vetted address of `host`."""
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self._resolve(host, port)
            except (OSError, UnicodeError):
                raise httpcore.ConnectError(f"could not resolve {host}") from None
        if not addresses or not all(_is_public(address) for address in addresses):
            raise _RefusedAddressError(host)
        for address in addresses[:-1]:
            try:
                return await self._network.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError:
                continue
        return await self._network.connect_tcp(addresses[-1], port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        """Sleep as the underlying network backend does."""
        await self._network.sleep(seconds)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit() alone accepts "³", which float() refuses
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _retryable(error: FetchError) -> bool:
    if isinstance(error, ConnectionFailedError):
        return error.during_connect
    if isinstance(error, HTTPStatusError):
        return error.status == 429 or error.status >= 500
    # Timeouts are not retried: the attempt already waited the full timeout, and a retry would multiply it.
    return False


def _unresolved(error: BaseException) -> bool:
    """Whether a connection failed because the host name did not resolve (a socket.gaierror down the chain), which
    says more than "[Errno -2] Name or service not known"."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


class HttpClient:
    """The bot's HTTP client behind the policy; create one per process and `aclose()` it on shutdown.

    Requests that may reach private addresses (configured feeds) and guarded ones (everything else) use separate
    connection pools: a guarded request never reuses a connection opened without the guard, and its connections
    go only to addresses the guard checked when it connected.

    Args:
        policy: timeouts, limits, retries and politeness.
        transport: an httpx transport to use instead of the network (tests only).
        resolver: `async (host, port) -> [ip, ...]` used by the SSRF guard (tests only).
        network: the httpcore network backend under the guard (tests only: a fake network edge).
    """

    def __init__(
        self,
        policy: HttpPolicy,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        network: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self._resolve = resolver or _resolve_host
        limits = httpx.Limits(max_connections=policy.max_connections, max_keepalive_connections=20)
        trusted = transport or httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
        guarded = transport or httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
        if transport is None:
            # httpx takes no network backend, so its pool is rebuilt with the same settings around the guard.
            guarded._pool = httpcore.AsyncConnectionPool(  # type: ignore[attr-defined]
                ssl_context=httpx.create_ssl_context(trust_env=False),
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=_GuardedNetwork(self._resolve, network or httpcore.AnyIOBackend()),
            )
        self._trusted = self._client(trusted)
        self._guarded = self._client(guarded)
        self._hosts: dict[str, _HostGate] = {}

    def _client(self, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            headers={"User-Agent": self.policy.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=httpx.Timeout(self.policy.timeout),
            follow_redirects=False,  # followed by hand, so that each hop passes the SSRF guard and the hop limit
            transport=transport,
            trust_env=False,  # no .netrc credentials or proxy settings picked up from the environment
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._trusted.aclose()
        await self._guarded.aclose()

    async def get(
        self,
        url: str,
        *,
        allow_private: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> HttpResponse:
        """GET `url`, following redirects, and return the 2xx or 304 response with its whole body.

        Args:
            url: an absolute http(s) URL.
            allow_private: fetch hosts that resolve to loopback, private, link-local or reserved addresses. Leave it
                False for any URL a user gave; only configured feeds (and tests on 127.0.0.1) set it.
            etag: sent as If-None-Match (conditional GET).
            last_modified: sent as If-Modified-Since (conditional GET).
            accept: the Accept header.

        Returns:
            The response; `status` is 304 (and `content` empty) when the conditional GET found nothing new.

        Raises:
            FetchError: one of its subclasses, see the module docstring.
        """
        headers = {"Accept-Language": "*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        current = url
        budget = _Budget(self.policy.total_deadline)
        for _hop in range(self.policy.max_redirects + 1):
            try:
                async with asyncio.timeout(max(0.0, budget.remaining())):
                    await self._check_url(current, allow_private=allow_private)
            except TimeoutError:
                raise self._out_of_time(current, budget) from None
            client = self._trusted if allow_private else self._guarded
            result = await self._get_with_retries(current, headers, budget, client)
            if isinstance(result, HttpResponse):
                return result
            log.debug("%s redirects to %s", current, result.location)
            current = result.location
        raise TooManyRedirectsError(url, f"more than {self.policy.max_redirects} redirects")

    async def _check_url(self, url: str, *, allow_private: bool) -> None:
        try:
            parts = httpx.URL(url)
        except httpx.InvalidURL:
            raise BlockedURLError(url, "not a valid URL") from None
        if parts.scheme not in {"http", "https"} or not parts.host:
            raise BlockedURLError(url, "only http:// and https:// URLs can be fetched")
        if not valid_host(parts.host):
            raise BlockedURLError(url, "not a valid host name")
        if allow_private:
            return
        # A first look-up refuses early, with no connection made; the guarded pool checks again as it connects.
        host = parts.host
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self._resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
            except (OSError, UnicodeError):
                raise ConnectionFailedError(url, f"could not resolve {host}", during_connect=True) from None
        if not addresses or not all(_is_public(address) for address in addresses):
            raise BlockedURLError(url, f"refused: {host} is not a public internet address")

    def _out_of_time(self, url: str, budget: _Budget) -> FetchTimeoutError:
        return FetchTimeoutError(url, f"no complete response within {budget.seconds:g} s")

    async def _get_with_retries(
        self, url: str, headers: dict[str, str], budget: _Budget, client: httpx.AsyncClient
    ) -> HttpResponse | _Redirect:
        for attempt in range(self.policy.max_retries + 1):
            try:
                return await self._send(url, headers, budget, client)
            except FetchError as error:
                if attempt == self.policy.max_retries or not _retryable(error):
                    raise
                delay = self._retry_delay(attempt, error)
                if delay is None or delay >= budget.remaining():
                    raise  # the wait would not fit in the total deadline: the last error says what went wrong
                log.info("retrying %s in %.1f s after: %s", url, delay, error)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _retry_delay(self, attempt: int, error: FetchError) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now (Retry-After beyond the cap)."""
        if isinstance(error, HTTPStatusError) and error.retry_after is not None:
            if error.retry_after > self.policy.retry_after_max:
                return None
            return error.retry_after
        # Exponential backoff with "equal jitter": half fixed, half random, so that clients spread out.
        backoff = min(self.policy.backoff_max, self.policy.backoff_base * 2.0**attempt)
        return backoff / 2 + random.uniform(0, backoff / 2)

    @asynccontextmanager
    async def _gate(self, host: str, budget: _Budget) -> AsyncIterator[None]:
        queued = asyncio.get_running_loop().time()
        gate = self._hosts.get(host)
        if gate is None:
            self._forget_idle_hosts()
            gate = self._hosts[host] = _HostGate(self.policy.per_host_concurrency)
        gate.active += 1
        try:
            async with gate.semaphore:
                loop = asyncio.get_running_loop()
                now = loop.time()
                start = max(now, gate.next_start)
                gate.next_start = start + self.policy.politeness_delay  # reserved before awaiting: no race
                if start > now:
                    await asyncio.sleep(start - now)
                budget.give_back(loop.time() - queued)
                yield
        finally:
            gate.active -= 1

    def _forget_idle_hosts(self) -> None:
        if len(self._hosts) < MAX_TRACKED_HOSTS:
            return
        now = asyncio.get_running_loop().time()
        for host, gate in list(self._hosts.items()):
            if gate.active == 0 and gate.next_start <= now:
                del self._hosts[host]

    async def _send(
        self, url: str, headers: dict[str, str], budget: _Budget, client: httpx.AsyncClient
    ) -> HttpResponse | _Redirect:
        host = httpx.URL(url).host
        total_left = self.policy.deadline
        try:
            async with self._gate(host, budget):
                total_left = max(0.0, budget.remaining())
                async with (
                    asyncio.timeout(min(self.policy.deadline, total_left)),
                    client.stream("GET", url, headers=headers) as response,
                ):
                    return await self._answer(url, response)
        except _RefusedAddressError as refused:
            raise BlockedURLError(url, f"refused: {refused.host} is not a public internet address") from None
        except TimeoutError:
            if total_left < self.policy.deadline:
                raise self._out_of_time(url, budget) from None
            raise FetchTimeoutError(url, f"no complete response within {self.policy.deadline:g} s") from None
        except httpx.TimeoutException:
            raise FetchTimeoutError(url, f"timed out after {self.policy.timeout:g} s") from None
        except httpx.ConnectError as error:
            reason = f"could not resolve {host}" if _unresolved(error) else f"could not connect: {error}"
            raise ConnectionFailedError(url, reason, during_connect=True) from None
        except httpx.TooManyRedirects:
            raise TooManyRedirectsError(url, f"more than {self.policy.max_redirects} redirects") from None
        except httpx.TransportError as error:
            message = f"connection failed: {type(error).__name__}"
            raise ConnectionFailedError(url, message, during_connect=False) from None

    async def _answer(self, url: str, response: httpx.Response) -> HttpResponse | _Redirect:
        status = response.status_code
        if status in REDIRECT_STATUSES:
            location = response.headers.get("location")
            if not location:
                raise HTTPStatusError(url, status)
            return _Redirect(urljoin(url, location))
        if status >= 400:
            retry_after = _parse_retry_after(response.headers.get("retry-after"))
            raise HTTPStatusError(url, status, retry_after=retry_after)
        if status == 304:
            return HttpResponse(str(response.url), status, response.headers, b"")
        content = await self._read_capped(url, response)
        return HttpResponse(str(response.url), status, response.headers, content)

    async def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLargeError(url, f"response larger than {limit} bytes")
        if response.is_stream_consumed:
            # A transport that answers from memory (httpx.MockTransport) has read and decoded the body already.
            if len(response.content) > limit:
                raise ResponseTooLargeError(url, f"response larger than {limit} bytes")
            return response.content
        layers = _decoders(url, response.headers.get("content-encoding", ""))
        chunks: list[bytes] = []
        size = 0
        # Raw bytes, decoded here in steps of at most DECODE_STEP, so the cap is checked on every decoded step.
        async for raw in response.aiter_raw():
            for piece in _decode(url, layers, raw):
                size += len(piece)
                if size > limit:
                    raise ResponseTooLargeError(url, f"response larger than {limit} bytes")
                chunks.append(piece)
        return b"".join(chunks)


class _Inflater:
    """One gzip or deflate layer of a body, decoded in steps of at most DECODE_STEP bytes."""

    def __init__(self, encoding: str) -> None:
        self.gzip = encoding in {"gzip", "x-gzip"}
        self.started = False
        self.zlib = zlib.decompressobj(16 + zlib.MAX_WBITS if self.gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decode `data`, yielding bounded pieces; a piece of exactly DECODE_STEP may have more behind it."""
        while True:
            try:
                out = self.zlib.decompress(data, DECODE_STEP)
            except zlib.error:
                if self.gzip or self.started:
                    raise
                # "deflate" is often sent as raw deflate, without the zlib header the standard asks for.
                self.zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self.zlib.decompress(data, DECODE_STEP)
            self.started = True
            data = self.zlib.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < DECODE_STEP:
                return


def _decoders(url: str, header: str) -> list[_Inflater]:
    """The decoders for a Content-Encoding header, in decoding order (the last encoding applied comes first)."""
    encodings = [value.strip().lower() for value in header.split(",")]
    encodings = [value for value in encodings if value and value != "identity"]
    if len(encodings) > MAX_STACKED_ENCODINGS:
        raise ContentEncodingError(url, f"refused: {len(encodings)} stacked content encodings")
    for encoding in encodings:
        if encoding not in {"gzip", "x-gzip", "deflate"}:
            raise ContentEncodingError(url, f"unsupported content encoding {encoding[:20]!r}")
    return [_Inflater(encoding) for encoding in reversed(encodings)]


def _decode(url: str, layers: list[_Inflater], data: bytes) -> Iterator[bytes]:
    """`data` passed through every layer, one bounded piece at a time (nothing is decoded ahead of the caller)."""
    if not layers:
        yield data
        return
    try:
        for piece in layers[0].feed(data):
            yield from _decode(url, layers[1:], piece)
    except zlib.error:
        raise ContentEncodingError(url, "corrupt compressed body") from None


class FetchBudget:
    """The budget of fetches that people ask for (`/news summarize`), kept apart from feed polling.

    At most `concurrency` such fetches are in flight at once, so they can never fill a connection pool that feeds
    need, and each person (a requester key such as "slack:T1:U1") may start `per_minute` in any minute. A fetch that
    cannot get a slot within `wait` seconds is refused rather than queued without end.
    """

    def __init__(
        self,
        concurrency: int,
        per_minute: int,
        *,
        wait: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.wait = wait
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._recent: dict[str, deque[float]] = {}

    @asynccontextmanager
    async def slot(self, requester: str, url: str) -> AsyncIterator[None]:
        """Hold one fetch slot for `requester`; raise `FetchBudgetError` when their rate or the slots are spent."""
        now = self.clock()
        self._forget_idle(now)
        recent = self._recent.setdefault(requester, deque())
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if len(recent) >= self.per_minute:
            wait = math.ceil(recent[0] + 60 - now)
            raise FetchBudgetError(url, f"you asked for {len(recent)} pages in the last minute; try again in {wait} s")
        recent.append(now)
        try:
            async with asyncio.timeout(self.wait):
                await self._slots.acquire()
        except TimeoutError:
            raise FetchBudgetError(
                url, "too many pages are being fetched for people right now; try again soon"
            ) from None
        try:
            yield
        finally:
            self._slots.release()

    def _forget_idle(self, now: float) -> None:
        # Bounded memory: requesters with nothing in the last minute are dropped once many are tracked.
        if len(self._recent) >= MAX_TRACKED_HOSTS:
            for requester, recent in list(self._recent.items()):
                if not recent or recent[-1] <= now - 60:
                    del self._recent[requester]
