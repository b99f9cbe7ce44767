"""The knowledge base in Slack: `/incident search`, and similar past incidents posted in a
new war room.

A private incident is found only by its war room's members (the privacy rule, with the
war rooms Slack says the searcher is in); to anyone else it is not there at all, since even
"a private incident matches these words" would say too much.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.incidents import IncidentSnapshot
from bot.incidents.knowledge import Found, KnowledgeBase
from bot.incidents.privacy import shown_to
from bot.slack.blocks import knowledge as knowledge_blocks
from bot.slack.flows.reply import Reply
from bot.slack.gateway import SlackGateway
from bot.slack.people import People
from bot.slack.viewers import Viewers
from bot.store.probe import DATABASE_ERRORS

log = logging.getLogger(__name__)

RESULTS = 5
CHECKED = 15  # the best results looked at: bounds the membership checks per search


@dataclass
class Knowledge:
    knowledge: KnowledgeBase
    gateway: SlackGateway
    people: People
    viewers: Viewers

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
        viewer = await self.viewers.of(user, [f.incident for f in found])
        return [f for f in found if shown_to(f.incident, viewer)][:RESULTS]
