"""Drills: an incident run as an exercise, with a scenario's timed injects and a scorecard.

A drill is an incident flagged `drill`, declared with its scenario's injects as rows due
at fixed times. Like stakeholder updates, each inject and each scorecard is claimed with a
conditional UPDATE … RETURNING under a lease, so it is posted once however many replicas
tick, and a replica that dies holding a claim only delays the post until the lease runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col, select

from bot.incidents import lifecycle
from bot.incidents.claims import claim, not_in
from bot.incidents.entries import Injected, new_entry
from bot.incidents.errors import InvalidRequest
from bot.incidents.lifecycle import IncidentStatus
from bot.incidents.review import gather_review
from bot.incidents.scorecard import Measure, ReviewFilled, review_not_measured, score
from bot.incidents.service import IncidentService, IncidentSnapshot
from bot.incidents.updates import POST_LEASE
from bot.scenarios import Inject, InjectKind, Scenario, ScenarioLibrary
from bot.store import Database
from bot.store.models import Drill, DrillInject, Incident, Question, RoleAssignment
from bot.store.types import utcnow

ENDED_STATUSES = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)


@dataclass(frozen=True)
class DrillSetup:
    """What declaring a drill writes beside the incident, in the same transaction."""

    scenario: str | None
    injects: tuple[Inject, ...] = ()

    def rows(self, incident: Incident) -> list:
        return [
            Drill(incident_id=incident.id, scenario=self.scenario),
            *(
                DrillInject(
                    incident_id=incident.id,
                    position=position,
                    due_at=incident.declared_at + inject.offset,
                    kind=inject.kind,
                    text=inject.text,
                    role=inject.role,
                )
                for position, inject in enumerate(self.injects)
            ),
        ]


@dataclass(frozen=True)
class DrillPlan:
    """`/incident drill` understood: what to declare, and the drill's setup."""

    title: str
    severity: str | None
    playbook: str | None
    setup: DrillSetup


@dataclass(frozen=True)
class DueInject:
    """An inject claimed for posting; `holder` is who an offline inject takes out."""

    inject: DrillInject
    snapshot: IncidentSnapshot
    question: Question | None = None
    holder: str | None = None

    @property
    def role_title(self) -> str | None:
        key = self.snapshot.playbook.role_key(self.inject.role or "")
        return self.snapshot.playbook.roles[key].title if key else self.inject.role


@dataclass(frozen=True)
class ScoredDrill:
    snapshot: IncidentSnapshot
    scenario: str | None
    measures: list[Measure]


class DrillDesk:
    def __init__(
        self,
        db: Database,
        incidents: IncidentService,
        scenarios: ScenarioLibrary,
        clock: Callable[[], datetime] = utcnow,
        review_filled: ReviewFilled = review_not_measured,
    ):
        self.db = db
        self.incidents = incidents
        self.scenarios = scenarios
        self.clock = clock
        self.review_filled = review_filled

    def plan(self, words: str, severity: str | None, playbook: str | None) -> DrillPlan:
        """`[scenario] <title>`: a first word naming a scenario plays it; the rest is the title
        (the scenario's own title when there is none)."""
        first, _, rest = words.strip().partition(" ")
        scenario = self.scenarios.get(first.lower()) if first else None
        title = rest.strip() if scenario else words.strip()
        if scenario is None:
            if not title:
                raise InvalidRequest("A drill needs a title or a scenario.")
            return DrillPlan(title, severity, playbook, DrillSetup(None))
        return DrillPlan(
            title or scenario.title or _title_of(scenario),
            severity or scenario.default_severity,
            playbook or scenario.playbook,
            DrillSetup(scenario.name, tuple(scenario.injects)),
        )

    # -- injects ---------------------------------------------------------------------------

    def _due_injects(self, now: datetime) -> tuple:
        running = select(Incident.id).where(
            col(Incident.drill).is_(True),
            col(Incident.status).in_(lifecycle.ACTIVE_STATUSES),
            col(Incident.channel_id).is_not(None),
        )
        return (
            col(DrillInject.posted_at).is_(None),
            col(DrillInject.due_at) <= now,
            or_(
                col(DrillInject.post_lease_until).is_(None),
                col(DrillInject.post_lease_until) < now,
            ),
            col(DrillInject.incident_id).in_(running),
        )

    async def claim_injects(self, skip: Collection[int] = ()) -> list[DueInject]:
        """Injects now due in running drills, each claimed by one replica under a lease.
        A question inject becomes the stakeholder's question here, once. `skip`: drills
        this process is still busy with."""
        now = self.clock()
        due = (*self._due_injects(now), *not_in(DrillInject.incident_id, skip))
        ids = await claim(self.db, DrillInject.id, due, post_lease_until=now + POST_LEASE)
        if not ids:
            return []
        async with self.db.transaction() as session:
            rows = (
                await session.exec(
                    select(DrillInject)
                    .where(col(DrillInject.id).in_(ids))
                    .order_by(col(DrillInject.due_at), col(DrillInject.position))
                )
            ).all()
            snapshots = await self.incidents.snapshots_in(
                session, list({r.incident_id for r in rows})
            )
            return [await self._prepared(session, row, snapshots[row.incident_id]) for row in rows]

    async def _prepared(self, session, row: DrillInject, snapshot: IncidentSnapshot) -> DueInject:
        if row.kind == InjectKind.QUESTION:
            question = await session.get(Question, row.question_id) if row.question_id else None
            if question is None:
                # Asked by the drill's declarer, who plays the stakeholders.
                question = Question(
                    incident_id=row.incident_id,
                    asked_by=snapshot.incident.declared_by,
                    text=row.text,
                    asked_at=self.clock(),
                )
                session.add(question)
                await session.flush()
                row.question_id = question.id
            return DueInject(row, snapshot, question=question)
        if row.kind == InjectKind.OFFLINE:
            key = snapshot.playbook.role_key(row.role or "")
            return DueInject(row, snapshot, holder=snapshot.roles.get(key) if key else None)
        return DueInject(row, snapshot)

    async def injects_posted(self, posted: list[tuple[int, str | None]]) -> None:
        """Injects now in their war rooms ((inject ID, message ts) pairs): recorded once,
        each with its timeline entry."""
        if not posted:
            return
        now = self.clock()
        async with self.db.transaction() as session:
            for inject_id, ts in posted:
                done = await session.exec(
                    update(DrillInject)
                    .where(col(DrillInject.id) == inject_id, col(DrillInject.posted_at).is_(None))
                    .values(posted_at=now, post_lease_until=None)
                    .returning(
                        DrillInject.incident_id,
                        DrillInject.position,
                        DrillInject.kind,
                        DrillInject.role,
                        DrillInject.text,
                    )
                )
                row = done.first()
                if row is None:
                    continue  # another replica recorded it first
                if row.kind == InjectKind.OFFLINE:
                    await self._take_offline(session, inject_id, row.incident_id, row.role, now)
                what = Injected(row.position, row.kind, row.role)
                session.add(
                    new_entry(row.incident_id, now, what, actor=None, text=row.text, message_ts=ts)
                )

    async def _take_offline(
        self, session, inject_id: int, incident_id: int, role: str | None, now: datetime
    ) -> None:
        """The role's holder drops out of the drill: the role is vacant until the team hands
        it on (the scorecard times that), and they can hold no role for the rest of it."""
        incident = await self.incidents.load_incident(session, incident_id, for_update=True)
        key = self.incidents.playbook_for(incident.playbook).role_key(role or "")
        holding = (
            await session.exec(
                select(RoleAssignment).where(
                    RoleAssignment.incident_id == incident_id,
                    RoleAssignment.role == key,
                    col(RoleAssignment.ended_at).is_(None),
                )
            )
        ).first()
        if holding is None:
            return
        holding.ended_at = now
        await session.exec(
            update(DrillInject)
            .where(col(DrillInject.id) == inject_id)
            .values(offline_user=holding.user_id)
        )

    # -- scorecards ------------------------------------------------------------------------

    def _unscored(self, now: datetime) -> tuple:
        ended = select(Incident.id).where(col(Incident.status).in_(ENDED_STATUSES))
        return (
            col(Drill.scorecard_ts).is_(None),
            or_(col(Drill.score_lease_until).is_(None), col(Drill.score_lease_until) < now),
            col(Drill.incident_id).in_(ended),
        )

    async def claim_scorecards(self, skip: Collection[int] = ()) -> list[ScoredDrill]:
        """Drills resolved since the last tick: each is scored once (the scorecard is stored
        before it is posted) and claimed for posting by one replica."""
        now = self.clock()
        unscored = (*self._unscored(now), *not_in(Drill.incident_id, skip))
        incident_ids = await claim(
            self.db, Drill.incident_id, unscored, score_lease_until=now + POST_LEASE
        )
        return [scored for i in incident_ids if (scored := await self._scored(i)) is not None]

    async def _scored(self, incident_id: int) -> ScoredDrill | None:
        stored = await self.scorecard(incident_id)
        if stored is not None and stored.measures:
            return stored
        try:
            record = await gather_review(self.incidents, incident_id)
        except InvalidRequest:
            return None  # reopened since it was claimed: scored when it is resolved again
        measures = score(record, await self.review_filled(incident_id))
        async with self.db.transaction() as session:
            await session.exec(
                update(Drill)
                .where(col(Drill.incident_id) == incident_id, col(Drill.scorecard).is_(None))
                .values(scorecard=[m.to_data() for m in measures], scored_at=self.clock())
            )
        return await self.scorecard(incident_id)

    async def scorecard_posted(self, incident_id: int, ts: str) -> None:
        async with self.db.transaction() as session:
            await session.exec(
                update(Drill)
                .where(col(Drill.incident_id) == incident_id)
                .values(scorecard_ts=ts, score_lease_until=None)
            )

    async def scorecard(self, incident_id: int) -> ScoredDrill | None:
        """The drill's stored scorecard (no measures before it is resolved); None if the
        incident is not a drill."""
        async with self.db.snapshot_read() as session:
            drill = await session.get(Drill, incident_id)
            if drill is None:
                return None
            incident = await self.incidents.load_incident(session, incident_id)
            snapshot = await self.incidents.snapshot_in(session, incident)
        measures = [Measure.from_data(m) for m in drill.scorecard or []]
        return ScoredDrill(snapshot, drill.scenario, measures)


def _title_of(scenario: Scenario) -> str:
    return scenario.name.replace("-", " ").replace("_", " ").capitalize()
