"""Incident lifecycle and roles. Each call is one transaction that also writes the timeline.

No Slack here: callers pass user IDs and text, and get back what changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents import lifecycle
from bot.incidents.entries import (
    AnyPayload,
    Declared,
    RoleHandedOver,
    SeverityChanged,
    StatusChanged,
    new_entry,
)
from bot.incidents.errors import InvalidRequest, NotFound
from bot.incidents.knowledge import index_incident
from bot.incidents.lessons import missing_before_close
from bot.incidents.lifecycle import IncidentStatus, UpdateStatus, refuse_if_closed
from bot.incidents.permissions import Action, Actor, IncidentPermissions, as_actor
from bot.playbooks import Playbook, PlaybookLibrary
from bot.store import Database
from bot.store.models import (
    AlertGroup,
    Declaration,
    DeclarationStep,
    Drill,
    DrillInject,
    Incident,
    OwedPost,
    Page,
    RoleAssignment,
    StakeholderUpdate,
    TimelineEntry,
)
from bot.store.types import utcnow

if TYPE_CHECKING:
    from bot.incidents.drills import DrillSetup

MAX_TITLE = 150  # Block Kit header limit; the card shows the whole title
MAX_TEXT = 2000
OPEN_LIST_TTL = 1.0


def cadence_due(playbook: Playbook, severity: str, since: datetime) -> datetime | None:
    """When the next stakeholder update is due: major severities only."""
    level = playbook.severities[severity]
    if not level.major or level.update_every is None:
        return None
    return since + level.update_every


def checked_title(title: str, length: Callable[[str], int] = len) -> str:
    """The title on one line, or why it will not do. `length`: how long it reads as typed."""
    title = " ".join(title.split())
    if not title:
        raise InvalidRequest("An incident needs a title: what is broken, for whom?")
    if length(title) > MAX_TITLE:
        raise InvalidRequest(
            f"Keep the title under {MAX_TITLE} characters; put detail in the impact."
        )
    return title


async def _draft_waiting(session: AsyncSession, incident_id: int) -> bool:
    waiting = await session.exec(
        select(StakeholderUpdate.id).where(
            StakeholderUpdate.incident_id == incident_id,
            col(StakeholderUpdate.status).in_((UpdateStatus.DRAFT, UpdateStatus.SENDING)),
        )
    )
    return waiting.first() is not None


async def _acknowledged_by(session: AsyncSession, incident_id: int) -> str | None:
    """The duty manager who acknowledged the incident's page, if one did."""
    query = select(Page.user_id).where(
        Page.incident_id == incident_id, col(Page.acknowledged_at).is_not(None)
    )
    return (await session.exec(query)).first()


async def _being_sent(session: AsyncSession, incident_id: int) -> bool:
    sending = await session.exec(
        select(StakeholderUpdate.id).where(
            StakeholderUpdate.incident_id == incident_id,
            StakeholderUpdate.status == UpdateStatus.SENDING,
        )
    )
    return sending.first() is not None


async def retire_drafts(
    session: AsyncSession, incident_id: int, status: UpdateStatus
) -> list[StakeholderUpdate]:
    """Take the incident's undecided drafts out of play (`status`: superseded or withdrawn).
    Conditional, so a draft approved at this very moment is not retired under its sender."""
    retired = await session.exec(
        update(StakeholderUpdate)
        .where(
            col(StakeholderUpdate.incident_id) == incident_id,
            StakeholderUpdate.status == UpdateStatus.DRAFT,
        )
        .values(status=status)
        .returning(StakeholderUpdate)
    )
    return list(retired.scalars().all())


def _role_key(playbook: Playbook, role_name: str) -> str:
    """The playbook's key for a role as typed (its key or an alias); else the roles there are."""
    role = playbook.role_key(role_name)
    if role is None:
        names = ", ".join(
            f"{key} ({', '.join(r.aliases)})" if r.aliases else key
            for key, r in playbook.roles.items()
        )
        raise InvalidRequest(f"“{role_name}” is not a role here. Roles: {names}.")
    return role


def _commander(incident_id: int, declared_by: str, now: datetime) -> RoleAssignment:
    """The declarer steers until handing over."""
    return RoleAssignment(
        incident_id=incident_id,
        role="commander",
        user_id=declared_by,
        assigned_by=declared_by,
        assigned_at=now,
    )


@dataclass(frozen=True)
class IncidentSnapshot:
    """An incident as it stands, with its playbook and current role holders."""

    incident: Incident
    playbook: Playbook
    roles: dict[str, str | None]  # role key -> Slack user ID, in playbook order

    @property
    def id(self) -> int:
        return self.incident.id

    @property
    def major(self) -> bool:
        return self.playbook.is_major(self.incident.severity)

    @property
    def is_drill(self) -> bool:
        """An exercise: never shown to executives, on the status page, in statistics or
        search (unless asked for)."""
        return self.incident.drill

    @property
    def commander(self) -> str | None:
        return self.roles.get("commander")

    def invitees(self) -> list[str]:
        return list(self.playbook.severities[self.incident.severity].invite)


@dataclass(frozen=True)
class Change:
    """What one command changed: the incident after it and the timeline entry it wrote."""

    snapshot: IncidentSnapshot
    entry: TimelineEntry
    was_major: bool
    # Drafts this change took out of play (superseded or withdrawn): their messages in the
    # room must lose their buttons.
    retired: tuple[StakeholderUpdate, ...] = ()
    # The final stakeholder update a resolution drafted, in the same transaction: to post.
    final_draft: StakeholderUpdate | None = None
    # The posts outside the room this change owes, written with it (see `owed.OwedPosts`).
    owed: tuple[OwedPost, ...] = ()

    @property
    def concerns_stakeholders(self) -> bool:
        """Major before or after: executives hear about it (including a downgrade)."""
        return self.was_major or self.snapshot.major


class IncidentService:
    def __init__(
        self,
        db: Database,
        playbooks: PlaybookLibrary,
        clock: Callable[[], datetime] = utcnow,
        text_length: Callable[[str], int] = len,
        permissions: IncidentPermissions | None = None,
    ):
        self.db = db
        self.permissions = permissions or IncidentPermissions()
        self.playbooks = playbooks
        self.clock = clock
        # How long text reads as typed: titles are stored in the chat's markup (where `&`
        # may be written `&amp;`), and the chat layer knows how to count them.
        self.text_length = text_length
        self._open_cache: tuple[float, list[IncidentSnapshot]] | None = None
        self._open_query: asyncio.Future | None = None
        self._writes = 0  # counts this process's changes, so a read racing one is not cached
        # The posts a change owes outside its room (the chat layer renders them), recorded
        # in the change's transaction so a crash before they are out cannot lose them.
        self.owing: Callable[[AsyncSession, Change], Awaitable[tuple[OwedPost, ...]]] | None = None

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        async with self.db.transaction() as session:
            yield session
        self.written()

    def written(self) -> None:
        """An incident row was written (here or by another desk): the open list is read afresh."""
        self._writes += 1
        self._open_cache = None

    # -- reading ---------------------------------------------------------------------------

    async def get(self, incident_id: int) -> IncidentSnapshot:
        async with self.db.snapshot_read() as session:
            return await self.snapshot_in(session, await self.load_incident(session, incident_id))

    async def find_by_channel(self, channel_id: str) -> IncidentSnapshot | None:
        async with self.db.snapshot_read() as session:
            incident = (
                await session.exec(select(Incident).where(Incident.channel_id == channel_id))
            ).first()
            return await self.snapshot_in(session, incident) if incident else None

    async def list_open(self) -> list[IncidentSnapshot]:
        """Open incidents, most severe first, then the newest. Cached briefly: a burst of `/incident list`
        costs one query; this process's own changes show at once, other replicas' within
        OPEN_LIST_TTL seconds."""
        cached = self.recent_open()
        if cached is not None:
            return cached
        # One query at a time: a burst of requests on a stale cache shares it.
        if self._open_query is None or self._open_query.done():
            self._open_query = asyncio.ensure_future(self._refresh_open())
        return await asyncio.shield(self._open_query)

    async def _refresh_open(self) -> list[IncidentSnapshot]:
        started, writes = time.monotonic(), self._writes
        snapshots = await self._query_open()
        if writes == self._writes:
            self._open_cache = (started, snapshots)
        return snapshots

    def recent_open(self) -> list[IncidentSnapshot] | None:
        """The open incidents if read within OPEN_LIST_TTL, without touching the database."""
        if self._open_cache and time.monotonic() - self._open_cache[0] < OPEN_LIST_TTL:
            return self._open_cache[1]
        return None

    async def _query_open(self) -> list[IncidentSnapshot]:
        async with self.db.snapshot_read() as session:
            rows = (
                await session.exec(
                    select(Incident, RoleAssignment.role, RoleAssignment.user_id)
                    .outerjoin(
                        RoleAssignment,
                        (RoleAssignment.incident_id == Incident.id)
                        & col(RoleAssignment.ended_at).is_(None),
                    )
                    .where(col(Incident.status).in_(lifecycle.ACTIVE_STATUSES))
                    .where(col(Incident.channel_id).is_not(None))
                    # Most severe first (SEV0..SEV9 sort as text), then the newest.
                    .order_by(
                        col(Incident.severity),
                        col(Incident.declared_at).desc(),
                        col(Incident.id).desc(),
                    )
                )
            ).all()
        incidents: dict[int, Incident] = {}
        holders: dict[int, dict[str, str]] = {}
        for incident, role, user_id in rows:
            incidents.setdefault(incident.id, incident)
            if role:
                holders.setdefault(incident.id, {})[role] = user_id
        return [self._assemble(i, holders.get(i.id, {})) for i in incidents.values()]

    # -- declaring -------------------------------------------------------------------------

    def playbook_for(self, name: str | None) -> Playbook:
        playbook = self.playbooks.get(name)
        if playbook is None:
            raise InvalidRequest(
                f"There is no playbook called “{name}”. Playbooks: {', '.join(self.playbooks.names)}."
            )
        return playbook

    def check_severity(self, playbook: Playbook, severity: str) -> str:
        wanted = severity.upper()
        if wanted not in playbook.severities:
            raise InvalidRequest(
                f"“{severity}” is not a severity of the {playbook.name} playbook. "
                f"Use one of {', '.join(playbook.severity_names)}."
            )
        return wanted

    async def declare(
        self,
        *,
        title: str,
        declared_by: str,
        severity: str | None = None,
        playbook: str | None = None,
        impact: str = "",
        private: bool | None = None,
        drill: DrillSetup | None = None,
        declaration: Callable[[Incident, datetime], Declaration] | None = None,
        also: Callable[[AsyncSession, Incident], Awaitable[None]] | None = None,
    ) -> IncidentSnapshot:
        """Written with the incident, in its transaction: `drill`'s scenario rows (an
        exercise), `declaration`'s row (the record of opening its war room), and `also`'s
        writes (alerts linked)."""
        chosen = self.playbook_for(playbook)
        severity = self.check_severity(chosen, severity or chosen.initial_severity)
        title = checked_title(title, self.text_length)
        now = self.clock()
        incident = Incident(
            title=title,
            impact=impact.strip()[:MAX_TEXT],
            severity=severity,
            playbook=chosen.name,
            private=chosen.private if private is None else private,
            declared_by=declared_by,
            declared_at=now,
            next_update_due=cadence_due(chosen, severity, now),
            drill=drill is not None,
        )
        async with self._write() as session:
            session.add(incident)
            await session.flush()
            session.add_all(drill.rows(incident) if drill else [])
            session.add_all([declaration(incident, now)] if declaration else [])
            if also is not None:
                await also(session, incident)
            session.add(_commander(incident.id, declared_by, now))
            declared = Declared(severity, chosen.name, incident.impact)
            text = f"Declared {severity}{' drill' if drill else ''}: {title}"
            session.add(
                new_entry(incident.id, now, declared, actor=declared_by, text=text, key=True)
            )
            return await self.snapshot_in(session, incident)

    async def attach_channel(self, incident_id: int, channel_id: str, channel_name: str) -> None:
        async with self._write() as session:
            incident = await self.load_incident(session, incident_id)
            incident.channel_id, incident.channel_name = channel_id, channel_name

    async def card_changed(self, incident_id: int) -> None:
        """Something the card shows changed: its version moves on (see `card_version`)."""
        async with self.db.transaction() as session:
            await session.exec(
                update(Incident)
                .where(Incident.id == incident_id)
                .values(card_version=Incident.card_version + 1)
            )

    async def card_version(self, incident_id: int) -> int:
        async with self.db.snapshot_read() as session:
            version = await session.exec(
                select(Incident.card_version).where(Incident.id == incident_id)
            )
            return version.one()

    async def abandon(self, incident_id: int) -> None:
        """The war room could not be opened: forget the declaration instead of leaving a ghost."""
        async with self._write() as session:
            await session.exec(
                update(AlertGroup)
                .where(col(AlertGroup.incident_id) == incident_id)
                .values(incident_id=None, version=AlertGroup.version + 1)
            )
            for model in (
                DeclarationStep,
                Declaration,
                TimelineEntry,
                RoleAssignment,
                DrillInject,
                Drill,
            ):
                await session.exec(delete(model).where(model.incident_id == incident_id))
            await session.exec(delete(Incident).where(Incident.id == incident_id))

    # -- changing --------------------------------------------------------------------------

    async def assign(
        self, incident_id: int, role_name: str, user_id: str, by: Actor | str
    ) -> Change:
        async with self._write() as session:
            incident = await self.load_incident(session, incident_id, for_update=True)
            refuse_if_closed(incident)
            playbook = self.playbook_for(incident.playbook)
            role = _role_key(playbook, role_name)
            if incident.drill:
                await _refuse_if_offline(session, incident_id, user_id)
            before = await self.snapshot_in(session, incident)
            by = (await self._may_assign(session, before, role, user_id, by)).user
            was_major, previous = before.major, before.roles.get(role)
            if previous == user_id:
                raise InvalidRequest(f"They are already the {playbook.roles[role].title}.")
            now = self.clock()
            current = (
                await session.exec(
                    select(RoleAssignment).where(
                        RoleAssignment.incident_id == incident_id,
                        RoleAssignment.role == role,
                        col(RoleAssignment.ended_at).is_(None),
                    )
                )
            ).first()
            if current:
                current.ended_at = now
                await session.flush()
            session.add(
                RoleAssignment(
                    incident_id=incident_id,
                    role=role,
                    user_id=user_id,
                    assigned_by=by,
                    assigned_at=now,
                )
            )
            title = playbook.roles[role].title
            entry = self._entry(
                session,
                incident,
                RoleHandedOver(role, previous, user_id),
                by,
                f"{title}: {user_id}" + (f" (was {previous})" if previous else ""),
            )
            change = Change(await self.snapshot_in(session, incident), entry, was_major)
            return await self._owing(session, change)

    async def set_status(
        self, incident_id: int, status: str, by: Actor | str, note: str = ""
    ) -> Change:
        status = status.lower()
        if status not in lifecycle.SETTABLE_STATUSES:
            raise InvalidRequest(
                f"“{status}” is not a status. Use one of {', '.join(lifecycle.SETTABLE_STATUSES)}."
            )
        async with self._write() as session:
            incident = await self.load_incident(session, incident_id, for_update=True)
            action = Action.RESOLVE if status == IncidentStatus.RESOLVED else Action.STATUS
            by = (await self.require(session, incident, action, by)).user
            return await self._move(session, incident, status, by, note.strip()[:MAX_TEXT])

    async def resolve(self, incident_id: int, by: Actor | str, summary: str = "") -> Change:
        return await self.set_status(incident_id, IncidentStatus.RESOLVED, by, summary)

    async def close(self, incident_id: int, by: Actor | str) -> Change:
        """Close a resolved incident, once its review is written (and its problem record
        set, where the severity asks for one)."""
        async with self._write() as session:
            incident = await self.load_incident(session, incident_id, for_update=True)
            by = (await self.require(session, incident, Action.CLOSE, by)).user
            if incident.status == IncidentStatus.RESOLVED:
                playbook = self.playbook_for(incident.playbook)
                if missing := await missing_before_close(session, incident, playbook):
                    raise InvalidRequest(
                        f"{incident.reference} cannot close yet: {'; '.join(missing)}."
                    )
            return await self._move(session, incident, IncidentStatus.CLOSED, by, "")

    async def set_severity(self, incident_id: int, severity: str, by: Actor | str) -> Change:
        async with self._write() as session:
            incident = await self.load_incident(session, incident_id, for_update=True)
            by = (await self.require(session, incident, Action.SEVERITY, by)).user
            refuse_if_closed(incident)
            playbook = self.playbook_for(incident.playbook)
            severity = self.check_severity(playbook, severity)
            if severity == incident.severity:
                raise InvalidRequest(f"{incident.reference} is already {severity}.")
            was_major = playbook.is_major(incident.severity)
            previous, incident.severity = incident.severity, severity
            retired: list[StakeholderUpdate] = []
            if not playbook.is_major(severity):
                # Minor stays minor: no waiting draft may reach the executives now.
                retired = await retire_drafts(session, incident.id, UpdateStatus.WITHDRAWN)
            if incident.status not in lifecycle.ACTIVE_STATUSES:
                incident.next_update_due = None
            elif not await _draft_waiting(session, incident.id):
                # Re-plan from the last published update (or the declaration) on the new cadence.
                base = incident.last_update_at or incident.declared_at
                incident.next_update_due = cadence_due(playbook, severity, base)
            entry = self._entry(
                session,
                incident,
                SeverityChanged(previous, severity),
                by,
                f"Severity {previous} → {severity}",
                key=True,
            )
            snapshot = await self.snapshot_in(session, incident)
            return await self._owing(session, Change(snapshot, entry, was_major, tuple(retired)))

    # -- who may ---------------------------------------------------------------------------

    async def require(
        self,
        session: AsyncSession,
        incident: Incident,
        action: Action,
        by: Actor | str,
        also: tuple[tuple[str, str], ...] = (),
    ) -> Actor:
        """The actor, if they may take `action` on the incident now (its role holders as
        of this unit of work); else NotAllowed, naming who may."""
        snapshot = await self.snapshot_in(session, incident)
        return self.permissions.require(snapshot, action, by, also)

    async def check(self, incident_id: int, action: Action, by: Actor | str) -> None:
        """Refuse at once, before a form opens, if `by` may not take `action` (the change
        checks again when it is made)."""
        async with self.db.snapshot_read() as session:
            await self.require(session, await self.load_incident(session, incident_id), action, by)

    async def _may_assign(
        self,
        session: AsyncSession,
        snapshot: IncidentSnapshot,
        role: str,
        user_id: str,
        by: Actor | str,
    ) -> Actor:
        """Taking a role no one holds is open to anyone, and so is taking command for the
        duty manager who acknowledged the incident's page; anything else is a handover."""
        actor = as_actor(by)
        if user_id == actor.user:
            if snapshot.roles.get(role) is None:
                return actor
            if role == "commander" and await _acknowledged_by(session, snapshot.id) == user_id:
                return actor
        return self.permissions.require(snapshot, Action.ASSIGN, actor)

    # -- internals -------------------------------------------------------------------------

    async def _move(
        self, session: AsyncSession, incident: Incident, status: str, by: str, note: str
    ) -> Change:
        current = incident.status
        refuse_if_closed(incident)
        if status == current:
            raise InvalidRequest(f"{incident.reference} is already {current}.")
        if not lifecycle.can_move(current, status):
            hint = " (resolve it first)" if status == IncidentStatus.CLOSED else ""
            raise InvalidRequest(
                f"{incident.reference} cannot go from {current} to {status}{hint}. "
                f"From {current} it can go to: {', '.join(lifecycle.allowed_next(current))}."
            )
        was_major = (await self.snapshot_in(session, incident)).major
        now = self.clock()
        incident.status = status
        reopened = current == IncidentStatus.RESOLVED and status in lifecycle.ACTIVE_STATUSES
        if status == IncidentStatus.RESOLVED:
            incident.resolved_at = now
            if note:
                incident.summary = note
        elif status == IncidentStatus.CLOSED:
            incident.closed_at = now
        elif reopened:
            incident.resolved_at = None
        retired, final_draft = await self._replan_updates(session, incident, reopened, now)
        if status in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
            await session.flush()
            await index_incident(session, incident, now)  # a past incident: searchable
        entry = self._entry(
            session,
            incident,
            StatusChanged(current, status, note, reopened),
            by,
            ("Reopened: " if reopened else "")
            + f"{current} → {status}"
            + (f": {note}" if note else ""),
            key=True,
        )
        snapshot = await self.snapshot_in(session, incident)
        change = Change(snapshot, entry, was_major, tuple(retired), final_draft)
        return await self._owing(session, change)

    async def _owing(self, session: AsyncSession, change: Change) -> Change:
        if self.owing is None:
            return change
        return dataclasses.replace(change, owed=await self.owing(session, change))

    async def _replan_updates(
        self, session: AsyncSession, incident: Incident, reopened: bool, now: datetime
    ) -> tuple[list[StakeholderUpdate], StakeholderUpdate | None]:
        """Stakeholder updates after a move, decided from the state read in this transaction
        (so two moves racing, on one replica or two, leave the plan matching the last):
        resolving supersedes waiting drafts and drafts the final update (major only) and
        stops the cadence; reopening supersedes the final draft and restarts the cadence;
        closing withdraws what still waits. Returns the retired drafts and the final one."""
        playbook = self.playbook_for(incident.playbook)
        status = incident.status
        retired: list[StakeholderUpdate] = []
        final_draft = None
        if status == IncidentStatus.CLOSED:
            if await _being_sent(session, incident.id):
                raise InvalidRequest(
                    f"A stakeholder update for {incident.reference} is being sent right now; "
                    "close it again once it is out."
                )
            retired = await retire_drafts(session, incident.id, UpdateStatus.WITHDRAWN)
        elif status == IncidentStatus.RESOLVED or reopened:
            retired = await retire_drafts(session, incident.id, UpdateStatus.SUPERSEDED)
        if status == IncidentStatus.RESOLVED and playbook.is_major(incident.severity):
            from bot.incidents.updates import write_drafts  # updates builds on this module

            (drafted,) = await write_drafts(session, self, [incident.id], final=True)
            final_draft = drafted.update
        if status not in lifecycle.ACTIVE_STATUSES:
            incident.next_update_due = None
        elif reopened:
            incident.next_update_due = cadence_due(playbook, incident.severity, now)
        return retired, final_draft

    def _entry(
        self,
        session: AsyncSession,
        incident: Incident,
        what: AnyPayload,
        actor: str,
        text: str,
        key: bool = False,
    ) -> TimelineEntry:
        entry = new_entry(incident.id, self.clock(), what, actor=actor, text=text, key=key)
        session.add(entry)
        return entry

    @staticmethod
    async def load_incident(
        session: AsyncSession, incident_id: int, for_update: bool = False
    ) -> Incident:
        """The incident in a caller's unit of work; `for_update` locks its row until commit.

        Every change to an incident (its updates included) takes that lock first, so
        replicas on PostgreSQL serialise on the incident and never deadlock.
        """
        query = select(Incident).where(Incident.id == incident_id)
        if for_update:
            query = query.with_for_update()
        incident = (await session.exec(query)).first()
        if incident is None:
            raise NotFound(f"There is no incident {incident_id}.")
        return incident

    @staticmethod
    async def _holders(session: AsyncSession, incident_ids: list[int]) -> dict[int, dict[str, str]]:
        if not incident_ids:
            return {}
        rows = (
            await session.exec(
                select(RoleAssignment).where(
                    col(RoleAssignment.incident_id).in_(incident_ids),
                    col(RoleAssignment.ended_at).is_(None),
                )
            )
        ).all()
        holders: dict[int, dict[str, str]] = {}
        for row in rows:
            holders.setdefault(row.incident_id, {})[row.role] = row.user_id
        return holders

    async def snapshot_in(self, session: AsyncSession, incident: Incident) -> IncidentSnapshot:
        """The snapshot of an incident inside a caller's unit of work."""
        await session.flush()
        holders = await self._holders(session, [incident.id])
        return self._assemble(incident, holders.get(incident.id, {}))

    async def snapshots_in(
        self, session: AsyncSession, incident_ids: list[int]
    ) -> dict[int, IncidentSnapshot]:
        """Snapshots of many incidents in two queries, inside a caller's unit of work."""
        if not incident_ids:
            return {}
        incidents = (
            await session.exec(select(Incident).where(col(Incident.id).in_(incident_ids)))
        ).all()
        holders = await self._holders(session, incident_ids)
        return {i.id: self._assemble(i, holders.get(i.id, {})) for i in incidents}

    def _assemble(self, incident: Incident, holders: dict[str, str]) -> IncidentSnapshot:
        playbook = self.playbook_for(incident.playbook)
        return IncidentSnapshot(
            incident=incident,
            playbook=playbook,
            roles={role: holders.get(role) for role in playbook.roles},
        )


async def _refuse_if_offline(session: AsyncSession, incident_id: int, user_id: str) -> None:
    """A drill's scenario took this person offline: they hold no role for the rest of it."""
    offline = await session.exec(
        select(DrillInject.id).where(
            DrillInject.incident_id == incident_id, DrillInject.offline_user == user_id
        )
    )
    if offline.first() is not None:
        raise InvalidRequest(
            "They are offline for the rest of this drill (the scenario took them out): "
            "hand the role to someone else."
        )
