"""The post-incident review's facts, gathered from the record once the incident is resolved.

The facts come from what was stored while it happened: milestones and how long each took,
who held which role when, the stakeholder updates against the playbook's cadence, the
questions stakeholders asked, the key events and the whole timeline. The lessons (the
cause, what went well or wrong, the action items and their problem records) are left to
the people who were there; `bot/render/review.py` writes the draft they start from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.entries import (
    EntryKind,
    PageAcknowledged,
    Paged,
    SeverityChanged,
    StatusChanged,
    payload,
)
from bot.incidents.errors import InvalidRequest
from bot.incidents.lessons import WrittenReview, problem_record, review_versions, written_review
from bot.incidents.lifecycle import UpdateStatus
from bot.incidents.service import IncidentService, IncidentSnapshot
from bot.incidents.timeline import of_kinds, people_in
from bot.store.models import (
    ActionItem,
    ProblemRecord,
    Question,
    RoleAssignment,
    StakeholderUpdate,
    TimelineEntry,
)

# The entries the review's facts come from (the rest is the timeline itself); a drill's
# injects are facts of its scorecard.
FACT_KINDS = (
    EntryKind.STATUS.value,
    EntryKind.SEVERITY.value,
    EntryKind.INJECT.value,
    EntryKind.PAGED.value,
    EntryKind.PAGE_ACKNOWLEDGED.value,
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
    # Updates sent while it was open, and how many of them came within the cadence of the
    # one before (the first: of the declaration).
    sent_while_open: int = 0
    on_time: int = 0

    @property
    def over_cadence(self) -> bool:
        return self.cadence is not None and self.longest_silence > self.cadence


def updates_kept(
    declared_at: datetime,
    end: datetime,
    cadence: timedelta | None,
    updates: list[StakeholderUpdate],
) -> UpdatesKept:
    """Sent and skipped `updates` of one incident against its cadence, from declaring to
    `end` (its resolution, or now while it is open)."""
    sent = [u for u in updates if u.status == UpdateStatus.SENT]
    sent_while_open = sorted(u.decided_at for u in sent if u.decided_at <= end)
    moments = [declared_at, *sent_while_open]
    gaps = [later - earlier for earlier, later in pairwise(moments)]
    return UpdatesKept(
        sent=sent,
        skipped=[u for u in updates if u.status == UpdateStatus.SKIPPED],
        cadence=cadence,
        first_after=min(u.decided_at for u in sent) - declared_at if sent else None,
        longest_silence=max([*gaps, end - moments[-1]]) if end > declared_at else timedelta(0),
        sent_while_open=len(sent_while_open),
        on_time=sum(1 for gap in gaps if cadence is not None and gap <= cadence),
    )


def first_reached(changes: Iterable[TimelineEntry]) -> dict[str, datetime]:
    """When each status was first reached, from an incident's entries (oldest first)."""
    reached: dict[str, datetime] = {}
    for entry in changes:
        if entry.kind == EntryKind.STATUS:
            reached.setdefault(payload(entry).to, entry.at)
    return reached


@dataclass(frozen=True)
class FilledFromHistory:
    """Messages said while the bot was down, stored later from the chat's history."""

    messages: int = 0
    first: datetime | None = None  # when the earliest of them was said
    last: datetime | None = None


@dataclass(frozen=True)
class ReviewRecord:
    """The review's facts, read in one snapshot. The timeline itself is not here: it can
    be a million entries long, so the documents stream it (`log_rows`)."""

    snapshot: IncidentSnapshot
    changes: list[TimelineEntry]  # status and severity changes and pages, oldest first
    holdings: list[RoleAssignment]  # every holding of every role, oldest first
    updates: list[StakeholderUpdate]  # sent or skipped, oldest first
    questions: list[Question]
    filled: FilledFromHistory = FilledFromHistory()
    # What the people who were there wrote, and what they follow up with:
    written: WrittenReview | None = None
    actions: list[ActionItem] = field(default_factory=list)
    problem: ProblemRecord | None = None

    def people(self) -> set[str]:
        """Who the facts name (user IDs); the people in the timeline are found as it is read."""
        found = people_in(self.changes) | {h.user_id for h in self.holdings}
        found |= {q.asked_by for q in self.questions}
        found |= {u.decided_by for u in self.updates if u.decided_by}
        found |= {a.owner for a in self.actions if a.owner}
        found |= {who for who, _ in self.written.editors} if self.written else set()
        return found

    def first_reached(self) -> dict[str, datetime]:
        return first_reached(self.changes)

    def reopenings(self) -> int:
        return sum(1 for _, change in self._changes(StatusChanged) if change.reopened)

    def reratings(self) -> list[tuple[datetime, SeverityChanged]]:
        return [(entry.at, change) for entry, change in self._changes(SeverityChanged)]

    def paging(self) -> tuple[list[Paged], PageAcknowledged | None]:
        """Who was paged, in order, and the acknowledgement (time to acknowledge) if any."""
        pages = [page for _, page in self._changes(Paged)]
        acks = [ack for _, ack in self._changes(PageAcknowledged)]
        return pages, acks[0] if acks else None

    def holdings_of(self, role: str) -> list[RoleAssignment]:
        return [h for h in self.holdings if h.role == role]

    def updates_kept(self) -> UpdatesKept:
        incident = self.snapshot.incident
        return updates_kept(
            incident.declared_at,
            incident.resolved_at or incident.declared_at,
            self.snapshot.playbook.severities[incident.severity].update_every,
            self.updates,
        )

    def _changes(self, kind: type) -> list[tuple[TimelineEntry, object]]:
        wanted = kind.kind
        return [(e, payload(e)) for e in self.changes if e.kind == wanted]


async def gather_review(service: IncidentService, incident_id: int) -> ReviewRecord:
    """The facts of a resolved incident, read in one snapshot."""
    async with service.db.snapshot_read() as session:
        incident = await service.load_incident(session, incident_id)
        if incident.is_open:
            raise InvalidRequest(
                f"{incident.reference} is still {incident.status}: the review comes after it "
                "is resolved (`/incident resolve [summary]`)."
            )
        snapshot = await service.snapshot_in(session, incident)
        versions = await review_versions(session, incident_id)
        return ReviewRecord(
            snapshot=snapshot,
            changes=await _rows(session, fact_entries(TimelineEntry.incident_id == incident_id)),
            holdings=await _rows(
                session,
                select(RoleAssignment)
                .where(RoleAssignment.incident_id == incident_id)
                .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id)),
            ),
            updates=await _rows(
                session,
                select(StakeholderUpdate)
                .where(
                    StakeholderUpdate.incident_id == incident_id,
                    col(StakeholderUpdate.status).in_([UpdateStatus.SENT, UpdateStatus.SKIPPED]),
                )
                .order_by(col(StakeholderUpdate.decided_at)),
            ),
            questions=await _rows(
                session,
                select(Question)
                .where(Question.incident_id == incident_id)
                .order_by(col(Question.asked_at)),
            ),
            filled=await _filled_from_history(session, incident_id),
            written=written_review(snapshot.playbook, incident, versions),
            actions=await _rows(
                session,
                select(ActionItem)
                .where(ActionItem.incident_id == incident_id)
                .order_by(col(ActionItem.id)),
            ),
            problem=await problem_record(session, incident_id),
        )


def fact_entries(*where):
    """The entries the facts come from, oldest first, through the `timeline_by_kind` index."""
    return of_kinds(list(FACT_KINDS), *where)


async def _rows(session: AsyncSession, query) -> list:
    return list((await session.exec(query)).all())


async def _filled_from_history(session: AsyncSession, incident_id: int) -> FilledFromHistory:
    """How many visible messages came from the chat's history, and when they were said."""
    counted = (
        select(func.count(), func.min(TimelineEntry.at), func.max(TimelineEntry.at))
        .where(TimelineEntry.incident_id == incident_id)
        .where(col(TimelineEntry.from_history), ~col(TimelineEntry.deleted))
    )
    return FilledFromHistory(*(await session.exec(counted)).one())
