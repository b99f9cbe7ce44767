"""What the status page may show: open and recently resolved incidents, their published
stakeholder updates, nothing said in the war room. Read-only; plain dataclasses out.

Private incidents are redacted here, not by the renderers: they come out with their
reference and nothing else, so no rendering can leak what they are about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents import lifecycle
from bot.incidents.lifecycle import UpdateStatus
from bot.incidents.privacy import EVERYONE, public_only, shown_to
from bot.store import Database
from bot.store.models import Incident, StakeholderUpdate
from bot.store.types import utcnow

RECENTLY_RESOLVED = timedelta(days=7)
FEED_LENGTH = 50
REFERENCE_PREFIX = "INC-"

# Only the columns the page shows: no ORM objects for hundreds of rows per request.
_INCIDENT_COLUMNS = (
    Incident.id,
    Incident.title,
    Incident.severity,
    Incident.status,
    Incident.private,
    Incident.declared_at,
    Incident.resolved_at,
    Incident.next_update_due,
)
_UPDATE_COLUMNS = (
    StakeholderUpdate.incident_id,
    StakeholderUpdate.text,
    StakeholderUpdate.final,
    StakeholderUpdate.created_at,
    StakeholderUpdate.decided_at,
)


@dataclass(frozen=True)
class PublishedUpdate:
    """A stakeholder update as it went out; `text` as it reads (see StatusReader.readable)."""

    at: datetime
    text: str
    final: bool


@dataclass(frozen=True)
class PublicIncident:
    """One incident as the whole company may see it. For a private incident every field but
    `reference` and `private` is None."""

    reference: str
    private: bool
    title: str | None = None
    severity: str | None = None
    status: str | None = None
    declared_at: datetime | None = None
    resolved_at: datetime | None = None
    last_update: PublishedUpdate | None = None
    next_update_due: datetime | None = None  # while a draft waits: when it was drafted

    @property
    def is_open(self) -> bool:
        return self.status in lifecycle.ACTIVE_STATUSES


@dataclass(frozen=True)
class StatusBoard:
    at: datetime
    open: list[PublicIncident]
    recently_resolved: list[PublicIncident]


@dataclass(frozen=True)
class IncidentHistory:
    incident: PublicIncident
    updates: list[PublishedUpdate]  # newest first; empty for a private incident


@dataclass(frozen=True)
class FeedEntry:
    incident: PublicIncident
    update: PublishedUpdate
    update_id: int


@dataclass(frozen=True)
class OperationalCounts:
    open_by_severity: dict[str, int]
    drafts_waiting: int


def shown_as_private(row) -> bool:
    """Whether the status page hides what an incident is about (the privacy rule, for
    everyone). Drills never get this far: every query here leaves them out (`_real`), so
    they are not even "a private incident"."""
    return not shown_to(row, EVERYONE)


def _real():
    """Not a drill: exercises are no one's business outside their war room."""
    return col(Incident.drill).is_(False)


def reference_of(incident_id: int) -> str:
    return f"{REFERENCE_PREFIX}{incident_id}"


def parse_reference(reference: str) -> int | None:
    number = reference.upper().removeprefix(REFERENCE_PREFIX)
    return int(number) if number.isdigit() and len(number) < 10 else None


def _as_stored(text: str) -> str:
    return text


class StatusReader:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime] = utcnow,
        readable: Callable[[str], str] = _as_stored,
    ):
        self.db = db
        self.clock = clock
        # Titles and updates are said text, stored in the chat's markup; the chat layer
        # supplies how they read as plain text (names, link labels, `&` as typed).
        self.readable = readable

    async def board(self) -> StatusBoard:
        """Open incidents (most severe first) and those resolved in the last 7 days (latest
        first), each with its last published update: two queries however many there are."""
        now = self.clock()
        visible = or_(
            col(Incident.status).in_(lifecycle.ACTIVE_STATUSES),
            col(Incident.resolved_at) >= now - RECENTLY_RESOLVED,
        )
        async with self.db.snapshot_read() as session:
            rows = (
                await session.exec(
                    select(*_INCIDENT_COLUMNS, *_UPDATE_COLUMNS[1:])
                    .outerjoin(StakeholderUpdate, col(StakeholderUpdate.id) == _latest_sent_id())
                    .where(visible, col(Incident.channel_id).is_not(None), _real())
                )
            ).all()
            waiting = await _drafts_waiting_since(session)
        latest = {row.id: self._published(row) for row in rows if row.text is not None}
        open_rows = sorted(
            (row for row in rows if row.status in lifecycle.ACTIVE_STATUSES),
            key=lambda row: (shown_as_private(row), row.severity, row.declared_at),
        )
        resolved_rows = sorted(
            (row for row in rows if row.status not in lifecycle.ACTIVE_STATUSES),
            key=lambda row: (shown_as_private(row), -row.resolved_at.timestamp()),
        )
        open_, resolved = (
            [self._public(row, latest.get(row.id), waiting.get(row.id)) for row in part]
            for part in (open_rows, resolved_rows)
        )
        return StatusBoard(now, open_, resolved)

    async def history(self, reference: str) -> IncidentHistory | None:
        """One incident's published updates, newest first; None for an unknown reference."""
        incident_id = parse_reference(reference)
        if incident_id is None:
            return None
        async with self.db.snapshot_read() as session:
            row = (
                await session.exec(
                    select(*_INCIDENT_COLUMNS).where(
                        Incident.id == incident_id, col(Incident.channel_id).is_not(None), _real()
                    )
                )
            ).first()
            if row is None:
                return None
            if shown_as_private(row):
                return IncidentHistory(self._public(row, None, None), [])
            updates = [
                self._published(u)
                for u in (
                    await session.exec(
                        select(StakeholderUpdate)
                        .where(StakeholderUpdate.incident_id == incident_id, _sent())
                        .order_by(col(StakeholderUpdate.decided_at).desc())
                    )
                ).all()
            ]
            waiting = await _drafts_waiting_since(session, incident_id)
        latest = updates[0] if updates else None
        return IncidentHistory(self._public(row, latest, waiting.get(incident_id)), updates)

    async def feed(self, limit: int = FEED_LENGTH) -> list[FeedEntry]:
        """The latest published updates of public incidents, newest first (the Atom feed)."""
        async with self.db.snapshot_read() as session:
            rows = (
                await session.exec(
                    select(StakeholderUpdate, *_INCIDENT_COLUMNS)
                    .join(Incident, col(Incident.id) == StakeholderUpdate.incident_id)
                    .where(_sent(), public_only(), _real())
                    .order_by(col(StakeholderUpdate.decided_at).desc())
                    .limit(limit)
                )
            ).all()
        return [
            FeedEntry(
                self._public(row, self._published(row[0]), None), self._published(row[0]), row[0].id
            )
            for row in rows
        ]

    async def counts(self) -> OperationalCounts:
        """For monitoring: open incidents by severity and update drafts waiting for a decision."""
        async with self.db.snapshot_read() as session:
            by_severity = (
                await session.exec(
                    select(Incident.severity, func.count())
                    .where(
                        col(Incident.status).in_(lifecycle.ACTIVE_STATUSES),
                        col(Incident.channel_id).is_not(None),
                        _real(),
                    )
                    .group_by(Incident.severity)
                )
            ).all()
            drafts = (
                await session.exec(
                    select(func.count())
                    .select_from(StakeholderUpdate)
                    .join(Incident, col(Incident.id) == StakeholderUpdate.incident_id)
                    .where(StakeholderUpdate.status == UpdateStatus.DRAFT, _real())
                )
            ).one()
        return OperationalCounts(dict(by_severity), drafts)

    def _published(self, update) -> PublishedUpdate:
        """From a StakeholderUpdate or a row of its columns."""
        at = update.decided_at or update.created_at
        return PublishedUpdate(at, self.readable(update.text), update.final)

    def _public(self, row, last_update: PublishedUpdate | None, draft_since) -> PublicIncident:
        reference = reference_of(row.id)
        if shown_as_private(row):
            return PublicIncident(reference, private=True)
        is_open = row.status in lifecycle.ACTIVE_STATUSES
        return PublicIncident(
            reference,
            private=False,
            title=self.readable(row.title),
            severity=row.severity,
            status=row.status,
            declared_at=row.declared_at,
            resolved_at=None if is_open else row.resolved_at,
            last_update=last_update,
            next_update_due=(row.next_update_due or _as_utc(draft_since)) if is_open else None,
        )


def _sent():
    return StakeholderUpdate.status == UpdateStatus.SENT


def _latest_sent_id():
    """The ID of the incident's last sent update, found through the incident_id index (a
    plain `status = 'sent'` condition makes SQLite scan the status index instead)."""
    other = aliased(StakeholderUpdate)
    return (
        select(func.max(case((other.status == UpdateStatus.SENT, other.id))))
        .where(other.incident_id == Incident.id)
        .correlate(Incident)
        .scalar_subquery()
    )


async def _drafts_waiting_since(
    session: AsyncSession, incident_id: int | None = None
) -> dict[int, datetime]:
    """Incidents with an update drafted and not yet sent (few: at most one per open
    incident), and since when."""
    waiting = col(StakeholderUpdate.status).in_((UpdateStatus.DRAFT, UpdateStatus.SENDING))
    if incident_id is not None:
        waiting = waiting & (StakeholderUpdate.incident_id == incident_id)
    rows = (
        await session.exec(
            select(StakeholderUpdate.incident_id, func.min(StakeholderUpdate.created_at))
            .where(waiting)
            .group_by(StakeholderUpdate.incident_id)
        )
    ).all()
    return dict(rows)


def _as_utc(value: datetime | str | None) -> datetime | None:
    """SQLite's MIN() comes back as a plain value, without the column type's conversion."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
