"""Events API: war-room messages, edits, deletes, pins and :pushpin: reactions to the timeline;
`user_change` to the people directory.

These listeners run before Slack gets its answer (process_before_response), so an event
answered 200 is already committed; if storing fails, Slack gets a 500 and retries, and the
retry is recognised by its event ID.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.incidents.timeline import KeyMarked, MessageDeleted, MessageEdited, MessagePosted, Timeline
from bot.slack.flows.reply import Reply
from bot.slack.listeners import Deps
from bot.slack.text import message_time, permalink

KEY_REACTION = "pushpin"  # reacting with :pushpin: marks a message key, like pinning it

# Message subtypes that are people talking; the rest (joins, topic changes, …) are not.
SPOKEN = {None, "file_share", "thread_broadcast", "me_message", "bot_message"}


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
    timeline = deps.timeline
    incident = await timeline.incident_for_channel(channel) if channel else None
    if incident is None:
        return
    event_id = body["event_id"]
    if subtype == "message_deleted":
        await timeline.record(MessageDeleted(event_id, incident, event["deleted_ts"]))
        return
    message = event.get("message", {}) if subtype == "message_changed" else event
    if message.get("bot_id") and message.get("bot_id") == bot_id:
        return  # our own posts: their changes are already in the timeline
    link = permalink(deps.people.workspace(), channel, message["ts"], message.get("thread_ts"))
    if subtype == "message_changed":
        await timeline.record(edited(event_id, incident, event, message, link))
    else:
        await timeline.record(posted(event_id, incident, message, link))


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


def posted(event_id: str, incident: int, message: dict, link: str | None) -> MessagePosted:
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
