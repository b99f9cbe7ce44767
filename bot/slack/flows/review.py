"""The post-incident review in Slack: the draft with its Fill in button, and the form that
stores what the people who were there write."""

from __future__ import annotations

from dataclasses import dataclass

from bot.incidents import IncidentSnapshot
from bot.incidents.knowledge import KnowledgeBase
from bot.incidents.lessons import Lessons
from bot.incidents.lifecycle import refuse_if_closed
from bot.incidents.permissions import Action, Actor
from bot.slack.actors import Actors
from bot.slack.blocks import review as review_blocks
from bot.slack.flows.outcome import ROOM, Outcome, Step
from bot.slack.flows.timeline import TimelineViews
from bot.slack.gateway import SlackGateway
from bot.slack.text import escape
from bot.slack.viewers import Viewers

REVIEW_MESSAGE = Step(
    "updated the review's Fill in message", "the review's Fill in message shows an older version"
)


@dataclass
class Reviewing:
    lessons: Lessons
    knowledge: KnowledgeBase
    timeline_views: TimelineViews
    gateway: SlackGateway
    actors: Actors
    viewers: Viewers

    async def report(self, snapshot: IncidentSnapshot, user: str) -> None:
        """The draft as a file, then a message to fill in the written sections from."""
        await self.timeline_views.post_review(snapshot, user)
        incident, written = await self.lessons.review(snapshot.id)
        text, blocks = review_blocks.review_message(incident, written)
        message_ts = await self.gateway.post(incident.channel_id, text, blocks)
        await self.knowledge.review_posted(incident.id, message_ts)

    async def open_form(
        self, trigger_id: str, incident_id: int, channel_id: str | None, user: str
    ) -> None:
        """The review form; refused before it opens unless `user` may fill it in."""
        actor = await self._acting(incident_id, user)
        await self.lessons.service.check(incident_id, Action.REVIEW, actor)
        incident, written = await self.lessons.review(incident_id)
        refuse_if_closed(incident)  # said before the form opens, not after it is filled
        await self.gateway.open_view(
            trigger_id, review_blocks.review_modal(incident, written, channel_id)
        )

    async def _acting(self, incident_id: int, by: str) -> Actor:
        """`by`, once they may see the incident: the button and the form carry its id."""
        await self.viewers.require(by, await self.lessons.service.get(incident_id))
        return await self.actors.of(by)

    async def save(self, incident_id: int, sections: dict[str, str], by: str) -> None:
        version = await self.lessons.save_review(
            incident_id, sections, await self._acting(incident_id, by)
        )
        incident, written = await self.lessons.review(incident_id)
        missing = written.missing()
        still = (
            f" Still empty: {escape(', '.join(missing))}."
            if missing
            else " Every section is written."
        )
        outcome = Outcome(f"saved the review of {incident.reference} (version {version})")
        message_ts = await self.knowledge.review_message(incident_id)
        if message_ts:  # its Fill in message shows the version now stored
            text, blocks = review_blocks.review_message(incident, written)
            shown = self.gateway.update(incident.channel_id, message_ts, text, blocks)
            await outcome.step(REVIEW_MESSAGE, shown)
        said = (
            f"✍️ <@{by}> saved the review (version {version}); the next `/incident report` "
            f"includes it.{still}"
        )
        await outcome.step(ROOM, self.gateway.post(incident.channel_id, said))
        outcome.finish()
