"""Events API: war-room messages, edits, deletes, pins and :pushpin: reactions to the timeline;
`user_change` to the people directory.

These listeners run before Slack gets its answer (process_before_response), so an event
answered 200 is already committed; if storing fails, Slack gets a 500 and retries, and the
retry is recognised by its event ID.
"""

from __future__ import annotations

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
from bot.slack.text import message_time

KEY_REACTION = "pushpin"  # reacting with :pushpin: marks a message key, like pinning it

# Message subtypes that are people talking; the rest (joins, topic changes, …) are not.
SPOKEN = {None, "file_share", "thread_broadcast", "me_message", "bot_message"}


def permalink(
    workspace: str | None, channel: str, ts: str, thread_ts: str | None = None
) -> str | None:
    """Slack's permalink format, built here: chat.getPermalink per message would cost a call."""
    if not workspace:
        return None
    link = f"{workspace.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_message(body: dict, event: dict, context: AsyncBoltContext) -> None:
        await message_said(deps, body, event, context.bot_id)

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


async def message_said(deps: Deps, body: dict, event: dict, bot_id: str | None) -> None:
    channel, subtype = event.get("channel"), event.get("subtype")
    if subtype not in SPOKEN and subtype not in ("message_changed", "message_deleted"):
        return
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
    ours = frozenset({bot_id} - {None})
    said = SaidIn(body["event_id"], incident, channel, deps.people.workspace(), ours)
    change = said.change(event)
    if change is not None:
        await deps.timeline.record(change)


@dataclass(frozen=True)
class SaidIn:
    """Reads one message event in a war room into the timeline change it makes, if any:
    for live events and for messages read back from Slack's history alike."""

    event_id: str
    incident: int
    channel: str
    workspace: str | None
    ours: frozenset[str]  # the bot's own IDs: its posts are in the timeline already
    from_history: bool = False  # the messages come from Slack's history, not events

    def change(self, event: dict) -> Change | None:
        subtype = event.get("subtype")
        if subtype == "message_deleted":
            return MessageDeleted(self.event_id, self.incident, event["deleted_ts"])
        message = event.get("message", {}) if subtype == "message_changed" else event
        if message.get("bot_id") in self.ours:
            return None
        link = permalink(self.workspace, self.channel, message["ts"], message.get("thread_ts"))
        if subtype == "message_changed":
            return edited(self.event_id, self.incident, event, message, link)
        return posted(self.event_id, self.incident, message, link, self.from_history)


def edited(
    event_id: str, incident: int, event: dict, message: dict, link: str | None
) -> MessageEdited:
    at = message.get("edited", {}).get("ts") or event.get("event_ts") or message["ts"]
    author = message.get("user") or message.get("bot_id")
    return MessageEdited(
        event_id,
        incident,
        message["ts"],
        message_time(message["ts"]),
        message.get("text", ""),
        message_time(at),
        author,
        link,
    )


def posted(
    event_id: str, incident: int, message: dict, link: str | None, from_history: bool = False
) -> MessagePosted:
    return MessagePosted(
        event_id,
        incident,
        message["ts"],
        message_time(message["ts"]),
        message.get("user") or message.get("bot_id") or "unknown",
        message.get("text", ""),
        message.get("thread_ts"),
        [f.get("name") or f.get("title") or f.get("id", "file") for f in message.get("files", [])],
        link,
        from_history,
    )


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
