"""Events API: war-room messages, edits, deletes, pins and :pushpin: reactions to the timeline;
`user_change` to the people directory.

These listeners run before Slack gets its answer (process_before_response), so an event
answered 200 is already committed; if storing fails, Slack gets a 500 and retries, and the
retry is recognised by its event ID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.incidents.timeline import (
    Change,
    KeyMarked,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    Timeline,
)
from bot.slack.flows.reply import Reply
from bot.slack.listeners import Deps
from bot.slack.text import message_time, permalink

KEY_REACTION = "pushpin"  # reacting with :pushpin: marks a message key, like pinning it

# Message subtypes that are people talking; the rest (joins, topic changes, …) are not.
SPOKEN = {None, "file_share", "thread_broadcast", "me_message", "bot_message"}


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_message(body: dict, event: dict, context: AsyncBoltContext) -> None:
        await message_said(deps, body, event, context)

    async def on_reaction(body: dict, event: dict) -> None:
        await reaction_changed(deps.timeline, body, event)

    async def on_pin(body: dict, event: dict) -> None:
        await pin_changed(deps.timeline, body, event)

    async def on_user_change(event: dict) -> None:
        deps.people.learn(event["user"])  # a new name, time zone, or a deactivation

    app.event("message")(on_message)
    app.event("reaction_added")(on_reaction)
    app.event("reaction_removed")(on_reaction)
    app.event("pin_added")(on_pin)
    app.event("pin_removed")(on_pin)
    app.event("user_change")(on_user_change)


def register_the_rest(app: AsyncApp) -> None:
    """Any other event (the manifest subscribes to none, but an app's settings can): ignored
    with a 200, since Slack retries anything else and may turn off a failing subscription.
    Registered after every other listener: Bolt tries them in order."""
    app.event(re.compile(".*"))(_ignore)


async def _ignore() -> None:
    pass


async def message_said(deps: Deps, body: dict, event: dict, context: AsyncBoltContext) -> None:
    channel, subtype = event.get("channel"), event.get("subtype")
    if subtype not in SPOKEN and subtype not in ("message_changed", "message_deleted"):
        return
    if subtype is None and "message" in event:
        return  # message_replied without its subtype (Slack's docs warn of it): a notice
    if channel and channel == deps.broadcast_channel:
        if event.get("user") and not event.get("bot_id") and subtype is None:
            # Executives' channel hygiene: point the poster at the comms leads, privately.
            reply = Reply(deps.gateway, event["user"], channel=channel)
            work = deps.stakeholders.point_to_comms(channel, event["user"])
            deps.run_for(reply, work, "broadcast pointer")
        return
    incident = await deps.timeline.incident_for_channel(channel) if channel else None
    if incident is None:
        return
    ours = frozenset({context.bot_id, context.bot_user_id} - {None})
    said = SaidIn(body["event_id"], incident, channel, deps.people.workspace(), ours)
    change = said.change(event)
    if change is not None:
        await deps.timeline.record(change)


@dataclass(frozen=True)
class SaidIn:
    """Reads one message event in a war room into the timeline change it makes, if any.
    Slack's events come in many shapes, some with fields missing: what can be stored is."""

    event_id: str
    incident: int
    channel: str
    workspace: str | None
    ours: frozenset[str]  # the bot's own IDs: its posts are in the timeline already
    from_history: bool = False  # read from the channel's history after downtime

    def change(self, event: dict) -> Change | None:
        subtype = event.get("subtype")
        if subtype == "message_deleted":
            ts = event.get("deleted_ts") or (event.get("previous_message") or {}).get("ts")
            return MessageDeleted(self.event_id, self.incident, ts) if ts else None
        if subtype == "message_changed":
            return self._changed(event)
        message = event
        if not message.get("ts") or self._is_ours(message):
            return None
        files = _file_names(message)
        if message.get("text") is None and not files:
            return None  # nothing was said
        return MessagePosted(
            self.event_id,
            self.incident,
            message["ts"],
            message_time(message["ts"]),
            _author(message) or "unknown",
            message.get("text") or "",
            message.get("thread_ts"),
            files,
            self._link(message),
            self.from_history,
        )

    def _changed(self, event: dict) -> Change | None:
        message = event.get("message") or {}
        ts = message.get("ts") or (event.get("previous_message") or {}).get("ts")
        if not ts:
            return None
        if message.get("subtype") == "tombstone":  # a thread parent deleted, replies kept
            return MessageDeleted(self.event_id, self.incident, ts)
        files = _file_names(message)
        if self._is_ours(message) or (message.get("text") is None and not files):
            return None  # ours (already in the timeline), or no words to keep
        edited = (message.get("edited") or {}).get("ts") or event.get("event_ts") or event.get("ts")
        return MessageEdited(
            self.event_id,
            self.incident,
            ts,
            message_time(ts),
            message.get("text") or "",
            message_time(edited or ts),
            _author(message),
            self._link({**message, "ts": ts}),
            message.get("thread_ts"),
            files,
        )

    def _is_ours(self, message: dict) -> bool:
        return bool({message.get("user"), message.get("bot_id")} & self.ours)

    def _link(self, message: dict) -> str | None:
        return permalink(self.workspace, self.channel, message["ts"], message.get("thread_ts"))


def _author(message: dict) -> str | None:
    return message.get("user") or message.get("bot_id")


def _file_names(message: dict) -> list[str]:
    return [
        f.get("name") or f.get("title") or f.get("id", "file") for f in message.get("files") or []
    ]


async def reaction_changed(timeline: Timeline, body: dict, event: dict) -> None:
    item = event.get("item", {})
    if event.get("reaction") != KEY_REACTION or item.get("type") != "message":
        return
    incident = await timeline.incident_for_channel(item.get("channel", ""))
    if incident is not None:
        added = event["type"] == "reaction_added"
        source = f"reaction:{event.get('user')}"
        await timeline.record(KeyMarked(body["event_id"], incident, item["ts"], source, added))


async def pin_changed(timeline: Timeline, body: dict, event: dict) -> None:
    item = event.get("item", {})
    ts = item.get("message", {}).get("ts") or item.get("ts")
    channel = event.get("channel_id") or item.get("channel")
    incident = await timeline.incident_for_channel(channel or "")
    if incident is not None and ts:
        added = event["type"] == "pin_added"
        await timeline.record(KeyMarked(body["event_id"], incident, ts, "pin", added))
