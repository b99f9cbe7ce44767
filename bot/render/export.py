"""The timeline as a Markdown document, and one timeline entry as a Markdown list item."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TextIO

from bot.incidents import IncidentSnapshot
from bot.incidents.entries import RoleHandedOver, payload, recovered
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
    if recovered(entry):
        extras.append("recovered from the channel's history after downtime")
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


def timeline_lines(
    snapshot: IncidentSnapshot,
    key_events: Iterable[TimelineEntry],
    entries: Iterable[TimelineEntry],
    readers: Readers,
) -> Iterator[str]:
    """The timeline as a Markdown document, key events first, line by line: the entries can
    be streamed, so a long timeline is never held whole."""
    incident, playbook = snapshot.incident, snapshot.playbook
    yield from (
        f"# {incident.reference}: {incident.title}",
        "",
        f"Severity {incident.severity}, status {incident.status}. Times in {readers.zone_name}.",
        "",
        "## Key events",
        "",
    )
    yield from entry_lines(key_events, playbook, readers, none="- none marked")
    yield from ("", "## Full timeline", "")
    yield from entry_lines(entries, playbook, readers)
    yield ""


def entry_lines(
    entries: Iterable[TimelineEntry], playbook: Playbook, readers: Readers, none: str | None = None
) -> Iterator[str]:
    """Entries as list items; `none` stands in when there are none."""
    empty = True
    for entry in entries:
        empty = False
        yield entry_line(entry, playbook, readers)
    if empty and none is not None:
        yield none


def timeline_markdown(
    snapshot: IncidentSnapshot, entries: list[TimelineEntry], readers: Readers
) -> str:
    """The whole document at once, from a list of entries."""
    key = [e for e in entries if e.key]
    return "\n".join(timeline_lines(snapshot, key, entries, readers))


def write_lines(out: TextIO, lines: Iterable[str]) -> None:
    """Write lines as `"\n".join(lines)` would make them, without making that string."""
    for n, line in enumerate(lines):
        out.write(f"\n{line}" if n else line)
