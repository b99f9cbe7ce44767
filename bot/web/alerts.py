"""POST /alerts/alertmanager and /alerts/generic: alerts in, authenticated by a bearer token.

With no `ALERTS_TOKEN` the routes do not exist (404): intake is off unless asked for. The
token is compared in constant time. A notification is stored before the answer, and the
Slack work it causes (the triage message) happens after it, paced.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable

from aiohttp import web

from bot.incidents.alert_formats import from_alertmanager, from_generic
from bot.incidents.alerts import Delivery
from bot.incidents.errors import InvalidRequest
from bot.slack.flows.triage import Triage
from bot.store.types import utcnow

MAX_BODY = 1024 * 1024  # Alertmanager truncates a group's alerts well below this


def add_alert_routes(app: web.Application, triage: Triage, token: str | None) -> None:
    if not token:
        return
    expected = f"Bearer {token}".encode()

    def route(read: Callable[[object], Delivery]):
        async def handle(request: web.Request) -> web.Response:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return web.json_response(
                    {"ok": False, "error": "unauthorized"},
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="warroom alerts"'},
                )
            try:
                delivery = read(await _json(request))
            except InvalidRequest as problem:
                return web.json_response({"ok": False, "error": str(problem)}, status=400)
            received = await triage.receive(delivery)
            return web.json_response(
                {"ok": True, "group": received.group_id, "changed": received.changed}
            )

        return handle

    app.router.add_post("/alerts/alertmanager", route(from_alertmanager))
    app.router.add_post("/alerts/generic", route(lambda body: from_generic(body, utcnow())))


async def _json(request: web.Request) -> object:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise InvalidRequest(f"body: larger than {MAX_BODY} bytes")
    try:
        return json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidRequest(f"body: not JSON ({error})") from None
