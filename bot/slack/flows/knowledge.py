"""The knowledge base in Slack: `/incident search`, and similar past incidents posted in a
new war room.

Private incidents are shown only to their war room's members. Slack gives a bot no list of
a person's channels, so the private results are checked the other way round: the members
of each private war room in the results (conversations.members, which the bot may call as
a member of every war room) are read and the viewer must be among them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.incidents import IncidentSnapshot
from bot.incidents.knowledge import Found, KnowledgeBase
from bot.slack.blocks import knowledge as knowledge_blocks
from bot.slack.flows.reply import Reply
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.slack.people import People
from bot.store.probe import DATABASE_ERRORS

log = logging.getLogger(__name__)

RESULTS = 5
CHECKED = 15  # the best results looked at: bounds the membership checks per search


@dataclass
class Knowledge:
    knowledge: KnowledgeBase
    gateway: SlackGateway
    people: People

    async def search(self, reply: Reply, words: str) -> None:
        found = await self.knowledge.search(words)
        visible = await self._visible_to(reply.user, found)
        await reply(*knowledge_blocks.search_results(words, visible, self.people.workspace()))

    async def similar(self, snapshot: IncidentSnapshot) -> list[Found]:
        """Public past incidents like a new one (read while its war room is being opened)."""
        incident = snapshot.incident
        try:
            return await self.knowledge.similar(incident.title, incident.impact, incident.id)
        except DATABASE_ERRORS as error:  # a nicety: the declaration goes on without it
            log.warning("no similar incidents for %s: %s", incident.reference, error)
            return []

    async def post_similar(
        self, channel_id: str, found: list[Found], metadata: dict | None = None
    ) -> None:
        if found:
            text, blocks = knowledge_blocks.similar_incidents(found, self.people.workspace())
            await self.gateway.post(channel_id, text, blocks, metadata)

    async def _visible_to(self, user: str, found: list[Found]) -> list[Found]:
        found = found[:CHECKED]
        rooms = list({f.incident.channel_id for f in found if f.private and f.incident.channel_id})
        members = await asyncio.gather(*(self._members(room) for room in rooms))
        member_of = {room for room, people in zip(rooms, members, strict=True) if user in people}
        return [f for f in found if not f.private or f.incident.channel_id in member_of][:RESULTS]

    async def _members(self, channel_id: str) -> set[str]:
        try:
            return await self.gateway.members(channel_id)
        except SlackCallFailed:
            return set()  # cannot tell: keep it private
