"""The Bolt app: signature checks, listeners, and the `/slack/events` route."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.logger.messages import (
    warning_client_prioritized_and_token_skipped,
    warning_token_skipped,
)
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from bot.settings_errors import ConfigError
from bot.slack.gateway import REFUSED_TOKEN, SlackGateway
from bot.slack.listeners import Deps, register_all
from bot.store.probe import DATABASE_ERRORS, describe_database_error

log = logging.getLogger(__name__)


class _TokenFromEnvironmentIsTheClients(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN from the environment when given a client, and then
    warns on every start that it will be unused; given an `authorize` function too, it warns
    that it skips the client's token. The client and `authorize` use that same variable
    (bot.config), so the warnings say nothing; every other Bolt line passes."""

    _SAY_NOTHING = {warning_client_prioritized_and_token_skipped(), warning_token_skipped()}

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self._SAY_NOTHING


logging.getLogger("slack_bolt.AsyncApp").addFilter(_TokenFromEnvironmentIsTheClients())


def create_bolt_app(deps: Deps) -> AsyncApp:
    app = AsyncApp(
        client=deps.gateway.client,
        # Signatures are checked at the route, before any parsing (`slack_events_route`);
        # Socket Mode has none to check.
        request_verification_enabled=False,
        authorize=authorize_from_startup(deps.gateway),
        # Answer Slack as soon as the ack listener returns (~2 ms) instead of Bolt's 10 ms ack
        # poll; events are then stored before Slack gets its 200. Slack work runs afterwards
        # in background tasks.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    register_all(app, deps)
    app.error(log_listener_failure)
    return app


async def log_listener_failure(error: Exception, body: dict) -> None:
    """Slack gets a 500 either way and retries events. A database that did not answer in
    time, or refused the write (read-only, full), is expected now and then: one line says
    so. Anything else is a bug: traceback."""
    if isinstance(error, DATABASE_ERRORS):
        what = body.get("event_id") or body.get("command") or body.get("type") or "request"
        log.warning(
            "%s refused (Slack will retry): database: %s", what, describe_database_error(error)
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


def authorize_from_startup(gateway: SlackGateway):
    """Bolt's own authorization, given only a bot token, calls auth.test on each process's
    first request and, while that fails, answers every command and event 200 "this app is
    no longer available": Slack does not retry a 200, so those events were lost. There is
    one workspace and one token: who the bot is was learnt at startup, so no request waits
    on Slack or fails because of it. If startup could not reach Slack, requests go on with
    the token alone until the identity is learnt (the people directory asks again)."""

    async def authorize() -> AuthorizeResult:
        identity = gateway.identity
        if identity is None:
            return AuthorizeResult(enterprise_id=None, team_id=None, bot_token=gateway.client.token)
        return AuthorizeResult(
            enterprise_id=identity.enterprise_id,
            team_id=identity.team_id,
            bot_token=gateway.client.token,
            bot_id=identity.bot_id,
            bot_user_id=identity.bot_user_id,
        )

    return authorize


class NotFromSlack(Exception):
    """A request refused before it is parsed: `status` 401 (not signed by Slack) or 400."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def slack_events_route(bolt: AsyncApp, signing_secret: str):
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        try:
            bolt_request = slack_request(await request.read(), request, verifier)
        except NotFromSlack as refused:
            log.info("refused a request to /slack/events: %s", refused)
            return web.Response(status=refused.status, text=str(refused))
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    return slack_events


def slack_request(
    raw: bytes, request: web.Request, verifier: SignatureVerifier
) -> AsyncBoltRequest:
    """Check a request is Slack's before parsing anything, then parse it as what it is.

    Bolt's body parser reads any form body containing the letters `payload` as an
    interactivity payload (`/incident note the payload service is down` was lost), so a
    form with a `command` field is handed to Bolt already parsed, as the slash command it is.
    """
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise NotFromSlack(401, "no valid X-Slack-Request-Timestamp")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotFromSlack(400, "the body is not UTF-8") from None
    if not verifier.is_valid_request(body, dict(request.headers)):
        raise NotFromSlack(401, "bad signature or stale timestamp")
    if _is_json(body, request):
        return AsyncBoltRequest(
            body=body, query=request.query_string, headers=dict(request.headers)
        )
    return _form_request(body, request)


def _is_json(body: str, request: web.Request | None) -> bool:
    """True for a JSON object; other JSON, or a JSON body that does not parse, is refused."""
    declared = request is not None and request.content_type == "application/json"
    if declared or body.lstrip().startswith(("{", "[")):
        try:
            parsed = json.loads(body)
        except ValueError:
            raise NotFromSlack(400, "the body is not JSON") from None
        if not isinstance(parsed, dict):
            raise NotFromSlack(400, "the body is not a JSON object")
        return True
    return False


def _form_request(body: str, request: web.Request) -> AsyncBoltRequest:
    fields = dict(parse_qsl(body, keep_blank_values=True))
    is_command = "command" in fields
    if not is_command and "payload" in fields and not _is_json(fields["payload"], None):
        raise NotFromSlack(400, "the interaction payload is not a JSON object")
    bolt_request = AsyncBoltRequest(
        body=body, query=request.query_string, headers=dict(request.headers)
    )
    if is_command:  # see slack_request: Bolt may have read it as an interaction
        bolt_request.body = fields
        bolt_request.context = build_async_context(AsyncBoltContext(), fields)
    return bolt_request


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
