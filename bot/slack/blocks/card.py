"""The incident card pinned in the war room, and the room's topic."""

from __future__ import annotations

from bot.incidents import IncidentSnapshot, lifecycle
from bot.incidents.lifecycle import IncidentStatus
from bot.slack.blocks.common import (
    HEADER_LIMIT,
    STATUS_EMOJI,
    context,
    drill_mark,
    link_or_text,
    mrkdwn,
    option,
    plain,
    room_headline,
    section,
    slack_date,
)
from bot.slack.text import escape, for_executives, for_room, plain_text, truncate, user


def incident_card(
    snapshot: IncidentSnapshot,
    bridge_url: str | None = None,
    update_overdue: bool = False,
    problem_record: str | None = None,
) -> tuple[str, list]:
    incident, playbook = snapshot.incident, snapshot.playbook
    major = "major" if snapshot.major else "minor"
    status = f"{STATUS_EMOJI.get(incident.status, '')} {incident.status.capitalize()}"
    blocks: list[dict] = [
        {
            "type": "header",
            "text": plain(
                f"{drill_mark(snapshot)}{incident.reference} · {plain_text(incident.title)}",
                HEADER_LIMIT,
            ),
        },
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*Severity*\n{incident.severity} ({major})"),
                mrkdwn(f"*Status*\n{status}"),
                mrkdwn(f"*Playbook*\n{escape(playbook.name)}"),
                mrkdwn(
                    f"*Declared*\n{slack_date(incident.declared_at)} by {user(incident.declared_by)}"
                ),
            ],
        },
        section(
            f"*What counts as {incident.severity}:* {escape(playbook.severities[incident.severity].description)}"
        ),
    ]
    if incident.impact:
        blocks.append(section(f"*Impact:* {for_room(incident.impact)}"))
    if incident.summary and incident.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
        blocks.append(section(f"*Resolution:* {for_room(incident.summary)}"))
    if problem_record:
        blocks.append(section(f"🧩 *Problem record:* {link_or_text(problem_record)}"))
    role_lines = [
        f"*{escape(role.title)}:* {user(snapshot.roles.get(key))}\n_{escape(role.duty)}_"
        for key, role in playbook.roles.items()
    ]
    blocks.append(section("\n".join(role_lines)))
    if bridge_url:
        blocks.append(section(f"📞 *Bridge:* <{bridge_url}|Join the call>"))
    if update_overdue:
        blocks.append(
            section("⏰ *Stakeholder update overdue*: a draft is waiting for the comms lead.")
        )
    elif incident.next_update_due and incident.is_open:
        blocks.append(
            context(
                f"📣 Next stakeholder update due {slack_date(incident.next_update_due, '{time}')}"
            )
        )
    if incident.status != IncidentStatus.CLOSED:
        blocks.append(card_actions(snapshot))
    else:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"card:{incident.id}",
                "elements": [catch_up_button(incident.id)],
            }
        )
    text = f"{room_headline(snapshot)} — {incident.status}"
    return text, blocks


def card_actions(snapshot: IncidentSnapshot) -> dict:
    incident, playbook = snapshot.incident, snapshot.playbook
    value = str(incident.id)
    statuses = [s for s in lifecycle.allowed_next(incident.status) if s != IncidentStatus.CLOSED]
    elements: list[dict] = [
        {
            "type": "button",
            "action_id": "card_handover",
            "text": plain("Hand over a role"),
            "value": value,
        }
    ]
    if statuses:
        elements.append(
            {
                "type": "static_select",
                "action_id": "card_status",
                "placeholder": plain("Change status"),
                "options": [option(s.capitalize(), f"{value}:{s}") for s in statuses],
            }
        )
    elements.append(
        {
            "type": "static_select",
            "action_id": "card_severity",
            "placeholder": plain("Change severity"),
            "options": [
                option(name, f"{value}:{name}", playbook.severities[name].description)
                for name in playbook.severity_names
                if name != incident.severity
            ],
        }
    )
    elements.append(catch_up_button(incident.id))
    return {"type": "actions", "block_id": f"card:{value}", "elements": elements}


def catch_up_button(incident_id: int) -> dict:
    return {
        "type": "button",
        "action_id": "card_catchup",
        "text": plain("Catch me up"),
        "value": str(incident_id),
    }


def war_room_topic(snapshot: IncidentSnapshot) -> str:
    incident = snapshot.incident
    return truncate(
        f"{drill_mark(snapshot)}{incident.reference} · {incident.severity} · {incident.status} · "
        f"{for_executives(incident.title)}"
        f" · IC {user(snapshot.commander)}",
        250,
    )
