"""Buttons and selects: on the incident card, the update drafts, the timeline pages, and the
playbook picker in the declare form."""

from __future__ import annotations

import json
import re

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.blocks import timeline, updates
from bot.slack.flows.reply import Reply
from bot.slack.listeners import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    register_card(app, deps)
    register_updates(app, deps)


def register_card(app: AsyncApp, deps: Deps) -> None:
    """The card's buttons and selects, the timeline's pages, the declare form's picker."""

    @app.action("card_handover")
    async def card_handover(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        user = body["user"]["id"]
        work = deps.changes.open_handover(body["trigger_id"], int(action["value"]), user)
        deps.run_for(_reply(deps, body), work, "handover form")

    @app.action("card_status")
    async def card_status(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        incident, status = action["selected_option"]["value"].split(":", 1)
        work = deps.changes.set_status(int(incident), status, by=body["user"]["id"])
        deps.run_for(_reply(deps, body), work, "card status")

    @app.action("card_severity")
    async def card_severity(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        incident, severity = action["selected_option"]["value"].split(":", 1)
        work = deps.changes.set_severity(int(incident), severity, by=body["user"]["id"])
        deps.run_for(_reply(deps, body), work, "card severity")

    @app.action("declare_playbook")
    async def declare_playbook(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        view = body["view"]
        metadata = json.loads(view["private_metadata"])
        playbook = action["selected_option"]["value"]
        work = deps.declaring.switch_playbook(view["id"], view.get("hash"), metadata, playbook)
        reply = Reply(deps.gateway, body["user"]["id"], metadata.get("response_url"))
        deps.run_for(reply, work, "declare form")

    @app.action("card_catchup")
    async def card_catchup(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        reply = _reply(deps, body)
        deps.run_for(reply, deps.timeline_views.catch_up(reply, int(action["value"])), "catch up")

    @app.action(re.compile(r"^timeline_page(:earlier|:later)?$"))
    async def timeline_page(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        incident, page = timeline.read_page_value(action["value"])
        # The timeline is an ephemeral answer: turning its page replaces it in place.
        reply = Reply(deps.gateway, body["user"]["id"], body.get("response_url"))
        work = deps.timeline_views.show(reply, incident, page, replace=True)
        deps.run_for(reply, work, "timeline page")


def register_updates(app: AsyncApp, deps: Deps) -> None:
    """Approve, edit or skip a stakeholder update draft."""

    @app.action("update_approve")
    async def update_approve(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        work = deps.updates.approve(
            int(action["value"]), body["user"]["id"], message_ts=_clicked_message(body)
        )
        deps.run_for(_reply(deps, body), work, "approve update")

    @app.action("update_edit")
    async def update_edit(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        work = _open_update_form(deps, body, int(action["value"]), updates.update_edit_modal)
        deps.run_for(_reply(deps, body), work, "edit update")

    @app.action("update_skip")
    async def update_skip(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        work = _open_update_form(deps, body, int(action["value"]), updates.update_skip_modal)
        deps.run_for(_reply(deps, body), work, "skip update")


def _reply(deps: Deps, body: dict) -> Reply:
    # An ephemeral in the war room: the card's response_url would replace the card itself.
    return Reply(deps.gateway, body["user"]["id"], channel=body.get("channel", {}).get("id"))


def _clicked_message(body: dict) -> str | None:
    return body.get("container", {}).get("message_ts") or body.get("message", {}).get("ts")


def _open_update_form(deps: Deps, body: dict, update_id: int, build):
    # Refused before the form opens: only the comms lead or the commander decides.
    user, message_ts = body["user"]["id"], _clicked_message(body)
    return deps.updates.open_form(body["trigger_id"], update_id, user, message_ts, build)
