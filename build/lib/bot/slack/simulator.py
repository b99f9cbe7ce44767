"""A small Slack: a fake Web API server and a client that sends signed requests to the bot.

Used by the tests, the benchmarks and `python -m bot demo`. The fake keeps channels,
members, messages, pins and views, answers like Slack (including its errors and Block Kit
limits), records every call, refuses parameters Slack's published API does not have, and
can be told to fail or to be slow. It also speaks Socket Mode: `apps.connections.open`
hands out a WebSocket URL on it, and `deliver()` sends envelopes down that socket.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

BOT_USER = "UBOT000001"
BOT_ID = "BBOT000001"
TEAM = "T0000WARROOM"
_PARAMS = json.loads((Path(__file__).with_name("web_api_params.json")).read_text())["methods"]
# Newer methods the 2021 spec lacks.
_PARAMS |= {
    "bookmarks.add": ["channel_id", "title", "type", "link", "emoji", "entity_id", "parent_id"],
    "files.getUploadURLExternal": ["filename", "length", "alt_txt", "snippet_type"],
    "files.completeUploadExternal": ["files", "channel_id", "initial_comment", "thread_ts"],
    "apps.connections.open": [],  # Socket Mode; takes the app-level token, nothing else
}
_PARAMS["auth.test"] = ["team_id"]  # sent by Bolt, newer than the spec
_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


@dataclass
class Call:
    method: str
    params: dict
    at: float


@dataclass
class Fault:
    error: str
    status: int = 200
    retry_after: int | None = None
    times: int = 1
    match: dict = field(default_factory=dict)


class SlackError(Exception):
    def __init__(self, error: str, status: int = 200, headers: dict | None = None):
        self.error, self.status, self.headers = error, status, headers or {}


class FakeSlack:
    """The Web API on 127.0.0.1: `await start()`, point SLACK_API_URL at `api_url`."""

    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.calls: list[Call] = []
        self.responses: list[dict] = []  # what the bot sent to response_urls
        self.users: dict[str, dict] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.channels: dict[str, dict] = {}
        self.views: dict[str, dict] = {}
        self.triggers: dict[str, float] = {}
        self.files: dict[str, dict] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self._sockets: list[web.WebSocketResponse] = []  # Socket Mode connections
        self._tickets: set[str] = set()
        self.revoked_tokens: set[str] = set()  # answered `token_revoked`
        self._socket_acks: dict[str, asyncio.Future] = {}
        self.add_user(BOT_USER, "warroom", is_bot=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- setting the scene -----------------------------------------------------------------

    def add_user(self, user_id: str, name: str, tz: str = "UTC", is_bot: bool = False) -> str:
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "deleted": False,
            "is_bot": is_bot,
            "tz": tz,
            "profile": {"display_name": name, "real_name": name.capitalize()},
        }
        return user_id

    def add_usergroup(self, group_id: str, members: list[str]) -> str:
        self.usergroups[group_id] = list(members)
        return group_id

    def add_channel(self, name: str, members: list[str] = (), private: bool = False) -> str:
        channel_id = f"C{next(self._ids):08d}"
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_private": private,
            "members": {BOT_USER, *members},
            "topic": "",
            "messages": [],
            "pins": set(),
            "bookmarks": [],
        }
        return channel_id

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
        self._faults.setdefault(method, []).append(Fault(error, status, retry_after, times, match))

    # -- looking at what happened ----------------------------------------------------------

    def calls_to(self, method: str) -> list[dict]:
        return [c.params for c in self.calls if c.method == method]

    def messages(self, channel_id: str) -> list[dict]:
        return self.channels[channel_id]["messages"]

    def channel_named(self, prefix: str) -> dict | None:
        return next((c for c in self.channels.values() if c["name"].startswith(prefix)), None)

    def message(self, channel_id: str, ts: str) -> dict | None:
        return next((m for m in self.messages(channel_id) if m["ts"] == ts), None)

    def transcript(self, channel_id: str) -> str:
        """The channel as a person would read it, oldest first."""
        lines = []
        for message in self.messages(channel_id):
            if message.get("subtype") == "ephemeral":
                continue
            author = self.users.get(message.get("user", ""), {}).get("name", "warroom")
            pinned = " 📌" if message["ts"] in self.channels[channel_id]["pins"] else ""
            edited = " (edited)" if message.get("edited") else ""
            body = render_message(message, self.users, self.channels).replace("\n", "\n    ")
            lines.append(f"  {author}{pinned}{edited}: {body}")
        return "\n".join(lines)

    # -- serving ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeSlack:
        app = web.Application(client_max_size=8 * 1024**2)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{token}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link/", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()
        self.url = f"http://{bound[0]}:{bound[1]}"
        return self

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def new_response_url(self) -> str:
        return f"{self.url}/response/{next(self._ids)}"

    def new_trigger_id(self) -> str:
        trigger = f"{next(self._ids)}.trigger"
        self.triggers[trigger] = time.monotonic()
        return trigger

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner:
            await self._runner.cleanup()

    # -- Socket Mode -----------------------------------------------------------------------

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        if request.query.get("ticket") not in self._tickets:
            raise web.HTTPUnauthorized()
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "connection_info": {"app_id": "A0WARROOM"},
                "debug_info": {"host": "fake-slack"},
            }
        )
        try:
            async for frame in socket:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                ack = json.loads(frame.data)
                waiting = self._socket_acks.pop(ack.get("envelope_id"), None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(ack)
        finally:
            self._sockets.remove(socket)
        return socket

    @property
    def socket_connected(self) -> bool:
        return bool(self._sockets)

    async def deliver(self, kind: str, payload: dict, timeout: float = 5.0) -> dict:
        """Send one envelope (`events_api`, `slash_commands`, `interactive`) to the app over
        Socket Mode, as Slack does; returns the app's acknowledgement."""
        await wait_for(lambda: self._sockets, timeout, what="a Socket Mode connection")
        envelope_id = str(uuid.uuid4())
        acknowledged = asyncio.get_running_loop().create_future()
        self._socket_acks[envelope_id] = acknowledged
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await asyncio.wait_for(acknowledged, timeout)

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            validate_blocks(body.get("blocks"), limit=50)
        except SlackError as error:
            return web.Response(status=400, text=error.error)
        self.responses.append({"url": str(request.url), **body})
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.files:
            return web.Response(status=404)
        self.files[file_id]["content"] = await request.read()
        return web.Response(text="OK - uploaded")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        self.calls.append(Call(method, params, time.monotonic()))
        if self.latency:
            await asyncio.sleep(self.latency)  # a simulated network round trip
        try:
            self._check_auth(request)
            self._check_params(method, params)
            self._inject_fault(method, params)
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                raise SlackError("unknown_method")
            body = {"ok": True, **(handler(params) or {})}
        except SlackError as error:
            return web.json_response(
                {"ok": False, "error": error.error}, status=error.status, headers=error.headers
            )
        return web.json_response(body)

    def _check_auth(self, request: web.Request) -> None:
        method = request.match_info["method"]
        token_type = "xapp-" if method == "apps.connections.open" else "xoxb-"
        authorization = request.headers.get("Authorization", "")
        if authorization.removeprefix("Bearer ") in self.revoked_tokens:
            raise SlackError("token_revoked")
        if not authorization.startswith(f"Bearer {token_type}"):
            raise SlackError("not_authed" if token_type == "xoxb-" else "invalid_auth")

    def _apps_connections_open(self, _params: dict) -> dict:
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        return {"url": f"ws{self.url.removeprefix('http')}/link/?ticket={ticket}"}

    def _check_params(self, method: str, params: dict) -> None:
        known = _PARAMS.get(method)
        if known is None:
            raise SlackError("unknown_method")
        unknown = set(params) - set(known) - {"token"}
        if unknown:
            raise SlackError(f"invalid_arguments: {', '.join(sorted(unknown))}")

    def _inject_fault(self, method: str, params: dict) -> None:
        for fault in self._faults.get(method, []):
            if fault.times > 0 and all(params.get(k) == v for k, v in fault.match.items()):
                fault.times -= 1
                headers = (
                    {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                )
                raise SlackError(fault.error, fault.status, headers)

    # -- methods ---------------------------------------------------------------------------

    def _channel(self, channel_id: str, member: bool = True) -> dict:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        if member and BOT_USER not in channel["members"]:
            raise SlackError("not_in_channel")
        return channel

    def _ts(self) -> str:
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _auth_test(self, _: dict) -> dict:
        return {
            "url": "https://warroom-demo.slack.com/",
            "team": "Demo",
            "user": "warroom",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _conversations_create(self, params: dict) -> dict:
        name = params.get("name", "")
        if not _CHANNEL_NAME.match(name):
            raise SlackError(
                "invalid_name_specials" if len(name) <= 80 else "invalid_name_maxlength"
            )
        if any(c["name"] == name for c in self.channels.values()):
            raise SlackError("name_taken")
        channel_id = self.add_channel(name, private=_truthy(params.get("is_private")))
        return {"channel": self._channel_info(channel_id)}

    def _channel_info(self, channel_id: str) -> dict:
        channel = self.channels[channel_id]
        return {
            "id": channel_id,
            "name": channel["name"],
            "is_private": channel["is_private"],
            "topic": {"value": channel["topic"]},
        }

    def _conversations_info(self, params: dict) -> dict:
        return {
            "channel": self._channel_info(self._channel(params.get("channel"), member=False)["id"])
        }

    def _conversations_invite(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"))
        users = _list(params.get("users"))
        if not users:
            raise SlackError("no_user")
        if len(users) > 30:
            raise SlackError("too_many_users")
        for user in users:
            if user == BOT_USER:
                raise SlackError("cant_invite_self")
            if user not in self.users or self.users[user]["deleted"]:
                raise SlackError("user_not_found")
        new = [u for u in users if u not in channel["members"]]
        if not new:
            raise SlackError("already_in_channel")
        channel["members"].update(new)
        return {"channel": self._channel_info(channel["id"])}

    def _conversations_setTopic(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"))
        topic = params.get("topic", "")
        if len(topic) > 250:
            raise SlackError("too_long")
        channel["topic"] = topic
        return {"channel": self._channel_info(channel["id"])}

    def _post(self, params: dict, ephemeral_for: str | None = None) -> dict:
        target = params.get("channel", "")
        if target in self.users:  # a DM from the app
            target = self._dm(target)
        channel = self._channel(target)
        blocks = params.get("blocks")
        if not params.get("text") and not blocks:
            raise SlackError("no_text")
        validate_blocks(blocks, limit=50)
        message = {
            "ts": self._ts(),
            "type": "message",
            "bot_id": BOT_ID,
            "text": params.get("text", ""),
            "blocks": blocks or [],
            "thread_ts": params.get("thread_ts"),
        }
        if ephemeral_for:
            message |= {"subtype": "ephemeral", "for_user": ephemeral_for}
        channel["messages"].append(message)
        return {"channel": channel["id"], "ts": message["ts"], "message": message}

    def _dm(self, user: str) -> str:
        for channel_id, channel in self.channels.items():
            if channel["name"] == f"dm-{user}":
                return channel_id
        return self.add_channel(f"dm-{user}", [user], private=True)

    def _chat_postMessage(self, params: dict) -> dict:
        return self._post(params)

    def _chat_postEphemeral(self, params: dict) -> dict:
        user = params.get("user")
        channel = self._channel(params.get("channel", ""))
        if user not in channel["members"]:
            raise SlackError("user_not_in_channel")
        return {"message_ts": self._post(params, ephemeral_for=user)["ts"]}

    def _chat_update(self, params: dict) -> dict:
        channel = self._channel(params.get("channel", ""))
        message = self.message(channel["id"], params.get("ts", ""))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("bot_id") != BOT_ID:
            raise SlackError("cant_update_message")
        validate_blocks(params.get("blocks"), limit=50)
        message.update(
            text=params.get("text", message["text"]), blocks=params.get("blocks") or [], edited=True
        )
        return {"channel": channel["id"], "ts": message["ts"]}

    def _chat_getPermalink(self, params: dict) -> dict:
        channel = self._channel(params.get("channel", ""), member=False)
        ts = params.get("message_ts", "")
        return {
            "channel": channel["id"],
            "permalink": f"https://warroom-demo.slack.com/archives/{channel['id']}/p{ts.replace('.', '')}",
        }

    def _pins_add(self, params: dict) -> dict:
        channel = self._channel(params.get("channel", ""))
        ts = params.get("timestamp", "")
        if self.message(channel["id"], ts) is None:
            raise SlackError("message_not_found")
        if ts in channel["pins"]:
            raise SlackError("already_pinned")
        channel["pins"].add(ts)
        return {}

    def _bookmarks_add(self, params: dict) -> dict:
        channel = self._channel(params.get("channel_id", ""))
        channel["bookmarks"].append({"title": params.get("title"), "link": params.get("link")})
        return {"bookmark": {"id": f"Bk{next(self._ids)}", **channel["bookmarks"][-1]}}

    def _usergroups_users_list(self, params: dict) -> dict:
        group = params.get("usergroup")
        if group not in self.usergroups:
            raise SlackError("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _users_info(self, params: dict) -> dict:
        user = self.users.get(params.get("user", ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}

    def _users_list(self, params: dict) -> dict:
        return {"members": list(self.users.values()), "response_metadata": {"next_cursor": ""}}

    def _views_open(self, params: dict) -> dict:
        opened = self.triggers.pop(params.get("trigger_id", ""), None)
        if opened is None or time.monotonic() - opened > 3:
            raise SlackError("expired_trigger_id")
        return {"view": self._store_view(params.get("view"))}

    def _views_update(self, params: dict) -> dict:
        view_id = params.get("view_id")
        if view_id not in self.views:
            raise SlackError("not_found")
        return {"view": self._store_view(params.get("view"), view_id)}

    def _store_view(self, view: dict | None, view_id: str | None = None) -> dict:
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments")
        validate_blocks(view.get("blocks"), limit=100)
        if len(view.get("title", {}).get("text", "")) > 24:
            raise SlackError("invalid_arguments")
        if len(view.get("private_metadata", "")) > 3000:
            raise SlackError("invalid_arguments")
        view_id = view_id or f"V{next(self._ids):08d}"
        self.views[view_id] = {**view, "id": view_id, "hash": str(next(self._ids))}
        return self.views[view_id]

    def _files_getUploadURLExternal(self, params: dict) -> dict:
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = {"id": file_id, "name": params.get("filename"), "content": None}
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, params: dict) -> dict:
        files = params.get("files")
        files = json.loads(files) if isinstance(files, str) else files
        for item in files or []:
            stored = self.files.get(item.get("id"))
            if stored is None or stored["content"] is None:
                raise SlackError("file_not_found")
            stored["title"] = item.get("title")
            if params.get("channel_id"):
                channel = self._channel(params["channel_id"])
                channel["messages"].append(
                    {
                        "ts": self._ts(),
                        "type": "message",
                        "bot_id": BOT_ID,
                        "text": params.get("initial_comment", ""),
                        "files": [stored["name"]],
                        "blocks": [],
                    }
                )
        return {"files": files}


async def wait_for(condition, timeout: float = 5.0, what: str = "condition"):
    """Poll until `condition()` (sync or async) is truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)  # the polling interval of a bounded wait


def _truthy(value) -> bool:
    return value in (True, "true", "True", "1", 1)


def _list(value) -> list[str]:
    if isinstance(value, list):
        return value
    return [v for v in str(value or "").split(",") if v]


async def _read_params(request: web.Request) -> dict:
    params: dict = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        params.update(parse_qsl(await request.text(), keep_blank_values=True))
    for key in ("blocks", "view", "attachments"):
        if isinstance(params.get(key), str):
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError as error:
                raise web.HTTPBadRequest(text=f"{key} is not JSON") from error
    return params


_TEXT_LIMITS = {"header": 150, "section": 3000, "context": 2000}


def validate_blocks(blocks, limit: int) -> None:
    """Slack's invalid_blocks for the limits that bite: block count and text lengths."""
    if not blocks:
        return
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise SlackError("invalid_blocks")
    for block in blocks:
        kind = block.get("type")
        texts = (
            [block.get("text")]
            + block.get("fields", [])
            + (block.get("elements", []) if kind == "context" else [])
        )
        for text in filter(None, texts):
            if len(text.get("text", "")) > _TEXT_LIMITS.get(kind, 3000):
                raise SlackError("invalid_blocks")
        if len(block.get("block_id", "")) > 255:
            raise SlackError("invalid_blocks")


def render_message(message: dict, users: dict | None = None, channels: dict | None = None) -> str:
    """Block Kit to plain lines, roughly as Slack shows them."""
    parts = []
    for block in message.get("blocks") or []:
        kind = block.get("type")
        if kind == "header":
            parts.append(f"== {block['text']['text']} ==")
        elif kind in ("section", "context"):
            if block.get("text"):
                parts.append(block["text"]["text"])
            parts.extend(f["text"].replace("\n", ": ", 1) for f in block.get("fields", []))
            parts.extend(e.get("text", "") for e in block.get("elements", []) if kind == "context")
        elif kind == "actions":
            labels = [
                e.get("text", e.get("placeholder", {})).get("text", "") for e in block["elements"]
            ]
            parts.append(" ".join(f"[{label}]" for label in labels))
    if not parts:
        parts.append(message.get("text", ""))
    if message.get("files"):
        parts.append("📎 " + ", ".join(message["files"]))
    return _readable("\n".join(parts), users or {}, channels or {})


def _readable(text: str, users: dict, channels: dict) -> str:
    text = re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", text)
    text = re.sub(
        r"<@(\w+)(\|[^>]*)?>", lambda m: "@" + users.get(m[1], {}).get("name", m[1]), text
    )
    text = re.sub(
        r"<#(\w+)(\|[^>]*)?>", lambda m: "#" + channels.get(m[1], {}).get("name", m[1]), text
    )
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _answer(body: str) -> dict:
    if not body:
        return {}
    return json.loads(body) if body.startswith("{") else {"text": body}


def message_event(channel: str, user: str, text: str, ts: str, **extra) -> dict:
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "channel_type": "channel",
        "event_ts": ts,
        **extra,
    }


class SlackClient:
    """Plays Slack's side towards the bot: signed slash commands, interactions and events."""

    def __init__(self, fake: FakeSlack, bot_url: str, signing_secret: str):
        self.fake = fake
        self.bot_url = bot_url.rstrip("/") + "/slack/events"
        self.verifier = SignatureVerifier(signing_secret)
        self.secret = signing_secret
        self._session: aiohttp.ClientSession | None = None
        self._events = itertools.count(1)

    async def __aenter__(self) -> SlackClient:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_) -> None:
        await self._session.close()

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict | None = None,
    ) -> aiohttp.ClientResponse:
        timestamp = int(time.time()) if timestamp is None else timestamp
        signature = signature or self.verifier.generate_signature(
            timestamp=str(timestamp), body=body
        )
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        async with self._session.post(
            self.bot_url, data=body.encode(), headers=all_headers
        ) as response:
            await response.read()
            return response

    def command_payload(
        self, user: str, text: str, channel: str = "C_GENERAL", **overrides
    ) -> dict:
        """What Slack sends for `/incident <text>` (form fields over HTTP, JSON over a socket)."""
        return {
            "token": "legacy",
            "team_id": TEAM,
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": self.fake.users.get(user, {}).get("name", user),
            "command": "/incident",
            "text": text,
            "api_app_id": "A0WARROOM",
            "response_url": self.fake.new_response_url(),
            "trigger_id": self.fake.new_trigger_id(),
        } | overrides

    async def command(self, user: str, text: str, channel: str = "C_GENERAL", **overrides) -> dict:
        """Run `/incident <text>`; returns the immediate (ack) answer as a dict."""
        form = self.command_payload(user, text, channel, **overrides)
        response = await self.send(urlencode(form), "application/x-www-form-urlencoded")
        assert response.status == 200, response.status
        return _answer(await response.text())

    async def interact(self, payload: dict) -> dict:
        payload = {"team": {"id": TEAM}, "api_app_id": "A0WARROOM", "token": "legacy", **payload}
        response = await self.send(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )
        assert response.status == 200, response.status
        return _answer(await response.text())

    async def click(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        selected: str | None = None,
    ) -> dict:
        """Press a button (value) or pick a select option (selected) in a message."""
        message = self.fake.message(channel, message_ts)
        element = next(
            e
            for b in message["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e.get("action_id") == action_id
        )
        action = {
            "action_id": action_id,
            "block_id": "",
            "type": element["type"],
            "action_ts": str(time.time()),
        }
        if selected is not None:
            option = next(o for o in element["options"] if o["value"] == selected)
            action["selected_option"] = option
        else:
            action["value"] = element.get("value") if value is None else value
        return await self.interact(
            {
                "type": "block_actions",
                "user": {"id": user},
                "channel": {"id": channel},
                "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
                "message": message,
                "trigger_id": self.fake.new_trigger_id(),
                "response_url": self.fake.new_response_url(),
                "actions": [action],
            }
        )

    async def pick_in_view(self, user: str, view_id: str, action_id: str, selected: str) -> dict:
        view = self.fake.views[view_id]
        action = {
            "action_id": action_id,
            "type": "static_select",
            "selected_option": {"value": selected},
        }
        return await self.interact(
            {
                "type": "block_actions",
                "user": {"id": user},
                "view": view,
                "container": {"type": "view", "view_id": view_id},
                "trigger_id": self.fake.new_trigger_id(),
                "actions": [action],
            }
        )

    async def submit(self, user: str, view_id: str, values: dict) -> dict:
        """Submit an open modal. `values`: block_id -> the element's state (e.g. {"value": "x"})."""
        view = dict(self.fake.views[view_id])
        view["state"] = {"values": {block: {"value": state} for block, state in values.items()}}
        return await self.interact(
            {
                "type": "view_submission",
                "user": {"id": user},
                "view": view,
                "trigger_id": self.fake.new_trigger_id(),
            }
        )

    def event_payload(self, event: dict, event_id: str | None = None) -> dict:
        """The Events API envelope Slack wraps an event in."""
        return {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0WARROOM",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._events):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
            "event": event,
        }

    async def event(
        self,
        event: dict,
        *,
        event_id: str | None = None,
        retry: int | None = None,
        timestamp: int | None = None,
    ) -> aiohttp.ClientResponse:
        headers = (
            {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
            if retry
            else {}
        )
        return await self.send(
            json.dumps(self.event_payload(event, event_id)),
            "application/json",
            headers=headers,
            timestamp=timestamp,
        )

    async def say(
        self,
        user: str,
        channel: str,
        text: str,
        thread_ts: str | None = None,
        files: list[str] | None = None,
        event_id: str | None = None,
    ) -> str:
        """A person posts in a channel: stored in the fake, delivered to the bot as an event."""
        ts = self.fake._ts()
        message = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "channel": channel,
            "channel_type": "channel",
            "event_ts": ts,
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
        if files:
            message["subtype"] = "file_share"
            message["files"] = [{"id": f"F{i}", "name": name} for i, name in enumerate(files)]
        self.fake.channels[channel]["messages"].append(
            {**message, "blocks": [], "files": files or []}
        )
        response = await self.event(message, event_id=event_id)
        assert response.status == 200, response.status
        return ts

    async def edit(self, user: str, channel: str, ts: str, text: str) -> aiohttp.ClientResponse:
        return await self.event(self.edit_event(user, channel, ts, text))

    def edit_event(self, user: str, channel: str, ts: str, text: str) -> dict:
        """A person edits their message: the `message_changed` event Slack sends for it,
        with both versions (deliver it with `event`)."""
        stored = self.fake.message(channel, ts)
        previous = {
            "type": "message",
            "user": user,
            "text": stored["text"] if stored else "",
            "ts": ts,
        }
        if stored:
            stored.update(text=text, edited=True)
        now = self.fake._ts()
        return {
            "type": "message",
            "subtype": "message_changed",
            "channel": channel,
            "hidden": True,
            "ts": now,
            "event_ts": now,
            "channel_type": "channel",
            "message": {**previous, "text": text, "edited": {"user": user, "ts": now}},
            "previous_message": previous,
        }

    async def delete(self, channel: str, ts: str) -> aiohttp.ClientResponse:
        messages = self.fake.channels[channel]["messages"]
        messages[:] = [m for m in messages if m["ts"] != ts]
        now = self.fake._ts()
        return await self.event(
            {
                "type": "message",
                "subtype": "message_deleted",
                "channel": channel,
                "hidden": True,
                "ts": now,
                "event_ts": now,
                "deleted_ts": ts,
                "channel_type": "channel",
            }
        )

    async def react(
        self, user: str, channel: str, ts: str, reaction: str = "pushpin", added: bool = True
    ) -> aiohttp.ClientResponse:
        return await self.event(
            {
                "type": "reaction_added" if added else "reaction_removed",
                "user": user,
                "reaction": reaction,
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": self.fake._ts(),
            }
        )

    async def pin(
        self, user: str, channel: str, ts: str, added: bool = True
    ) -> aiohttp.ClientResponse:
        pins = self.fake.channels[channel]["pins"]
        pins.add(ts) if added else pins.discard(ts)
        return await self.event(
            {
                "type": "pin_added" if added else "pin_removed",
                "user": user,
                "channel_id": channel,
                "event_ts": self.fake._ts(),
                "item": {
                    "type": "message",
                    "channel": channel,
                    "message": {"ts": ts, "type": "message"},
                },
            }
        )
