"""Form submissions: declare an incident, hand over a role, edit or skip an update.

Text typed into a form arrives raw, unlike message and command text: it is brought into
Slack's dialect here, once (`from_typed`), so everything people write is stored alike."""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.flows.reply import Reply
from bot.slack.listeners import Deps
from bot.slack.text import from_typed


def submitted(view: dict, block: str) -> dict:
    return view["state"]["values"].get(block, {}).get("value", {})


def typed(view: dict, block: str) -> str:
    """A text input's value as said text (see the module's note)."""
    return from_typed((submitted(view, block).get("value") or "").strip())


async def required_text(ack: AsyncAck, view: dict, block: str, missing: str) -> str | None:
    """The block's text, or None after answering the form with `missing` under that block."""
    text = typed(view, block)
    if not text:
        await ack(response_action="errors", errors={block: missing})
        return None
    await ack()
    return text


def register(app: AsyncApp, deps: Deps) -> None:
    register_incident_forms(app, deps)
    register_update_forms(app, deps)


def register_incident_forms(app: AsyncApp, deps: Deps) -> None:
    @app.view("declare")
    async def declare_submitted(ack: AsyncAck, body: dict, view: dict) -> None:
        title = await required_text(ack, view, "title", "Say what is broken.")
        if title is None:
            return
        metadata = json.loads(view.get("private_metadata") or "{}")
        severity = (submitted(view, "severity").get("selected_option") or {}).get("value")
        private = bool(submitted(view, "private").get("selected_options"))
        reply = Reply(
            deps.gateway, body["user"]["id"], metadata.get("response_url"), metadata.get("channel")
        )
        declaration = {
            "title": title,
            "severity": severity,
            "playbook": metadata.get("playbook"),
            "impact": typed(view, "impact"),
            "private": private,
        }
        if "alert_group" in metadata:  # opened from an alert triage message
            work = deps.triage.declared(reply, metadata["alert_group"], **declaration)
        else:
            work = deps.declaring.declare(reply, **declaration)
        deps.run_for(reply, work, "declare (form)")

    @app.view("handover")
    async def handover_submitted(ack: AsyncAck, body: dict, view: dict) -> None:
        await ack()
        metadata = json.loads(view["private_metadata"])
        role = submitted(view, "role")["selected_option"]["value"]
        assignee = submitted(view, "user")["selected_user"]
        user = body["user"]["id"]
        reply = Reply(deps.gateway, user, channel=metadata["channel"])
        work = deps.changes.assign(metadata["incident"], role, assignee, by=user)
        deps.run_for(reply, work, "handover (form)")


def register_update_forms(app: AsyncApp, deps: Deps) -> None:
    @app.view("update_edit")
    async def update_edit_submitted(ack: AsyncAck, body: dict, view: dict) -> None:
        text = await required_text(ack, view, "text", "The update cannot be empty.")
        if text is None:
            return
        metadata = json.loads(view["private_metadata"])
        user = body["user"]["id"]
        reply = Reply(deps.gateway, user)
        work = deps.updates.approve(metadata["update"], user, text, metadata.get("message_ts"))
        deps.run_for(reply, work, "send edited update")

    @app.view("update_skip")
    async def update_skip_submitted(ack: AsyncAck, body: dict, view: dict) -> None:
        reason = await required_text(ack, view, "reason", "Say why, for the timeline.")
        if reason is None:
            return
        metadata = json.loads(view["private_metadata"])
        user = body["user"]["id"]
        reply = Reply(deps.gateway, user)
        work = deps.updates.skip(metadata["update"], user, reason, metadata.get("message_ts"))
        deps.run_for(reply, work, "skip update")
