"""`/incident`: parse on the ack path and answer what can be answered at once; the
subcommand's handler runs after the ack. Everything per subcommand is in the registry."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.commands import UsageError, help_text, parse, run
from bot.slack.flows.reply import Reply
from bot.slack.listeners import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    async def incident_command(ack: AsyncAck, body: dict) -> None:
        await acknowledge_command(deps, ack, body)

    app.command("/incident")(incident_command)


async def acknowledge_command(deps: Deps, ack: AsyncAck, body: dict) -> None:
    try:
        command = parse(body.get("text", ""))
        acknowledge = command.subcommand.acknowledge
        answer = acknowledge(deps, command.args) if acknowledge else None
    except UsageError as error:
        await ack(text=f"{error}\n\n{help_text()}")
        return
    if answer is None:
        await ack()
    else:
        await ack(text=answer.text)
        if answer.finished:
            return
    reply = Reply(deps.gateway, body["user_id"], body.get("response_url"), body.get("channel_id"))
    deps.run_for(reply, run(deps, reply, command, body), name=f"/incident {command.name}")
