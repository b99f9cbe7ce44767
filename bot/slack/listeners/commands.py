"""`/incident`: parse on the ack path; answer help/list/usage at once; the rest after the ack."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.incidents import IncidentError
from bot.incidents.lifecycle import IncidentStatus
from bot.slack import blocks
from bot.slack.commands import Command, UsageError, help_text, parse
from bot.slack.flows import Reply
from bot.slack.listeners import Deps
from bot.slack.text import escape, truncate


def register(app: AsyncApp, deps: Deps) -> None:
    async def incident_command(ack: AsyncAck, body: dict) -> None:
        await acknowledge_command(deps, ack, body)

    app.command("/incident")(incident_command)


async def acknowledge_command(deps: Deps, ack: AsyncAck, body: dict) -> None:
    try:
        command = parse(body.get("text", ""))
    except UsageError as error:
        await ack(text=f"{error}\n\n{help_text()}")
        return
    if command.name == "help":
        await ack(text=help_text())
        return
    if command.name == "oncall":
        await ack(text=deps.paging.on_call())  # the rota is config: no I/O, so in the ack
        return
    if command.name == "list" and (recent := deps.service.recent_open()) is not None:
        await ack(text=blocks.open_incidents(recent))  # fresh enough: answer in the ack
        return
    if command.name == "declare" and command.args["title"]:
        await ack(
            text=f"⏳ Opening a war room for *{escape(truncate(command.args['title'], 150))}*…"
        )
    else:
        await ack()
    reply = Reply(deps.gateway, body["user_id"], body.get("response_url"), body.get("channel_id"))
    deps.run_for(reply, run_command(deps, reply, command, body), name=f"/incident {command.name}")


async def run_command(deps: Deps, reply: Reply, command: Command, body: dict) -> None:
    args, user = command.args, body["user_id"]
    war_room, service = deps.war_room, deps.service
    if command.name == "list":
        # Answered through response_url, so the ack path never waits on the database.
        await reply(blocks.open_incidents(await service.list_open()))
        return
    if command.name == "ask":
        incident = await incident_for_question(deps, args["incident"], body.get("channel_id"))
        await war_room.ask(reply, incident, args["question"])
        return
    if command.name == "declare":
        if args["title"]:
            await war_room.declare(
                reply, title=args["title"], severity=args["severity"], playbook=args["playbook"]
            )
        else:
            await open_declare_modal(deps, body, args)
        return
    here = await war_room.incident_here(body.get("channel_id"))
    incident = here.id
    if command.name == "note":
        await war_room.note(here, user, args["text"])
        return
    if command.name == "update":
        await war_room.draft_update(incident)
        return
    if command.name == "report":
        await war_room.post_review(here, user)
        return
    if command.name == "timeline":
        if args["export"]:
            await war_room.export_timeline(here, user)
        else:
            await war_room.show_timeline(reply, incident, args["page"])
        return
    if command.name == "assign":
        assignee = await war_room.resolve_user(args["user_id"], args["user_name"])
        change = await service.assign(incident, args["role"], assignee, by=user)
    elif command.name == "status":
        change = await service.set_status(incident, args["status"], by=user, note=args["note"])
    elif command.name == "severity":
        change = await service.set_severity(incident, args["severity"], by=user)
    elif command.name == "resolve":
        change = await service.set_status(
            incident, IncidentStatus.RESOLVED, by=user, note=args["summary"]
        )
    elif command.name == "close":
        change = await service.close(incident, by=user)
    else:  # pragma: no cover - every registered subcommand is handled above
        raise AssertionError(command.name)
    await war_room.publish(change)


async def incident_for_question(deps: Deps, number: int | None, channel_id: str | None) -> int:
    """The incident named, else the war room's, else the only open one."""
    if number is not None:
        return number
    here = await deps.service.find_by_channel(channel_id) if channel_id else None
    if here is not None:
        return here.id
    open_now = await deps.service.list_open()
    if len(open_now) == 1:
        return open_now[0].id
    numbers = ", ".join(str(s.id) for s in open_now) or "none open"
    raise IncidentError(
        f"Which incident? Start with its number: `/incident ask 3 …` (open: {numbers})."
    )


async def open_declare_modal(deps: Deps, body: dict, args: dict) -> None:
    playbook = deps.service.playbook_for(args["playbook"])
    metadata = {"response_url": body.get("response_url"), "channel": body.get("channel_id")}
    view = blocks.declare_modal(deps.playbooks, playbook, metadata)
    if args["severity"]:
        severity = deps.service.check_severity(playbook, args["severity"])
        severity_block = next(b for b in view["blocks"] if b.get("block_id") == "severity")
        severity_block["element"]["initial_option"] = next(
            o for o in severity_block["element"]["options"] if o["value"] == severity
        )
    await deps.gateway.open_view(body["trigger_id"], view)
