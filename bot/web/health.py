"""`GET /healthz`: 200 while the database answers and takes writes (Slack being away does
not count: events are still stored), 503 within about a second when it does not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from bot.store.health import DatabaseHealth

if TYPE_CHECKING:
    from bot.web import WebDeps


def add_routes(app: web.Application, deps: WebDeps) -> None:
    database = DatabaseHealth(deps.db)

    async def healthz(_: web.Request) -> web.Response:
        problem = await database.problem()
        answered = deps.metrics.last_slack_answer
        body = {
            "ok": problem is None,
            "database": problem or "ok",
            "slack_last_answered": datetime.fromtimestamp(answered, UTC).isoformat()
            if answered
            else None,
        }
        return web.json_response(body, status=503 if problem else 200)

    app.router.add_get("/healthz", healthz)
