"""The timeline as Slack shows it: entries, pages, the catch-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from bot.incidents import IncidentSnapshot
from bot.incidents.entries import (
    EntryKind,
    RoleHandedOver,
    SeverityChanged,
    StatusChanged,
    payload,
)
from bot.incidents.timeline import Highlights, PageTurn, TimelinePage
from bot.playbooks import Playbook
from bot.slack.blocks.common import (
    HEADER_LIMIT,
    SECTION_LIMIT,
    STATUS_EMOJI,
    context,
    plain,
    room_headline,
    section,
)
from bot.slack.text import escape, for_room, shortened, user
from bot.store.models import TimelineEntry

PAGE_ENTRIES = 25
KIND_ICONS = {
    EntryKind.DECLARED: "🚨",
    EntryKind.STATUS: "🔄",
    EntryKind.SEVERITY: "⚠️",
    EntryKind.ROLE: "🤝",
    EntryKind.NOTE: "📝",
    EntryKind.UPDATE: "📣",
    EntryKind.MESSAGE: "💬",
    EntryKind.INJECT: "🧪",
}


def entry_text(entry: TimelineEntry, playbook: Playbook) -> str:
    """One timeline entry in mrkdwn: our own markup for state changes, user text escaped."""
    match payload(entry):
        case RoleHandedOver(role=key, previous=previous, to=to) if key in playbook.roles:
            was = f" (was {user(previous)})" if previous else ""
            return f"{escape(playbook.roles[key].title)}: {user(to)}{was}"
        case StatusChanged(previous=previous, to=to, note=note, reopened=reopened):
            note = f": {for_room(shortened(note, 500))}" if note else ""
            return f"{'reopened, ' if reopened else ''}{previous} → *{to}*{note}"
        case SeverityChanged(previous=previous, to=to):
            return f"severity {previous} → *{to}*"
        case _:
            return _said_text(entry)


def _said_text(entry: TimelineEntry) -> str:
    text = for_room(shortened(entry.text, 500))
    if entry.thread_ts:
        text = f"↳ {text}"
    if entry.files:
        text += " 📎 " + escape(", ".join(entry.files))
    if entry.edits:
        text += " _(edited)_"
    if entry.from_history:
        text += " _(filled from Slack's history)_"
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
    number = page.number
    zone_name, title = getattr(zone, "key", str(zone)), room_headline(snapshot)
    out: list[dict] = [
        {
            "type": "header",
            "text": plain(f"Timeline · {snapshot.incident.reference}", HEADER_LIMIT),
        },
        context(f"{title} · times in {escape(zone_name)} · page {number}"),
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
    buttons = _page_buttons(snapshot.id, page)
    if buttons:
        out.append({"type": "actions", "block_id": "timeline_pages", "elements": buttons})
    return f"Timeline of {title}, page {number}", out


def _page_buttons(incident_id: int, page: TimelinePage) -> list[dict]:
    """◀ ▶ carry where the page begins and ends, so turning is a seek from there."""
    buttons = []
    if page.has_earlier and page.entries:
        turn = PageTurn(page.number - 1, page.entries[0].at, page.entries[0].id, later=False)
        # Slack refuses two elements with one action ID in a block.
        buttons.append(_button("timeline_page:earlier", "◀ Earlier", incident_id, turn))
    if page.has_later and page.entries:
        turn = PageTurn(page.number + 1, page.entries[-1].at, page.entries[-1].id, later=True)
        buttons.append(_button("timeline_page:later", "Later ▶", incident_id, turn))
    return buttons


def _button(action_id: str, label: str, incident_id: int, turn: PageTurn) -> dict:
    return {
        "type": "button",
        "action_id": action_id,
        "text": plain(label),
        "value": page_value(incident_id, turn),
    }


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def page_value(incident_id: int, turn: PageTurn) -> str:
    """`<incident>:<page>:<later|earlier>:<at, µs since 1970>:<entry id>`."""
    way = "later" if turn.later else "earlier"
    return f"{incident_id}:{turn.number}:{way}:{(turn.at - _EPOCH) // _MICROSECOND}:{turn.entry_id}"


def read_page_value(value: str) -> tuple[int, int | PageTurn]:
    """The incident and the page a button asks for: a turn, or a page number (the buttons
    of timelines shown before turns carried their place, `<incident>:<page>`)."""
    incident, number, *place = value.split(":")
    if not place:
        return int(incident), int(number)
    way, at, entry_id = place
    turn = PageTurn(int(number), _EPOCH + int(at) * _MICROSECOND, int(entry_id), way == "later")
    return int(incident), turn


def catch_up(snapshot: IncidentSnapshot, highlights: Highlights, zone: tzinfo) -> tuple[str, list]:
    incident = snapshot.incident
    latest_status = highlights.latest_status
    status_line = f"*Status:* {STATUS_EMOJI.get(incident.status, '')} {incident.status}"
    note = payload(latest_status).note if latest_status else ""
    if note:
        status_line += f" — {for_room(shortened(note, 500))}"
    roles = " · ".join(
        f"{escape(role.title)} {user(snapshot.roles.get(key))}"
        for key, role in snapshot.playbook.roles.items()
    )
    key = highlights.key_events
    out = [
        section(f"*Catching up on {room_headline(snapshot)}*\n{status_line}\n{roles}"),
        section("*Key events so far*"),
        *(
            _sections([entry_line(e, snapshot.playbook, zone) for e in key])
            or [section("_none yet_")]
        ),
        context("`/incident timeline` shows everything."),
    ]
    return f"Catching up on {room_headline(snapshot)}", out
