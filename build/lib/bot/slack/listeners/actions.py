"""Buttons and selects: on the incident card, and the playbook picker in the declare form."""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack import blocks
from bot.slack.flows import Reply
from bot.slack.listeners import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    async def card_handover(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        reply = _reply(deps, body)
        deps.run_for(
            reply, open_handover(deps, body["trigger_id"], int(action["value"])), "handover form"
        )

    async def card_status(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        incident, status = action["selected_option"]["value"].split(":", 1)
        change = deps.service.set_status(int(incident), status, by=body["user"]["id"])
        deps.run_for(_reply(deps, body), _publish(deps, change), "card status")

    async def card_severity(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        incident, severity = action["selected_option"]["value"].split(":", 1)
        change = deps.service.set_severity(int(incident), severity, by=body["user"]["id"])
        deps.run_for(_reply(deps, body), _publish(deps, change), "card severity")

    async def declare_playbook(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        view = body["view"]
        metadata = json.loads(view["private_metadata"])
        playbook = deps.service.playbook_for(action["selected_option"]["value"])
        updated = blocks.declare_modal(deps.playbooks, playbook, metadata)
        reply = Reply(deps.gateway, body["user"]["id"], metadata.get("response_url"))
        deps.run_for(
            reply, deps.gateway.update_view(view["id"], updated, view.get("hash")), "declare form"
        )

    async def card_catchup(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        reply = _reply(deps, body)
        deps.run_for(reply, deps.war_room.catch_up(reply, int(action["value"])), "catch up")

    async def timeline_page(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        incident, page = (int(part) for part in action["value"].split(":"))
        # The timeline is an ephemeral answer: turning its page replaces it in place.
        reply = Reply(deps.gateway, body["user"]["id"], body.get("response_url"))
        work = deps.war_room.show_timeline(reply, incident, page, replace=True)
        deps.run_for(reply, work, "timeline page")

    async def update_approve(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        work = deps.war_room.approve(
            int(action["value"]), body["user"]["id"], message_ts=_clicked_message(body)
        )
        deps.run_for(_reply(deps, body), work, "approve update")

    async def update_edit(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        work = open_update_form(deps, body, int(action["value"]), blocks.update_edit_modal)
        deps.run_for(_reply(deps, body), work, "edit update")

    async def update_skip(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        work = open_update_form(deps, body, int(action["value"]), blocks.update_skip_modal)
        deps.run_for(_reply(deps, body), work, "skip update")

    app.action("update_approve")(update_approve)
    app.action("update_edit")(update_edit)
    app.action("update_skip")(update_skip)
    app.action("card_catchup")(card_catchup)
    app.action("timeline_page")(timeline_page)
    app.action("card_handover")(card_handover)
    app.action("card_status")(card_status)
    app.action("card_severity")(card_severity)
    app.action("declare_playbook")(declare_playbook)


def _reply(deps: Deps, body: dict) -> Reply:
    # An ephemeral in the war room: the card's response_url would replace the card itself.
    return Reply(deps.gateway, body["user"]["id"], channel=body.get("channel", {}).get("id"))


async def _publish(deps: Deps, change) -> None:
    await deps.war_room.publish(await change)


def _clicked_message(body: dict) -> str | None:
    return body.get("container", {}).get("message_ts") or body.get("message", {}).get("ts")


async def open_update_form(deps: Deps, body: dict, update_id: int, build) -> None:
    # Refuse before opening the form: only the comms lead or the commander decides.
    draft = await deps.war_room.desk.check_decider(update_id, body["user"]["id"])
    await deps.gateway.open_view(body["trigger_id"], build(draft, _clicked_message(body)))


async def open_handover(deps: Deps, trigger_id: str, incident_id: int) -> None:
    snapshot = await deps.service.get(incident_id)
    await deps.gateway.open_view(trigger_id, blocks.handover_modal(snapshot))
