"""Action items: the list with its buttons, the forms, the owner's messages."""

from __future__ import annotations

import json
from datetime import date

from bot.incidents.actions import ActionState, Reminder
from bot.incidents.privacy import Viewer, shown_to
from bot.slack.blocks.common import context, link_or_text, plain, private_headline, section
from bot.slack.text import escape, for_room, truncate, user
from bot.store.models import ActionItem, Incident, ProblemRecord

MAX_LISTED = 20  # with its buttons each, within 50 blocks a message


def item_line(item: ActionItem) -> str:
    done = item.state == ActionState.DONE
    due = f"due {item.due.isoformat()}" if item.due else "no due date"
    return (
        f"{'✅' if done else '⬜'} *{item.id}.* {for_room(item.text)} — "
        f"{user(item.owner) if item.owner else '_no owner_'}, {due}, {item.state}"
    )


def button(label: str, action_id: str, item_id: int) -> dict:
    return {"type": "button", "action_id": action_id, "text": plain(label), "value": str(item_id)}


def action_list(
    incident: Incident, items: list[ActionItem], problem: ProblemRecord | None
) -> tuple[str, list]:
    text = f"Action items of {incident.reference}"
    record = (
        f"Problem record: {link_or_text(problem.reference)}" if problem else "No problem record yet"
    )
    blocks: list[dict] = [section(f"*{text}* · {record}")]
    if not items:
        blocks.append(context("None yet: `/incident action <text> [@owner] [due YYYY-MM-DD]`."))
    for item in items[:MAX_LISTED]:
        blocks.append(section(item_line(item)))
        if item.state == ActionState.OPEN:
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        button("Done", "action_done", item.id),
                        button("Reassign", "action_reassign", item.id),
                    ],
                }
            )
    if len(items) > MAX_LISTED:
        blocks.append(context(f"…and {len(items) - MAX_LISTED} more."))
    return text, blocks


def action_modal(incident: Incident, text: str, permalink: str | None) -> dict:
    """Add an action item (from a message: its text, ready to edit)."""
    return {
        "type": "modal",
        "callback_id": "action_add",
        "title": plain("Add an action item", 24),
        "submit": plain("Add", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps(
            {"incident": incident.id, "channel": incident.channel_id, "permalink": permalink}
        ),
        "blocks": [
            context(f"For {incident.reference}: {escape(truncate(incident.title, 200))}"),
            {
                "type": "input",
                "block_id": "text",
                "label": plain("What is to be done?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 1000,
                    **({"initial_value": truncate(text, 1000)} if text else {}),
                },
            },
            {
                "type": "input",
                "block_id": "owner",
                "optional": True,
                "label": plain("Owner"),
                "element": {"type": "users_select", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": "due",
                "optional": True,
                "label": plain("Due"),
                "element": {"type": "datepicker", "action_id": "value"},
            },
        ],
    }


def reassign_modal(item: ActionItem, channel_id: str | None) -> dict:
    return {
        "type": "modal",
        "callback_id": "action_reassign",
        "title": plain("Reassign", 24),
        "submit": plain("Reassign", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"item": item.id, "channel": channel_id}),
        "blocks": [
            section(item_line(item)),
            {
                "type": "input",
                "block_id": "owner",
                "label": plain("New owner"),
                "element": {"type": "users_select", "action_id": "value"},
            },
        ],
    }


def added_in_room(item: ActionItem, by: str) -> str:
    return f"📌 <@{by}> added action item {item_line(item)}"


def assigned_to_owner(item: ActionItem, incident: Incident, by: str) -> str:
    """The owner's direct message: a private incident's room is named only to its members."""
    if shown_to(incident, Viewer(item.owner)):
        source = f"{incident.reference} (<#{incident.channel_id}>)"
    else:
        source = private_headline(incident.reference)
    return (
        f"📌 <@{by}> gave you an action item from {source}: {item_line(item)}. "
        "`/incident actions` in the war room lists them; mark it done there."
    )


def reminder(message: Reminder, today: date) -> str:
    lines = [f"⏰ You have {len(message.items)} overdue action item(s) still open:"]
    for item, reference in message.items:
        late = (today - item.due).days if item.due else 0
        lines.append(f"• {reference}: {item_line(item)} ({late} days late)")
    return "\n".join(lines)


def problem_set(record: ProblemRecord, reference: str) -> str:
    return (
        f"🧩 <@{record.set_by}> recorded the problem record for {reference}: "
        f"{link_or_text(record.reference)}"
    )
