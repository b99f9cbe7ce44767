"""`GET /metrics`: Prometheus text format."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST


def add_routes(app: web.Application, deps) -> None:
    async def metrics(_: web.Request) -> web.Response:
        deps.metrics.refresh(await deps.status.counts(), deps.severities)
        return web.Response(
            body=deps.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_get("/metrics", metrics)
