"""The post-incident review draft as a Markdown document, from the record's facts.

The facts are filled in; the lessons are left as prompts for the people who were there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from bot.incidents.lifecycle import IncidentStatus, UpdateStatus
from bot.incidents.review import ReviewRecord
from bot.playbooks import format_duration
from bot.render.export import entry_lines
from bot.render.readers import Readers, cell
from bot.store.models import TimelineEntry

TO_FILL = "✍️ _To be written by the review's participants._"
IMPACT = "Impact"
IMPACT_PROMPT = "✍️ _Who was affected, how, and for how long._"


def review_lines(
    record: ReviewRecord,
    key_events: Iterable[TimelineEntry],
    entries: Iterable[TimelineEntry],
    readers: Readers,
    drafted_at: datetime,
) -> Iterator[str]:
    """The draft line by line; the key events and the whole timeline can be streamed."""
    incident, playbook = record.snapshot.incident, record.snapshot.playbook
    yield from (
        f"# Post-incident review — {incident.reference}: {incident.title}",
        "",
        f"_Draft made by warroom from the incident's record on {readers.time(drafted_at)}; "
        f"times in {readers.zone_name}. The facts below come from the record; the sections "
        "marked ✍️ are for the people who were there. Blameless: ask what made an action "
        "make sense at the time, not who to blame._",
        "",
        *_summary(record, readers),
        "",
        *_written_lines(record, readers, IMPACT),
        "## Stakeholder updates",
        "",
        *_update_lines(record, readers),
        "",
        "## Key events",
        "",
    )
    yield from entry_lines(key_events, playbook, readers, none="- none marked")
    yield from (
        "",
        *(line for lesson in _lessons(record) for line in _written_lines(record, readers, lesson)),
        *_action_lines(record, readers),
        "## Full timeline",
        "",
    )
    yield from entry_lines(entries, playbook, readers)
    yield ""


def review_markdown(
    record: ReviewRecord, entries: list[TimelineEntry], readers: Readers, drafted_at: datetime
) -> str:
    """The whole draft at once, from a list of the timeline's entries."""
    key = [e for e in entries if e.key]
    return "\n".join(review_lines(record, key, entries, readers, drafted_at))


def _summary(record: ReviewRecord, readers: Readers) -> list[str]:
    incident = record.snapshot.incident

    def milestone(moment: datetime | None) -> str:
        if moment is None:
            return "—"
        since = format_duration(moment - incident.declared_at)
        return f"{readers.time(moment)} ({since} after declaring)"

    reached = record.first_reached()
    severity = incident.severity + (" (major)" if record.snapshot.major else "")
    if rerated := record.reratings():
        severity += "; re-rated " + ", ".join(
            f"{change.previous} → {change.to} at {readers.time(at)}" for at, change in rerated
        )
    reopened = record.reopenings()
    return [
        "## Summary",
        "",
        "| | |",
        "|---|---|",
        f"| Severity | {severity} |",
        f"| Playbook | {incident.playbook} |",
        f"| Declared | {readers.time(incident.declared_at)} by {readers.who(incident.declared_by)} |",
        f"| Cause identified | {milestone(reached.get(IncidentStatus.IDENTIFIED))} |",
        f"| Fix in place (monitoring) | {milestone(reached.get(IncidentStatus.MONITORING))} |",
        f"| Resolved | {milestone(incident.resolved_at)} |",
        f"| Reopened | {reopened} time{'s' if reopened != 1 else ''} |",
        *_paging_rows(record, readers),
        *_role_rows(record, readers),
        *_filled_rows(record, readers),
        f"| Resolution | {cell(incident.summary) or '—'} |",
    ]


def _paging_rows(record: ReviewRecord, readers: Readers) -> list[str]:
    pages, acknowledged = record.paging()
    if not pages:
        return []
    paged = ", then ".join(readers.who(page.user) for page in pages)
    if acknowledged is None:
        answer = "nobody acknowledged"
    else:
        after = format_duration(timedelta(seconds=acknowledged.seconds))
        answer = f"{readers.who(acknowledged.user)} acknowledged after {after}"
    return [f"| Duty manager paged | {paged}; {answer} |"]


def _role_rows(record: ReviewRecord, readers: Readers) -> list[str]:
    rows = []
    for key, role in record.snapshot.playbook.roles.items():
        holdings = record.holdings_of(key)
        if not holdings:
            rows.append(f"| {role.title} | nobody named |")
            continue
        held = [readers.who(holdings[0].user_id)] + [
            f"{readers.who(h.user_id)} from {readers.time(h.assigned_at)}" for h in holdings[1:]
        ]
        rows.append(f"| {role.title} | {', then '.join(held)} |")
    return rows


def _filled_rows(record: ReviewRecord, readers: Readers) -> list[str]:
    """Messages said while warroom was down, stored later from Slack's history."""
    filled = record.filled
    if not filled.messages:
        return []
    span = f"{readers.time(filled.first)} to {readers.time(filled.last)}"
    return [
        f"| Filled from Slack's history | {filled.messages} messages said while warroom was "
        f"not listening, {span} (marked in the timeline) |"
    ]


def _update_lines(record: ReviewRecord, readers: Readers) -> list[str]:
    incident = record.snapshot.incident
    if not record.snapshot.major and not record.updates:
        return [f"None: {incident.severity} is not major, so stakeholders were not updated."]
    kept = record.updates_kept()
    cadence = kept.cadence
    lines = [
        f"{len(kept.sent)} sent, {len(kept.skipped)} skipped"
        + (f"; the playbook asks for one every {format_duration(cadence)}." if cadence else ".")
    ]
    if cadence:
        if kept.first_after is not None:
            lines.append(f"First update: {format_duration(kept.first_after)} after declaring.")
        verdict = "over the cadence" if kept.over_cadence else "within the cadence"
        lines.append(
            f"Longest stretch without an update: {format_duration(kept.longest_silence)} "
            f"({verdict})."
        )
    lines.append("")
    lines += [_update_line(update, readers) for update in record.updates]
    return lines + _question_lines(record, readers)


def _update_line(update, readers: Readers) -> str:
    decided = f"- {readers.time(update.decided_at)}"
    if update.status == UpdateStatus.SENT:
        first_line = update.text.strip().splitlines()[0] if update.text.strip() else ""
        return (
            f"{decided} sent by {readers.who(update.decided_by)}"
            + (" (final)" if update.final else "")
            + (f": {cell(first_line)}" if first_line else "")
        )
    return (
        f"{decided} skipped by {readers.who(update.decided_by)}: {cell(update.skip_reason or '')}"
    )


def _question_lines(record: ReviewRecord, readers: Readers) -> list[str]:
    if not record.questions:
        return []
    lines = ["", "Questions from stakeholders:", ""]
    answered = {u.id: u for u in record.updates}
    for question in record.questions:
        answer = answered.get(question.answered_in)
        status = (
            f"answered in the update of {readers.time(answer.decided_at)}"
            if answer is not None and answer.decided_at
            else "never answered in an update"
        )
        lines.append(f"- {readers.who(question.asked_by)}: “{cell(question.text)}” — {status}")
    return lines


def _lessons(record: ReviewRecord) -> list[str]:
    """The playbook's written sections after the facts (Impact leads the review instead)."""
    sections = record.snapshot.playbook.review.sections
    return [name for name in sections if name.lower() != IMPACT.lower()]


def _written_lines(record: ReviewRecord, readers: Readers, section: str) -> list[str]:
    written = record.written.sections.get(section, "") if record.written else ""
    if section == IMPACT and not written:
        written = record.snapshot.incident.impact
    prompt = IMPACT_PROMPT if section == IMPACT else TO_FILL
    return [f"## {section}", "", written.strip() or prompt, ""]


def _action_lines(record: ReviewRecord, readers: Readers) -> list[str]:
    problem = record.problem
    lines = [
        "## Action items",
        "",
        "Each with one owner and a date; underlying causes get a problem record.",
        "",
        f"Problem record: {cell(problem.reference)}" if problem else "Problem record: none yet",
        "",
        "| Action | Owner | Due | State |",
        "|---|---|---|---|",
    ]
    for item in record.actions:
        owner = readers.who(item.owner) if item.owner else "—"
        due = item.due.isoformat() if item.due else "—"
        lines.append(f"| {cell(readers.readable(item.text))} | {owner} | {due} | {item.state} |")
    if not record.actions:
        lines.append("| | | | |")
    return [*lines, "", *_editor_lines(record, readers)]


def _editor_lines(record: ReviewRecord, readers: Readers) -> list[str]:
    written = record.written
    if written is None or not written.editors:
        return []
    edits = ", ".join(f"{readers.who(who)} ({readers.time(at)})" for who, at in written.editors)
    return [f"_Written sections: version {written.version}; edited by {edits}._", ""]
