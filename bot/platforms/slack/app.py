"""The Slack platform: a Bolt AsyncApp served over Socket Mode or HTTP, plus the digest publisher.

Socket Mode (SLACK_APP_TOKEN set) needs no public URL: the process opens a WebSocket to Slack. HTTP mode serves
``POST /slack/events`` (signed requests only: Bolt checks the signature and rejects a timestamp older than five
minutes with 401) and ``GET /healthz`` on PORT, behind any load balancer, and beside them the operators' status
page and /metrics (`bot.ops.web`, with its own access rules).

Listeners run after the ack (Bolt's `process_before_response=False`), so Slack gets its HTTP response within
its 3 seconds while the work goes on in this process's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.digests.outbox import Publisher
from bot.digests.subscriptions import split_list
from bot.errors import ConfigError
from bot.ops.web import StatusSite, build_web_app
from bot.platforms.slack.commands import COMMAND, NewsCommands
from bot.platforms.slack.permissions import ManagerCheck
from bot.platforms.slack.publisher import SlackPublisher, build_client
from bot.service import NewsService

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def build_app(
    client: AsyncWebClient, commands: NewsCommands, *, signing_secret: str, verify_requests: bool = True
) -> AsyncApp:
    """The Bolt app: the `/news` command and a last-resort error hook."""
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=verify_requests,
        process_before_response=False,  # ack goes back to Slack first; the listener finishes afterwards
        logger=logging.getLogger("slack_bolt"),
    )

    @app.command(COMMAND)
    async def news(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await commands.handle(ack, command, respond)

    @app.error
    async def unexpected(error: Exception, body: dict[str, Any]) -> None:
        # `commands.handle` answers its own errors; this catches what happens around it (middleware, Bolt).
        log.error(
            "Slack request failed: team %s, channel %s: %s",
            body.get("team_id") or (body.get("team") or {}).get("id"),
            body.get("channel_id"),
            type(error).__name__,
            exc_info=error,
        )

    return app


class SlackPlatform:
    """Serves `/news` over Socket Mode or HTTP, and publishes digests (the `Platform` protocol)."""

    name = "slack"

    def __init__(
        self, settings: Settings, service: NewsService, *, serve: bool = True, status: StatusSite | None = None
    ) -> None:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        if not token:
            raise ConfigError("SLACK_BOT_TOKEN is not set.")
        self.app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        if serve and not settings.slack_socket_mode and not secret:
            raise ConfigError("Slack HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode).")
        self.settings = settings
        self.serve = serve
        self.status = status  # the status page and /metrics, served beside the events endpoint in HTTP mode
        self.client = build_client(token, settings.slack_api_url)
        self.publisher: Publisher = SlackPublisher(self.client)  # typed as the protocol Platform declares
        managers = ManagerCheck(self.client, split_list(settings.slack_subscription_managers))
        self.commands = NewsCommands(service, managers)
        # Socket Mode requests come over our own authenticated WebSocket and carry no signature.
        self.app = build_app(
            self.client, self.commands, signing_secret=secret, verify_requests=not settings.slack_socket_mode
        )
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None

    @property
    def socket_mode(self) -> bool:
        """Whether commands arrive over Socket Mode (`Settings.slack_socket_mode`, as the app decides its roles)."""
        return self.settings.slack_socket_mode

    async def run(self) -> None:
        """Serve until cancelled: Socket Mode or HTTP on PORT; return at once when this process only publishes."""
        if not self.serve:
            log.info("Slack: publishing digests only in this process")
            return
        if self.socket_mode:
            self._socket = AsyncSocketModeHandler(self.app, self.app_token)
            log.info("Slack: connecting in Socket Mode")
            await self._socket.connect_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
        else:
            port = await self.start_http("0.0.0.0", self.settings.port)  # noqa: S104 - behind Slack's signatures
            log.info("Slack: HTTP mode on port %s (%s, %s)", port, EVENTS_PATH, HEALTH_PATH)
        await asyncio.Event().wait()

    def web_app(self) -> web.Application:
        """The aiohttp application: Slack's events endpoint, a health check and the status page when given."""
        return build_web_app(self.status, [web.post(EVENTS_PATH, self._events), web.get(HEALTH_PATH, self._health)])

    async def start_http(self, host: str, port: int) -> int:
        """Start the HTTP server and return the port it listens on (useful with port 0)."""
        runner = web.AppRunner(self.web_app(), access_log=None)  # request lines would only repeat what we log
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        return int(runner.addresses[0][1])  # (host, port, ...) of the bound socket

    async def close(self) -> None:
        """Stop serving: close the WebSocket or the HTTP server."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _events(self, request: web.Request) -> web.Response:
        # Anyone on the internet can reach this endpoint: what Bolt's signature check would choke on (and answer
        # with a 500 and a traceback) is refused here. Slack sends UTF-8 whatever the header says, and its
        # timestamp is a plain number of seconds.
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not (timestamp.isascii() and timestamp.isdigit()):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            return web.json_response({"error": "the body is not UTF-8"}, status=400)
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "platform": self.name})


def build_slack(
    settings: Settings, service: NewsService, *, serve: bool = True, status: StatusSite | None = None
) -> SlackPlatform:
    """The Slack platform for `bot.app`: it serves commands when `serve` is true and always publishes; in HTTP mode
    its server also serves `status` (the status page and /metrics)."""
    return SlackPlatform(settings, service, serve=serve, status=status)
