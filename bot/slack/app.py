"""The Bolt app: signature checks, listeners, and the `/slack/events` route."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings_errors import ConfigError
from bot.slack.gateway import REFUSED_TOKEN
from bot.slack.listeners import Deps, register_all
from bot.store.probe import DATABASE_ERRORS, describe_database_error

log = logging.getLogger(__name__)


class _TokenFromEnvironmentIsTheClients(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN from the environment when given a client, and then
    warns on every start that it will be unused. The client was made from that same
    variable (bot.config), so the warning says nothing; every other Bolt line passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_TokenFromEnvironmentIsTheClients())


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
    app.error(log_listener_failure)
    return app


async def log_listener_failure(error: Exception, body: dict) -> None:
    """Slack gets a 500 either way and retries events. A database that did not answer in
    time is expected now and then: one line says so. Anything else is a bug: traceback."""
    if isinstance(error, DATABASE_ERRORS):
        what = body.get("event_id") or body.get("command") or body.get("type") or "request"
        log.warning(
            "%s refused (Slack will retry): the database did not answer: %s",
            what,
            describe_database_error(error),
        )
    else:
        log.exception("listener failed: %s", error)


def _on_hello_again(reconnected: Callable[[], Awaitable[None]]):
    hellos = 0

    async def on_message(message: aiohttp.WSMessage) -> None:
        nonlocal hellos
        if json.loads(message.data).get("type") == "hello":
            hellos += 1
            if hellos > 1:
                await reconnected()

    return on_message


def slack_events_route(bolt: AsyncApp):
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    return slack_events


async def connect_socket_mode(
    bolt: AsyncApp, app_token: str | None, on_reconnect: Callable[[], Awaitable[None]]
):
    """Socket Mode when an app-level token is set; a token Slack refuses stops startup.
    `on_reconnect` is awaited when a connection after the first says hello, before its
    events are read: events sent while the socket was down may be lost."""
    if not app_token:
        return None
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(bolt, app_token)
    handler.client.on_message_listeners.append(_on_hello_again(on_reconnect))
    try:
        # Asked here once because the SDK's connect loop retries a refused token forever.
        handler.client.wss_uri = await handler.client.issue_new_wss_url()
    except SlackApiError as error:
        reason = error.response.get("error")
        if reason in REFUSED_TOKEN:
            await handler.close_async()
            raise ConfigError(
                [
                    f"SLACK_APP_TOKEN: Slack refused it ({reason}); use an app-level token "
                    "(xapp-…) with the connections:write scope"
                ]
            ) from error
    except (aiohttp.ClientError, TimeoutError):
        pass  # Slack unreachable: the connect below retries until it answers
    await handler.connect_async()
    log.info("connected to Slack over Socket Mode")
    return handler
