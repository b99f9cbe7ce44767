"""Slack's end of Socket Mode: `apps.connections.open` hands out a one-time WebSocket URL,
the app connects to it, and envelopes go down the socket until the app acknowledges them."""

from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp
from aiohttp import web

from bot.simulator.waiting import wait_for
from bot.simulator.workspace import APP_ID


class SocketModeHub:
    def __init__(self):
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future] = {}

    def issue_url(self, base_url: str) -> str:
        """A WebSocket URL with a fresh ticket, as `apps.connections.open` answers."""
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        return f"ws{base_url.removeprefix('http')}/link/?ticket={ticket}"

    @property
    def connected(self) -> bool:
        return bool(self._sockets)

    async def accept(self, request: web.Request) -> web.WebSocketResponse:
        """The app connects: say hello, then collect its acknowledgements until it leaves."""
        if request.query.get("ticket") not in self._tickets:
            raise web.HTTPUnauthorized()
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "connection_info": {"app_id": APP_ID},
                "debug_info": {"host": "fake-slack"},
            }
        )
        try:
            async for frame in socket:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    self._acknowledged(json.loads(frame.data))
        finally:
            self._sockets.remove(socket)
        return socket

    def _acknowledged(self, ack: dict) -> None:
        waiting = self._acks.pop(ack.get("envelope_id"), None)
        if waiting is not None and not waiting.done():
            waiting.set_result(ack)

    async def deliver(self, kind: str, payload: dict, timeout: float = 5.0) -> dict:
        """Send one envelope (`events_api`, `slash_commands`, `interactive`) to the app, as
        Slack does; returns the app's acknowledgement."""
        await wait_for(lambda: self._sockets, timeout, what="a Socket Mode connection")
        envelope_id = str(uuid.uuid4())
        acknowledged = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = acknowledged
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await asyncio.wait_for(acknowledged, timeout)

    async def refresh(self) -> None:
        """Ask the connected app to reconnect, as Slack does every few hours."""
        for socket in list(self._sockets):
            await socket.send_json({"type": "disconnect", "reason": "refresh_requested"})

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
