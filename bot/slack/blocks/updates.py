"""Stakeholder updates: the draft in the war room, its forms, the broadcast, nudges, questions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType

from bot.incidents import IncidentSnapshot
from bot.incidents.lifecycle import IncidentStatus, UpdateStatus
from bot.incidents.privacy import EVERYONE, Viewer, shown_to
from bot.incidents.updates import Draft
from bot.slack.blocks.common import (
    context,
    drill_mark,
    headline,
    plain,
    room_headline,
    section,
    slack_date,
)
from bot.slack.text import (
    channel,
    escape,
    for_executives,
    for_room,
    plain_text,
    shortened,
    truncate,
    user,
)

NO_NAMES: Mapping[str, str] = MappingProxyType({})
# Drafts, decided drafts and broadcasts are what executives read: people and channels by
# name (`names`: the people the text mentions), links by their label, nothing that pings.


def draft_message(
    draft: Draft, broadcast_channel: str | None, names: Mapping[str, str] = NO_NAMES
) -> tuple[str, list]:
    """`broadcast_channel`: where approving sends it (a drill's own when it stays in the room)."""
    update, snapshot = draft.update, draft.snapshot
    kind = "Final stakeholder update" if update.final else "Stakeholder update"
    if snapshot.is_drill and broadcast_channel == snapshot.incident.channel_id:
        audience = "(a drill: approving posts it here, not to the executives)"
    elif broadcast_channel:
        audience = f"for {channel(broadcast_channel)}"
    else:
        audience = "(no broadcast channel set)"
    deciders = (
        f"{user(snapshot.roles.get('comms'))} (comms) or {user(snapshot.commander)} (commander)"
    )
    out: list[dict] = [
        section(
            f"{drill_mark(snapshot)}📣 *{kind} draft* {audience} — "
            f"{escape(snapshot.incident.reference)}"
        ),
        section(for_executives(update.text, names)),
    ]
    if update.open_questions:
        questions = "\n".join(
            f"☐ {for_executives(shortened(q['text'], 300), names)} — {user(q['by'])}"
            for q in update.open_questions
        )
        out.append(section(f"*Open questions from stakeholders:*\n{questions}"))
    out.append(
        context(
            f"{deciders} decides. Approve sends it as it stands; Edit lets you reword it first."
        )
    )
    out.append(decision_buttons(update.id))
    return (
        f"{kind} draft for {room_headline(snapshot)}",
        out,
    )


def decision_buttons(update_id: int) -> dict:
    """Approve, Edit, Skip: the same buttons wherever a draft is shown (war room, Home tab)."""
    value = str(update_id)
    return {
        "type": "actions",
        "block_id": f"update:{value}",
        "elements": [
            {
                "type": "button",
                "action_id": "update_approve",
                "style": "primary",
                "text": plain("Approve & send"),
                "value": value,
            },
            {"type": "button", "action_id": "update_edit", "text": plain("Edit"), "value": value},
            {"type": "button", "action_id": "update_skip", "text": plain("Skip"), "value": value},
        ],
    }


def decided_message(draft: Draft, names: Mapping[str, str] = NO_NAMES) -> tuple[str, list]:
    """What the draft turns into once decided: no buttons left to press."""
    update = draft.update
    when = slack_date(update.decided_at, "{time}") if update.decided_at else "now"
    if update.status == UpdateStatus.SENT:
        verdict = f"✅ Sent by {user(update.decided_by)} at {when}"
    elif update.status == UpdateStatus.SKIPPED:
        verdict = f"⏭️ Skipped by {user(update.decided_by)} at {when}: {for_room(update.skip_reason or '')}"
    else:
        verdict = _retired_verdict(draft)
    verdict = drill_mark(draft.snapshot) + verdict
    return verdict, [section(verdict), section(for_executives(update.text, names))]


def _retired_verdict(draft: Draft) -> str:
    """Why a draft was taken out of play, from its incident as it stands."""
    incident = draft.snapshot.incident
    reference = escape(incident.reference)
    if draft.update.status == UpdateStatus.WITHDRAWN:
        if incident.status == IncidentStatus.CLOSED:
            return f"🚫 Withdrawn, not sent: {reference} was closed"
        return (
            f"🚫 Withdrawn, not sent: {reference} is {incident.severity} now, a minor incident "
            "(updates go to the executives only for major incidents)"
        )
    if draft.update.final and incident.is_open:
        return f"🗑️ Withdrawn, not sent: {reference} was reopened; updates follow the cadence again"
    return "🗑️ Replaced by a newer draft"


def broadcast_update(draft: Draft, names: Mapping[str, str] = NO_NAMES) -> str:
    """For the executives: the words the comms lead approved, under a headline that keeps a
    private incident's title to its war room."""
    kind = "Final update" if draft.update.final else "Update"
    return f"📣 *{kind} — {headline(draft.snapshot, EVERYONE)}*\n{for_executives(draft.update.text, names)}"


def update_edit_modal(
    draft: Draft, message_ts: str | None = None, names: Mapping[str, str] = NO_NAMES
) -> dict:
    """The draft as plain text to reword: what comes back is typed text (see views)."""
    element = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": True,
        "max_length": 2900,
        "initial_value": truncate(plain_text(draft.update.text, names), 2900),
    }
    field = {"block_id": "text", "label": plain("Update for stakeholders"), "element": element}
    return _decision_modal(draft, message_ts, "update_edit", "Edit the update", "Send", field)


def update_skip_modal(
    draft: Draft, message_ts: str | None = None, names: Mapping[str, str] = NO_NAMES
) -> dict:
    del names  # the skip form shows no text of the draft
    element = {"type": "plain_text_input", "action_id": "value", "max_length": 500}
    field = {
        "block_id": "reason",
        "label": plain("Why skip it? (goes in the timeline)"),
        "element": element,
    }
    return _decision_modal(draft, message_ts, "update_skip", "Skip this update", "Skip", field)


def _decision_modal(
    draft: Draft, message_ts: str | None, callback_id: str, title: str, submit: str, field: dict
) -> dict:
    """A one-field form deciding a draft; `message_ts` is where the person clicked."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"update": draft.id, "message_ts": message_ts}),
        "blocks": [{"type": "input", **field}],
    }


def escalation_nudge(draft: Draft) -> str:
    snapshot = draft.snapshot
    return (
        f"{drill_mark(snapshot)}⏰ {user(snapshot.commander)}: the stakeholder update for {escape(snapshot.incident.reference)} "
        f"has waited past its deadline. {user(snapshot.roles.get('comms'))}, please approve, edit or skip it."
    )


def question_for_comms(snapshot: IncidentSnapshot, comms: str, asker: str, text: str) -> str:
    """The direct message to `comms`, who holds a role: the incident shown whole."""
    return (
        f"❓ {user(asker)} asks about *{headline(snapshot, Viewer(comms))}*:\n> {for_room(text)}\n"
        f"It will be listed on the next update draft."
    )


def question_sent(snapshot: IncidentSnapshot, comms: str, viewer: Viewer) -> str:
    """The answer to whoever asked: to someone outside a private incident, not who its
    comms lead is (nor that there is one)."""
    reference = snapshot.incident.reference
    if not shown_to(snapshot, viewer):
        return (
            f"Thanks: your question went to {reference}'s comms lead, "
            "and it will be answered in the next update."
        )
    lead = "comms lead" if snapshot.roles.get("comms") else "commander"
    return (
        f"Thanks: your question went to {reference}'s {lead} {user(comms)}, "
        "and it will be answered in the next update."
    )
