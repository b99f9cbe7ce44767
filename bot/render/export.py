"""The timeline as a Markdown document, and one timeline entry as a Markdown list item."""

from __future__ import annotations

from bot.incidents import IncidentSnapshot
from bot.incidents.entries import RoleHandedOver, payload
from bot.playbooks import Playbook
from bot.render.readers import Readers
from bot.store.models import TimelineEntry


def entry_line(entry: TimelineEntry, playbook: Playbook, readers: Readers) -> str:
    """One entry as a list item, for the export and the review alike."""
    when = readers.time(entry.at, "%Y-%m-%d %H:%M:%S")
    extras = []
    if entry.thread_ts:
        extras.append("in thread")
    if entry.edits:
        extras.append("edited")
    if entry.files:
        extras.append("files: " + ", ".join(entry.files))
    if entry.from_history:
        extras.append("filled from Slack's history")
    suffix = f" _({'; '.join(extras)})_" if extras else ""
    link = f" [↗]({entry.permalink})" if entry.permalink else ""
    text = _entry_text(entry, playbook, readers)
    return f"- **{when}** {readers.who(entry.actor)} [{entry.kind}] {text}{suffix}{link}"


def _entry_text(entry: TimelineEntry, playbook: Playbook, readers: Readers) -> str:
    """What an entry says, kind by kind."""
    match payload(entry):
        case RoleHandedOver(role=role, previous=previous, to=to) if role in playbook.roles:
            was = f" (was {readers.at(previous)})" if previous else ""
            return f"{playbook.roles[role].title}: {readers.at(to)}{was}"
        case _:
            return readers.readable(entry.text.replace("\n", " "))


def timeline_markdown(
    snapshot: IncidentSnapshot, entries: list[TimelineEntry], readers: Readers
) -> str:
    """The timeline as a Markdown document, key events first."""
    incident, playbook = snapshot.incident, snapshot.playbook
    key = [entry_line(e, playbook, readers) for e in entries if e.key]
    parts = [
        f"# {incident.reference}: {incident.title}",
        "",
        f"Severity {incident.severity}, status {incident.status}. Times in {readers.zone_name}.",
        "",
        "## Key events",
        "",
        *(key or ["- none marked"]),
        "",
        "## Full timeline",
        "",
        *(entry_line(e, playbook, readers) for e in entries),
        "",
    ]
    return "\n".join(parts)
