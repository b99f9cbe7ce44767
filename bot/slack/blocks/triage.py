"""Block Kit for alert triage: the message in the alerts channel and the dismiss form.

Labels, annotations and names come from monitoring systems: escaped like user text.
"""

from __future__ import annotations

import json

from bot.incidents.alerts import GroupView
from bot.incidents.privacy import EVERYONE, shown_to
from bot.slack.blocks.common import context, mrkdwn, plain, private_headline, section, slack_date
from bot.slack.text import channel, escape, for_room, truncate, user

SHOWN_ALERTS = 10  # a storm shows its first alerts and a count, within Block Kit's limits
SHOWN_LABELS = 12


def triage_message(view: GroupView, decisions: bool = True) -> tuple[str, list]:
    """What fires, since when, its labels; Declare and Dismiss while it is undecided (or,
    without `decisions`, just the alerts: for the war room)."""
    group = view.group
    state = _state_line(view)
    text = f"{state} {escape(view.title)}"
    blocks: list[dict] = [
        section(f"{state} *{escape(view.title)}*"),
        context(
            f"{len(view.firing)} of {len(view.alerts)} alerts firing · first fired "
            f"{slack_date(group.first_fired_at)} · from {escape(group.source)}"
        ),
    ]
    labels = _labels(view)
    if labels:
        blocks.append(section(truncate(labels, 2900)))
    blocks.append(section(_alert_lines(view)))
    decision = _decision(view)
    if decisions and decision:
        blocks.append(context(decision))
    elif decisions and group.status == "firing":
        blocks.append(_buttons(group.id))
    return text, blocks


def _state_line(view: GroupView) -> str:
    if view.group.status == "resolved":
        return "✅ Resolved:"
    return "🔥 Firing:"


def _labels(view: GroupView) -> str:
    common = view.group.common_labels or (view.alerts[0].labels if view.alerts else {})
    shown = list(common.items())[:SHOWN_LABELS]
    return " ".join(f"`{escape(k)}={escape(v)}`" for k, v in shown)


def _alert_lines(view: GroupView) -> str:
    lines = []
    for alert in view.alerts[:SHOWN_ALERTS]:
        mark = "🔥" if alert.status == "firing" else "✅"
        instance = alert.labels.get("instance", alert.fingerprint)
        since = slack_date(alert.starts_at)
        lines.append(f"{mark} {escape(instance)} since {since}")
    more = len(view.alerts) - SHOWN_ALERTS
    if more > 0:
        lines.append(f"…and {more} more")
    return "\n".join(lines) or "No alerts."


def _decision(view: GroupView) -> str | None:
    group = view.group
    if view.incident is not None and not shown_to(view.incident, EVERYONE):
        return f"Declared as {private_headline(view.incident.reference)}"
    if group.incident_id is not None:
        return f"Declared as INC-{group.incident_id}" + (
            f": {channel(view.war_room)}" if view.war_room else ""
        )
    if group.dismissed_by:
        return f"Dismissed by {user(group.dismissed_by)}: {for_room(group.dismissed_reason or '')}"
    return None


def _buttons(group_id: int) -> dict:
    return {
        "type": "actions",
        "block_id": "triage",
        "elements": [
            {
                "type": "button",
                "action_id": "triage_declare",
                "text": plain("Declare"),
                "style": "danger",
                "value": str(group_id),
            },
            {
                "type": "button",
                "action_id": "triage_dismiss",
                "text": plain("Dismiss"),
                "value": str(group_id),
            },
        ],
    }


def dismiss_modal(view: GroupView) -> dict:
    return {
        "type": "modal",
        "callback_id": "triage_dismiss",
        "title": plain("Dismiss alerts", 24),
        "submit": plain("Dismiss", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"group": view.group.id}),
        "blocks": [
            {"type": "section", "text": mrkdwn(f"*{escape(view.title)}*")},
            {
                "type": "input",
                "block_id": "reason",
                "label": plain("Why is this not an incident?"),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 500},
            },
        ],
    }


def resolved_in_room(view: GroupView) -> str:
    return (
        f"✅ The alerts behind this incident resolved: *{escape(view.title)}* "
        f"({len(view.alerts)} alerts). Check before resolving the incident."
    )


def prefill_declare(form: dict, title: str, severity: str | None, impact: str) -> None:
    """Fill the declare form (blocks.declare_modal) from the alerts."""
    for block in form["blocks"]:
        element = block.get("element", {})
        if block.get("block_id") == "title":
            element["initial_value"] = truncate(title, element.get("max_length", 150))
        elif block.get("block_id") == "impact" and impact:
            element["initial_value"] = truncate(impact, element.get("max_length", 2000))
        elif block.get("block_id") == "severity" and severity:
            wanted = [o for o in element["options"] if o["value"] == severity]
            if wanted:  # a severity the playbook does not have keeps the form's default
                element["initial_option"] = wanted[0]
