"""The page's buttons: Acknowledge, and Take command for the acknowledger."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.flows.reply import Reply
from bot.slack.listeners import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    async def page_acknowledge(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        user = body["user"]["id"]
        dm = body["channel"]["id"]
        message_ts = body["container"]["message_ts"]
        work = deps.paging.acknowledge(int(action["value"]), user, dm, message_ts)
        deps.run_for(Reply(deps.gateway, user), work, "acknowledge page")

    async def page_take_command(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()
        user = body["user"]["id"]
        dm, message_ts = body["channel"]["id"], body["container"]["message_ts"]
        work = deps.paging.take_command(int(action["value"]), user, dm, message_ts)
        deps.run_for(Reply(deps.gateway, user), work, "take command")

    app.action("page_acknowledge")(page_acknowledge)
    app.action("page_take_command")(page_take_command)
