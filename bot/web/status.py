"""The status page for the whole company: `/status`, `/status/<reference>`, `/status.json`
and `/status.atom`. Only published stakeholder updates; private incidents redacted."""

from __future__ import annotations

from aiohttp import web

from bot.render import status as render

HTML = "text/html"


def add_routes(app: web.Application, deps) -> None:
    reader = deps.status

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=render.status_page(await reader.board()), content_type=HTML)

    async def as_json(_: web.Request) -> web.Response:
        return web.json_response(render.status_json(await reader.board()))

    async def feed(request: web.Request) -> web.Response:
        body = render.atom_feed(await reader.feed(), str(request.url.origin()), reader.clock())
        return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")

    async def incident(request: web.Request) -> web.Response:
        history = await reader.history(request.match_info["reference"])
        if history is None:
            raise web.HTTPNotFound(text="No such incident.")
        return web.Response(text=render.incident_page(history, reader.clock()), content_type=HTML)

    app.router.add_get("/status", page)
    app.router.add_get("/status.json", as_json)
    app.router.add_get("/status.atom", feed)
    app.router.add_get("/status/{reference}", incident)
