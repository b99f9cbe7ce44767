"""The Web API methods warroom calls, answered from a Workspace as Slack answers them
(its shapes, its errors, its limits). A method the bot does not call is `unknown_method`."""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.simulator import history
from bot.simulator.rules import (
    CHANNEL_NAME,
    MESSAGE_BLOCKS,
    SlackError,
    check_params,
    truthy,
    validate_blocks,
    validate_home_view,
    validate_metadata,
    validate_view,
)
from bot.simulator.socket_mode import SocketModeHub
from bot.simulator.workspace import BOT_ID, BOT_USER, TEAM, Workspace

WORKSPACE_URL = "https://warroom-demo.slack.com/"
MAX_INVITES = 30
LIST_LIMIT, LIST_MAX = 100, 1000  # conversations.list's default and largest page


class WebApi:
    def __init__(
        self, workspace: Workspace, socket_mode: SocketModeHub, base_url: Callable[[], str]
    ):
        self.workspace = workspace
        self._socket_mode = socket_mode
        self._base_url = base_url  # where the fake is serving, known once it has started
        self._methods: dict[str, Callable[[dict], dict]] = {
            "apps.connections.open": self._apps_connections_open,
            "auth.test": self._auth_test,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "conversations.archive": self._conversations_archive,
            "conversations.create": self._conversations_create,
            "conversations.history": self._conversations_history,
            "conversations.invite": self._conversations_invite,
            "conversations.list": self._conversations_list,
            "conversations.replies": self._conversations_replies,
            "conversations.members": self._conversations_members,
            "conversations.setTopic": self._conversations_set_topic,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "pins.add": self._pins_add,
            "usergroups.users.list": self._usergroups_users_list,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "views.open": self._views_open,
            "views.publish": self._views_publish,
            "views.update": self._views_update,
        }

    def answer(self, method: str, params: dict) -> dict:
        """Slack's JSON answer to one call; raises SlackError for its error answers."""
        check_params(method, params)
        handler = self._methods.get(method)
        if handler is None:
            raise SlackError("unknown_method")
        return {"ok": True, **handler(params)}

    # -- helpers ---------------------------------------------------------------------------

    def _channel(self, channel_id: str | None, member: bool = True) -> dict:
        channel = self.workspace.channels.get(channel_id or "")
        if channel is None:
            raise SlackError("channel_not_found")
        if member and BOT_USER not in channel["members"]:
            raise SlackError("not_in_channel")
        return channel

    def _open_channel(self, channel_id: str | None) -> dict:
        """A channel the bot may change: Slack refuses posts, edits, invites, topics and
        pins in an archived one."""
        channel = self._channel(channel_id)
        if channel.get("is_archived"):
            raise SlackError("is_archived")
        return channel

    def _channel_info(self, channel: dict) -> dict:
        return {
            "id": channel["id"],
            "name": channel["name"],
            "is_private": channel["is_private"],
            "is_archived": channel["is_archived"],
            "topic": {"value": channel["topic"]},
            "creator": channel["creator"],
        }

    def _post(self, params: dict, ephemeral_for: str | None = None) -> dict:
        target = params.get("channel", "")
        if target in self.workspace.users:  # a DM from the app
            target = self.workspace.dm_channel(target)
        channel = self._open_channel(target)
        blocks = params.get("blocks")
        if not params.get("text") and not blocks:
            raise SlackError("no_text")
        validate_blocks(blocks, limit=MESSAGE_BLOCKS)
        metadata = validate_metadata(params.get("metadata"))
        message = {
            "ts": self.workspace.next_ts(),
            "type": "message",
            "bot_id": BOT_ID,
            "text": params.get("text", ""),
            "blocks": blocks or [],
            "thread_ts": params.get("thread_ts"),
        }
        if metadata is not None:
            message["metadata"] = metadata
        if ephemeral_for:
            message |= {"subtype": "ephemeral", "for_user": ephemeral_for}
        self.workspace.add_message(channel["id"], message)
        return {"channel": channel["id"], "ts": message["ts"], "message": message}

    def _store_view(self, view, view_id: str | None = None) -> dict:
        validate_view(view)
        view_id = view_id or f"V{self.workspace.next_number():08d}"
        stored = {**view, "id": view_id, "hash": str(self.workspace.next_number())}
        self.workspace.views[view_id] = stored
        return stored

    # -- methods ---------------------------------------------------------------------------

    def _apps_connections_open(self, _params: dict) -> dict:
        return {"url": self._socket_mode.issue_url(self._base_url())}

    def _auth_test(self, _params: dict) -> dict:
        return {
            "url": WORKSPACE_URL,
            "team": "Demo",
            "user": "warroom",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _conversations_create(self, params: dict) -> dict:
        name = params.get("name", "")
        if not CHANNEL_NAME.match(name):
            raise SlackError(
                "invalid_name_specials" if len(name) <= 80 else "invalid_name_maxlength"
            )
        if any(c["name"] == name for c in self.workspace.channels.values()):
            raise SlackError("name_taken")
        channel_id = self.workspace.add_channel(
            name, private=truthy(params.get("is_private")), creator=BOT_USER
        )
        return {"channel": self._channel_info(self.workspace.channels[channel_id])}

    def _conversations_invite(self, params: dict) -> dict:
        channel = self._open_channel(params.get("channel"))
        users = _list(params.get("users"))
        if not users:
            raise SlackError("no_user")
        if len(users) > MAX_INVITES:
            raise SlackError("too_many_users")
        for user in users:
            if user == BOT_USER:
                raise SlackError("cant_invite_self")
            if user not in self.workspace.users or self.workspace.users[user]["deleted"]:
                raise SlackError("user_not_found")
        new = [u for u in users if u not in channel["members"]]
        if not new:
            raise SlackError("already_in_channel")
        channel["members"].update(new)
        return {"channel": self._channel_info(channel)}

    def _conversations_list(self, params: dict) -> dict:
        """The channels the bot can see (every public one, the private ones it is in), of
        the `types` asked for, in creation order, paged by an opaque cursor."""
        types = set(_list(params.get("types"))) or {"public_channel"}
        visible = [
            c
            for c in self.workspace.channels.values()
            if not c.get("is_im")
            and ("private_channel" if c["is_private"] else "public_channel") in types
            and (not c["is_private"] or BOT_USER in c["members"])
            and not (truthy(params.get("exclude_archived")) and c["is_archived"])
        ]
        cursor = params.get("cursor")
        start = int(history.decode_cursor(cursor, "channel")) if cursor else 0
        try:
            limit = min(max(int(params.get("limit") or LIST_LIMIT), 1), LIST_MAX)
        except ValueError as error:
            raise SlackError("invalid_limit") from error
        page = visible[start : start + limit]
        more = start + limit < len(visible)
        cursor = history.encode_cursor("channel", str(start + limit)) if more else ""
        return {
            "channels": [
                self._channel_info(c) | {"is_member": BOT_USER in c["members"]} for c in page
            ],
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversations_history(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"))
        return history.history(channel["messages"], params)

    def _conversations_replies(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"))
        return history.replies(channel["messages"], params)

    def _conversations_archive(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"))
        if channel.get("is_archived"):
            raise SlackError("already_archived")
        channel["is_archived"] = True
        return {}

    def _conversations_members(self, params: dict) -> dict:
        channel = self._channel(params.get("channel"), member=True)
        return {"members": sorted(channel["members"]), "response_metadata": {"next_cursor": ""}}

    def _conversations_set_topic(self, params: dict) -> dict:
        channel = self._open_channel(params.get("channel"))
        topic = params.get("topic", "")
        if len(topic) > 250:
            raise SlackError("too_long")
        channel["topic"] = topic
        return {"channel": self._channel_info(channel)}

    def _chat_post_message(self, params: dict) -> dict:
        return self._post(params)

    def _chat_post_ephemeral(self, params: dict) -> dict:
        user = params.get("user")
        channel = self._channel(params.get("channel"))
        if user not in channel["members"]:
            raise SlackError("user_not_in_channel")
        return {"message_ts": self._post(params, ephemeral_for=user)["ts"]}

    def _chat_update(self, params: dict) -> dict:
        channel = self._open_channel(params.get("channel"))
        message = self.workspace.message(channel["id"], params.get("ts", ""))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("bot_id") != BOT_ID:
            raise SlackError("cant_update_message")
        validate_blocks(params.get("blocks"), limit=MESSAGE_BLOCKS)
        message.update(
            text=params.get("text", message["text"]),
            blocks=params.get("blocks") or [],
            edited={"user": BOT_USER, "ts": self.workspace.next_ts()},
        )
        return {"channel": channel["id"], "ts": message["ts"]}

    def _pins_add(self, params: dict) -> dict:
        channel = self._open_channel(params.get("channel"))
        ts = params.get("timestamp", "")
        if self.workspace.message(channel["id"], ts) is None:
            raise SlackError("message_not_found")
        if ts in channel["pins"]:
            raise SlackError("already_pinned")
        self.workspace.set_pinned(channel["id"], ts)
        return {}

    def _usergroups_users_list(self, params: dict) -> dict:
        group = params.get("usergroup")
        if group not in self.workspace.usergroups:
            raise SlackError("no_such_subteam")
        return {"users": list(self.workspace.usergroups[group])}

    def _users_info(self, params: dict) -> dict:
        user = self.workspace.users.get(params.get("user", ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}

    def _users_list(self, _params: dict) -> dict:
        members = list(self.workspace.users.values())
        return {"members": members, "response_metadata": {"next_cursor": ""}}

    def _views_open(self, params: dict) -> dict:
        if not self.workspace.use_trigger(params.get("trigger_id", "")):
            raise SlackError("expired_trigger_id")
        return {"view": self._store_view(params.get("view"))}

    def _views_update(self, params: dict) -> dict:
        view_id = params.get("view_id")
        if view_id not in self.workspace.views:
            raise SlackError("not_found")
        return {"view": self._store_view(params.get("view"), view_id)}

    def _views_publish(self, params: dict) -> dict:
        """The Home tab of one person; `hash`, when given, must be the one last published."""
        user = self.workspace.users.get(params.get("user_id") or "")
        if user is None or user["deleted"] or user["is_bot"]:
            raise SlackError("invalid_arguments")  # Slack: "invalid `user_id`"
        view = params.get("view")
        validate_home_view(view)
        published = self.workspace.home_views.get(user["id"])
        if params.get("hash") and (published is None or published["hash"] != params["hash"]):
            raise SlackError("hash_conflict")
        view_id = published["id"] if published else f"V{self.workspace.next_number():08d}"
        stored = {**view, "id": view_id, "hash": str(self.workspace.next_number())}
        self.workspace.home_views[user["id"]] = stored
        return {"view": stored}

    def _files_get_upload_url_external(self, params: dict) -> dict:
        file_id = f"F{self.workspace.next_number():08d}"
        self.workspace.files[file_id] = {
            "id": file_id,
            "name": params.get("filename"),
            "content": None,
        }
        return {"upload_url": f"{self._base_url()}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, params: dict) -> dict:
        files = params.get("files")
        try:
            files = json.loads(files) if isinstance(files, str) else files
        except json.JSONDecodeError as error:
            raise SlackError("invalid_arguments") from error
        for item in files or []:
            stored = self.workspace.files.get(item.get("id"))
            if stored is None or stored["content"] is None:
                raise SlackError("file_not_found")
            stored["title"] = item.get("title")
            if params.get("channel_id"):
                self._share_file(self._channel(params["channel_id"]), stored, params)
        return {"files": files}

    def _share_file(self, channel: dict, stored: dict, params: dict) -> None:
        message = {
            "ts": self.workspace.next_ts(),
            "type": "message",
            "bot_id": BOT_ID,
            "text": params.get("initial_comment", ""),
            "files": [stored["name"]],
            "blocks": [],
        }
        self.workspace.add_message(channel["id"], message)


def _list(value) -> list[str]:
    if isinstance(value, list):
        return value
    return [v for v in str(value or "").split(",") if v]
