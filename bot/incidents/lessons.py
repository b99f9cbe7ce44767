"""What the team writes after the storm: the review's sections and the problem record.

The review is kept in versions (every save adds one, with who and when), so the latest
wording counts and earlier wording stays on record. Closing an incident waits for both
(`missing_before_close`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.errors import InvalidRequest
from bot.incidents.knowledge import index_incident
from bot.incidents.lifecycle import refuse_if_closed
from bot.incidents.permissions import Action, Actor
from bot.playbooks import Playbook
from bot.store.models import Incident, ProblemRecord, ReviewVersion

if TYPE_CHECKING:
    from bot.incidents.service import IncidentService

MAX_SECTION = 3000  # a modal's multiline input holds at most 3000 characters
MAX_REFERENCE = 300


@dataclass(frozen=True)
class WrittenReview:
    """The review's sections as last saved, in the playbook's order, and its history."""

    sections: dict[str, str]  # section name -> text ("" when not written)
    version: int  # 0: never saved
    edited_by: str | None
    edited_at: datetime | None
    editors: list[tuple[str, datetime]]  # every save, oldest first

    def missing(self) -> list[str]:
        return [name for name, written in self.sections.items() if not written.strip()]


def written_review(
    playbook: Playbook, incident: Incident, versions: list[ReviewVersion]
) -> WrittenReview:
    """The latest of `versions` (oldest first) laid over the playbook's sections. Before
    anyone saves, the impact given at declaration stands in for an "Impact" section."""
    latest = versions[-1] if versions else None
    stored = latest.sections if latest else {"impact": incident.impact}
    by_name = {name.lower(): text for name, text in stored.items()}
    return WrittenReview(
        sections={name: by_name.get(name.lower(), "") for name in playbook.review.sections},
        version=latest.version if latest else 0,
        edited_by=latest.edited_by if latest else None,
        edited_at=latest.edited_at if latest else None,
        editors=[(v.edited_by, v.edited_at) for v in versions],
    )


async def review_versions(session: AsyncSession, incident_id: int) -> list[ReviewVersion]:
    query = (
        select(ReviewVersion)
        .where(ReviewVersion.incident_id == incident_id)
        .order_by(col(ReviewVersion.version))
    )
    return list((await session.exec(query)).all())


async def problem_record(session: AsyncSession, incident_id: int) -> ProblemRecord | None:
    return await session.get(ProblemRecord, incident_id)


async def missing_before_close(
    session: AsyncSession, incident: Incident, playbook: Playbook
) -> list[str]:
    """What still has to be done before `incident` may close, as phrases for a sentence."""
    missing = []
    review = written_review(playbook, incident, await review_versions(session, incident.id))
    if review.version == 0:
        missing.append("the review has not been filled in (the Fill in button on `report`)")
    elif unwritten := review.missing():
        missing.append(f"the review's {', '.join(unwritten)} still empty")
    needs_problem = playbook.severities[incident.severity].requires_problem_record
    if needs_problem and await problem_record(session, incident.id) is None:
        missing.append(
            f"{incident.severity} needs a problem record (`/incident problem <ticket or URL>`)"
        )
    return missing


class Lessons:
    """Saving the review and the problem record; reading them for the form and the card."""

    def __init__(self, service: IncidentService):
        self.service = service

    async def review(self, incident_id: int) -> tuple[Incident, WrittenReview]:
        async with self.service.db.snapshot_read() as session:
            incident = await self.service.load_incident(session, incident_id)
            playbook = self.service.playbook_for(incident.playbook)
            versions = await review_versions(session, incident_id)
            return incident, written_review(playbook, incident, versions)

    async def save_review(self, incident_id: int, sections: dict[str, str], by: Actor | str) -> int:
        """Store a new version of the review; returns its number."""
        async with self.service.db.transaction() as session:
            incident = await self.service.load_incident(session, incident_id, for_update=True)
            by = (await self.service.require(session, incident, Action.REVIEW, by)).user
            refuse_if_closed(incident)
            playbook = self.service.playbook_for(incident.playbook)
            kept = {
                name: (sections.get(name) or "").strip()[:MAX_SECTION]
                for name in playbook.review.sections
            }
            latest = await session.exec(
                select(func.max(ReviewVersion.version)).where(
                    ReviewVersion.incident_id == incident_id
                )
            )
            version = (latest.one() or 0) + 1
            now = self.service.clock()
            session.add(
                ReviewVersion(
                    incident_id=incident_id,
                    version=version,
                    sections=kept,
                    edited_by=by,
                    edited_at=now,
                )
            )
            await session.flush()
            await index_incident(session, incident, now)
            return version

    async def set_problem(self, incident_id: int, reference: str, by: Actor | str) -> ProblemRecord:
        reference = reference.strip()
        if not reference or len(reference) > MAX_REFERENCE:
            raise InvalidRequest(
                f"Give the problem record's ticket ID or URL (up to {MAX_REFERENCE} characters)."
            )
        async with self.service.db.transaction() as session:
            incident = await self.service.load_incident(session, incident_id, for_update=True)
            by = (await self.service.require(session, incident, Action.PROBLEM, by)).user
            refuse_if_closed(incident)
            record = await problem_record(session, incident_id)
            if record is None:
                record = ProblemRecord(incident_id=incident_id, reference=reference, set_by=by)
                session.add(record)
            record.reference, record.set_by, record.set_at = reference, by, self.service.clock()
            return record

    async def problem(self, incident_id: int) -> ProblemRecord | None:
        async with self.service.db.snapshot_read() as session:
            return await problem_record(session, incident_id)
