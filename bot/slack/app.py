"""The Bolt app: signature checks, listeners, and the `/slack/events` route."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.listeners import Deps, register_all


def create_bolt_app(client: AsyncWebClient, signing_secret: str | None, deps: Deps) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        # Answer Slack as soon as the ack listener returns (~2 ms) instead of Bolt's 10 ms ack
        # poll; events are then stored before Slack gets its 200. Slack work runs afterwards
        # in background tasks.
        process_before_response=True,
        # Socket Mode has no signatures to check; HTTP mode always checks them.
        request_verification_enabled=signing_secret is not None,
        raise_error_for_unhandled_request=False,
    )
    register_all(app, deps)
    return app


def slack_events_route(bolt: AsyncApp):
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    return slack_events
