"""The bot's Home tab, one view per person: the Declare button, their roles, the update
drafts waiting for their decision and the open incidents.

A Home tab holds at most 100 blocks: what does not fit ends in "…and N more".
"""

from __future__ import annotations

from collections.abc import Callable

from bot.incidents import IncidentSnapshot
from bot.incidents.privacy import Viewer, shown_to
from bot.incidents.updates import Draft
from bot.slack.blocks.common import (
    HEADER_LIMIT,
    SECTION_LIMIT,
    STATUS_EMOJI,
    context,
    headline,
    plain,
    section,
    slack_date,
)
from bot.slack.blocks.updates import decision_buttons
from bot.slack.text import channel, escape, for_executives, user

VIEW_BLOCKS = 100
# Drafts take two blocks each; whatever they leave, down to this many, lists incidents.
INCIDENT_ROWS_KEPT = 20


def home_view(viewer: Viewer, incidents: list[IncidentSnapshot], waiting: list[Draft]) -> dict:
    """`incidents`: the open ones, most severe first; `waiting`: drafts `viewer` decides;
    `viewer`: whose Home it is, with the private war rooms they are in."""
    blocks: list[dict] = [
        {"type": "header", "text": plain("🚨 Incidents", HEADER_LIMIT)},
        {"type": "actions", "block_id": "home", "elements": [declare_button()]},
        section(your_roles(viewer, incidents)),
    ]
    if waiting:
        blocks.append(section(f"*Waiting for your approval* ({len(waiting)})"))
        room = VIEW_BLOCKS - len(blocks) - 2 - INCIDENT_ROWS_KEPT
        blocks += fit([draft_rows(d, viewer) for d in waiting], room, _more("drafts waiting"))
    blocks += [{"type": "divider"}, section(f"*Open incidents* ({len(incidents)})")]
    if not incidents:
        blocks.append(context("No open incidents. 🌤️"))
    rows = [[incident_row(s, viewer)] for s in incidents]
    blocks += fit(rows, VIEW_BLOCKS - len(blocks), _more("open incidents"))
    return {"type": "home", "callback_id": "home", "blocks": blocks}


def declare_button() -> dict:
    return {
        "type": "button",
        "action_id": "home_declare",
        "style": "danger",
        "text": plain("Declare an incident"),
    }


def your_roles(viewer: Viewer, incidents: list[IncidentSnapshot]) -> str:
    lines = []
    for snapshot in incidents:
        titles = [
            role.title
            for key, role in snapshot.playbook.roles.items()
            if snapshot.roles.get(key) == viewer.user
        ]
        if titles:
            room = channel(snapshot.incident.channel_id)
            lines.append(
                f"• {escape(' and '.join(titles))} of *{headline(snapshot, viewer)}* — {room}"
            )
    if not lines:
        return "*Your roles*\nYou hold no role in an open incident."
    return within(["*Your roles*", *lines], SECTION_LIMIT, "roles")


def draft_rows(draft: Draft, viewer: Viewer) -> list[dict]:
    """A draft `viewer` decides on: they hold a role in its incident."""
    snapshot, update = draft.snapshot, draft.update
    kind = "Final stakeholder update" if update.final else "Stakeholder update"
    room = channel(snapshot.incident.channel_id)
    return [
        section(
            f"📣 *{kind} — {headline(snapshot, viewer)}* ({room})\n{for_executives(update.text)}"
        ),
        decision_buttons(update.id),
    ]


def incident_row(snapshot: IncidentSnapshot, viewer: Viewer) -> dict:
    incident = snapshot.incident
    if not shown_to(snapshot, viewer):
        return section(headline(snapshot, viewer))
    holders = " · ".join(
        f"{escape(role.title)} {user(snapshot.roles.get(key))}"
        for key, role in snapshot.playbook.roles.items()
    )
    status = f"{STATUS_EMOJI.get(incident.status, '')} {incident.status}"
    lines = [
        f"*{headline(snapshot, viewer)}*",
        f"{status} · {channel(incident.channel_id)}",
        holders,
    ]
    if incident.next_update_due:
        lines.append(f"📣 Next update due {slack_date(incident.next_update_due, '{time}')}")
    elif snapshot.major:
        lines.append("📣 An update draft is waiting for approval")
    return section("\n".join(lines))


def fit(items: list[list[dict]], room: int, more: Callable[[int], dict]) -> list[dict]:
    """As many items (each a few blocks) as fit in `room` blocks; if some do not, the
    last block says how many more there are."""
    out: list[dict] = []
    for shown, item in enumerate(items):
        later = len(items) - shown - 1
        if len(out) + len(item) + (1 if later else 0) > room:
            return [*out, more(len(items) - shown)]
        out += item
    return out


def within(lines: list[str], limit: int, what: str) -> str:
    """Lines joined up to `limit` characters, ending in "…and N more" when some are cut."""
    text = lines[0]
    for shown, line in enumerate(lines[1:], start=1):
        ending = _more_text(len(lines) - shown, what)
        reserved = len(ending) + 1 if shown < len(lines) - 1 else 0
        if len(text) + 1 + len(line) + reserved > limit:
            return f"{text}\n{ending}"
        text += f"\n{line}"
    return text


def _more(what: str) -> Callable[[int], dict]:
    return lambda left: context(_more_text(left, what))


def _more_text(left: int, what: str) -> str:
    return f"…and {left} more {what}"
