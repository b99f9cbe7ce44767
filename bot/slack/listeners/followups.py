"""After the storm: the review's Fill in button and form, the action items' buttons and
forms, and the **Add as action item** message shortcut."""

from __future__ import annotations

import json
from datetime import date

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.flows.reply import Reply
from bot.slack.listeners import Deps
from bot.slack.listeners.views import required_text, submitted

ADD_AS_ACTION_ITEM = "add_action_item"  # the shortcut's callback ID in manifest.yaml


def register(app: AsyncApp, deps: Deps) -> None:
    register_review(app, deps)
    register_actions(app, deps)
    register_shortcut(app, deps)


def _in_room(deps: Deps, body: dict, channel: str | None = None) -> Reply:
    channel = channel or body.get("channel", {}).get("id")
    return Reply(deps.gateway, body["user"]["id"], channel=channel)


def register_review(app: AsyncApp, deps: Deps) -> None:
    @app.action("review_fill")
    async def review_fill(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        channel = body.get("channel", {}).get("id")
        work = deps.reviewing.open_form(
            body["trigger_id"], int(action["value"]), channel, body["user"]["id"]
        )
        deps.run_for(_in_room(deps, body), work, "review form")

    @app.view("review_fill")
    async def review_saved(ack: AsyncAck, body: dict, view: dict) -> None:
        await ack()
        metadata = json.loads(view["private_metadata"])
        sections = {
            name: submitted(view, f"section_{index}").get("value") or ""
            for index, name in enumerate(metadata["sections"])
        }
        user = body["user"]["id"]
        work = deps.reviewing.save(metadata["incident"], sections, user)
        deps.run_for(Reply(deps.gateway, user, channel=metadata.get("channel")), work, "review")


def register_actions(app: AsyncApp, deps: Deps) -> None:
    @app.action("action_done")
    async def action_done(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        # The list is a private answer: marking one done replaces it in place.
        reply = Reply(deps.gateway, body["user"]["id"], body.get("response_url"))
        work = deps.followups.done(reply, int(action["value"]), body["user"]["id"])
        deps.run_for(reply, work, "action done")

    @app.action("action_reassign")
    async def action_reassign(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        channel = body.get("channel", {}).get("id")
        work = deps.followups.open_reassign(
            body["trigger_id"], int(action["value"]), channel, body["user"]["id"]
        )
        deps.run_for(_in_room(deps, body), work, "reassign form")

    @app.view("action_reassign")
    async def action_reassigned(ack: AsyncAck, body: dict, view: dict) -> None:
        await ack()
        metadata = json.loads(view["private_metadata"])
        owner = submitted(view, "owner")["selected_user"]
        user = body["user"]["id"]
        work = deps.followups.reassign(metadata["item"], owner, user)
        deps.run_for(_in_room(deps, body, metadata.get("channel")), work, "reassign")


def register_shortcut(app: AsyncApp, deps: Deps) -> None:
    """**Add as action item** on a message: a form holding its text, then the new item."""

    @app.shortcut(ADD_AS_ACTION_ITEM)
    async def add_as_action_item(ack: AsyncAck, body: dict) -> None:
        await ack()
        reply = Reply(deps.gateway, body["user"]["id"], body.get("response_url"))
        work = deps.followups.open_form_from_message(
            reply, body["trigger_id"], body["channel"]["id"], body.get("message", {})
        )
        deps.run_for(reply, work, "action item form")

    @app.view("action_add")
    async def action_added(ack: AsyncAck, body: dict, view: dict) -> None:
        text = await required_text(ack, view, "text", "Say what is to be done.")
        if text is None:
            return
        metadata = json.loads(view["private_metadata"])
        due = submitted(view, "due").get("selected_date")
        user = body["user"]["id"]
        work = deps.followups.add(
            metadata["incident"],
            text,
            user,
            owner=submitted(view, "owner").get("selected_user"),
            due=date.fromisoformat(due) if due else None,
            permalink=metadata.get("permalink"),
        )
        deps.run_for(_in_room(deps, body, metadata.get("channel")), work, "add action item")
