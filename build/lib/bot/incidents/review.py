"""The post-incident review, drafted from the record once the incident is resolved.

The facts come from what was stored while it happened: milestones and how long each took,
who held which role when, the stakeholder updates against the playbook's cadence, the
questions stakeholders asked, the key events and the whole timeline. The lessons (the
cause, what went well or wrong, the action items and their problem records) are left as
prompts for the people who were there: a review is theirs to write, blamelessly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from itertools import pairwise

from sqlmodel import col, select

from bot.incidents import lifecycle
from bot.incidents.errors import InvalidRequest
from bot.incidents.service import IncidentService, IncidentSnapshot
from bot.incidents.timeline import log_query, markdown_line, people_in
from bot.playbooks import format_duration
from bot.store.models import Question, RoleAssignment, StakeholderUpdate, TimelineEntry

TO_FILL = "✍️ _To be written by the review's participants._"


@dataclass(frozen=True)
class ReviewRecord:
    """Everything the review is drafted from, read in one snapshot."""

    snapshot: IncidentSnapshot
    entries: list[TimelineEntry]  # not deleted, oldest first
    holdings: list[RoleAssignment]  # every holding of every role, oldest first
    updates: list[StakeholderUpdate]  # sent or skipped, oldest first
    questions: list[Question]

    def people(self) -> set[str]:
        """Who the review names (user IDs, and bot IDs for other integrations' posts)."""
        found = people_in(self.entries) | {h.user_id for h in self.holdings}
        found |= {q.asked_by for q in self.questions}
        found |= {u.decided_by for u in self.updates if u.decided_by}
        return found


async def gather_review(service: IncidentService, incident_id: int) -> ReviewRecord:
    async with service.db.snapshot_read() as session:
        incident = await service.load_incident(session, incident_id)
        if incident.is_open:
            raise InvalidRequest(
                f"{incident.reference} is still {incident.status}: the review comes after it "
                "is resolved (`/incident resolve [summary]`)."
            )

        async def rows(model, *where, order: tuple) -> list:
            return list((await session.exec(select(model).where(*where).order_by(*order))).all())

        return ReviewRecord(
            snapshot=await service.snapshot_in(session, incident),
            entries=list((await session.exec(log_query(incident_id))).all()),
            holdings=await rows(
                RoleAssignment,
                RoleAssignment.incident_id == incident_id,
                order=(col(RoleAssignment.assigned_at), col(RoleAssignment.id)),
            ),
            updates=await rows(
                StakeholderUpdate,
                StakeholderUpdate.incident_id == incident_id,
                col(StakeholderUpdate.status).in_(["sent", "skipped"]),
                order=(col(StakeholderUpdate.decided_at),),
            ),
            questions=await rows(
                Question, Question.incident_id == incident_id, order=(col(Question.asked_at),)
            ),
        )


def write_review(
    record: ReviewRecord, zone: tzinfo, names: dict[str, str], drafted_at: datetime
) -> str:
    """The review as a Markdown document; `names` maps user IDs to names."""
    incident = record.snapshot.incident
    zone_name = getattr(zone, "key", str(zone))

    def when(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def who(user_id: str | None) -> str:
        return names.get(user_id, user_id) if user_id else "warroom"

    def milestone(moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return f"{when(moment)} ({format_duration(moment - incident.declared_at)} after declaring)"

    reached = _first_reached(record.entries)
    severity = incident.severity + (" (major)" if record.snapshot.major else "")
    rerated = [e for e in record.entries if e.kind == "severity"]
    if rerated:
        severity += "; re-rated " + ", ".join(
            f"{e.data['from']} → {e.data['to']} at {when(e.at)}" for e in rerated
        )
    reopened = sum(1 for e in record.entries if e.kind == "status" and e.data.get("reopened"))
    key_events = [markdown_line(e, zone, names) for e in record.entries if e.key]
    lines = [
        f"# Post-incident review — {incident.reference}: {incident.title}",
        "",
        f"_Draft made by warroom from the incident's record on {when(drafted_at)}; times in "
        f"{zone_name}. The facts below come from the record; the sections marked ✍️ are for "
        "the people who were there. Blameless: ask what made an action make sense at the "
        "time, not who to blame._",
        "",
        "## Summary",
        "",
        "| | |",
        "|---|---|",
        f"| Severity | {severity} |",
        f"| Playbook | {incident.playbook} |",
        f"| Declared | {when(incident.declared_at)} by {who(incident.declared_by)} |",
        f"| Cause identified | {milestone(reached.get(lifecycle.IDENTIFIED))} |",
        f"| Fix in place (monitoring) | {milestone(reached.get(lifecycle.MONITORING))} |",
        f"| Resolved | {milestone(incident.resolved_at)} |",
        f"| Reopened | {reopened} time{'s' if reopened != 1 else ''} |",
        *_role_rows(record, who, when),
        f"| Resolution | {_cell(incident.summary) or '—'} |",
        "",
        "## Impact",
        "",
        incident.impact or "✍️ _Who was affected, how, and for how long._",
        "",
        "## Stakeholder updates",
        "",
        *_update_lines(record, who, when),
        "",
        "## Key events",
        "",
        *(key_events or ["- none marked"]),
        "",
        "## Root cause",
        "",
        TO_FILL,
        "",
        "## What went well",
        "",
        TO_FILL,
        "",
        "## What went wrong",
        "",
        TO_FILL,
        "",
        "## Where we got lucky",
        "",
        TO_FILL,
        "",
        "## Action items",
        "",
        "Each with one owner and a date; underlying causes get a problem record.",
        "",
        "| Action | Owner | Due | Problem record |",
        "|---|---|---|---|",
        "| | | | |",
        "",
        "## Full timeline",
        "",
        *(markdown_line(e, zone, names) for e in record.entries),
        "",
    ]
    return "\n".join(lines)


def _first_reached(entries: list[TimelineEntry]) -> dict[str, datetime]:
    """When each status was first reached."""
    reached: dict[str, datetime] = {}
    for entry in entries:
        if entry.kind == "status":
            reached.setdefault(entry.data["to"], entry.at)
    return reached


def _role_rows(record: ReviewRecord, who, when) -> list[str]:
    playbook = record.snapshot.playbook
    rows = []
    for key, role in playbook.roles.items():
        holdings = [h for h in record.holdings if h.role == key]
        if not holdings:
            rows.append(f"| {role.title} | nobody named |")
            continue
        held = [who(holdings[0].user_id)] + [
            f"{who(h.user_id)} from {when(h.assigned_at)}" for h in holdings[1:]
        ]
        rows.append(f"| {role.title} | {', then '.join(held)} |")
    return rows


def _update_lines(record: ReviewRecord, who, when) -> list[str]:
    incident = record.snapshot.incident
    cadence = record.snapshot.playbook.severities[incident.severity].update_every
    sent = [u for u in record.updates if u.status == "sent"]
    skipped = [u for u in record.updates if u.status == "skipped"]
    if not record.snapshot.major and not record.updates:
        return [f"None: {incident.severity} is not major, so stakeholders were not updated."]
    lines = [
        f"{len(sent)} sent, {len(skipped)} skipped"
        + (f"; the playbook asks for one every {format_duration(cadence)}." if cadence else ".")
    ]
    if cadence:
        # The clock starts at declaration and stops at resolution; a sent update resets it
        # (a skipped one does not: stakeholders heard nothing).
        end = incident.resolved_at or incident.declared_at
        sent_while_open = sorted(u.decided_at for u in sent if u.decided_at <= end)
        moments = [incident.declared_at, *sent_while_open, end]
        longest = max(
            (later - earlier for earlier, later in pairwise(moments)), default=timedelta(0)
        )
        verdict = "over the cadence" if longest > cadence else "within the cadence"
        if sent:
            first = min(u.decided_at for u in sent) - incident.declared_at
            lines.append(f"First update: {format_duration(first)} after declaring.")
        lines.append(f"Longest stretch without an update: {format_duration(longest)} ({verdict}).")
    lines.append("")
    for update in record.updates:
        if update.status == "sent":
            first_line = update.text.strip().splitlines()[0] if update.text.strip() else ""
            lines.append(
                f"- {when(update.decided_at)} sent by {who(update.decided_by)}"
                + (" (final)" if update.final else "")
                + (f": {_cell(first_line)}" if first_line else "")
            )
        else:
            lines.append(
                f"- {when(update.decided_at)} skipped by {who(update.decided_by)}: "
                f"{_cell(update.skip_reason or '')}"
            )
    if record.questions:
        lines += ["", "Questions from stakeholders:", ""]
        answered = {u.id: u for u in record.updates}
        for question in record.questions:
            answer = answered.get(question.answered_in)
            status = (
                f"answered in the update of {when(answer.decided_at)}"
                if answer is not None and answer.decided_at
                else "never answered in an update"
            )
            lines.append(f"- {who(question.asked_by)}: “{_cell(question.text)}” — {status}")
    return lines


def _cell(text: str) -> str:
    """Text fit for one line of a Markdown table or list."""
    return text.replace("\n", " ").replace("|", "\\|").strip()
