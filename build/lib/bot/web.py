"""Health and the read-only status page, on the same aiohttp server as Slack's route."""

from __future__ import annotations

import html

from aiohttp import web

from bot.incidents import IncidentService, IncidentSnapshot
from bot.store import Database


def add_routes(app: web.Application, db: Database, service: IncidentService) -> None:
    async def healthz(_: web.Request) -> web.Response:
        if await db.is_reachable():
            return web.json_response({"ok": True})
        return web.json_response({"ok": False, "error": "database unreachable"}, status=503)

    async def status_json(_: web.Request) -> web.Response:
        return web.json_response({"incidents": [public_view(s) for s in await service.list_open()]})

    async def status_page(_: web.Request) -> web.Response:
        return web.Response(
            text=render_status_page(await service.list_open()), content_type="text/html"
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/status.json", status_json)
    app.router.add_get("/status", status_page)


def public_view(snapshot: IncidentSnapshot) -> dict:
    """What anyone may see: private war rooms (e.g. a breach) show no title."""
    incident = snapshot.incident
    return {
        "reference": incident.reference,
        "title": "Private incident" if incident.private else incident.title,
        "severity": incident.severity,
        "major": snapshot.major,
        "status": incident.status,
        "declared_at": incident.declared_at.isoformat(),
    }


def render_status_page(snapshots: list[IncidentSnapshot]) -> str:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                view["reference"],
                view["severity"],
                view["title"],
                view["status"],
                view["declared_at"],
            )
        )
        + "</tr>"
        for view in map(public_view, snapshots)
    )
    body = (
        f"<table><thead><tr><th>Incident</th><th>Severity</th><th>Title</th><th>Status</th>"
        f"<th>Declared (UTC)</th></tr></thead><tbody>{rows}</tbody></table>"
        if snapshots
        else "<p>No open incidents.</p>"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta http-equiv=refresh content=30><title>Incident status</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}td,th{padding:.3rem .8rem;"
        "text-align:left;border-bottom:1px solid #ddd}</style></head>"
        f"<body><h1>Open incidents</h1>{body}</body></html>"
    )
