"""`GET /metrics`: Prometheus text format."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from bot.web import WebDeps


def add_routes(app: web.Application, deps: WebDeps) -> None:
    async def metrics(_: web.Request) -> web.Response:
        deps.metrics.refresh(await deps.status.counts(), deps.severities)
        return web.Response(
            body=deps.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_get("/metrics", metrics)
