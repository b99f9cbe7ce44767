"""The knowledge base: past incidents found by what happened in them.

Each incident has one search document (title; impact, resolution summary, the review's
written sections and what was said in the timeline), rebuilt in the same transaction as
what changes it: resolving, closing, saving the review. The ranking is the database's own
full-text search (`bot/store/search.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.privacy import EVERYONE, shown_to
from bot.store import Database
from bot.store import search as full_text
from bot.store.models import (
    Incident,
    ReviewPost,
    ReviewVersion,
    SearchDocument,
    TimelineEntry,
)

# What of the timeline is indexed: enough to find an incident by what was said, bounded so
# a huge timeline does not make resolving slow (PostgreSQL's tsvector holds 1 MB).
TIMELINE_ENTRIES_INDEXED = 2000
BODY_CHARACTERS = 200_000
CANDIDATES = 50  # ranked hits read before the viewer's privacy filter


@dataclass(frozen=True)
class Found:
    """One past incident in the results."""

    incident: Incident
    private: bool
    review_ts: str | None  # the review draft's message in the war room, when one was posted


async def index_incident(session: AsyncSession, incident: Incident, now: datetime) -> None:
    """(Re)write the incident's search document inside the caller's transaction."""
    latest = (
        await session.exec(
            select(ReviewVersion.sections)
            .where(ReviewVersion.incident_id == incident.id)
            .order_by(col(ReviewVersion.version).desc())
            .limit(1)
        )
    ).first()
    said = (
        await session.exec(
            select(TimelineEntry.text)
            .where(TimelineEntry.incident_id == incident.id, col(TimelineEntry.deleted).is_(False))
            .order_by(col(TimelineEntry.at), col(TimelineEntry.id))
            .limit(TIMELINE_ENTRIES_INDEXED)
        )
    ).all()
    parts = [incident.impact, incident.summary, *(latest or {}).values(), *said]
    body = "\n".join(part for part in parts if part)[:BODY_CHARACTERS]
    document = await session.get(SearchDocument, incident.id)
    if document is None:
        document = SearchDocument(incident_id=incident.id, title=incident.title, body=body)
        session.add(document)
    document.title, document.body, document.updated_at = incident.title, body, now
    document.private, document.channel_id = incident.private, incident.channel_id


class KnowledgeBase:
    def __init__(self, db: Database):
        self.db = db

    async def search(self, words: str, limit: int = CANDIDATES) -> list[Found]:
        """Past incidents matching `words`, best first, private ones included (the caller
        shows those only to their members)."""
        async with self.db.snapshot_read() as session:
            connection = await session.connection()
            hits = await full_text.search(connection, words, limit)
            if not hits:
                return []
            ids = [hit.incident_id for hit in hits]
            incidents = {
                i.id: i
                for i in (await session.exec(select(Incident).where(col(Incident.id).in_(ids))))
            }
            posts = dict(
                (
                    await session.exec(
                        select(ReviewPost.incident_id, ReviewPost.message_ts).where(
                            col(ReviewPost.incident_id).in_(ids)
                        )
                    )
                ).all()
            )
        return [
            Found(incidents[hit.incident_id], hit.private, posts.get(hit.incident_id))
            for hit in hits
            if hit.incident_id in incidents
        ]

    async def similar(self, title: str, impact: str, exclude: int, limit: int = 3) -> list[Found]:
        """Up to `limit` public past incidents like a new one (its title and impact)."""
        found = await self.search(f"{title} {impact}", limit=limit + 10)
        public = [f for f in found if shown_to(f.incident, EVERYONE)]
        return [f for f in public if f.incident.id != exclude][:limit]

    async def review_message(self, incident_id: int) -> str | None:
        async with self.db.snapshot_read() as session:
            post = await session.get(ReviewPost, incident_id)
            return post.message_ts if post else None

    async def review_posted(self, incident_id: int, message_ts: str) -> None:
        async with self.db.transaction() as session:
            post = await session.get(ReviewPost, incident_id)
            if post is None:
                session.add(ReviewPost(incident_id=incident_id, message_ts=message_ts))
            else:
                post.message_ts = message_ts
