"""A declaration as recorded steps, so that it is finished exactly once.

Declaring opens a war room in steps (the channel, invitations, the topic, the card and its
pin, the checklist, similar past incidents, the executives' broadcast, the response team's
alert, the duty manager's page, the declarer's answer, a report of what failed). Each step
is recorded once it is over, done or failed for good; a run works under a lease it renews
while it works, so a restarted process, or another replica, picks up a declaration whose
worker died and finishes the steps not yet recorded, and two never work on one.

No Slack here: the steps' names, the lease and the record; the Slack layer does the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, delete, or_, update
from sqlmodel import col, select

from bot.incidents.claims import claim
from bot.store import Database
from bot.store.models import Declaration, DeclarationStep, Incident
from bot.store.probe import DATABASE_ERRORS

log = logging.getLogger(__name__)

# A dead worker's declaration waits this long before another takes it over; a live one
# renews its lease well within it, so a slow Slack never hands its work to a second worker.
LEASE = timedelta(seconds=6)
RENEW_EVERY = 2.0  # seconds
# How long a response_url takes answers (Slack: 30 minutes); after that, a direct message.
ANSWER_URL_LIFETIME = timedelta(minutes=30)


class Step(StrEnum):
    CHANNEL = "channel"
    INVITE = "invite"
    TOPIC = "topic"
    CARD = "card"
    SIMILAR = "similar"
    BROADCAST = "broadcast"
    ALERT = "alert"
    PIN = "card_pin"  # ("pin" alone reads as a reaction name to the architecture test)
    CHECKLIST = "checklist"
    PAGE = "page"
    ANSWER = "answer"
    REPORT = "report"


class StepState(StrEnum):
    DONE = "done"
    FAILED = "failed"  # for good: reported, never tried again by a resumed run


class LeaseLost(Exception):
    """Another worker holds the declaration now (this one was presumed dead): stop."""


@dataclass(frozen=True)
class AnswerTo:
    """Where the declarer is answered: the command's response_url, else privately in the
    channel they declared from, else a direct message."""

    url: str | None = None
    channel: str | None = None


@dataclass
class Progress:
    """A declaration as recorded, held by one worker while it runs."""

    incident_id: int
    answer_to: AnswerTo
    requested_at: datetime
    channel_name: str | None
    runs: int  # 1 on the declaring worker's own run; more once taken over or repeated
    steps: dict[Step, DeclarationStep] = field(default_factory=dict)

    def over(self, step: Step) -> bool:
        return step in self.steps

    @property
    def resumed(self) -> bool:
        """A run after another: what the earlier one did (and whose answer it lost) must be
        looked for before it is done again."""
        return self.runs > 1

    def failures(self) -> dict[Step, str]:
        return {s: r.result for s, r in self.steps.items() if r.state == StepState.FAILED}

    def answer_url_usable(self, now: datetime) -> bool:
        return self.answer_to.url is not None and now - self.requested_at < ANSWER_URL_LIFETIME


def _progress(declaration: Declaration, steps: list[DeclarationStep]) -> Progress:
    return Progress(
        incident_id=declaration.incident_id,
        answer_to=AnswerTo(declaration.answer_url, declaration.answer_channel),
        requested_at=declaration.requested_at,
        channel_name=declaration.channel_name,
        runs=declaration.runs,
        steps={Step(s.step): s for s in steps},
    )


class DeclarationDesk:
    """Starts, claims, records and finishes declarations; `owner` names this process in
    the leases it takes."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        incident_written: Callable[[], None] = lambda: None,
    ):
        self.db = db
        self.clock = clock
        self.incident_written = incident_written  # a step changed the incident row
        self.owner = uuid.uuid4().hex

    def start(
        self, answer_to: AnswerTo, channel_name: Callable[[Incident], str]
    ) -> Callable[[Incident, datetime], Declaration]:
        """The row written with the incident, naming the channel it is to get (recorded
        before Slack is asked for it): this process holds it from the start."""

        def row(incident: Incident, now: datetime) -> Declaration:
            return Declaration(
                incident_id=incident.id,
                answer_url=answer_to.url,
                answer_channel=answer_to.channel,
                requested_at=now,
                channel_name=channel_name(incident),
                runs=1,
                lease_owner=self.owner,
                lease_until=now + LEASE,
            )

        return row

    @staticmethod
    def fresh(
        incident: Incident, answer_to: AnswerTo, channel_name: Callable[[Incident], str]
    ) -> Progress:
        """The progress of a declaration just written by `start` (nothing done yet)."""
        return Progress(
            incident.id, answer_to, incident.declared_at, channel_name(incident), runs=1
        )

    async def claim_unfinished(self) -> list[Progress]:
        """Declarations whose worker died (its lease ran out), each now held by this process."""
        now = self.clock()
        ids = await claim(
            self.db,
            Declaration.incident_id,
            (col(Declaration.finished_at).is_(None), self._free(now)),
            **self._taking(now),
        )
        return [p for p in [await self.progress(i) for i in ids] if p is not None]

    async def claim_finished(self, incident_id: int) -> Progress | None:
        """A finished declaration taken again (to post its card anew), if nobody holds it."""
        now = self.clock()
        conditions = (
            Declaration.incident_id == incident_id,
            col(Declaration.finished_at).is_not(None),
            self._free(now),
        )
        if not await claim(self.db, Declaration.incident_id, conditions, **self._taking(now)):
            return None
        return await self.progress(incident_id)

    def _free(self, now: datetime):
        """Nobody's, or a lease run out; never one of this process's own (released when its
        run ends, so still being worked on here, only slowly)."""
        return and_(
            or_(col(Declaration.lease_until).is_(None), col(Declaration.lease_until) < now),
            or_(col(Declaration.lease_owner).is_(None), Declaration.lease_owner != self.owner),
        )

    def _taking(self, now: datetime) -> dict:
        return {
            "lease_owner": self.owner,
            "lease_until": now + LEASE,
            "runs": Declaration.runs + 1,
        }

    async def progress(self, incident_id: int) -> Progress | None:
        async with self.db.snapshot_read() as session:
            declaration = await session.get(Declaration, incident_id)
            if declaration is None:
                return None
            steps = await session.exec(
                select(DeclarationStep).where(DeclarationStep.incident_id == incident_id)
            )
            return _progress(declaration, list(steps.all()))

    @contextlib.asynccontextmanager
    async def held(self, progress: Progress, finish: bool = True) -> AsyncIterator[None]:
        """Work on `progress` while its lease is renewed; let it go afterwards (finished
        when `finish` and the block ended normally)."""
        renewing = asyncio.ensure_future(self._renew(progress.incident_id))
        finished = False
        try:
            yield
            finished = finish
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            await self._release(progress.incident_id, finished)

    async def _renew(self, incident_id: int) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                async with self.db.transaction() as session:
                    if not await self._extend(session, incident_id):
                        log.warning("declaration of INC-%s was taken over", incident_id)
                        return
            except DATABASE_ERRORS as error:  # tried again at the next beat, within the lease
                log.warning("could not renew INC-%s's declaration: %s", incident_id, error)

    async def _extend(self, session, incident_id: int) -> bool:
        renewed = await session.exec(
            update(Declaration)
            .where(Declaration.incident_id == incident_id, Declaration.lease_owner == self.owner)
            .values(lease_until=self.clock() + LEASE)
            .returning(Declaration.incident_id)
        )
        return renewed.first() is not None

    async def _release(self, incident_id: int, finished: bool) -> None:
        values = {"lease_owner": None, "lease_until": None}
        if finished:
            values["finished_at"] = self.clock()
        async with self.db.transaction() as session:
            await session.exec(
                update(Declaration)
                .where(
                    Declaration.incident_id == incident_id, Declaration.lease_owner == self.owner
                )
                .values(**values)
            )

    async def choose_name(self, progress: Progress, name: str) -> None:
        """Record the channel name about to be created, before asking Slack for it."""
        async with self.db.transaction() as session:
            if not await self._extend(session, progress.incident_id):
                raise LeaseLost(progress.incident_id)
            await session.exec(
                update(Declaration)
                .where(Declaration.incident_id == progress.incident_id)
                .values(channel_name=name)
            )
        progress.channel_name = name

    async def record(
        self,
        progress: Progress,
        step: Step,
        state: StepState,
        result: str = "",
        incident: dict | None = None,
    ) -> None:
        """A step is over: recorded while this process still holds the declaration, with
        what it made of the incident (`incident`: its columns, e.g. the channel), at once."""
        row = DeclarationStep(
            incident_id=progress.incident_id, step=step, state=state, result=result, at=self.clock()
        )
        async with self.db.transaction() as session:
            if not await self._extend(session, progress.incident_id):
                raise LeaseLost(progress.incident_id)
            await session.exec(
                delete(DeclarationStep).where(
                    DeclarationStep.incident_id == progress.incident_id,
                    DeclarationStep.step == step,
                )
            )
            session.add(row)
            if incident:
                await session.exec(
                    update(Incident).where(Incident.id == progress.incident_id).values(**incident)
                )
        progress.steps[step] = row
        if incident:
            self.incident_written()
