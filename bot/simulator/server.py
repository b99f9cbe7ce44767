"""The fake Slack on 127.0.0.1: the Web API, response URLs, file uploads and Socket Mode,
served over HTTP with aiohttp. Records every call, refuses tokens Slack would refuse, and
can be told to fail or to be slow."""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from aiohttp import web
from aiolimiter import AsyncLimiter

from bot.simulator.faults import Fault, Faults, Hold
from bot.simulator.rules import MESSAGE_BLOCKS, SlackError, validate_blocks
from bot.simulator.socket_mode import SocketModeHub
from bot.simulator.web_api import WebApi
from bot.simulator.workspace import Workspace

# Parameters sent as JSON strings in form bodies, and Slack's answer when one is not JSON.
_JSON_PARAMS = {
    "blocks": "invalid_blocks_format",
    "view": "invalid_arguments",
    "attachments": "invalid_attachments",
}


@dataclass
class Call:
    method: str
    params: dict
    at: float


class FakeSlack:
    """`await start()`, point SLACK_API_URL at `api_url`; the scene is set and read through
    the workspace (`add_user`, `add_channel`, `channels`, `messages`, ... delegate to it)."""

    def __init__(self, latency: float = 0.0):
        self.latency = latency  # seconds each Web API call takes, like a network round trip
        self.workspace = Workspace()
        self.calls: list[Call] = []
        self.responses: list[dict] = []  # what the bot sent to response_urls
        self.revoked_tokens: set[str] = set()  # answered `token_revoked`
        self._rate_limits: dict[str, AsyncLimiter] = {}
        self._socket_mode = SocketModeHub()
        self._faults = Faults()
        self._api = WebApi(self.workspace, self._socket_mode, lambda: self.url)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- the scene, kept by the workspace --------------------------------------------------

    @property
    def users(self) -> dict[str, dict]:
        return self.workspace.users

    @property
    def channels(self) -> dict[str, dict]:
        return self.workspace.channels

    @property
    def views(self) -> dict[str, dict]:
        return self.workspace.views

    @property
    def home_views(self) -> dict[str, dict]:
        """The Home tab last published for each person, by user ID."""
        return self.workspace.home_views

    @property
    def files(self) -> dict[str, dict]:
        return self.workspace.files

    def add_user(self, user_id: str, name: str, tz: str = "UTC", is_bot: bool = False) -> str:
        return self.workspace.add_user(user_id, name, tz, is_bot)

    def add_usergroup(self, group_id: str, members: list[str]) -> str:
        return self.workspace.add_usergroup(group_id, members)

    def add_channel(
        self,
        name: str,
        members: list[str] = (),
        private: bool = False,
        creator: str | None = None,
    ) -> str:
        return self.workspace.add_channel(name, members, private, creator)

    def messages(self, channel_id: str) -> list[dict]:
        return self.workspace.messages(channel_id)

    def message(self, channel_id: str, ts: str) -> dict | None:
        return self.workspace.message(channel_id, ts)

    def channel_named(self, prefix: str) -> dict | None:
        return self.workspace.channel_named(prefix)

    # -- planned failures and what happened ------------------------------------------------

    def fail(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        **match,
    ) -> None:
        """Make the next `times` calls of `method` (whose params include `match`) fail."""
        self._faults.plan(method, Fault(error, status, retry_after, times, match))

    def lose_answer(self, method: str, *, times: int = 1, **match) -> None:
        """The next `times` calls of `method` (matching `match`) are performed, then the
        connection drops before the answer: the caller cannot know it was done."""
        self._faults.plan(method, Fault("", times=times, match=match, lose_answer=True))

    def hold(self, method: str, **match) -> Hold:
        """The next call of `method` (matching `match`) waits before Slack performs it,
        until `release()`: Slack being slow, for a test to kill the caller meanwhile."""
        return self._faults.hold(method, match)

    def limit_rate(self, method: str, per_minute: int) -> None:
        """Slack's rate-limit tier for `method` (Tier 3: 50 a minute, in bursts): calls over
        it are answered 429 `ratelimited` with a Retry-After."""
        self._rate_limits[method] = AsyncLimiter(per_minute, 60)

    def calls_to(self, method: str) -> list[dict]:
        return [c.params for c in self.calls if c.method == method]

    # -- serving ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeSlack:
        app = web.Application(client_max_size=8 * 1024**2)
        app.router.add_route("*", "/api/{method}", self._serve_api)
        app.router.add_post("/response/{token}", self._serve_response_url)
        app.router.add_post("/upload/{file_id}", self._serve_upload)
        app.router.add_get("/link/", self._socket_mode.accept)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        return self

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def new_response_url(self) -> str:
        return f"{self.url}/response/{self.workspace.next_number()}"

    def new_trigger_id(self) -> str:
        return self.workspace.new_trigger_id()

    @property
    def socket_connected(self) -> bool:
        return self._socket_mode.connected

    async def drop_socket_mode(self) -> None:
        """Close the app's Socket Mode connections, as Slack does now and then (it reconnects)."""
        await self._socket_mode.close()

    async def refresh_socket_mode(self) -> None:
        """Slack's `disconnect` (refresh_requested): the app must open a new connection."""
        await self._socket_mode.refresh()

    async def deliver(self, kind: str, payload: dict, timeout: float = 5.0) -> dict:
        """Send one Socket Mode envelope to the app; returns its acknowledgement."""
        return await self._socket_mode.deliver(kind, payload, timeout)

    async def stop(self) -> None:
        await self._socket_mode.close()
        if self._runner:
            await self._runner.cleanup()

    async def _serve_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
            self.calls.append(Call(method, params, time.monotonic()))
            if self.latency:
                await asyncio.sleep(self.latency)  # a simulated network round trip
            self._check_auth(method, request.headers.get("Authorization", ""))
            await self._within_rate_limit(method)
            self._faults.raise_if_planned(method, params)
            hold = self._faults.hold_for(method, params)
            if hold is not None and not await hold.wait(params):
                return _drop(request)  # it never got through: nothing done, nothing heard
            body = self._api.answer(method, params)
        except SlackError as error:
            return web.json_response(
                {"ok": False, "error": error.error}, status=error.status, headers=error.headers
            )
        if self._faults.answer_lost(method, params):
            return _drop(request)  # done, but the caller hears nothing
        return web.json_response(body)

    async def _within_rate_limit(self, method: str) -> None:
        limiter = self._rate_limits.get(method)
        if limiter is None:
            return
        if not limiter.has_capacity():
            retry_after = math.ceil(limiter.time_period / limiter.max_rate)
            raise SlackError("ratelimited", 429, {"Retry-After": str(retry_after)})
        await limiter.acquire()

    def _check_auth(self, method: str, authorization: str) -> None:
        token_type = "xapp-" if method == "apps.connections.open" else "xoxb-"
        if authorization.removeprefix("Bearer ") in self.revoked_tokens:
            raise SlackError("token_revoked")
        if not authorization.startswith(f"Bearer {token_type}"):
            raise SlackError("not_authed" if token_type == "xoxb-" else "invalid_auth")

    async def _serve_response_url(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload")
        try:
            validate_blocks(body.get("blocks"), limit=MESSAGE_BLOCKS)
        except SlackError as error:
            return web.Response(status=400, text=error.error)
        self.responses.append({"url": str(request.url), **body})
        return web.Response(text="ok")

    async def _serve_upload(self, request: web.Request) -> web.Response:
        upload = self.workspace.files.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404)
        # Slack takes files up to 1 GB; the app's 8 MB cap on request bodies is for the API.
        upload["content"] = await request.content.read()
        return web.Response(text="OK - uploaded")


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer (the caller sees it dropped)."""
    request.transport.abort()
    return web.Response()


async def _read_params(request: web.Request) -> dict:
    """A call's parameters from its query, form or JSON body; JSON-valued form fields decoded."""
    params: dict = dict(request.query)
    if request.content_type == "application/json":
        try:
            params.update(await request.json())
        except json.JSONDecodeError as error:
            raise SlackError("invalid_json") from error
    elif request.can_read_body:
        params.update(parse_qsl(await request.text(), keep_blank_values=True))
    for key, error_name in _JSON_PARAMS.items():
        if isinstance(params.get(key), str):
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError as error:
                raise SlackError(error_name) from error
    return params
