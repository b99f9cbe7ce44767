"""What the fake Slack knows: people, user groups, channels (members, topic, messages,
pins), open views, Home tabs, uploaded files and the trigger IDs it handed out.

`say`, `edit` and `delete` change a channel the way people do, without telling the bot:
what happens while it is down, found later only in `conversations.history`."""

from __future__ import annotations

import itertools
import time

BOT_USER = "UBOT000001"
BOT_ID = "BBOT000001"
TEAM = "T0000WARROOM"
ENTERPRISE = "E0000WARROOM"  # the Enterprise Grid org, for envelopes that carry one
APP_ID = "A0WARROOM"
TOMBSTONE_TEXT = "This message was deleted."
OWNER = "U0000OWNER"  # who made the channels a test sets up without members


class Workspace:
    """One Slack workspace's state. Channels are plain dicts (`members`, `topic`,
    `messages`, `pins`, `is_private`) so tests can read them as Slack's API shows them."""

    def __init__(self):
        self.users: dict[str, dict] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.channels: dict[str, dict] = {}
        self.views: dict[str, dict] = {}
        self.home_views: dict[str, dict] = {}  # user ID -> the Home tab published for them
        self.files: dict[str, dict] = {}
        self._triggers: dict[str, float] = {}
        self._numbers = itertools.count(1)
        self._last_us = 0
        self.add_user(BOT_USER, "warroom", is_bot=True)

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

    def add_channel(
        self,
        name: str,
        members: list[str] = (),
        private: bool = False,
        creator: str | None = None,
    ) -> str:
        """A channel; made by `creator` (by default its first member, else the workspace's
        owner), as `conversations.create` made by the bot records the bot."""
        channel_id = f"C{self.next_number():08d}"
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "creator": creator or (members[0] if members else OWNER),
            "is_private": private,
            "is_archived": False,
            "members": {BOT_USER, *members},
            "topic": "",
            "messages": [],
            "pins": set(),
        }
        return channel_id

    def dm_channel(self, user: str) -> str:
        """The app's direct-message channel with `user`, opened on first use."""
        for channel_id, channel in self.channels.items():
            if channel["name"] == f"dm-{user}":
                return channel_id
        channel_id = self.add_channel(f"dm-{user}", [user], private=True, creator=user)
        self.channels[channel_id]["is_im"] = True  # a DM, not a channel conversations.list shows
        return channel_id

    # -- identifiers -----------------------------------------------------------------------

    def next_number(self) -> int:
        """A fresh number for IDs (channels, views, files, response URLs)."""
        return next(self._numbers)

    def next_ts(self) -> str:
        """A message timestamp: wall-clock seconds, strictly increasing, as Slack's are
        (kept in whole microseconds: float seconds can repeat once printed to six places)."""
        self._last_us = max(time.time_ns() // 1000, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def new_trigger_id(self) -> str:
        trigger = f"{self.next_number()}.trigger"
        self._triggers[trigger] = time.monotonic()
        return trigger

    def use_trigger(self, trigger: str, lifetime: float = 3.0) -> bool:
        """Spend a trigger ID; False when unknown, already used or older than its lifetime."""
        issued = self._triggers.pop(trigger, None)
        return issued is not None and time.monotonic() - issued <= lifetime

    # -- messages --------------------------------------------------------------------------

    def messages(self, channel_id: str) -> list[dict]:
        return self.channels[channel_id]["messages"]

    def message(self, channel_id: str, ts: str) -> dict | None:
        return next((m for m in self.messages(channel_id) if m["ts"] == ts), None)

    def channel_named(self, prefix: str) -> dict | None:
        return next((c for c in self.channels.values() if c["name"].startswith(prefix)), None)

    def add_message(self, channel_id: str, message: dict) -> dict:
        self.messages(channel_id).append(message)
        return message

    def remove_message(self, channel_id: str, ts: str) -> None:
        messages = self.messages(channel_id)
        messages[:] = [m for m in messages if m["ts"] != ts]

    # -- people talking while the bot is not listening ---------------------------------------

    def say(
        self,
        channel_id: str,
        user: str,
        text: str,
        thread_ts: str | None = None,
        files: list[str] | None = None,
    ) -> str:
        """Store a message as Slack keeps it (`text` in Slack's dialect); no event is sent."""
        ts = self.next_ts()
        message = {"type": "message", "user": user, "text": text, "ts": ts, "team": TEAM}
        if thread_ts:
            parent = self.message(channel_id, thread_ts) or {}
            message |= {"thread_ts": thread_ts, "parent_user_id": parent.get("user")}
        if files:
            shared = [
                {"id": f"F{ts.replace('.', '')}{i}", "name": n, "title": n}
                for i, n in enumerate(files)
            ]
            message |= {"subtype": "file_share", "upload": False, "files": shared}
        self.add_message(channel_id, message)
        return ts

    def edit(self, channel_id: str, ts: str, text: str) -> dict:
        """Change a message's text as its author does; returns Slack's `edited` stamp."""
        message = self.message(channel_id, ts)
        message["text"] = text
        message["edited"] = {"user": message.get("user"), "ts": self.next_ts()}
        return message["edited"]

    def delete(self, channel_id: str, ts: str) -> None:
        """Delete a message; a thread parent with replies stays as Slack's tombstone."""
        if not any(m.get("thread_ts") == ts and m["ts"] != ts for m in self.messages(channel_id)):
            self.remove_message(channel_id, ts)
            return
        message = self.message(channel_id, ts)
        message.clear()
        message.update(
            type="message",
            subtype="tombstone",
            text=TOMBSTONE_TEXT,
            user="USLACKBOT",
            hidden=True,
            ts=ts,
            thread_ts=ts,
        )

    def set_pinned(self, channel_id: str, ts: str, pinned: bool = True) -> None:
        pins = self.channels[channel_id]["pins"]
        if pinned:
            pins.add(ts)
        else:
            pins.discard(ts)
