"""Alert triage buttons (Declare, Dismiss) and the dismiss form."""

from __future__ import annotations

import json

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.flows.reply import Reply
from bot.slack.listeners import Deps
from bot.slack.listeners.views import required_text


def register(app: AsyncApp, deps: Deps) -> None:
    async def triage_declare(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        work = deps.triage.open_declare(body["trigger_id"], int(action["value"]))
        deps.run_for(_reply(deps, body), work, "declare from alerts")

    async def triage_dismiss(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        work = deps.triage.open_dismiss(body["trigger_id"], int(action["value"]))
        deps.run_for(_reply(deps, body), work, "dismiss form")

    async def dismiss_submitted(ack: AsyncAck, body: dict, view: dict) -> None:
        reason = await required_text(ack, view, "reason", "Say why, for the record.")
        if reason is None:
            return
        group = json.loads(view["private_metadata"])["group"]
        user = body["user"]["id"]
        work = deps.triage.dismiss(group, user, reason)
        deps.run_for(Reply(deps.gateway, user), work, "dismiss alerts")

    app.action("triage_declare")(triage_declare)
    app.action("triage_dismiss")(triage_dismiss)
    app.view("triage_dismiss")(dismiss_submitted)


def _reply(deps: Deps, body: dict) -> Reply:
    return Reply(deps.gateway, body["user"]["id"], channel=body.get("channel", {}).get("id"))
