"""A fake Discord REST API and gateway on 127.0.0.1 that record every request, and payloads for interactions.

discord.py sends every REST call (login, command sync, interaction responses, follow-ups, channel posts) to
`Route.BASE`; the `fake_discord` fixture points that at this server, so tests see the real JSON the library sends.
Channel posts honour `enforce_nonce` as Discord does (a repeated nonce returns the first message), and a test can make
a channel answer with errors (404 Unknown Channel, 403 Missing Permissions, 503, 429) to exercise the outbox.

The gateway (``/gateway``, named by ``GET /gateway/bot``) does what a client needs to get ready: HELLO, heartbeat
ACKs, READY for the shard the client IDENTIFYs as, then GUILD_CREATE for each of ``guilds`` that Discord would route
to that shard (``(guild_id >> 22) % shard_count``). Every IDENTIFY is recorded, so tests see which shards ran where.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import discord
from aiohttp import WSMsgType, web

APP_ID = 900000000000000001
GUILD_ID = 900000000000000002
CHANNEL_ID = 900000000000000003
OTHER_CHANNEL_ID = 900000000000000004
ADMIN_ROLE_ID = 900000000000000005
USER_ID = 900000000000000006
OWNER_ID = 900000000000000007
ADMIN_ROLE = "News Desk"
IMPOSTOR_ROLE_ID = 900000000000000008  # a role anyone who may create roles made, with the admin role's name
MANAGE_CHANNELS = 1 << 4
TIMESTAMP = "2026-11-26T12:00:00+00:00"

BOT_USER = {"id": str(APP_ID), "username": "Geobrief", "discriminator": "0", "avatar": None, "bot": True}


@dataclass
class Request:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any

    def message_payload(self) -> dict[str, Any] | None:
        """The message this request carries (content and embeds), if any."""
        if not isinstance(self.body, dict):
            return None
        if "/callback" in self.path:
            data = self.body.get("data")
            return data if self.body.get("type") in (4, 7) and isinstance(data, dict) else None
        if self.path.endswith("/threads"):  # starting a thread: a name, not a message
            return None
        if self.method in {"POST", "PATCH"} and ("/messages" in self.path or self.path.startswith("/webhooks/")):
            return self.body
        return None


@dataclass
class Failure:
    """An error a channel answers with, `times` times."""

    status: int
    code: int
    message: str
    times: int = 1
    retry_after: float = 0.0


@dataclass
class FakeDiscord:
    """The REST API, recorded."""

    requests: list[Request] = field(default_factory=list)
    failures: dict[int, list[Failure]] = field(default_factory=dict)
    posted: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # channel id -> messages created
    refuse: dict[str, Failure] = field(default_factory=dict)  # "METHOD /path" pattern -> the error it answers
    any_channel: list[Failure] = field(default_factory=list)  # failures for the next posts to any channel
    guilds: list[int] = field(default_factory=lambda: [GUILD_ID])  # the guilds the bot is in, as the gateway says
    gateway_shards: int = 1  # the shard count GET /gateway/bot recommends
    identifies: list[dict[str, Any]] = field(default_factory=list)  # IDENTIFY payloads received, in order
    base: str = ""
    gateway: str = ""  # ws:// URL of the fake gateway (HELLO, READY after IDENTIFY, heartbeat ACKs)
    identified: int = 0
    gateway_close_codes: list[int | None] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(910000000000000000))
    _nonces: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    threads: dict[int, int] = field(default_factory=dict)  # thread id (= its message's id) -> parent channel
    deleted: set[int] = field(default_factory=set)  # message ids deleted (by a test, as a moderator would)
    _runner: web.AppRunner | None = None
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)

    async def start(self, port: int = 0) -> None:
        """Serve on 127.0.0.1 (a free port by default)."""
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}/api/v10"
        self.gateway = f"ws://{host}:{port}/gateway"

    async def stop(self) -> None:
        """Stop serving."""
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def shard_guilds(self, shard_id: int, shard_count: int) -> list[int]:
        """The guilds whose events Discord sends to this shard."""
        return [guild for guild in self.guilds if (guild >> 22) % shard_count == shard_id]

    def fail(self, channel_id: int, failure: Failure) -> None:
        """Make posts to `channel_id` fail this way (for `failure.times` posts)."""
        self.failures.setdefault(channel_id, []).append(failure)

    # -- views for tests ---------------------------------------------------------------------------------------------
    def for_interaction(self, interaction_id: int) -> list[Request]:
        """The interaction's requests in order: its callback, then its follow-ups and edits (by its token)."""
        token = interaction_token(interaction_id)
        return [r for r in self.requests if f"/interactions/{interaction_id}/" in r.path or f"/{token}" in r.path]

    def channel_posts(self, channel_id: int = CHANNEL_ID) -> list[Request]:
        """Every POST to the channel's messages, refused ones included."""
        return [r for r in self.requests if r.method == "POST" and r.path == f"/channels/{channel_id}/messages"]

    def message_payloads(self) -> list[dict[str, Any]]:
        """Every message payload sent, of any kind."""
        return [payload for request in self.requests if (payload := request.message_payload()) is not None]

    # -- the API -----------------------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body: Any = await request.json() if request.can_read_body else None
        path = "/" + request.match_info["tail"]
        self.requests.append(Request(request.method, path, dict(request.query), body))
        route = f"{request.method} {path}"
        for pattern, failure in self.refuse.items():
            if re.fullmatch(pattern, route):
                return _json({"code": failure.code, "message": failure.message}, status=failure.status)
        if route == "GET /users/@me":
            return _json(BOT_USER)
        if route == "GET /oauth2/applications/@me":
            return _json(_application())
        if route == "GET /gateway/bot":
            limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            return _json({"url": self.gateway, "shards": self.gateway_shards, "session_start_limit": limit})
        if match := re.fullmatch(r"PUT /applications/(\d+)(?:/guilds/(\d+))?/commands", route):
            return _json([_registered(command, match.group(2)) for command in body])
        if match := re.fullmatch(r"POST /interactions/(\d+)/[^/]+/callback", route):
            return _json(_callback(match.group(1), body))
        if re.fullmatch(r"POST /webhooks/\d+/[^/]+", route):
            return _json(self._message(CHANNEL_ID, body, webhook=True))
        if re.fullmatch(r"PATCH /webhooks/\d+/[^/]+/messages/@original", route):
            return _json(self._message(CHANNEL_ID, body, webhook=True))
        if re.fullmatch(r"DELETE /webhooks/\d+/[^/]+/messages/@original", route):
            return web.Response(status=204)
        if match := re.fullmatch(r"POST /channels/(\d+)/messages/(\d+)/threads", route):
            return self._start_thread(int(match.group(1)), int(match.group(2)), body)
        if match := re.fullmatch(r"POST /channels/(\d+)/messages", route):
            return await self._post(int(match.group(1)), body)
        return _json({"code": 0, "message": f"fake Discord has no {route}"}, status=404)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None})
        sequence = 0
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            if payload.get("op") == 1:  # heartbeat
                await socket.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif payload.get("op") == 6:  # resume: this fake keeps no sessions, so the client identifies again
                await socket.send_json({"op": 9, "d": False, "s": None, "t": None})
            elif payload.get("op") == 2:  # identify
                self.identified += 1
                self.identifies.append(payload["d"])
                shard_id, shard_count = payload["d"].get("shard") or [0, 1]
                guilds = self.shard_guilds(shard_id, shard_count)
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [{"id": str(guild), "unavailable": True} for guild in guilds],
                    "session_id": f"session-{len(self.identifies)}",
                    "resume_gateway_url": self.gateway,
                    "shard": [shard_id, shard_count],
                    "application": {"id": str(APP_ID), "flags": 0},
                }
                for event, data in [("READY", ready), *(("GUILD_CREATE", guild_payload(guild)) for guild in guilds)]:
                    sequence += 1
                    await socket.send_json({"op": 0, "d": data, "s": sequence, "t": event})
        self.gateway_close_codes.append(socket.close_code)
        return socket

    def message_ids(self, channel_id: int = CHANNEL_ID) -> list[int]:
        """The ids of the messages posted in a channel (or thread), oldest first."""
        return [int(message["id"]) for message in self.posted.get(channel_id, [])]

    def _live(self, channel_id: int) -> set[int]:
        return set(self.message_ids(channel_id)) - self.deleted

    def _start_thread(self, channel_id: int, message_id: int, body: dict[str, Any]) -> web.Response:
        """A public thread on a message: its id is the message's; a second one is refused as Discord does."""
        if message_id not in self._live(channel_id):
            return _json({"code": 10008, "message": "Unknown Message"}, status=404)
        if message_id in self.threads:
            return _json({"code": 160004, "message": "A thread has already been created for this message"}, status=400)
        self.threads[message_id] = channel_id
        metadata = {"archived": False, "auto_archive_duration": body["auto_archive_duration"], "locked": False}
        thread = {
            "id": str(message_id),
            "type": 11,
            "guild_id": str(GUILD_ID),
            "parent_id": str(channel_id),
            "name": body["name"],
            "owner_id": str(APP_ID),
            "thread_metadata": {**metadata, "archive_timestamp": TIMESTAMP},
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
        }
        return _json(thread, status=201)

    async def _post(self, channel_id: int, body: dict[str, Any]) -> web.Response:
        pending = self.failures.get(channel_id) or self.any_channel
        if pending:
            failure = pending[0]
            failure.times -= 1
            if failure.times <= 0:
                pending.pop(0)
            error: dict[str, Any] = {"code": failure.code, "message": failure.message}
            headers = {}
            if failure.status == 429:
                error |= {"retry_after": failure.retry_after, "global": False}
                headers = {"Via": "1.1 google", "Retry-After": str(failure.retry_after)}
            return _json(error, status=failure.status, headers=headers)
        reference = body.get("message_reference")
        if reference and int(reference["message_id"]) not in self._live(channel_id):
            unknown = {"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}
            errors = {"message_reference": {"_errors": [unknown]}}
            return _json({"code": 50035, "message": "Invalid Form Body", "errors": errors}, status=400)
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce and (channel_id, nonce) in self._nonces:
            return _json(self._nonces[(channel_id, nonce)])  # Discord returns the first message
        message = self._message(channel_id, body)
        self.posted.setdefault(channel_id, []).append(message)
        if body.get("enforce_nonce") and nonce:
            self._nonces[(channel_id, nonce)] = message
        return _json(message)

    def _message(self, channel_id: int, body: dict[str, Any], *, webhook: bool = False) -> dict[str, Any]:
        message = {
            "id": str(next(self._ids)),
            "channel_id": str(channel_id),
            "type": 0,
            "content": body.get("content") or "",
            "author": BOT_USER,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "flags": body.get("flags", 0),
        }
        if webhook:
            message["webhook_id"] = str(APP_ID)
        if body.get("nonce"):
            message["nonce"] = body["nonce"]
        return message


def _json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json", as Discord sends it: discord.py parses nothing else as JSON.
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={**(headers or {}), "Content-Type": "application/json"})


def _application() -> dict[str, Any]:
    owner = {"id": str(OWNER_ID), "username": "owner", "discriminator": "0", "avatar": None}
    return {
        "id": str(APP_ID),
        "name": "Geobrief",
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": owner,
        "verify_key": "0" * 64,
        "flags": 0,
    }


def _registered(command: dict[str, Any], guild_id: str | None) -> dict[str, Any]:
    registered = {**command, "id": str(APP_ID + 1000), "application_id": str(APP_ID), "version": "1"}
    if guild_id:
        registered["guild_id"] = guild_id
    return registered


def _callback(interaction_id: str, body: dict[str, Any]) -> dict[str, Any]:
    flags = (body.get("data") or {}).get("flags", 0)
    return {
        "interaction": {
            "id": interaction_id,
            "type": 2,
            "response_message_loading": body.get("type") == 5,
            "response_message_ephemeral": bool(flags & 64),
        }
    }


# -- the gateway side: interactions ----------------------------------------------------------------------------------
_interaction_ids = itertools.count(920000000000000000)


def interaction_token(interaction_id: int) -> str:
    """The token of a test interaction (its follow-ups are sent to /webhooks/<app>/<token>)."""
    return f"token-{interaction_id}"


def guild_payload(guild_id: int = GUILD_ID) -> dict[str, Any]:
    """GUILD_CREATE for a test server (the main one by default): its text channels and the admin role."""
    everyone = {"id": str(guild_id), "name": "@everyone", "permissions": "0", "position": 0, "color": 0}
    admin = {"id": str(ADMIN_ROLE_ID), "name": ADMIN_ROLE, "permissions": "0", "position": 1, "color": 0}
    impostor = {"id": str(IMPOSTOR_ROLE_ID), "name": ADMIN_ROLE, "permissions": "0", "position": 2, "color": 0}
    for role in (everyone, admin, impostor):
        role |= {"hoist": False, "managed": False, "mentionable": False, "flags": 0}
    named = [(CHANNEL_ID, "world-news"), (OTHER_CHANNEL_ID, "general")] if guild_id == GUILD_ID else []
    channels = [
        {"id": str(channel), "type": 0, "name": name, "position": index, "guild_id": str(guild_id)}
        for index, (channel, name) in enumerate(named)
    ]
    return {
        "id": str(guild_id),
        "name": "Test server",
        "owner_id": str(OWNER_ID),
        "roles": [everyone, admin, impostor],
        "channels": channels,
        "threads": [],
        "members": [],
        "member_count": 2,
        "features": [],
        "emojis": [],
        "stickers": [],
        "unavailable": False,
    }


def interaction_payload(
    subcommand: str,
    options: list[dict[str, Any]] | None = None,
    *,
    permissions: int = 0,
    roles: tuple[int, ...] = (),
    channel_id: int = CHANNEL_ID,
    autocomplete: bool = False,
) -> dict[str, Any]:
    """INTERACTION_CREATE for `/news <subcommand>` by a member with these channel permissions and roles."""
    interaction_id = next(_interaction_ids)
    user = {"id": str(USER_ID), "username": "reader", "global_name": "Reader", "discriminator": "0", "avatar": None}
    return {
        "id": str(interaction_id),
        "application_id": str(APP_ID),
        "type": 4 if autocomplete else 2,
        "token": interaction_token(interaction_id),
        "version": 1,
        "attachment_size_limit": 8388608,
        "guild_id": str(GUILD_ID),
        "guild_locale": "en-US",
        "locale": "en-US",
        "app_permissions": "0",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID)},
        "context": 0,
        "channel": {"id": str(channel_id), "type": 0, "guild_id": str(GUILD_ID), "name": "world-news", "position": 0},
        "channel_id": str(channel_id),
        "member": {
            "user": user,
            "roles": [str(role) for role in roles],
            "flags": 0,
            "joined_at": TIMESTAMP,
            "deaf": False,
            "mute": False,
            "permissions": str(permissions),
        },
        "data": {
            "id": str(APP_ID + 1000),
            "name": "news",
            "type": 1,
            "options": [{"name": subcommand, "type": 1, "options": options or []}],
        },
    }


def option(name: str, value: str | int, *, focused: bool = False) -> dict[str, Any]:
    """A command option as Discord sends it (string or integer)."""
    result: dict[str, Any] = {"name": name, "type": 4 if isinstance(value, int) else 3, "value": value}
    if focused:
        result["focused"] = True
    return result


async def dispatch(client: discord.Client, payload: dict[str, Any]) -> int:
    """Deliver the interaction as the gateway would and wait until the command tree has handled it."""
    client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    for task in [task for task in asyncio.all_tasks() if task.get_name() == "CommandTree-invoker"]:
        await task
    return int(payload["id"])
