"""Lists of open incidents: `/incident list [page]` and the broadcast channel's pointer.

Both show each incident as the person reading may see it: a private incident they are not
a member of is only its reference.
"""

from __future__ import annotations

from bot.incidents import IncidentSnapshot
from bot.incidents.privacy import Viewer, shown_to
from bot.slack.blocks.common import (
    STATUS_EMOJI,
    context,
    headline,
    section,
)
from bot.slack.text import channel, user

PAGE_SIZE = 20  # rows a page: one section each, so a page is 22 blocks of Slack's 50
POINTER_ROWS = 10  # the pointer names the most severe; `/incident list` shows the rest


def pages(snapshots: list[IncidentSnapshot]) -> int:
    return max(1, -(-len(snapshots) // PAGE_SIZE))


def on_page(snapshots: list[IncidentSnapshot], number: int) -> list[IncidentSnapshot]:
    """Page `number` (from 1) of the open incidents, as `/incident list` orders them."""
    return snapshots[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]


def open_incidents(
    snapshots: list[IncidentSnapshot], number: int, viewer: Viewer
) -> tuple[str, list]:
    """Page `number` of `snapshots` (all open, most severe first, then newest), as `viewer`
    may see them, saying how many more there are and how to see them."""
    if not snapshots:
        return "No open incidents. 🌤️", [section("No open incidents. 🌤️")]
    last = pages(snapshots)
    if number > last:
        text = (
            f"There is no page {number}: the {len(snapshots)} open incidents fill "
            f"{last} page{'s' if last > 1 else ''}. `/incident list {last}` shows the last."
        )
        return text, [section(text)]
    text = f"*Open incidents* ({len(snapshots)})" + (
        f" · page {number} of {last}" if last > 1 else ""
    )
    blocks = [section(text)]
    blocks += [section(_row(s, viewer)) for s in on_page(snapshots, number)]
    later = len(snapshots) - number * PAGE_SIZE
    if later > 0:
        blocks.append(context(f"…and {later} more: `/incident list {number + 1}`"))
    return text, blocks


def _row(snapshot: IncidentSnapshot, viewer: Viewer) -> str:
    incident = snapshot.incident
    if not shown_to(snapshot, viewer):
        return f"• *{headline(snapshot, viewer)}*"
    room = "private" if incident.private else channel(incident.channel_id)
    return (
        f"• {STATUS_EMOJI.get(incident.status, '')} *{headline(snapshot, viewer)}* — "
        f"{incident.status}, IC {user(snapshot.commander)}, {room}"
    )


def broadcast_pointer(snapshots: list[IncidentSnapshot], viewer: Viewer) -> str:
    """Where questions go, for someone who posted in the executives' read-only channel."""
    lines = [
        "This channel is read-only: it carries the incident updates. "
        "Questions go to each incident's comms lead, so the responders can keep working:"
    ]
    for s in snapshots[:POINTER_ROWS]:
        ask = f"`/incident ask {s.id} <question>`"
        if shown_to(s, viewer):
            comms = user(s.roles.get("comms") or s.commander)
            lines.append(f"• *{headline(s, viewer)}*: {comms} — {ask}")
        else:
            lines.append(f"• *{headline(s, viewer)}*: its comms lead — {ask}")
    if len(snapshots) > POINTER_ROWS:
        lines.append(f"• …and {len(snapshots) - POINTER_ROWS} more: `/incident list` shows them.")
    if not snapshots:
        lines.append("• No incident is open right now.")
    return "\n".join(lines)
