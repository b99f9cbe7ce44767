"""The post-incident review's facts, gathered from the record once the incident is resolved.

The facts come from what was stored while it happened: milestones and how long each took,
who held which role when, the stakeholder updates against the playbook's cadence, the
questions stakeholders asked, the key events and the whole timeline. The lessons (the
cause, what went well or wrong, the action items and their problem records) are left to
the people who were there; `bot/render/review.py` writes the draft they start from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from sqlmodel import col, select

from bot.incidents.entries import SeverityChanged, StatusChanged, payload
from bot.incidents.errors import InvalidRequest
from bot.incidents.lessons import WrittenReview, problem_record, review_versions, written_review
from bot.incidents.lifecycle import UpdateStatus
from bot.incidents.service import IncidentService, IncidentSnapshot
from bot.incidents.timeline import log_query, people_in
from bot.store.models import (
    ActionItem,
    ProblemRecord,
    Question,
    RoleAssignment,
    StakeholderUpdate,
    TimelineEntry,
)


@dataclass(frozen=True)
class UpdatesKept:
    """How stakeholders were kept informed, against the playbook's cadence."""

    sent: list[StakeholderUpdate]
    skipped: list[StakeholderUpdate]
    cadence: timedelta | None  # how often the playbook asks for one
    first_after: timedelta | None  # from declaring to the first sent update
    # The longest stretch executives heard nothing while it was open: the clock starts at
    # declaration and stops at resolution; a sent update resets it, a skipped one does not.
    longest_silence: timedelta

    @property
    def over_cadence(self) -> bool:
        return self.cadence is not None and self.longest_silence > self.cadence


@dataclass(frozen=True)
class ReviewRecord:
    """Everything the review is drafted from, read in one snapshot."""

    snapshot: IncidentSnapshot
    entries: list[TimelineEntry]  # not deleted, oldest first
    holdings: list[RoleAssignment]  # every holding of every role, oldest first
    updates: list[StakeholderUpdate]  # sent or skipped, oldest first
    questions: list[Question]
    # What the people who were there wrote, and what they follow up with:
    written: WrittenReview | None = None
    actions: list[ActionItem] = field(default_factory=list)
    problem: ProblemRecord | None = None

    def people(self) -> set[str]:
        """Who the review names as facts (user IDs, and bot IDs for other integrations' posts)."""
        found = people_in(self.entries) | {h.user_id for h in self.holdings}
        found |= {q.asked_by for q in self.questions}
        found |= {u.decided_by for u in self.updates if u.decided_by}
        found |= {a.owner for a in self.actions if a.owner}
        found |= {who for who, _ in self.written.editors} if self.written else set()
        return found

    def first_reached(self) -> dict[str, datetime]:
        """When each status was first reached."""
        reached: dict[str, datetime] = {}
        for entry, change in self._changes(StatusChanged):
            reached.setdefault(change.to, entry.at)
        return reached

    def reopenings(self) -> int:
        return sum(1 for _, change in self._changes(StatusChanged) if change.reopened)

    def reratings(self) -> list[tuple[datetime, SeverityChanged]]:
        return [(entry.at, change) for entry, change in self._changes(SeverityChanged)]

    def holdings_of(self, role: str) -> list[RoleAssignment]:
        return [h for h in self.holdings if h.role == role]

    def updates_kept(self) -> UpdatesKept:
        incident = self.snapshot.incident
        sent = [u for u in self.updates if u.status == UpdateStatus.SENT]
        end = incident.resolved_at or incident.declared_at
        sent_while_open = sorted(u.decided_at for u in sent if u.decided_at <= end)
        moments = [incident.declared_at, *sent_while_open, end]
        return UpdatesKept(
            sent=sent,
            skipped=[u for u in self.updates if u.status == UpdateStatus.SKIPPED],
            cadence=self.snapshot.playbook.severities[incident.severity].update_every,
            first_after=min(u.decided_at for u in sent) - incident.declared_at if sent else None,
            longest_silence=max(
                (later - earlier for earlier, later in pairwise(moments)), default=timedelta(0)
            ),
        )

    def _changes(self, kind: type) -> list[tuple[TimelineEntry, object]]:
        wanted = kind.kind
        return [(e, payload(e)) for e in self.entries if e.kind == wanted]


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

        snapshot = await service.snapshot_in(session, incident)
        versions = await review_versions(session, incident_id)
        return ReviewRecord(
            snapshot=snapshot,
            entries=list((await session.exec(log_query(incident_id))).all()),
            holdings=await rows(
                RoleAssignment,
                RoleAssignment.incident_id == incident_id,
                order=(col(RoleAssignment.assigned_at), col(RoleAssignment.id)),
            ),
            updates=await rows(
                StakeholderUpdate,
                StakeholderUpdate.incident_id == incident_id,
                col(StakeholderUpdate.status).in_([UpdateStatus.SENT, UpdateStatus.SKIPPED]),
                order=(col(StakeholderUpdate.decided_at),),
            ),
            questions=await rows(
                Question, Question.incident_id == incident_id, order=(col(Question.asked_at),)
            ),
            written=written_review(snapshot.playbook, incident, versions),
            actions=await rows(
                ActionItem, ActionItem.incident_id == incident_id, order=(col(ActionItem.id),)
            ),
            problem=await problem_record(session, incident_id),
        )
