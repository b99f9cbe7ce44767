"""Lists of open incidents: `/incident list` and the broadcast channel's pointer."""

from __future__ import annotations

from bot.incidents import IncidentSnapshot
from bot.slack.blocks.common import (
    SECTION_LIMIT,
    STATUS_EMOJI,
    headline,
)
from bot.slack.text import channel, truncate, user


def open_incidents(snapshots: list[IncidentSnapshot]) -> str:
    if not snapshots:
        return "No open incidents. 🌤️"
    lines = ["*Open incidents*"]
    for s in snapshots:
        incident = s.incident
        room = "private" if incident.private else channel(incident.channel_id)
        lines.append(
            f"• {STATUS_EMOJI.get(incident.status, '')} *{headline(s)}* — {incident.status}, "
            f"IC {user(s.commander)}, {room}"
        )
    return truncate("\n".join(lines), SECTION_LIMIT)


def broadcast_pointer(snapshots: list[IncidentSnapshot]) -> str:
    lines = [
        "This channel is read-only: it carries the incident updates. "
        "Questions go to each incident's comms lead, so the responders can keep working:"
    ]
    for s in snapshots:
        lines.append(
            f"• *{headline(s)}*: {user(s.roles.get('comms') or s.commander)} — `/incident ask {s.id} <question>`"
        )
    if not snapshots:
        lines.append("• No incident is open right now.")
    return "\n".join(lines)
