"""The operators' web app: the status page and its login, /metrics, /healthz, and the routes a platform adds.

`build_web_app` is the one place that builds the aiohttp application. The Slack platform builds it with its events
endpoint when it serves Slack's HTTP mode; in every other process (a worker, one process with Socket Mode or
Discord only) `StatusServer` runs it on PORT by itself.

Access to the page and /metrics:

- STATUS_TOKEN unset: only this machine. `StatusServer` listens on 127.0.0.1, and on any server (Slack's listens on
  all interfaces) a request is answered only when it comes from a loopback address, names a local host (which
  stops DNS-rebinding pages) and carries no proxy header (behind a reverse proxy every visitor looks local).
- STATUS_TOKEN set: the token is required, as a bearer token (`Authorization: Bearer …`, what Prometheus sends)
  or through the login form, which sets a session cookie signed with the token (HttpOnly, SameSite=Strict, 12 h).
  Tokens are compared in constant time and never logged.

An unauthorised visitor gets the login form or a refusal and nothing else: no feed, channel, story or figure.
/healthz says only that the process serves. The page never shows article bodies or tokens, and channels only
by their ids (the bot stores no channel names).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from pathlib import Path

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from bot.config import Settings
from bot.ops.gauges import metrics_registry, render_metrics
from bot.ops.status import CHANNEL_ROWS, read_status
from bot.storage import Database, utcnow

log = logging.getLogger(__name__)

STATUS_PATH = "/status"
LOGIN_PATH = "/status/login"
METRICS_PATH = "/metrics"
HEALTH_PATH = "/healthz"
COOKIE = "geobrief_status"
SESSION_SECONDS = 12 * 3600
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
TEMPLATES = Path(__file__).with_name("templates")
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


class Access:
    """Who may see the page: this machine only, or whoever shows the token (header or session cookie)."""

    def __init__(self, token: str | None, *, clock: Callable[[], float] = time.time) -> None:
        self._token = token.encode() if token else None
        self.clock = clock

    @property
    def token_required(self) -> bool:
        """Whether STATUS_TOKEN is set."""
        return self._token is not None

    def allows(self, request: web.Request) -> bool:
        """Whether the request may see the page and the metrics."""
        if self._token is None:
            return is_local(request)
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and self.check_token(credentials.strip()):
            return True
        return self.valid_session(request.cookies.get(COOKIE, ""))

    def check_token(self, candidate: str) -> bool:
        """Compare a token in constant time (digests of equal length, so not even the length leaks)."""
        if self._token is None:
            return False
        return hmac.compare_digest(hashlib.sha256(candidate.encode()).digest(), hashlib.sha256(self._token).digest())

    def session_cookie(self) -> str:
        """A new session value: the issue time and its HMAC under the token (changing the token ends sessions)."""
        issued = str(int(self.clock()))
        return f"{issued}.{self._sign(issued)}"

    def valid_session(self, value: str) -> bool:
        """Whether a session cookie was issued with this token less than SESSION_SECONDS ago."""
        issued, _, signature = value.partition(".")
        if self._token is None or not issued.isdigit() or not hmac.compare_digest(signature, self._sign(issued)):
            return False
        return 0 <= self.clock() - int(issued) < SESSION_SECONDS

    def _sign(self, issued: str) -> str:
        assert self._token is not None
        return hmac.new(self._token, f"geobrief-status-session:{issued}".encode(), hashlib.sha256).hexdigest()


def is_local(request: web.Request) -> bool:
    """A request from this machine, to a local host name, not relayed by a proxy."""
    try:
        address = ipaddress.ip_address(request.remote or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    host = (request.url.host or "").strip("[]").lower()
    return address.is_loopback and host in LOCAL_HOSTS and not any(name in request.headers for name in PROXY_HEADERS)


def listen_host(settings: Settings) -> str:
    """Where `StatusServer` listens: every interface when a token guards the page, else this machine only."""
    return "0.0.0.0" if settings.status_token is not None else "127.0.0.1"  # noqa: S104 - guarded by the token


class StatusSite:
    """The status page, its login and /metrics over one database."""

    def __init__(self, database: Database, *, token: str | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.access = Access(token)
        self.clock = clock
        self.registry = metrics_registry(database, clock)
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True
        )
        self.templates.filters["when"] = _when
        self.templates.filters["ago"] = self._ago

    @classmethod
    def from_settings(cls, settings: Settings, database: Database) -> StatusSite:
        """The site with the configured STATUS_TOKEN."""
        token = settings.status_token.get_secret_value() if settings.status_token is not None else None
        return cls(database, token=token)

    def routes(self) -> list[web.RouteDef]:
        """The page, the login form and /metrics."""
        return [
            web.get(STATUS_PATH, self._status),
            web.get(LOGIN_PATH, self._login_form),
            web.post(LOGIN_PATH, self._login),
            web.get(METRICS_PATH, self._metrics),
        ]

    def render(self, *, all_channels: bool = False) -> str:
        """The page's HTML as of now (blocking: reads the database)."""
        now = self.clock()
        report = read_status(self.database, now, channel_rows=None if all_channels else CHANNEL_ROWS)
        backfill = any(row.backfill_waiting is not None for row in report.feeds)
        return self.templates.get_template("status.html").render(report=report, now=now, backfill=backfill)

    async def _status(self, request: web.Request) -> web.StreamResponse:
        refusal = self._refusal(request, html=True)
        if refusal is not None:
            return refusal
        all_channels = request.query.get("channels") == "all"
        body = await asyncio.to_thread(partial(self.render, all_channels=all_channels))  # off the event loop
        return web.Response(text=body, content_type="text/html", headers=PAGE_HEADERS)

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        refusal = self._refusal(request, html=False)
        if refusal is not None:
            return refusal
        body = await asyncio.to_thread(render_metrics, self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"})

    async def _login_form(self, request: web.Request) -> web.StreamResponse:
        if not self.access.token_required:
            raise web.HTTPSeeOther(STATUS_PATH)
        return self._login_page(status=200)

    async def _login(self, request: web.Request) -> web.StreamResponse:
        if not self.access.token_required:
            raise web.HTTPSeeOther(STATUS_PATH)
        form = await request.post()
        token = form.get("token")
        if not isinstance(token, str) or not self.access.check_token(token.strip()):
            log.warning("status page: wrong token from %s", request.remote, extra={"peer": request.remote})
            return self._login_page(status=401, error="That token is not right.")
        response = web.HTTPSeeOther(STATUS_PATH)
        response.set_cookie(
            COOKIE,
            self.access.session_cookie(),
            max_age=SESSION_SECONDS,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=request.secure or request.headers.get("X-Forwarded-Proto") == "https",
        )
        raise response

    def _refusal(self, request: web.Request, *, html: bool) -> web.StreamResponse | None:
        """None when the request may pass; else the login form (or a 401) with a token, or a 403 without one."""
        if self.access.allows(request):
            return None
        if not self.access.token_required:
            return web.Response(
                status=403,
                text="The status page answers only on this machine (127.0.0.1); set STATUS_TOKEN to open it.\n",
                headers={"Cache-Control": "no-store"},
            )
        if html:
            return self._login_page(status=401)
        return web.Response(
            status=401,
            text="Send the STATUS_TOKEN as a bearer token.\n",
            headers={"WWW-Authenticate": 'Bearer realm="geobrief"', "Cache-Control": "no-store"},
        )

    def _login_page(self, *, status: int, error: str = "") -> web.Response:
        body = self.templates.get_template("login.html").render(error=error, action=LOGIN_PATH)
        headers = {**PAGE_HEADERS, "WWW-Authenticate": 'Bearer realm="geobrief"'}
        return web.Response(status=status, text=body, content_type="text/html", headers=headers)

    def _ago(self, moment: datetime | None) -> str:
        return ago(moment, self.clock())


def build_web_app(site: StatusSite | None, routes: Iterable[web.AbstractRouteDef] = ()) -> web.Application:
    """The process's web application: `routes` (a platform's endpoints and health check) plus the site's pages."""
    application = web.Application()
    application.add_routes([*routes, *(site.routes() if site is not None else [])])
    return application


class StatusServer:
    """Serves the status page, /metrics and /healthz on PORT in a process that has no Slack HTTP endpoint."""

    def __init__(self, site: StatusSite, *, host: str, port: int) -> None:
        self.site = site
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @classmethod
    def for_settings(cls, site: StatusSite, settings: Settings) -> StatusServer:
        """The server on PORT: every interface when STATUS_TOKEN guards the page, else 127.0.0.1 only."""
        return cls(site, host=listen_host(settings), port=settings.port)

    async def start(self) -> int:
        """Start listening and return the port (useful with port 0)."""
        runner = web.AppRunner(build_web_app(self.site, [web.get(HEALTH_PATH, _health)]), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        return int(runner.addresses[0][1])

    async def run(self) -> None:
        """Serve until cancelled; a port already taken is logged and the bot goes on without the page."""
        try:
            port = await self.start()
        except OSError as error:
            log.error("status page not served: cannot listen on %s:%s (%s)", self.host, self.port, error.strerror)
            return
        log.info("status page on http://%s:%s%s, metrics on %s", self.host, port, STATUS_PATH, METRICS_PATH)
        await asyncio.Event().wait()

    async def close(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "–"


def ago(moment: datetime | None, now: datetime) -> str:
    """A moment relative to now, in words short enough for a phone: "4 min ago", "in 2 h", "in 40 s", "–"."""
    if moment is None:
        return "–"
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    if size < 5:
        return "now"
    for unit, length in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if size >= length:
            amount = f"{int(size // length)} {unit}"
            return f"in {amount}" if seconds > 0 else f"{amount} ago"
    raise AssertionError("unreachable")
