"""The timeline in Slack: pages, the catch-up, key notes, the Markdown export and the
post-incident review draft."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import tzinfo
from functools import partial

from bot.incidents import IncidentService, IncidentSnapshot
from bot.incidents.review import gather_review
from bot.incidents.timeline import Timeline, people_in
from bot.render.export import timeline_markdown
from bot.render.readers import Readers
from bot.render.review import review_markdown
from bot.slack.blocks import timeline as timeline_blocks
from bot.slack.flows.reply import Reply
from bot.slack.gateway import SlackGateway
from bot.slack.people import People
from bot.slack.text import escape, mentioned, with_names


@dataclass
class TimelineViews:
    service: IncidentService
    timeline: Timeline
    gateway: SlackGateway
    people: People

    async def note(self, snapshot: IncidentSnapshot, user: str, text: str) -> None:
        entry = await self.timeline.add_note(snapshot.id, user, text)
        await self.gateway.post(
            snapshot.incident.channel_id, f"📝 <@{user}> noted: {escape(entry.text)}"
        )

    async def show(self, reply: Reply, incident_id: int, page: int, replace: bool = False) -> None:
        snapshot, chunk, highlights, zone = await asyncio.gather(
            self.service.get(incident_id),
            self.timeline.page(incident_id, page, timeline_blocks.PAGE_ENTRIES),
            self.timeline.highlights(incident_id),
            self.people.zone(reply.user),
        )
        text, page_blocks = timeline_blocks.timeline_page(snapshot, chunk, highlights, zone)
        await reply(text, page_blocks, replace)

    async def catch_up(self, reply: Reply, incident_id: int) -> None:
        snapshot, highlights, zone = await asyncio.gather(
            self.service.get(incident_id),
            self.timeline.highlights(incident_id),
            self.people.zone(reply.user),
        )
        await reply(*timeline_blocks.catch_up(snapshot, highlights, zone))

    async def export(self, snapshot: IncidentSnapshot, user: str) -> None:
        entries, zone = await asyncio.gather(
            self.timeline.entries(snapshot.id), self.people.zone(user)
        )
        readers = await self._readers(zone, people_in(entries), entries)
        incident = snapshot.incident
        await self.gateway.upload_text(
            incident.channel_id,
            filename=f"{incident.reference}-timeline.md",
            title=f"{incident.reference} timeline",
            # A long timeline takes a while to render: off the event loop, which acks Slack.
            content=await asyncio.to_thread(timeline_markdown, snapshot, entries, readers),
            comment=f"🗂️ Timeline of {incident.reference}, exported by <@{user}>.",
        )

    async def post_review(self, snapshot: IncidentSnapshot, user: str) -> None:
        """The post-incident review draft, as a Markdown file in the war room."""
        record, zone = await asyncio.gather(
            gather_review(self.service, snapshot.id), self.people.zone(user)
        )
        readers = await self._readers(zone, record.people(), record.entries)
        incident = snapshot.incident
        await self.gateway.upload_text(
            incident.channel_id,
            filename=f"{incident.reference}-post-incident-review.md",
            title=f"{incident.reference} post-incident review (draft)",
            content=await asyncio.to_thread(review_markdown, record, readers, self.service.clock()),
            comment=(
                f"📝 Post-incident review draft for {incident.reference}, made by <@{user}> "
                "from the record. Fill in the cause, the lessons and the action items "
                "together, then `/incident close`."
            ),
        )

    async def _readers(self, zone: tzinfo, people: set[str], entries: list) -> Readers:
        """Names for everyone the entries name or mention, for a document read outside Slack."""
        names = await self.people.names(people.union(*(mentioned(e.text) for e in entries)))
        return Readers(zone, names, partial(with_names, names=names))
