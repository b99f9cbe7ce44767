"""Events API: war-room messages, edits, deletes, pins and :pushpin: reactions to the timeline.

These listeners run before Slack gets its answer (process_before_response), so an event
answered 200 is already committed; if storing fails, Slack gets a 500 and retries, and the
retry is recognised by its event ID.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.incidents.timeline import KeyMarked, MessageDeleted, MessageEdited, MessagePosted
from bot.slack.flows import Reply
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
    timeline = deps.timeline

    async def on_message(body: dict, event: dict, context: AsyncBoltContext) -> None:
        channel, subtype = event.get("channel"), event.get("subtype")
        if subtype not in SPOKEN and subtype not in ("message_changed", "message_deleted"):
            return
        if channel and channel == deps.war_room.config.broadcast_channel:
            if event.get("user") and not event.get("bot_id") and subtype is None:
                # Executives' channel hygiene: point the poster at the comms leads, privately.
                reply = Reply(deps.gateway, event["user"], channel=channel)
                deps.run_for(
                    reply, deps.war_room.point_to_comms(channel, event["user"]), "broadcast pointer"
                )
            return
        incident = await timeline.incident_for_channel(channel) if channel else None
        if incident is None:
            return
        event_id = body["event_id"]
        if subtype == "message_deleted":
            await timeline.record(MessageDeleted(event_id, incident, event["deleted_ts"]))
            return
        message = event.get("message", {}) if subtype == "message_changed" else event
        workspace = await deps.gateway.workspace_url()
        author = message.get("user") or message.get("bot_id")
        if message.get("bot_id") and message.get("bot_id") == context.bot_id:
            return  # our own posts: their changes are already in the timeline
        if subtype == "message_changed":
            edited = message.get("edited", {}).get("ts") or event.get("event_ts") or message["ts"]
            await timeline.record(
                MessageEdited(
                    event_id,
                    incident,
                    message["ts"],
                    message_time(message["ts"]),
                    message.get("text", ""),
                    message_time(edited),
                    author,
                    permalink(workspace, channel, message["ts"], message.get("thread_ts")),
                )
            )
            return
        await timeline.record(
            MessagePosted(
                event_id,
                incident,
                message["ts"],
                message_time(message["ts"]),
                author or "unknown",
                message.get("text", ""),
                message.get("thread_ts"),
                [
                    f.get("name") or f.get("title") or f.get("id", "file")
                    for f in message.get("files", [])
                ],
                permalink(workspace, channel, message["ts"], message.get("thread_ts")),
            )
        )

    async def on_reaction(body: dict, event: dict) -> None:
        item = event.get("item", {})
        if event.get("reaction") != KEY_REACTION or item.get("type") != "message":
            return
        incident = await timeline.incident_for_channel(item.get("channel", ""))
        if incident is not None:
            added = event["type"] == "reaction_added"
            source = f"reaction:{event.get('user')}"
            await timeline.record(KeyMarked(body["event_id"], incident, item["ts"], source, added))

    async def on_pin(body: dict, event: dict) -> None:
        item = event.get("item", {})
        ts = item.get("message", {}).get("ts") or item.get("ts")
        channel = event.get("channel_id") or item.get("channel")
        incident = await timeline.incident_for_channel(channel or "")
        if incident is not None and ts:
            added = event["type"] == "pin_added"
            await timeline.record(KeyMarked(body["event_id"], incident, ts, "pin", added))

    app.event("message")(on_message)
    app.event("reaction_added")(on_reaction)
    app.event("reaction_removed")(on_reaction)
    app.event("pin_added")(on_pin)
    app.event("pin_removed")(on_pin)
