"""The timeline in Slack: pages, the catch-up, key notes, the Markdown export and the
post-incident review draft."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot.documents import Documents, DocumentWorker
from bot.incidents import IncidentService, IncidentSnapshot
from bot.incidents.drills import DrillDesk
from bot.incidents.review import gather_review
from bot.incidents.timeline import PageTurn, Timeline
from bot.render.drills import scorecard_markdown
from bot.render.readers import Readers
from bot.slack.blocks import timeline as timeline_blocks
from bot.slack.blocks.common import drill_mark
from bot.slack.flows.outcome import ROOM, Outcome
from bot.slack.flows.reply import Reply
from bot.slack.gateway import SlackGateway
from bot.slack.people import People
from bot.slack.text import for_room, mentioned, plain_text
from bot.slack.viewers import Viewers


@dataclass
class TimelineViews:
    service: IncidentService
    timeline: Timeline
    gateway: SlackGateway
    people: People
    documents: Documents  # long documents are written by worker processes
    drills: DrillDesk
    viewers: Viewers  # a page's buttons carry the incident's id: it may not be the reader's

    async def note(self, snapshot: IncidentSnapshot, user: str, text: str) -> None:
        entry = await self.timeline.add_note(snapshot.id, user, text)
        said = f"{drill_mark(snapshot)}📝 <@{user}> noted: {for_room(entry.text)}"
        outcome = Outcome(f"added the note to {snapshot.incident.reference}'s timeline")
        await outcome.step(ROOM, self.gateway.post(snapshot.incident.channel_id, said))
        outcome.finish()

    async def show(
        self, reply: Reply, incident_id: int, page: int | PageTurn, replace: bool = False
    ) -> None:
        """A page by number, or turned to from one the reader has (◀ ▶)."""
        size = timeline_blocks.PAGE_ENTRIES
        if isinstance(page, PageTurn):
            reading = self.timeline.turn(incident_id, page, size)
        else:
            reading = self.timeline.page(incident_id, page, size)
        snapshot, chunk, highlights, zone = await asyncio.gather(
            self.service.get(incident_id),
            reading,
            self.timeline.highlights(incident_id),
            self.people.zone(reply.user),
        )
        await self.viewers.require(reply.user, snapshot)
        text, page_blocks = timeline_blocks.timeline_page(snapshot, chunk, highlights, zone)
        await reply(text, page_blocks, replace)

    async def catch_up(self, reply: Reply, incident_id: int) -> None:
        snapshot, highlights, zone = await asyncio.gather(
            self.service.get(incident_id),
            self.timeline.highlights(incident_id),
            self.people.zone(reply.user),
        )
        await self.viewers.require(reply.user, snapshot)
        await reply(*timeline_blocks.catch_up(snapshot, highlights, zone))

    async def export(self, snapshot: IncidentSnapshot, user: str) -> None:
        incident = snapshot.incident
        async with self.documents.worker() as worker:
            readers = await self._readers(worker, user, incident.id, set())
            document = await worker.timeline(snapshot, readers)
        await self._upload(
            incident.channel_id,
            document,
            filename=f"{incident.reference}-timeline.md",
            title=f"{incident.reference} timeline",
            comment=f"{drill_mark(snapshot)}🗂️ Timeline of {incident.reference}, exported by <@{user}>.",
        )

    async def post_review(self, snapshot: IncidentSnapshot, user: str) -> None:
        """The post-incident review draft, as a Markdown file in the war room."""
        incident = snapshot.incident
        record = await gather_review(self.service, snapshot.id)
        # Read before the file exists: from its making to the upload (which deletes it)
        # nothing waits, so nothing can be cancelled in between and leave it behind.
        scored = await self.drills.scorecard(snapshot.id)
        async with self.documents.worker() as worker:
            readers = await self._readers(worker, user, snapshot.id, record.people())
            document = await worker.review(record, readers, self.service.clock())
        if scored is not None:  # a drill: its scorecard, as posted when it was resolved
            with document.open("a", encoding="utf-8") as review:
                review.write("\n" + scorecard_markdown(scored))
        await self._upload(
            incident.channel_id,
            document,
            filename=f"{incident.reference}-post-incident-review.md",
            title=f"{drill_mark(snapshot)}{incident.reference} post-incident review (draft)",
            comment=(
                f"{drill_mark(snapshot)}📝 Post-incident review draft for {incident.reference}, made by <@{user}> "
                "from the record. Fill in the cause, the lessons and the action items "
                "together, then `/incident close`."
            ),
        )

    async def _readers(
        self, worker: DocumentWorker, user: str, incident_id: int, people: set[str]
    ) -> Readers:
        """The reader's time zone, and names for everyone the document names or mentions
        (the worker finds the timeline's people by reading it)."""
        zone, named = await asyncio.gather(
            self.people.zone(user), worker.people(incident_id, mentioned)
        )
        names = await self.people.names(people | named)
        return Readers(zone, names, partial(plain_text, names=names))

    async def _upload(self, channel_id: str, document: Path, **file) -> None:
        try:
            await self.gateway.upload_file(channel_id, document, **file)
        finally:
            document.unlink()
