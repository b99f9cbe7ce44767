"""Modals: declare an incident, hand over a role."""

from __future__ import annotations

import json

from bot.incidents import IncidentSnapshot
from bot.playbooks import Playbook, PlaybookLibrary
from bot.slack.blocks.common import (
    context,
    mrkdwn,
    option,
    plain,
)
from bot.slack.text import escape


def severity_options(playbook: Playbook) -> list[dict]:
    return [
        option(
            f"{name}{' · major' if sev.major else ''}",
            name,
            sev.description,
        )
        for name, sev in sorted(playbook.severities.items())
    ]


def declare_modal(playbooks: PlaybookLibrary, chosen: Playbook, metadata: dict) -> dict:
    options = severity_options(chosen)
    criteria = "\n".join(
        f"*{name}*{' (major)' if sev.major else ''}: {escape(sev.description)}"
        for name, sev in sorted(chosen.severities.items())
    )
    blocks: list[dict] = [
        {
            "type": "input",
            "block_id": "title",
            "label": plain("What is broken?"),
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "max_length": 150,
                "placeholder": plain("Checkout API returning 500s"),
            },
        }
    ]
    if len(playbooks.names) > 1:
        blocks.append(
            {
                "type": "section",
                "block_id": "playbook",
                "text": mrkdwn("*Playbook*"),
                "accessory": {
                    "type": "static_select",
                    "action_id": "declare_playbook",
                    "initial_option": option(chosen.name, chosen.name, chosen.description or None),
                    "options": [option(p.name, p.name, p.description or None) for p in playbooks],
                },
            }
        )
    blocks += [
        {
            "type": "input",
            "block_id": "severity",
            "label": plain("Severity"),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "initial_option": next(o for o in options if o["value"] == chosen.initial_severity),
                "options": options,
            },
        },
        context(f"*What counts* ({escape(chosen.name)} playbook):\n{criteria}"),
        {
            "type": "input",
            "block_id": "impact",
            "optional": True,
            "label": plain("Impact: who is affected, how badly?"),
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": 2000,
            },
        },
        {
            "type": "input",
            "block_id": "private",
            "optional": True,
            "label": plain("Visibility"),
            "element": {
                "type": "checkboxes",
                "action_id": "value",
                "options": [option("Private war room (invitees only)", "private")],
                **(
                    {"initial_options": [option("Private war room (invitees only)", "private")]}
                    if chosen.private
                    else {}
                ),
            },
        },
    ]
    return {
        "type": "modal",
        "callback_id": "declare",
        "title": plain("Declare an incident", 24),
        "submit": plain("Declare", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({**metadata, "playbook": chosen.name}),
        "blocks": blocks,
    }


def handover_modal(snapshot: IncidentSnapshot) -> dict:
    playbook = snapshot.playbook
    return {
        "type": "modal",
        "callback_id": "handover",
        "title": plain("Hand over a role", 24),
        "submit": plain("Hand over", 24),
        "close": plain("Cancel", 24),
        # The room travels with the form, so its answer needs no database read on the ack path.
        "private_metadata": json.dumps(
            {"incident": snapshot.id, "channel": snapshot.incident.channel_id}
        ),
        "blocks": [
            {
                "type": "input",
                "block_id": "role",
                "label": plain("Role"),
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": [option(r.title, key, r.duty) for key, r in playbook.roles.items()],
                },
            },
            {
                "type": "input",
                "block_id": "user",
                "label": plain("New holder"),
                "element": {"type": "users_select", "action_id": "value"},
            },
        ],
    }
