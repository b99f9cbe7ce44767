"""Posts announcing what happened: in the war room, the broadcast channel, the response team."""

from __future__ import annotations

from bot.incidents import Change, IncidentSnapshot, lifecycle
from bot.playbooks import Playbook
from bot.slack.blocks.common import (
    STATUS_EMOJI,
    headline,
)
from bot.slack.text import channel, escape, user


def declared_broadcast(snapshot: IncidentSnapshot) -> str:
    incident = snapshot.incident
    room = "a private war room" if incident.private else channel(incident.channel_id)
    return (
        f"🚨 *Major incident declared — {headline(snapshot)}*\n"
        f"Commander: {user(snapshot.commander)} · War room: {room}\n"
        f"Updates will follow here. Questions go to the comms lead, not the responders."
    )


def response_team_alert(snapshot: IncidentSnapshot) -> str:
    incident = snapshot.incident
    return (
        f"🚨 *{headline(snapshot)}* needs the response team.\n"
        f"Commander: {user(snapshot.commander)} · Join {channel(incident.channel_id)}"
    )


def change_in_room(change: Change) -> str:
    entry, snapshot = change.entry, change.snapshot
    actor = user(entry.actor)
    data = entry.data
    if entry.kind == "role":
        role = snapshot.playbook.roles[data["role"]].title
        if data["from"]:
            return f"🤝 {actor} handed *{escape(role)}* from {user(data['from'])} to {user(data['to'])}."
        return f"🤝 {actor} made {user(data['to'])} the *{escape(role)}*."
    if entry.kind == "severity":
        direction = "⬆️" if data["to"] < data["from"] else "⬇️"
        major = " This is a *major* incident." if snapshot.major and not change.was_major else ""
        return f"{direction} {actor} changed severity *{data['from']} → {data['to']}*.{major}"
    if entry.kind == "status":
        note = f"\n> {escape(data['note'])}" if data.get("note") else ""
        if data.get("reopened"):
            return f"↩️ {actor} *reopened* the incident: now *{data['to']}*.{note}"
        if data["to"] == lifecycle.RESOLVED:
            return (
                f"✅ {actor} *resolved* the incident.{note}\n"
                "Next: `/incident report` drafts the post-incident review from the timeline."
            )
        if data["to"] == lifecycle.CLOSED:
            return f"📁 {actor} *closed* the incident. Thank you, everyone."
        return f"{STATUS_EMOJI.get(data['to'], '')} {actor} changed status *{data['from']} → {data['to']}*.{note}"
    return escape(entry.text)


def change_broadcast(change: Change) -> str | None:
    """One line for executives; nothing from inside the room (notes stay in the war room)."""
    entry, snapshot = change.entry, change.snapshot
    data = entry.data
    if entry.kind == "severity":
        if snapshot.major and not change.was_major:
            return None  # announced as a declaration instead
        return f"*{headline(snapshot)}*: severity changed {data['from']} → {data['to']}."
    if entry.kind == "status":
        if data.get("reopened"):
            return f"↩️ *{headline(snapshot)}* has been reopened: {data['to']}."
        if data["to"] == lifecycle.RESOLVED:
            return f"✅ *{headline(snapshot)}* is resolved."
        if data["to"] == lifecycle.CLOSED:
            return None
        return f"{STATUS_EMOJI.get(data['to'], '')} *{headline(snapshot)}*: now {data['to']}."
    if entry.kind == "role" and data["role"] in ("commander", "comms"):
        role = snapshot.playbook.roles[data["role"]].title
        return f"*{headline(snapshot)}*: {escape(role)} is now {user(data['to'])}."
    return None


def checklist(playbook: Playbook) -> str:
    items = "\n".join(f"☐ {escape(item)}" for item in playbook.checklist)
    return f"📋 *Checklist ({escape(playbook.name)} playbook)*\n{items}"


def problems_report(problems: list[str]) -> str:
    # Problems are our own words (with mentions we built), not user text.
    lines = "\n".join(f"• {p}" for p in problems)
    return f"⚠️ Some steps did not work and need a hand:\n{lines}"
