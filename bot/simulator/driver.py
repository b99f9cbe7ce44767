"""Slack's side towards the bot: signed slash commands, interactions and events over HTTP,
shaped as Slack sends them, with what people do (post, edit, delete, pin) kept in the
fake's workspace."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.simulator.dialect import as_slack_sends
from bot.simulator.server import FakeSlack
from bot.simulator.workspace import APP_ID, BOT_USER, ENTERPRISE, TEAM

TOMBSTONE_TEXT = "This message was deleted."


class NotAcknowledged(Exception):
    """The app answered a request with something other than 200: Slack would show the person
    an error (`dispatch_failed` for a command) or retry the event."""

    def __init__(self, what: str, status: int):
        super().__init__(f"the app answered {what} with HTTP {status}, not 200")
        self.status = status


def message_event(channel: str, user: str, text: str, ts: str, **extra) -> dict:
    """A `message` event as Slack delivers it for a post in a public channel; `text` is
    already in Slack's dialect (see `as_slack_sends`)."""
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "team": TEAM,
        "client_msg_id": str(uuid.uuid4()),
        "channel_type": "channel",
        "event_ts": ts,
        **extra,
    }


class SlackClient:
    """Plays Slack's side towards the bot: signed slash commands, interactions and events."""

    def __init__(
        self,
        fake: FakeSlack,
        bot_url: str,
        signing_secret: str,
        enterprise_id: str | None = None,
    ):
        self.fake = fake
        self.enterprise_id = enterprise_id  # set: the workspace is part of an Enterprise Grid
        self.bot_url = bot_url.rstrip("/") + "/slack/events"
        self.verifier = SignatureVerifier(signing_secret)
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
        """POST a body to the bot, signed as Slack signs it (or with the given signature)."""
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

    # -- slash commands and interactions ---------------------------------------------------

    def command_payload(
        self, user: str, text: str, channel: str = "C_GENERAL", **overrides
    ) -> dict:
        """What Slack sends for `/incident <text>` (form fields over HTTP, JSON over a socket).
        `text` is what the person typed: it arrives escaped, as Slack sends it."""
        grid = (
            {"enterprise_id": self.enterprise_id, "enterprise_name": "Demo Org"}
            if self.enterprise_id
            else {}
        )
        return {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "warroom-demo",
            **grid,
            "channel_id": channel,
            "channel_name": self.fake.channels.get(channel, {}).get("name", "general"),
            "user_id": user,
            "user_name": self.fake.users.get(user, {}).get("name", user),
            "command": "/incident",
            "text": as_slack_sends(text),
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.fake.new_response_url(),
            "trigger_id": self.fake.new_trigger_id(),
        } | overrides

    async def command(self, user: str, text: str, channel: str = "C_GENERAL", **overrides) -> dict:
        """Run `/incident <text>`; returns the immediate (ack) answer as a dict."""
        form = self.command_payload(user, text, channel, **overrides)
        return await self._acknowledged(
            "a slash command", urlencode(form), "application/x-www-form-urlencoded"
        )

    async def interact(self, payload: dict) -> dict:
        payload = {"team": {"id": TEAM}, "api_app_id": APP_ID, "token": "legacy", **payload}
        form = urlencode({"payload": json.dumps(payload)})
        return await self._acknowledged("an interaction", form, "application/x-www-form-urlencoded")

    async def _acknowledged(self, what: str, body: str, content_type: str) -> dict:
        response = await self.send(body, content_type)
        if response.status != 200:
            raise NotAcknowledged(what, response.status)
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
        element = _element(message, action_id)
        action = {
            "action_id": action_id,
            "block_id": "",
            "type": element["type"],
            "action_ts": str(time.time()),
        }
        if selected is not None:
            action["selected_option"] = _option(element, selected)
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

    async def shortcut(self, user: str, channel: str, message_ts: str, callback_id: str) -> dict:
        """Run a message shortcut (the message's ⋮ menu) on a message someone can see."""
        message = self.fake.message(channel, message_ts)
        if message is None:
            raise LookupError(f"no message {message_ts} in {channel}")
        shown = {k: v for k, v in message.items() if k in ("type", "text", "user", "ts", "blocks")}
        return await self.interact(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "action_ts": str(time.time()),
                "user": {"id": user, "name": self.fake.users.get(user, {}).get("name", user)},
                "channel": {"id": channel, "name": self.fake.channels[channel]["name"]},
                "trigger_id": self.fake.new_trigger_id(),
                "message_ts": message_ts,
                "message": shown,
                "response_url": self.fake.new_response_url(),
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

    # -- events ----------------------------------------------------------------------------

    def event_payload(self, event: dict, event_id: str | None = None) -> dict:
        """The Events API envelope Slack wraps an event in (with Enterprise Grid's fields
        when the workspace is in one)."""
        authorization = {
            "enterprise_id": self.enterprise_id,
            "team_id": TEAM,
            "user_id": BOT_USER,
            "is_bot": True,
            "is_enterprise_install": False,
        }
        return {
            "token": "legacy",
            "team_id": TEAM,
            **({"enterprise_id": self.enterprise_id} if self.enterprise_id else {}),
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._events):08d}",
            "event_time": int(time.time()),
            "authorizations": [authorization],
            # Slack Connect: an event from another organisation's member of a shared channel.
            "is_ext_shared_channel": event.get("source_team", TEAM) != TEAM,
            "event_context": f"4-{event.get('type')}-{TEAM}-{event.get('channel', '')}",
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
        broadcast: bool = False,
        from_team: str | None = None,
    ) -> str:
        """A person posts `text` (as typed) in a channel, in a thread, with files, or as a
        thread reply also sent to the channel: stored in the fake, delivered to the bot as
        the events Slack sends for it (a reply also notifies `message_replied`). With
        `from_team`, the person belongs to another organisation sharing the channel through
        Slack Connect, and the message carries that team as Slack sends it."""
        ts = self.fake.workspace.next_ts()
        message = message_event(channel, user, as_slack_sends(text), ts)
        if from_team:
            message |= {"team": from_team, "user_team": from_team, "source_team": from_team}
        if thread_ts:
            message["thread_ts"] = thread_ts
            message["parent_user_id"] = (self.fake.message(channel, thread_ts) or {}).get("user")
        if broadcast:
            message["subtype"] = "thread_broadcast"
            message["root"] = self.fake.message(channel, thread_ts) or {"ts": thread_ts}
        if files:
            message["subtype"] = "file_share"
            message["upload"] = False
            message["files"] = [_file(f"F{ts.replace('.', '')}{i}", n) for i, n in enumerate(files)]
        self.fake.workspace.add_message(channel, {**message, "blocks": []})
        await self._delivered("a message event", message, event_id)
        if thread_ts:
            await self._delivered("a message_replied event", self._replied(channel, thread_ts))
        return ts

    async def bot_posts(self, bot_id: str, channel: str, text: str, username: str) -> str:
        """Another integration posts (a classic `bot_message`: a bot_id and a username)."""
        ts = self.fake.workspace.next_ts()
        message = {
            "type": "message",
            "subtype": "bot_message",
            "text": as_slack_sends(text),
            "ts": ts,
            "username": username,
            "bot_id": bot_id,
            "channel": channel,
            "event_ts": ts,
            "channel_type": "channel",
        }
        self.fake.workspace.add_message(channel, {**message, "blocks": []})
        await self._delivered("a bot_message event", message)
        return ts

    async def _delivered(self, what: str, event: dict, event_id: str | None = None) -> None:
        response = await self.event(event, event_id=event_id)
        if response.status != 200:
            raise NotAcknowledged(what, response.status)

    def _replied(self, channel: str, thread_ts: str) -> dict:
        """Slack's notice that a thread got a reply. Its docs warn the Events API delivers
        it without its `message_replied` subtype, so the fake does too."""
        parent = self.fake.message(channel, thread_ts) or {"ts": thread_ts, "text": ""}
        replies = [m for m in self.fake.messages(channel) if m.get("thread_ts") == thread_ts]
        now = self.fake.workspace.next_ts()
        return {
            "type": "message",
            "hidden": True,
            "channel": channel,
            "event_ts": now,
            "ts": now,
            "message": {
                **{k: v for k, v in parent.items() if k not in ("channel", "blocks")},
                "thread_ts": thread_ts,
                "reply_count": len(replies),
                "replies": [{"user": m.get("user"), "ts": m["ts"]} for m in replies],
            },
        }

    async def edit(self, user: str, channel: str, ts: str, text: str) -> aiohttp.ClientResponse:
        return await self.event(self.edit_event(user, channel, ts, text))

    def edit_event(self, user: str, channel: str, ts: str, text: str) -> dict:
        """A person edits their message to `text` (as typed): the `message_changed` event
        Slack sends for it, with both versions (deliver it with `event`)."""
        stored = self.fake.message(channel, ts)
        previous = {"type": "message", "user": user, "text": "", "ts": ts}
        if stored:
            kept = ("type", "user", "text", "ts", "thread_ts", "files", "team", "client_msg_id")
            previous |= {k: stored[k] for k in kept if k in stored}
            stored.update(text=as_slack_sends(text), edited=True)
        now = self.fake.workspace.next_ts()
        changed = {**previous, "text": as_slack_sends(text), "edited": {"user": user, "ts": now}}
        return _changed(channel, now, changed, previous)

    async def delete(self, channel: str, ts: str) -> aiohttp.ClientResponse:
        """A person deletes a message. A thread parent with replies stays as a tombstone:
        Slack sends a `message_changed` to "This message was deleted." instead."""
        stored = self.fake.message(channel, ts)
        now = self.fake.workspace.next_ts()
        if any(m.get("thread_ts") == ts and m["ts"] != ts for m in self.fake.messages(channel)):
            previous = {k: v for k, v in (stored or {"ts": ts}).items() if k != "blocks"}
            tombstone = {
                "type": "message",
                "subtype": "tombstone",
                "text": TOMBSTONE_TEXT,
                "user": "USLACKBOT",
                "hidden": True,
                "ts": ts,
                "thread_ts": ts,
                "reply_count": previous.get("reply_count", 1),
            }
            if stored:
                stored.clear()
                stored.update(tombstone)
            return await self.event(_changed(channel, now, tombstone, previous))
        self.fake.workspace.remove_message(channel, ts)
        deleted = {
            "type": "message",
            "subtype": "message_deleted",
            "channel": channel,
            "hidden": True,
            "ts": now,
            "event_ts": now,
            "deleted_ts": ts,
            "channel_type": "channel",
        }
        if stored:
            deleted["previous_message"] = {k: v for k, v in stored.items() if k != "blocks"}
        return await self.event(deleted)

    async def react(
        self, user: str, channel: str, ts: str, reaction: str = "pushpin", added: bool = True
    ) -> aiohttp.ClientResponse:
        return await self.event(
            {
                "type": "reaction_added" if added else "reaction_removed",
                "user": user,
                "reaction": reaction,
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": self.fake.workspace.next_ts(),
            }
        )

    async def pin(
        self, user: str, channel: str, ts: str, added: bool = True
    ) -> aiohttp.ClientResponse:
        self.fake.workspace.set_pinned(channel, ts, added)
        return await self.event(
            {
                "type": "pin_added" if added else "pin_removed",
                "user": user,
                "channel_id": channel,
                "event_ts": self.fake.workspace.next_ts(),
                "item": {
                    "type": "message",
                    "channel": channel,
                    "message": {"ts": ts, "type": "message"},
                },
            }
        )

    # -- the Home tab ----------------------------------------------------------------------

    def home_opened_payload(self, user: str, tab: str = "home") -> dict:
        """`app_home_opened` as Slack delivers it to an app installed on an Enterprise Grid
        org: enterprise fields in the envelope and its authorization (no team there), and the
        Home tab last published for this person, if any."""
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.fake.workspace.dm_channel(user),
            "tab": tab,
            "event_ts": self.fake.workspace.next_ts(),
        }
        if tab == "home" and user in self.fake.home_views:
            event["view"] = self.fake.home_views[user]
        authorization = {
            "enterprise_id": ENTERPRISE,
            "team_id": None,
            "user_id": BOT_USER,
            "is_bot": True,
            "is_enterprise_install": True,
        }
        payload = self.event_payload(event) | {
            "enterprise_id": ENTERPRISE,
            "authorizations": [authorization],
            "is_ext_shared_channel": False,
        }
        del payload["event_context"]  # Slack's org-app sample has none
        return payload

    async def open_home(self, user: str, tab: str = "home") -> None:
        """A person opens the app's Home tab (or, with `tab`, its Messages tab)."""
        payload = self.home_opened_payload(user, tab)
        response = await self.send(json.dumps(payload), "application/json")
        if response.status != 200:
            raise NotAcknowledged("an app_home_opened event", response.status)

    async def click_in_home(self, user: str, action_id: str, value: str | None = None) -> dict:
        """Press a button in the Home tab published for `user` (the one with `value`, when
        several share the action ID)."""
        view = self.fake.home_views[user]
        element = _element(view, action_id, value)
        action = {
            "action_id": action_id,
            "block_id": "",
            "type": element["type"],
            "value": element.get("value"),
            "action_ts": str(time.time()),
        }
        return await self.interact(
            {
                "type": "block_actions",
                "user": {"id": user},
                "container": {"type": "view", "view_id": view["id"]},
                "view": view,
                "trigger_id": self.fake.new_trigger_id(),
                "actions": [action],
            }
        )


def _changed(channel: str, now: str, message: dict, previous: dict) -> dict:
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": channel,
        "hidden": True,
        "ts": now,
        "event_ts": now,
        "channel_type": "channel",
        "message": message,
        "previous_message": previous,
    }


def _file(file_id: str, name: str) -> dict:
    """A file as a `file_share` event describes it (the fields the bot may read)."""
    return {
        "id": file_id,
        "name": name,
        "title": name,
        "mimetype": "application/octet-stream",
        "filetype": name.rpartition(".")[2] or "binary",
        "size": 1024,
        "mode": "hosted",
        "is_external": False,
        "url_private": f"https://files.slack.com/files-pri/{TEAM}-{file_id}/{name}",
    }


def _element(surface: dict | None, action_id: str, value: str | None = None) -> dict:
    """The button or select a person can see in a message or view (the one with `value`,
    when given); nobody can press one that is not there."""
    for block in (surface or {}).get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id and value in (None, element.get("value")):
                return element
    raise LookupError(f"no element {action_id!r} there")


def _option(element: dict, value: str) -> dict:
    option = next((o for o in element.get("options", []) if o["value"] == value), None)
    if option is None:
        raise LookupError(f"no option {value!r} in {element.get('action_id')!r}")
    return option


def _answer(body: str) -> dict:
    if not body:
        return {}
    return json.loads(body) if body.startswith("{") else {"text": body}
