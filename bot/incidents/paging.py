"""Paging the MIM duty manager: whom to page (the rota's order from an instant, else the
response team's people), and the pages themselves, escalated until someone acknowledges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents import lifecycle
from bot.incidents.entries import PageAcknowledged, Paged, new_entry
from bot.incidents.errors import InvalidRequest, NotFound
from bot.incidents.rota import DutyRota
from bot.incidents.service import IncidentService
from bot.store import Database
from bot.store.models import Incident, Page
from bot.store.types import utcnow

POST_LEASE = timedelta(seconds=30)


def page_order(rota: DutyRota | None, response_team: list[str], at: datetime) -> list[str]:
    """The duty manager first, then each next person on the rota once. Without a rota, the
    response team's people in the order the config lists them (user groups are skipped:
    a page goes to one person)."""
    if rota is not None:
        order = rota.page_order(at)
        if order:
            return order
    return [member for member in response_team if member[0] in "UW"]


@dataclass(frozen=True)
class PageOut:
    """A page to send by direct message (claimed: this caller sends it)."""

    page: Page
    incident: Incident


@dataclass(frozen=True)
class Escalation:
    """Nobody acknowledged `unanswered` in time: `page` goes to the next person, or, when
    everyone on the rota has been paged, `page` is None."""

    unanswered: Page
    incident: Incident
    page: Page | None


@dataclass(frozen=True)
class Acknowledged:
    page: Page
    incident: Incident
    seconds: int  # from the first page


class Pager:
    """Pages for major incidents: created, escalated and acknowledged, each exactly once.

    Escalations are claimed like the update cadence: one `UPDATE … WHERE ack_due <= now …
    RETURNING` marks the unanswered pages escalated, so one replica escalates each, and a
    page overdue while every process was down escalates at the first tick after a start.
    """

    def __init__(
        self,
        db: Database,
        rota: DutyRota | None,
        response_team: list[str],
        ack_within: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.db = db
        self.rota = rota
        self.response_team = response_team
        self.ack_within = ack_within
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return bool(page_order(self.rota, self.response_team, self.clock()))

    async def start(self, incident_id: int) -> PageOut | None:
        """Page the duty manager for a major incident; None when paged already (or nobody
        is on the rota)."""
        now = self.clock()
        async with self.db.transaction() as session:
            incident = await IncidentService.load_incident(session, incident_id, for_update=True)
            first = await session.exec(select(Page.id).where(Page.incident_id == incident_id))
            order = page_order(self.rota, self.response_team, now)
            if first.first() is not None or not order:
                return None
            page = self._page(session, incident, order[0], 1, None, now)
            await session.flush()
            return PageOut(page, incident)

    def _page(
        self,
        session: AsyncSession,
        incident: Incident,
        user: str,
        attempt: int,
        unanswered: str | None,
        now: datetime,
    ) -> Page:
        """A page row and its timeline entry, added to the caller's transaction."""
        page = Page(
            incident_id=incident.id,
            attempt=attempt,
            user_id=user,
            paged_at=now,
            ack_due=now + self.ack_within,
            post_lease_until=now + POST_LEASE,
        )
        session.add(page)
        text = "Paged the duty manager" if attempt == 1 else "Paged the next on the rota"
        what = Paged(user, attempt, unanswered)
        session.add(new_entry(incident.id, now, what, actor=user, text=text, key=True))
        return page

    async def unpaged_major(self, majors: list[tuple[str, str]]) -> list[int]:
        """Open major incidents (`majors`: their (playbook, severity) pairs) whose room is
        furnished and nobody was paged: the process that raised or declared them died
        before paging. A cheap read; `start` then pages each once."""
        if not majors or not self.enabled:
            return []
        paged = select(Page.id).where(Page.incident_id == Incident.id).exists()
        query = select(Incident.id).where(
            col(Incident.status).in_(lifecycle.ACTIVE_STATUSES),
            col(Incident.drill).is_(False),
            col(Incident.card_ts).is_not(None),
            or_(*(and_(Incident.playbook == p, Incident.severity == s) for p, s in majors)),
            ~paged,
        )
        async with self.db.snapshot_read() as session:
            return list((await session.exec(query)).all())

    async def sent(self, page_id: int, message_ts: str) -> None:
        async with self.db.transaction() as session:
            await session.exec(
                update(Page)
                .where(Page.id == page_id)
                .values(message_ts=message_ts, post_lease_until=None)
            )

    async def claim_unsent(self) -> list[PageOut]:
        """Pages whose sender died before the direct message went out: send them now, once."""
        now = self.clock()
        async with self.db.transaction() as session:
            claimed = await session.exec(
                update(Page)
                .where(
                    col(Page.message_ts).is_(None),
                    col(Page.acknowledged_at).is_(None),
                    col(Page.post_lease_until) < now,
                )
                .values(post_lease_until=now + POST_LEASE)
                .returning(Page.id)
            )
            return [await self._out(session, page_id) for page_id in claimed.scalars().all()]

    async def claim_escalations(self) -> list[Escalation]:
        """Page the next person for every page unanswered past `ack_within` (once each)."""
        now = self.clock()
        answered = select(Page.incident_id).where(col(Page.acknowledged_at).is_not(None))
        due = (
            col(Page.ack_due) <= now,
            col(Page.escalated).is_(False),
            col(Page.acknowledged_at).is_(None),
            col(Page.incident_id).not_in(answered),
        )
        async with self.db.snapshot_read() as session:
            if (await session.exec(select(Page.id).where(*due).limit(1))).first() is None:
                return []  # the common case: a cheap read, no write transaction
        async with self.db.transaction() as session:
            claimed = await session.exec(
                update(Page).where(*due).values(escalated=True).returning(Page.id)
            )
            return [await self._escalate(session, page_id, now) for page_id in claimed.scalars()]

    async def _escalate(self, session: AsyncSession, page_id: int, now: datetime) -> Escalation:
        unanswered = await session.get(Page, page_id)
        incident = await IncidentService.load_incident(
            session, unanswered.incident_id, for_update=True
        )
        if incident.status not in lifecycle.ACTIVE_STATUSES:
            return Escalation(unanswered, incident, None)
        paged = set(
            (await session.exec(select(Page.user_id).where(Page.incident_id == incident.id))).all()
        )
        following = [u for u in page_order(self.rota, self.response_team, now) if u not in paged]
        if not following:
            return Escalation(unanswered, incident, None)
        page = self._page(
            session, incident, following[0], unanswered.attempt + 1, unanswered.user_id, now
        )
        await session.flush()
        return Escalation(unanswered, incident, page)

    async def acknowledge(self, page_id: int, user: str) -> Acknowledged:
        """The paged person answers; the chain stops. Refused for anyone else, or when the
        incident's page was already acknowledged."""
        now = self.clock()
        async with self.db.transaction() as session:
            page = await session.get(Page, page_id, with_for_update=True)
            if page is None:
                raise NotFound(f"There is no page {page_id}.")
            if page.user_id != user:
                raise InvalidRequest("This page is for someone else.")
            incident = await IncidentService.load_incident(
                session, page.incident_id, for_update=True
            )
            lifecycle.refuse_if_closed(incident)
            taken = (
                await session.exec(
                    select(Page).where(
                        Page.incident_id == incident.id, col(Page.acknowledged_at).is_not(None)
                    )
                )
            ).first()
            if taken is not None:
                raise InvalidRequest(
                    f"{incident.reference}'s page was already acknowledged "
                    f"(attempt {taken.attempt})."
                )
            page.acknowledged_at = now
            first = (
                await session.exec(
                    select(func.min(Page.paged_at)).where(Page.incident_id == incident.id)
                )
            ).one()
            seconds = int((now - _aware(first)).total_seconds())
            what = PageAcknowledged(user, page.attempt, seconds)
            text = "Acknowledged the page"
            session.add(new_entry(incident.id, now, what, actor=user, text=text, key=True))
            return Acknowledged(page, incident, seconds)

    async def acknowledger(self, incident_id: int) -> str | None:
        async with self.db.snapshot_read() as session:
            return (
                await session.exec(
                    select(Page.user_id).where(
                        Page.incident_id == incident_id, col(Page.acknowledged_at).is_not(None)
                    )
                )
            ).first()

    @staticmethod
    async def _out(session: AsyncSession, page_id: int) -> PageOut:
        page = await session.get(Page, page_id)
        return PageOut(page, await session.get(Incident, page.incident_id))


def _aware(moment: datetime) -> datetime:
    """SQLite's MIN() comes back as a plain value, without the column's type."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
