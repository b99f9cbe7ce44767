"""Block Kit builders: pure functions from domain objects to Slack payloads.

Every user-supplied string goes through `escape` and is cut to Block Kit's limits here.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo

from bot.incidents import Change, IncidentSnapshot, lifecycle
from bot.incidents.entries import (
    EntryKind,
    RoleHandedOver,
    SeverityChanged,
    StatusChanged,
    payload,
)
from bot.incidents.lifecycle import IncidentStatus, UpdateStatus
from bot.incidents.timeline import Highlights, TimelinePage
from bot.incidents.updates import Draft
from bot.playbooks import Playbook, PlaybookLibrary
from bot.slack.text import channel, escape, truncate, user
from bot.store.models import TimelineEntry

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
OPTION_LIMIT = 75

STATUS_EMOJI = {
    "investigating": "🔍",
    "identified": "🎯",
    "monitoring": "👀",
    "resolved": "✅",
    "closed": "📁",
}


def mrkdwn(text: str) -> dict:
    # verbatim: Slack must not auto-link names or mentions in text we did not mark up.
    return {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT), "verbatim": True}


def plain(text: str, limit: int = OPTION_LIMIT) -> dict:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def section(text: str) -> dict:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> dict:
    return {"type": "context", "elements": [mrkdwn(text)]}


def option(label: str, value: str, description: str | None = None) -> dict:
    item = {"text": plain(label), "value": value}
    if description:
        item["description"] = plain(description)
    return item


def slack_date(when: datetime, style: str = "{date_short_pretty} {time}") -> str:
    """A date Slack shows in each reader's own timezone."""
    return f"<!date^{int(when.timestamp())}^{style}|{when:%Y-%m-%d %H:%M} UTC>"


def headline(snapshot: IncidentSnapshot) -> str:
    incident = snapshot.incident
    return f"{incident.reference} · {incident.severity} · {escape(incident.title)}"


# -- the incident card ---------------------------------------------------------------------


def incident_card(
    snapshot: IncidentSnapshot, bridge_url: str | None = None, update_overdue: bool = False
) -> tuple[str, list]:
    incident, playbook = snapshot.incident, snapshot.playbook
    major = "major" if snapshot.major else "minor"
    status = f"{STATUS_EMOJI.get(incident.status, '')} {incident.status.capitalize()}"
    blocks: list[dict] = [
        {
            "type": "header",
            "text": plain(f"{incident.reference} · {incident.title}", HEADER_LIMIT),
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
        blocks.append(section(f"*Impact:* {escape(incident.impact)}"))
    if incident.summary and incident.status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
        blocks.append(section(f"*Resolution:* {escape(incident.summary)}"))
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
    text = f"{headline(snapshot)} — {incident.status}"
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


# -- modals --------------------------------------------------------------------------------


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


# -- messages ------------------------------------------------------------------------------


def war_room_topic(snapshot: IncidentSnapshot) -> str:
    incident = snapshot.incident
    return truncate(
        f"{incident.reference} · {incident.severity} · {incident.status} · {escape(incident.title)}"
        f" · IC {user(snapshot.commander)}",
        250,
    )


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
    """The room's post about a change: each kind worded for the room here and only here."""
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
            return escape(change.entry.text)


def _status_in_room(actor: str, moved: StatusChanged) -> str:
    note = f"\n> {escape(moved.note)}" if moved.note else ""
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
    """One line for executives; nothing from inside the room (notes stay in the war room)."""
    snapshot = change.snapshot
    match payload(change.entry):
        case SeverityChanged(previous=previous, to=to):
            if snapshot.major and not change.was_major:
                return None  # announced as a declaration instead
            return f"*{headline(snapshot)}*: severity changed {previous} → {to}."
        case StatusChanged(to=to, reopened=reopened):
            if reopened:
                return f"↩️ *{headline(snapshot)}* has been reopened: {to}."
            if to == IncidentStatus.RESOLVED:
                return f"✅ *{headline(snapshot)}* is resolved."
            if to == IncidentStatus.CLOSED:
                return None
            return f"{STATUS_EMOJI.get(to, '')} *{headline(snapshot)}*: now {to}."
        case RoleHandedOver(role=key, to=to) if key in ("commander", "comms"):
            role = snapshot.playbook.roles[key].title
            return f"*{headline(snapshot)}*: {escape(role)} is now {user(to)}."
        case _:
            return None


# -- the timeline --------------------------------------------------------------------------

PAGE_ENTRIES = 25
KIND_ICONS = {
    EntryKind.DECLARED: "🚨",
    EntryKind.STATUS: "🔄",
    EntryKind.SEVERITY: "⚠️",
    EntryKind.ROLE: "🤝",
    EntryKind.NOTE: "📝",
    EntryKind.UPDATE: "📣",
    EntryKind.MESSAGE: "💬",
}


def entry_text(entry: TimelineEntry, playbook: Playbook) -> str:
    """One timeline entry in mrkdwn: our own markup for state changes, user text escaped."""
    match payload(entry):
        case RoleHandedOver(role=key, previous=previous, to=to) if key in playbook.roles:
            was = f" (was {user(previous)})" if previous else ""
            return f"{escape(playbook.roles[key].title)}: {user(to)}{was}"
        case StatusChanged(previous=previous, to=to, note=note, reopened=reopened):
            note = f": {escape(truncate(note, 500))}" if note else ""
            return f"{'reopened, ' if reopened else ''}{previous} → *{to}*{note}"
        case SeverityChanged(previous=previous, to=to):
            return f"severity {previous} → *{to}*"
        case _:
            return _said_text(entry)


def _said_text(entry: TimelineEntry) -> str:
    text = escape(truncate(entry.text, 500))
    if entry.thread_ts:
        text = f"↳ {text}"
    if entry.files:
        text += " 📎 " + escape(", ".join(entry.files))
    if entry.edits:
        text += " _(edited)_"
    if entry.permalink:
        text += f" <{entry.permalink}|↗>"
    return text


def entry_line(entry: TimelineEntry, playbook: Playbook, zone: tzinfo) -> str:
    when = entry.at.astimezone(zone).strftime("%d %b %H:%M")
    who = (
        user(entry.actor)
        if entry.actor and entry.actor[0] in "UW"
        else escape(entry.actor or "warroom")
    )
    return f"{KIND_ICONS.get(entry.kind, '•')} `{when}` {who} {entry_text(entry, playbook)}"


def _sections(lines: list[str]) -> list[dict]:
    """Lines packed into as few sections as fit Slack's 3000 characters each."""
    sections, current = [], ""
    for line in lines:
        if current and len(current) + 1 + len(line) > SECTION_LIMIT - 100:
            sections.append(section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        sections.append(section(current))
    return sections


def timeline_page(
    snapshot: IncidentSnapshot, page: TimelinePage, highlights: Highlights, zone: tzinfo
) -> tuple[str, list]:
    """A page of the timeline: the latest key events lead page 1, then the full log."""
    number, pages = page.number, page.pages
    zone_name = getattr(zone, "key", str(zone))
    out: list[dict] = [
        {
            "type": "header",
            "text": plain(f"Timeline · {snapshot.incident.reference}", HEADER_LIMIT),
        },
        context(f"{headline(snapshot)} · times in {escape(zone_name)} · page {number} of {pages}"),
    ]
    if number == 1:
        key = highlights.key_events
        out.append(
            section(
                "*Key events*"
                + ("" if key else "\n_none marked yet: react with :pushpin: or pin a message_")
            )
        )
        out += _sections([entry_line(e, snapshot.playbook, zone) for e in key])
        out.append(section("*Full log*"))
    out += _sections([entry_line(e, snapshot.playbook, zone) for e in page.entries]) or [
        section("_Nothing yet._")
    ]
    buttons = []
    if number > 1:
        buttons.append(
            {
                "type": "button",
                "action_id": "timeline_page",
                "text": plain("◀ Earlier"),
                "value": f"{snapshot.id}:{number - 1}",
            }
        )
    if number < pages:
        buttons.append(
            {
                "type": "button",
                "action_id": "timeline_page",
                "text": plain("Later ▶"),
                "value": f"{snapshot.id}:{number + 1}",
            }
        )
    if buttons:
        out.append({"type": "actions", "block_id": "timeline_pages", "elements": buttons})
    return f"Timeline of {headline(snapshot)}, page {number} of {pages}", out


def catch_up(snapshot: IncidentSnapshot, highlights: Highlights, zone: tzinfo) -> tuple[str, list]:
    incident = snapshot.incident
    latest_status = highlights.latest_status
    status_line = f"*Status:* {STATUS_EMOJI.get(incident.status, '')} {incident.status}"
    note = payload(latest_status).note if latest_status else ""
    if note:
        status_line += f" — {escape(truncate(note, 500))}"
    roles = " · ".join(
        f"{escape(role.title)} {user(snapshot.roles.get(key))}"
        for key, role in snapshot.playbook.roles.items()
    )
    key = highlights.key_events
    out = [
        section(f"*Catching up on {headline(snapshot)}*\n{status_line}\n{roles}"),
        section("*Key events so far*"),
        *(
            _sections([entry_line(e, snapshot.playbook, zone) for e in key])
            or [section("_none yet_")]
        ),
        context("`/incident timeline` shows everything."),
    ]
    return f"Catching up on {headline(snapshot)}", out


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


def checklist(playbook: Playbook) -> str:
    items = "\n".join(f"☐ {escape(item)}" for item in playbook.checklist)
    return f"📋 *Checklist ({escape(playbook.name)} playbook)*\n{items}"


def problems_report(problems: list[str]) -> str:
    # Problems are our own words (with mentions we built), not user text.
    lines = "\n".join(f"• {p}" for p in problems)
    return f"⚠️ Some steps did not work and need a hand:\n{lines}"


# -- stakeholder updates --------------------------------------------------------------------


def draft_message(draft: Draft, broadcast_channel: str | None) -> tuple[str, list]:
    update, snapshot = draft.update, draft.snapshot
    kind = "Final stakeholder update" if update.final else "Stakeholder update"
    audience = (
        f"for {channel(broadcast_channel)}" if broadcast_channel else "(no broadcast channel set)"
    )
    deciders = (
        f"{user(snapshot.roles.get('comms'))} (comms) or {user(snapshot.commander)} (commander)"
    )
    out: list[dict] = [
        section(f"📣 *{kind} draft* {audience} — {escape(snapshot.incident.reference)}"),
        section(escape(update.text)),
    ]
    if update.open_questions:
        questions = "\n".join(
            f"☐ {escape(truncate(q['text'], 300))} — {user(q['by'])}" for q in update.open_questions
        )
        out.append(section(f"*Open questions from stakeholders:*\n{questions}"))
    out.append(
        context(
            f"{deciders} decides. Approve sends it as it stands; Edit lets you reword it first."
        )
    )
    out.append(
        {
            "type": "actions",
            "block_id": f"update:{update.id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "update_approve",
                    "style": "primary",
                    "text": plain("Approve & send"),
                    "value": str(update.id),
                },
                {
                    "type": "button",
                    "action_id": "update_edit",
                    "text": plain("Edit"),
                    "value": str(update.id),
                },
                {
                    "type": "button",
                    "action_id": "update_skip",
                    "text": plain("Skip"),
                    "value": str(update.id),
                },
            ],
        }
    )
    return f"{kind} draft for {headline(snapshot)}", out


def decided_message(draft: Draft) -> tuple[str, list]:
    """What the draft turns into once decided: no buttons left to press."""
    update = draft.update
    when = slack_date(update.decided_at, "{time}") if update.decided_at else "now"
    if update.status == UpdateStatus.SENT:
        verdict = f"✅ Sent by {user(update.decided_by)} at {when}"
    elif update.status == UpdateStatus.SKIPPED:
        verdict = (
            f"⏭️ Skipped by {user(update.decided_by)} at {when}: {escape(update.skip_reason or '')}"
        )
    else:
        verdict = "🗑️ Replaced by a newer draft"
    return verdict, [section(verdict), section(escape(update.text))]


def broadcast_update(draft: Draft) -> str:
    kind = "Final update" if draft.update.final else "Update"
    return f"📣 *{kind} — {headline(draft.snapshot)}*\n{escape(draft.update.text)}"


def update_edit_modal(draft: Draft, message_ts: str | None = None) -> dict:
    return {
        "type": "modal",
        "callback_id": "update_edit",
        "title": plain("Edit the update", 24),
        "submit": plain("Send", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"update": draft.id, "message_ts": message_ts}),
        "blocks": [
            {
                "type": "input",
                "block_id": "text",
                "label": plain("Update for stakeholders"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 2900,
                    "initial_value": truncate(draft.update.text, 2900),
                },
            }
        ],
    }


def update_skip_modal(draft: Draft, message_ts: str | None = None) -> dict:
    return {
        "type": "modal",
        "callback_id": "update_skip",
        "title": plain("Skip this update", 24),
        "submit": plain("Skip", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"update": draft.id, "message_ts": message_ts}),
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": plain("Why skip it? (goes in the timeline)"),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 500},
            }
        ],
    }


def escalation_nudge(draft: Draft) -> str:
    snapshot = draft.snapshot
    return (
        f"⏰ {user(snapshot.commander)}: the stakeholder update for {escape(snapshot.incident.reference)} "
        f"has waited past its deadline. {user(snapshot.roles.get('comms'))}, please approve, edit or skip it."
    )


def question_for_comms(snapshot: IncidentSnapshot, asker: str, text: str) -> str:
    return (
        f"❓ {user(asker)} asks about *{headline(snapshot)}*:\n> {escape(text)}\n"
        f"It will be listed on the next update draft."
    )


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
