"""A fake Slack Web API and response_url sink on 127.0.0.1, in the test's own event loop.

It records every call, answers like Slack (``auth.test``, ``chat.postMessage`` with a ``ts`` from the clock,
``conversations.history`` over the messages it took, newest first, paged, metadata only when asked for,
``users.info`` with ``is_admin`` for the ids in ``admins``), can be scripted to fail (``fail``: a status, an error
code, headers) or to take a post and drop the connection before answering (``lose_response``), and runs every
message payload it receives through the one Block Kit checker.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.platforms.slack.blockkit import message_problems

MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update"}
BOT_ID = "B1"


@dataclass
class Call:
    """One request the fake received."""

    kind: str  # "api" or "respond"
    method: str  # the Web API method, or the response_url token
    payload: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    ok: bool = True  # what the fake answered
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def answer_ts(self) -> str:
        """The ts the fake gave the message it took."""
        return str(self.answer["ts"])

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.payload.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    @property
    def all_text(self) -> str:
        """Every text in the payload, joined, for simple assertions."""
        texts = [str(self.payload.get("text") or "")]
        for block in self.blocks:
            texts.append(str((block.get("text") or {}).get("text", "")))
            texts += [element.get("text", "") for element in block.get("elements", [])]
            texts += [item.get("text", "") for item in block.get("fields", [])]
        return "\n".join(texts)


@dataclass
class FakeSlack:
    """The fake server; `base` is its root URL once started."""

    admins: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    base: str = ""
    _scripts: dict[str, deque[tuple[int, dict[str, Any], dict[str, str]] | None]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    socket_acks: list[dict[str, Any]] = field(default_factory=list)  # what the bot sent back over Socket Mode
    socket_close_codes: list[int | None] = field(default_factory=list)  # how each Socket Mode connection ended
    slow: dict[str, float] = field(default_factory=dict)  # Web API method -> seconds it takes to answer
    started: list[str] = field(default_factory=list)  # Web API methods as their requests arrive
    history: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))  # channel -> messages
    _lose: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # method -> answers still to drop
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _ts: int = 0  # the last ts handed out, in microseconds (Slack's ts are unique and increasing per channel)
    _envelopes: int = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{token}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def socket_connected(self) -> bool:
        return any(not socket.closed for socket in self._sockets)

    async def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Deliver a Socket Mode envelope (e.g. "slash_commands") to the connected bot; returns its id."""
        self._envelopes += 1
        envelope_id = f"envelope-{self._envelopes}"
        message = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": True}
        await next(socket for socket in self._sockets if not socket.closed).send_json(message)
        return envelope_id

    # -- scripting ---------------------------------------------------------------------------------------------
    def fail(self, method: str, *, status: int = 200, error: str = "", headers: dict[str, str] | None = None) -> None:
        """Answer the next call of `method` with this failure (queued; later calls answer normally)."""
        body: dict[str, Any] = {"ok": False, "error": error or f"http_{status}"}
        self._scripts[method].append((status, body, headers or {}))

    def lose_response(self, method: str, times: int = 1) -> None:
        """Carry out the next `times` calls of `method`, then drop the connection instead of answering."""
        self._lose[method] += times

    def unused_faults(self, method: str) -> int:
        """Scripted failures and lost answers of `method` that no call has met yet."""
        return sum(entry is not None for entry in self._scripts[method]) + self._lose[method]

    def succeed(self, method: str) -> None:
        """Answer the next call of `method` normally (to script a failure after it)."""
        self._scripts[method].append(None)

    # -- reading -----------------------------------------------------------------------------------------------
    def api(self, method: str, *, status: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.kind == "api" and c.method == method and status in (None, c.status)]

    @property
    def posts(self) -> list[Call]:
        """chat.postMessage calls Slack accepted."""
        return [call for call in self.api("chat.postMessage") if call.ok]

    @property
    def responses(self) -> list[Call]:
        """Posts to response URLs."""
        return [c for c in self.calls if c.kind == "respond"]

    @property
    def message_calls(self) -> list[Call]:
        return [c for c in self.calls if c.kind == "respond" or c.method in MESSAGE_METHODS]

    def check(self, payload: dict[str, Any], where: str) -> None:
        """Run the Block Kit checker on a payload the test got another way (an ack body)."""
        self.problems += message_problems(payload, where)

    async def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 15.0) -> None:
        """Wait until `predicate(self)` holds (the listener runs after the ack, in the background)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate(self):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; calls: {[(c.kind, c.method, c.status) for c in self.calls]}")
            await asyncio.sleep(0.02)

    # -- handlers ----------------------------------------------------------------------------------------------
    async def _payload(self, request: web.Request) -> dict[str, Any]:
        payload: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                payload.update(await request.json())
            else:
                payload.update({key: str(value) for key, value in (await request.post()).items()})
        return payload

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        payload = await self._payload(request)
        self.started.append(method)
        if method in self.slow:
            await asyncio.sleep(self.slow[method])
        script = self._scripts[method]
        scripted = script.popleft() if script else None
        status, body, headers = scripted or (200, self._answer(method, payload), {})
        call = Call("api", method, payload, dict(request.headers), status, bool(body.get("ok")), body)
        self.calls.append(call)
        if method in MESSAGE_METHODS:
            self.problems += message_problems(payload, f"{method} #{len(self.api(method))}")
        if scripted is None and self._lose[method] > 0:  # a call that worked, and its answer is lost
            self._lose[method] -= 1
            assert request.transport is not None
            request.transport.close()  # the work is done; the answer never reaches the client
            raise ConnectionResetError("answer dropped")
        return web.json_response(body, status=status, headers=headers)

    def _answer(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "team_id": "T1",
                "team": "Test",
                "user_id": "UBOT",
                "bot_id": BOT_ID,
                "user": "geobrief",
            }
        if method == "chat.postMessage":
            self._ts = max(self._ts + 1, int(time.time() * 1_000_000))
            ts = f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"
            channel = str(payload.get("channel"))
            message: dict[str, Any] = {"type": "message", "ts": ts, "bot_id": BOT_ID, "text": payload.get("text", "")}
            if payload.get("thread_ts"):
                message["thread_ts"] = payload["thread_ts"]
            if payload.get("metadata"):
                metadata = payload["metadata"]
                message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
            self.history[channel].append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "conversations.history":
            return self._history(payload)
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base.replace("http://", "ws://") + "/socket"}
        if method == "users.info":
            user = str(payload.get("user", ""))
            return {"ok": True, "user": {"id": user, "is_admin": user in self.admins, "is_owner": False}}
        return {"ok": True}

    def _history(self, payload: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: top-level messages in (oldest, latest], newest first, `limit` a page."""
        channel = str(payload.get("channel"))
        oldest, latest = float(payload.get("oldest") or 0), float(payload.get("latest") or time.time() + 1)
        with_metadata = str(payload.get("include_all_metadata", "")).lower() in {"1", "true"}
        messages = [
            message
            for message in reversed(self.history[channel])
            if oldest < float(message["ts"]) <= latest and message.get("thread_ts", message["ts"]) == message["ts"]
        ]
        start, limit = int(payload.get("cursor") or 0), int(payload.get("limit") or 100)
        page = [
            message if with_metadata else {k: v for k, v in message.items() if k != "metadata"}
            for message in messages[start : start + limit]
        ]
        more = start + limit < len(messages)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                ack = json.loads(message.data)
                self.socket_acks.append(ack)
                if ack.get("payload"):
                    self.problems += message_problems(ack["payload"], f"socket ack #{len(self.socket_acks)}")
        self.socket_close_codes.append(socket.close_code)
        return socket

    async def _respond(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.calls.append(Call("respond", request.match_info["token"], payload, dict(request.headers)))
        self.problems += message_problems(payload, f"response_url #{len(self.responses)}")
        return web.Response(text="ok")
