"""The status page for the whole company: `/status`, `/status/<reference>`, `/status.json`
and `/status.atom`. Only published stakeholder updates; private incidents redacted.
`/status.json` carries the numbers of `/incident stats` too."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.render import status as render
from bot.render.stats import numbers_json

if TYPE_CHECKING:
    from bot.web import WebDeps

HTML = "text/html"
SHARED_SECONDS = 2.0


class SharedRendering:
    """The status page is the same for everyone, and during an incident everyone reloads
    it: a page made in the last SHARED_SECONDS is served again, and requests arriving
    while it is being made wait for that one instead of each querying the database."""

    def __init__(self, ttl: float = SHARED_SECONDS):
        self.ttl = ttl
        self._made: dict[str, tuple[float, str]] = {}
        self._making: dict[str, asyncio.Future] = {}

    async def get(self, key: str, make: Callable[[], Awaitable[str]]) -> str:
        made = self._made.get(key)
        if made and time.monotonic() - made[0] < self.ttl:
            return made[1]
        if key not in self._making or self._making[key].done():
            self._making[key] = asyncio.ensure_future(self._make(key, make))
        return await asyncio.shield(self._making[key])

    async def _make(self, key: str, make: Callable[[], Awaitable[str]]) -> str:
        started = time.monotonic()
        text = await make()
        self._made[key] = (started, text)
        return text


def add_routes(app: web.Application, deps: WebDeps) -> None:
    reader = deps.status
    shared = SharedRendering()

    async def html() -> str:
        return render.status_page(await reader.board())

    async def board_json() -> str:
        board = render.status_json(await reader.board())
        # As last gathered by the scheduler: never gathered for a request.
        return json.dumps({**board, "numbers": numbers_json(deps.numbers.windows)})

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=await shared.get("html", html), content_type=HTML)

    async def as_json(_: web.Request) -> web.Response:
        text = await shared.get("json", board_json)
        return web.Response(text=text, content_type="application/json")

    async def feed(request: web.Request) -> web.Response:
        origin = str(request.url.origin())

        async def atom() -> str:
            return render.atom_feed(await reader.feed(), origin, reader.clock())

        text = await shared.get(f"atom {origin}", atom)
        return web.Response(text=text, content_type="application/atom+xml", charset="utf-8")

    async def incident(request: web.Request) -> web.Response:
        history = await reader.history(request.match_info["reference"])
        if history is None:
            raise web.HTTPNotFound(text="No such incident.")
        return web.Response(text=render.incident_page(history, reader.clock()), content_type=HTML)

    app.router.add_get("/status", page)
    app.router.add_get("/status.json", as_json)
    app.router.add_get("/status.atom", feed)
    app.router.add_get("/status/{reference}", incident)
