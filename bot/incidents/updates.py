"""Stakeholder updates: drafted on the playbook's cadence, decided by the comms lead.

Every transition is a conditional UPDATE, so it happens once however many people click and
however many replicas run: a due incident is claimed by clearing its `next_update_due`
where it still holds the value read; a draft is posted under a lease; approving moves a
draft to `sending` only if it is still a draft, under a lease too, so that an update whose
broadcaster died is finished by another process (or the restarted one), once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents import lifecycle
from bot.incidents.claims import claim, not_in
from bot.incidents.entries import (
    EntryKind,
    SeverityChanged,
    StatusChanged,
    UpdateSent,
    UpdateSkipped,
    new_entry,
    payload,
)
from bot.incidents.errors import InvalidRequest, NotFound
from bot.incidents.lifecycle import IncidentStatus, UpdateStatus, refuse_if_closed
from bot.incidents.permissions import Action, Actor
from bot.incidents.privacy import EVERYONE, private_label, shown_to
from bot.incidents.service import IncidentService, IncidentSnapshot, cadence_due, retire_drafts
from bot.playbooks import Playbook, format_duration
from bot.store import Database
from bot.store.models import (
    Incident,
    Question,
    RoleAssignment,
    StakeholderUpdate,
    TimelineEntry,
)
from bot.store.types import utcnow

POST_LEASE = timedelta(seconds=30)
# Whoever holds a lease gives up its Slack calls by then, so a post never lands after the
# lease ran out and someone else, finding no message yet, posted it again.
WITHIN_LEASE = POST_LEASE * 2 / 3
STATUS_PLANS = {
    IncidentStatus.INVESTIGATING: "Investigating the cause.",
    IncidentStatus.IDENTIFIED: "The cause is identified; working on the fix.",
    IncidentStatus.MONITORING: "A fix is in place; watching that it holds.",
    IncidentStatus.RESOLVED: "Resolved. A post-incident review will follow.",
}
# A private incident's draft, in place of the words from inside (what the comms lead adds is
# theirs to choose).
NOT_SHARED = "Not shared outside the war room."


@dataclass(frozen=True)
class Draft:
    update: StakeholderUpdate
    snapshot: IncidentSnapshot

    @property
    def id(self) -> int:
        return self.update.id


class UpdateDesk:
    def __init__(
        self, db: Database, incidents: IncidentService, clock: Callable[[], datetime] = utcnow
    ):
        self.db = db
        self.incidents = incidents
        self.clock = clock

    # -- drafting ------------------------------------------------------------------------------

    async def claim_due(self, limit: int = 1000, skip: Collection[int] = ()) -> list[Draft]:
        """Draft an update for every incident whose cadence is due; each is claimed once.

        One UPDATE … RETURNING clears `next_update_due` on the due rows: a row another
        replica cleared first no longer matches, so no incident is drafted twice. `skip`:
        incidents this process is still busy with (their turn comes when it is done).
        """
        now = self.clock()
        due = (
            col(Incident.next_update_due) <= now,
            col(Incident.channel_id).is_not(None),
            col(Incident.status).in_(lifecycle.ACTIVE_STATUSES),
            *not_in(Incident.id, skip),
        )
        async with self.db.snapshot_read() as session:
            if (await session.exec(select(Incident.id).where(*due).limit(1))).first() is None:
                return []  # the common case: a cheap read, no write transaction
        async with self.db.transaction() as session:
            batch = (
                select(Incident.id).where(*due).order_by(col(Incident.next_update_due)).limit(limit)
            )
            claimed = await session.exec(
                update(Incident)
                .where(col(Incident.id).in_(batch.scalar_subquery()), *due)
                .values(next_update_due=None)
                .returning(Incident.id)
            )
            incident_ids = list(claimed.scalars().all())
            return await self._create(session, incident_ids, final=False)

    async def draft_now(self, incident_id: int) -> tuple[Draft, list[StakeholderUpdate]]:
        """`/incident update`: a draft now (once resolved, the final one), superseding a
        waiting draft. Major incidents only: only their updates go to the executives."""
        async with self.db.transaction() as session:
            incident = await self.incidents.load_incident(session, incident_id, for_update=True)
            refuse_if_closed(incident)
            refuse_if_minor(self.incidents.playbook_for(incident.playbook), incident)
            waiting = await retire_drafts(session, incident_id, UpdateStatus.SUPERSEDED)
            incident.next_update_due = None  # planned again once this draft is decided
            final = incident.status == IncidentStatus.RESOLVED
            (draft,) = await self._create(session, [incident_id], final=final)
            return draft, waiting

    async def _create(
        self, session: AsyncSession, incident_ids: list[int], final: bool
    ) -> list[Draft]:
        return await write_drafts(session, self.incidents, incident_ids, final)

    async def next_due(self) -> datetime | None:
        """The earliest cadence due time among open incidents, so a tick can wake for it."""
        async with self.db.snapshot_read() as session:
            return (
                await session.exec(
                    select(func.min(Incident.next_update_due)).where(
                        col(Incident.status).in_(lifecycle.ACTIVE_STATUSES)
                    )
                )
            ).first()

    async def claim_unposted(self, skip: Collection[int] = ()) -> list[Draft]:
        """Drafts whose poster died or gave up (its lease ran out): post them now, once.
        The earlier attempt may have reached the room after all: look there first."""
        now = self.clock()
        return await self._claim(
            (
                col(StakeholderUpdate.message_ts).is_(None),
                StakeholderUpdate.status == UpdateStatus.DRAFT,
                col(StakeholderUpdate.post_lease_until) < now,
                *not_in(StakeholderUpdate.incident_id, skip),
            ),
            post_lease_until=now + POST_LEASE,
        )

    async def claim_unsent(self, skip: Collection[int] = ()) -> list[Draft]:
        """Approved updates whose broadcaster died or gave up (its lease ran out): finish
        them now, once, after looking for the broadcast the earlier attempt may have made."""
        now = self.clock()
        return await self._claim(
            (
                StakeholderUpdate.status == UpdateStatus.SENDING,
                col(StakeholderUpdate.send_lease_until) < now,
                *not_in(StakeholderUpdate.incident_id, skip),
            ),
            send_lease_until=now + POST_LEASE,
        )

    async def posted(self, posted: list[tuple[int, str]]) -> None:
        """Drafts now in their war rooms: (update ID, message ts) pairs, in one transaction."""
        if not posted:
            return
        table = StakeholderUpdate.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("update_id"))
            .values(message_ts=bindparam("ts"), post_lease_until=None)
        )
        async with self.db.transaction() as session:
            await session.exec(statement, params=[{"update_id": i, "ts": ts} for i, ts in posted])

    async def no_longer_waiting(self, update_ids: list[int]) -> list[Draft]:
        """Of these drafts, those decided or retired already (read after `posted`)."""
        return await self._drafts(
            col(StakeholderUpdate.id).in_(update_ids),
            StakeholderUpdate.status != UpdateStatus.DRAFT,
        )

    async def claim_escalations(self, skip: Collection[int] = ()) -> list[Draft]:
        """Drafts left undecided past `escalate_after`: each is escalated once."""
        return await self._claim(
            (
                StakeholderUpdate.status == UpdateStatus.DRAFT,
                col(StakeholderUpdate.escalated).is_(False),
                col(StakeholderUpdate.escalate_at) <= self.clock(),
                col(StakeholderUpdate.message_ts).is_not(None),
                *not_in(StakeholderUpdate.incident_id, skip),
            ),
            escalated=True,
        )

    async def _claim(self, conditions: tuple, **values) -> list[Draft]:
        """Set `values` on the drafts matching `conditions` (see `claim`) and return them."""
        update_ids = await claim(self.db, StakeholderUpdate.id, conditions, **values)
        if not update_ids:
            return []
        return await self._drafts(col(StakeholderUpdate.id).in_(update_ids))

    async def _drafts(self, *conditions) -> list[Draft]:
        """The updates matching `conditions`, each with its incident."""
        async with self.db.snapshot_read() as session:
            rows = (await session.exec(select(StakeholderUpdate).where(*conditions))).all()
            snapshots = await self.incidents.snapshots_in(
                session, list({row.incident_id for row in rows})
            )
            return [Draft(row, snapshots[row.incident_id]) for row in rows]

    # -- deciding ------------------------------------------------------------------------------

    async def start_sending(
        self, update_id: int, by: Actor | str, text: str | None = None
    ) -> Draft:
        """Approve (optionally with edited text): the draft moves to `sending` exactly once,
        and only while its incident is open to updates (not closed, still major): the
        incident is locked first, as closing and re-rating lock it to withdraw drafts.
        Leased to the approver for the broadcast (see `claim_unsent`)."""
        async with self.db.transaction() as session:
            row = await session.get(StakeholderUpdate, update_id)
            if row is None:
                raise NotFound(f"There is no update {update_id}.")
            incident = await self.incidents.load_incident(session, row.incident_id, for_update=True)
            await session.refresh(row)
            refuse_if_closed(incident)
            refuse_if_minor(self.incidents.playbook_for(incident.playbook), incident)
            row, snapshot, by = await self._decidable(session, update_id, by)
            if not await _move_on(
                session,
                update_id,
                UpdateStatus.DRAFT,
                status=UpdateStatus.SENDING,
                decided_by=by,
                text=(text or row.text).strip(),
                send_lease_until=self.clock() + POST_LEASE,
            ):
                raise InvalidRequest(_already(row))
            await session.refresh(row)
            return Draft(row, snapshot)

    async def sent(self, update_id: int, broadcast_ts: str | None) -> Draft:
        """The update is out: record it, answer its questions and plan the next one (once,
        however many finished the broadcast)."""
        async with self.db.transaction() as session:
            now = self.clock()
            row = await session.get(StakeholderUpdate, update_id)
            incident = await self.incidents.load_incident(session, row.incident_id, for_update=True)
            snapshot = await self.incidents.snapshot_in(session, incident)
            recorded = await _move_on(
                session,
                update_id,
                UpdateStatus.SENDING,
                status=UpdateStatus.SENT,
                decided_at=now,
                broadcast_ts=broadcast_ts,
                send_lease_until=None,
            )
            await session.refresh(row)
            if not recorded:
                return Draft(row, snapshot)
            incident.last_update_at = now
            if incident.status in lifecycle.ACTIVE_STATUSES and not row.final:
                incident.next_update_due = cadence_due(snapshot.playbook, incident.severity, now)
            for question in row.open_questions:
                answered = await session.get(Question, question["id"])
                if answered and answered.answered_in is None:
                    answered.answered_in = row.id
            sent = UpdateSent(row.id, row.final)
            session.add(
                new_entry(incident.id, now, sent, actor=row.decided_by, text=row.text, key=True)
            )
            return Draft(row, snapshot)

    async def sending_failed(self, update_id: int) -> None:
        """Broadcasting failed (and no broadcast was found): back to draft so it can be
        approved again."""
        async with self.db.transaction() as session:
            row = await session.get(StakeholderUpdate, update_id)
            if row.status == UpdateStatus.SENDING:
                row.status, row.send_lease_until = UpdateStatus.DRAFT, None

    async def skip(self, update_id: int, by: Actor | str, reason: str) -> Draft:
        reason = reason.strip()
        if not reason:
            raise InvalidRequest("Say why the update is skipped; it goes in the timeline.")
        async with self.db.transaction() as session:
            row, snapshot, by = await self._decidable(session, update_id, by)
            incident = await self.incidents.load_incident(session, row.incident_id, for_update=True)
            if not await _move_on(
                session,
                update_id,
                UpdateStatus.DRAFT,
                status=UpdateStatus.SKIPPED,
                decided_by=by,
                decided_at=self.clock(),
                skip_reason=reason,
            ):
                raise InvalidRequest(_already(row))
            if incident.status in lifecycle.ACTIVE_STATUSES and not row.final:
                # Skipping is a decision for this slot; the cadence goes on from now.
                incident.next_update_due = cadence_due(
                    snapshot.playbook, incident.severity, self.clock()
                )
            session.add(
                new_entry(
                    incident.id,
                    self.clock(),
                    UpdateSkipped(update_id, reason),
                    actor=by,
                    text=f"Stakeholder update skipped: {reason}",
                )
            )
            await session.refresh(row)
            return Draft(row, snapshot)

    async def get(self, update_id: int) -> Draft:
        async with self.db.snapshot_read() as session:
            row = await session.get(StakeholderUpdate, update_id)
            if row is None:
                raise NotFound(f"There is no update {update_id}.")
            incident = await session.get(Incident, row.incident_id)
            return Draft(row, await self.incidents.snapshot_in(session, incident))

    async def waiting_for(self, user: str) -> list[Draft]:
        """Drafts waiting for `user`'s decision: those of incidents where they hold a role
        that may decide (the playbook's `updates` permission), oldest first."""
        async with self.db.snapshot_read() as session:
            holding = select(RoleAssignment.incident_id).where(
                RoleAssignment.user_id == user, col(RoleAssignment.ended_at).is_(None)
            )
            rows = (
                await session.exec(
                    select(StakeholderUpdate)
                    .where(
                        StakeholderUpdate.status == UpdateStatus.DRAFT,
                        col(StakeholderUpdate.incident_id).in_(holding),
                    )
                    .order_by(col(StakeholderUpdate.created_at), col(StakeholderUpdate.id))
                )
            ).all()
            snapshots = await self.incidents.snapshots_in(
                session, list({row.incident_id for row in rows})
            )
        may = self.incidents.permissions.may
        return [
            Draft(row, snapshots[row.incident_id])
            for row in rows
            if may(snapshots[row.incident_id], Action.UPDATES, Actor(user))
        ]

    async def check_decider(self, update_id: int, by: Actor | str) -> Draft:
        async with self.db.snapshot_read() as session:
            row, snapshot, _ = await self._decidable(session, update_id, by)
            return Draft(row, snapshot)

    async def _decidable(
        self, session: AsyncSession, update_id: int, by: Actor | str
    ) -> tuple[StakeholderUpdate, IncidentSnapshot, str]:
        """The draft, its incident and who decides, if they may (the playbook's `updates`
        permission: the comms lead and the commander unless it says otherwise)."""
        row = await session.get(StakeholderUpdate, update_id)
        if row is None:
            raise NotFound(f"There is no update {update_id}.")
        incident = await session.get(Incident, row.incident_id)
        snapshot = await self.incidents.snapshot_in(session, incident)
        actor = self.incidents.permissions.require(snapshot, Action.UPDATES, by)
        if row.status != UpdateStatus.DRAFT:
            raise InvalidRequest(_already(row))
        return row, snapshot, actor.user

    # -- questions -----------------------------------------------------------------------------

    async def ask(self, incident_id: int, by: str, text: str) -> tuple[Question, IncidentSnapshot]:
        text = text.strip()
        if not text:
            raise InvalidRequest("Write the question after the command.")
        async with self.db.transaction() as session:
            incident = await session.get(Incident, incident_id)
            if incident is None:
                raise NotFound(f"There is no incident {incident_id}.")
            refuse_if_closed(incident)
            question = Question(
                incident_id=incident_id, asked_by=by, text=text[:2000], asked_at=self.clock()
            )
            session.add(question)
            await session.flush()
            return question, await self.incidents.snapshot_in(session, incident)

    async def overdue(self, incident_id: int) -> bool:
        async with self.db.snapshot_read() as session:
            late = await session.exec(
                select(StakeholderUpdate.id).where(
                    StakeholderUpdate.incident_id == incident_id,
                    StakeholderUpdate.status == UpdateStatus.DRAFT,
                    col(StakeholderUpdate.escalated).is_(True),
                )
            )
            return late.first() is not None


async def _drafting_facts(
    session: AsyncSession, incident_ids: list[int]
) -> tuple[dict[int, list[TimelineEntry]], dict[int, list[Question]]]:
    """What drafts are made from: each incident's key entries and open questions."""
    key_entries: dict[int, list[TimelineEntry]] = {}
    for entry in (
        await session.exec(
            select(TimelineEntry)
            .where(col(TimelineEntry.incident_id).in_(incident_ids))
            .where(col(TimelineEntry.key).is_(True), col(TimelineEntry.deleted).is_(False))
            .order_by(col(TimelineEntry.at))
        )
    ).all():
        key_entries.setdefault(entry.incident_id, []).append(entry)
    questions: dict[int, list[Question]] = {}
    for question in (
        await session.exec(
            select(Question).where(
                col(Question.incident_id).in_(incident_ids), col(Question.answered_in).is_(None)
            )
        )
    ).all():
        questions.setdefault(question.incident_id, []).append(question)
    return key_entries, questions


async def write_drafts(
    session: AsyncSession, incidents: IncidentService, incident_ids: list[int], final: bool
) -> list[Draft]:
    """Draft rows for these incidents in the caller's transaction, with a handful of queries
    however many there are (the service calls it too: resolving drafts the final update)."""
    if not incident_ids:
        return []
    now = incidents.clock()
    snapshots = await incidents.snapshots_in(session, incident_ids)
    key_entries, questions = await _drafting_facts(session, incident_ids)
    drafts = []
    for snapshot in snapshots.values():
        incident = snapshot.incident
        level = snapshot.playbook.severities[incident.severity]
        since = incident.last_update_at or incident.declared_at
        recent = [e for e in key_entries.get(incident.id, []) if e.at > since]
        next_due = None if final or level.update_every is None else now + level.update_every
        row = StakeholderUpdate(
            incident_id=incident.id,
            final=final,
            text=compose(snapshot, recent, next_due),
            open_questions=[
                {"id": q.id, "by": q.asked_by, "text": q.text}
                for q in questions.get(incident.id, [])
            ],
            created_at=now,
            post_lease_until=now + POST_LEASE,
            escalate_at=now + level.escalate_after if level.escalate_after else None,
        )
        session.add(row)
        drafts.append(Draft(row, snapshot))
    await session.flush()
    return drafts


def refuse_if_minor(playbook: Playbook, incident: Incident) -> None:
    """Minor stays minor: only major incidents' updates go to the executives."""
    if playbook.is_major(incident.severity):
        return
    majors = [name for name in playbook.severity_names if playbook.is_major(name)]
    instead = (
        f"({', '.join(majors)}): raise the severity first (`/incident severity {majors[-1]}`)."
        if majors
        else "(the playbook has none)."
    )
    raise InvalidRequest(
        f"{incident.severity} is minor: stakeholder updates go to the executives' channel "
        f"only for major incidents {instead}"
    )


async def _move_on(session: AsyncSession, update_id: int, still: str, **values) -> bool:
    """Set `values` on the update if its status is `still` that (a conditional UPDATE, so
    that a transition happens once however many try it at once)."""
    moved = await session.exec(
        update(StakeholderUpdate)
        .where(col(StakeholderUpdate.id) == update_id, StakeholderUpdate.status == still)
        .values(**values)
    )
    return moved.rowcount == 1


def _already(row: StakeholderUpdate) -> str:
    if row.status in (UpdateStatus.SENT, UpdateStatus.SENDING):
        return "This update has already been sent."
    if row.status == UpdateStatus.SKIPPED:
        return "This update was skipped."
    if row.status == UpdateStatus.WITHDRAWN:
        return (
            "This draft was withdrawn and will not be sent: its incident was closed, or is "
            "minor now (updates go to the executives only for major incidents)."
        )
    return "This draft was replaced (by a newer draft, or as the incident reopened); it will not be sent."


def compose(
    snapshot: IncidentSnapshot, key_entries: list[TimelineEntry], next_due: datetime | None
) -> str:
    """The playbook's template filled from the incident and its key events (plain text)."""
    incident = snapshot.incident
    known = [_known(e) for e in key_entries if e.kind not in (EntryKind.UPDATE, EntryKind.DECLARED)]
    cadence = snapshot.playbook.severities[incident.severity].update_every
    if next_due is None:
        next_update = "This is the final update." if not incident.is_open else "When there is news."
    else:
        next_update = f"{next_due:%H:%M} UTC (every {format_duration(cadence)})"
    fields = {
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "impact": incident.impact or "Being assessed.",
        "what_we_know": "\n".join(f"• {line}" for line in known)
        if known
        else "No new findings since the last update.",
        # The status notes are findings and already listed under what we know.
        "what_we_are_doing": STATUS_PLANS.get(incident.status, incident.status),
        "next_update": next_update,
    }
    if not shown_to(snapshot, EVERYONE):
        # Approved as written, it goes to everyone: the comms lead adds what they choose.
        fields |= {
            "title": private_label(incident.reference),
            "severity": "private",
            "impact": NOT_SHARED,
            "what_we_know": NOT_SHARED,
        }
    return snapshot.playbook.update_template.format(**fields)


def _known(entry: TimelineEntry) -> str:
    """One line of "what we know" in a draft: the draft's one rendering of each kind."""
    match payload(entry):
        case StatusChanged(to=to, note=note):
            return f"Status {to}" + (f": {note}" if note else "")
        case SeverityChanged(previous=previous, to=to):
            return f"Severity changed {previous} → {to}"
        case _:
            return entry.text.replace("\n", " ")[:300]
