"""Posts announcing what happened: in the war room, the broadcast channel, the response team."""

from __future__ import annotations

from bot.incidents import Change, IncidentSnapshot
from bot.incidents.entries import RoleHandedOver, SeverityChanged, StatusChanged, payload
from bot.incidents.lifecycle import IncidentStatus
from bot.incidents.privacy import EVERYONE, shown_to
from bot.slack.blocks.common import (
    STATUS_EMOJI,
    drill_mark,
    headline,
)
from bot.slack.text import channel, escape, for_room, user


def declared_broadcast(snapshot: IncidentSnapshot) -> str:
    """For the executives' channel: a private incident by its reference, no people, no room."""
    incident = snapshot.incident
    if shown_to(snapshot, EVERYONE):
        who = f"Commander: {user(snapshot.commander)} · War room: {channel(incident.channel_id)}"
    else:
        who = (
            f"In a private war room: `/incident ask {incident.id} <question>` reaches its "
            "comms lead."
        )
    return (
        f"🚨 *Major incident declared — {headline(snapshot, EVERYONE)}*\n{who}\n"
        f"Updates will follow here. Questions go to the comms lead, not the responders."
    )


def response_team_alert(snapshot: IncidentSnapshot) -> str:
    """For the response team's channel: a private incident's commander invites whom they need."""
    incident = snapshot.incident
    if not shown_to(snapshot, EVERYONE):
        return (
            f"🚨 *{headline(snapshot, EVERYONE)}* needs the response team: its commander "
            "invites whom they need to its private war room."
        )
    return (
        f"🚨 *{headline(snapshot, EVERYONE)}* needs the response team.\n"
        f"Commander: {user(snapshot.commander)} · Join {channel(incident.channel_id)}"
    )


def change_in_room(change: Change) -> str:
    """The room's post about a change: each kind worded for the room here and only here."""
    return drill_mark(change.snapshot) + _change_wording(change)


def _change_wording(change: Change) -> str:
    snapshot, actor = change.snapshot, user(change.entry.actor)
    match payload(change.entry):
        case RoleHandedOver(role=key, previous=previous, to=to):
            role = escape(snapshot.playbook.roles[key].title)
            if previous:
                return f"🤝 {actor} handed *{role}* from {user(previous)} to {user(to)}."
            return f"🤝 {actor} made {user(to)} the *{role}*."
        case SeverityChanged(previous=previous, to=to):
            direction = "⬆️" if to < previous else "⬇️"
            major = (
                " This is a *major* incident." if snapshot.major and not change.was_major else ""
            )
            return f"{direction} {actor} changed severity *{previous} → {to}*.{major}"
        case StatusChanged() as moved:
            return _status_in_room(actor, moved)
        case _:
            return for_room(change.entry.text)


def change_done(change: Change) -> str:
    """The stored change as the head of "Done: …" told to whoever made it."""
    snapshot = change.snapshot
    reference = escape(snapshot.incident.reference)
    match payload(change.entry):
        case RoleHandedOver(role=key, to=to):
            return (
                f"made {user(to)} the {escape(snapshot.playbook.roles[key].title)} of {reference}"
            )
        case SeverityChanged(previous=previous, to=to):
            return f"re-rated {reference} {previous} → {to}"
        case StatusChanged(to=to, reopened=True):
            return f"reopened {reference} ({to})"
        case StatusChanged(to=to) if to in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
            return f"{to} {reference}"
        case StatusChanged(to=to):
            return f"moved {reference} to {to}"
        case _:
            return f"changed {reference}"


def _status_in_room(actor: str, moved: StatusChanged) -> str:
    note = f"\n> {for_room(moved.note)}" if moved.note else ""
    if moved.reopened:
        return f"↩️ {actor} *reopened* the incident: now *{moved.to}*.{note}"
    if moved.to == IncidentStatus.RESOLVED:
        return (
            f"✅ {actor} *resolved* the incident.{note}\n"
            "Next: `/incident report` drafts the post-incident review from the timeline."
        )
    if moved.to == IncidentStatus.CLOSED:
        return f"📁 {actor} *closed* the incident. Thank you, everyone."
    emoji = STATUS_EMOJI.get(moved.to, "")
    return f"{emoji} {actor} changed status *{moved.previous} → {moved.to}*.{note}"


def change_broadcast(change: Change) -> str | None:
    """One line for executives; nothing from inside the room (notes stay in the war room),
    and a private incident's people are not named."""
    snapshot = change.snapshot
    title = headline(snapshot, EVERYONE)
    match payload(change.entry):
        case SeverityChanged(previous=previous, to=to):
            if snapshot.major and not change.was_major:
                return None  # announced as a declaration instead
            if not shown_to(snapshot, EVERYONE):
                return f"*{title}*: its severity changed."
            return f"*{title}*: severity changed {previous} → {to}."
        case StatusChanged(to=to, reopened=reopened):
            if reopened:
                return f"↩️ *{title}* has been reopened: {to}."
            if to == IncidentStatus.RESOLVED:
                return f"✅ *{title}* is resolved."
            if to == IncidentStatus.CLOSED:
                return None
            return f"{STATUS_EMOJI.get(to, '')} *{title}*: now {to}."
        case RoleHandedOver(role=key, to=to) if key in ("commander", "comms") and shown_to(
            snapshot, EVERYONE
        ):
            role = snapshot.playbook.roles[key].title
            return f"*{title}*: {escape(role)} is now {user(to)}."
        case _:
            return None


def checklist(snapshot: IncidentSnapshot) -> str:
    playbook = snapshot.playbook
    items = "\n".join(f"☐ {escape(item)}" for item in playbook.checklist)
    return f"{drill_mark(snapshot)}📋 *Checklist ({escape(playbook.name)} playbook)*\n{items}"


def problems_report(problems: list[str]) -> str:
    # Problems are our own words (with mentions we built), not user text.
    lines = "\n".join(f"• {p}" for p in problems)
    return f"⚠️ Some steps did not work and need a hand:\n{lines}"
