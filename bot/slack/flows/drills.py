"""Drills: declaring one, posting its scenario's injects when they fall due, and its
scorecard once it is resolved. The scheduler calls the last two every tick."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.incidents.drills import DrillDesk, DueInject
from bot.scenarios import InjectKind
from bot.slack.blocks import drills
from bot.slack.flows.card import Card
from bot.slack.flows.declare import Declaring
from bot.slack.flows.reply import Reply
from bot.slack.flows.stakeholders import Stakeholders
from bot.slack.gateway import Problems, SlackCallFailed, SlackGateway

log = logging.getLogger(__name__)


@dataclass
class Drills:
    desk: DrillDesk
    declaring: Declaring
    stakeholders: Stakeholders
    gateway: SlackGateway
    card: Card | None = None  # refreshed when an inject takes a role's holder offline

    async def declare(
        self, reply: Reply, words: str, severity: str | None, playbook: str | None
    ) -> None:
        """`/incident drill [SEVn] [scenario] <title>`: a war room like any other, flagged."""
        plan = self.desk.plan(words, severity, playbook)
        await self.declaring.declare(
            reply,
            title=plan.title,
            severity=plan.severity,
            playbook=plan.playbook,
            drill=plan.setup,
        )

    async def post_due_injects(self) -> None:
        due = await self.desk.claim_injects()
        if due:
            posted = await asyncio.gather(*(self._deliver(inject) for inject in due))
            await self.desk.injects_posted([pair for pair in posted if pair is not None])
            offline = {d.snapshot.id for d in due if d.inject.kind == InjectKind.OFFLINE}
            if offline and self.card is not None:
                problems = Problems()  # a stale card is not worth a report in the room
                await asyncio.gather(*(self.card.refresh(i, problems) for i in offline))

    async def _deliver(self, due: DueInject) -> tuple[int, str | None] | None:
        """A question goes to the comms lead as `/incident ask` would send it; anything else
        is posted in the room. Not lost if Slack fails: the claim's lease runs out and a
        later tick (here or on another replica) delivers it."""
        try:
            if due.question is not None:
                question = due.question
                await self.stakeholders.tell_comms(due.snapshot, question.asked_by, question.text)
                return due.inject.id, None
            channel_id = due.snapshot.incident.channel_id
            return due.inject.id, await self.gateway.post(channel_id, drills.inject_post(due))
        except SlackCallFailed:
            log.exception("could not deliver drill inject %s; will retry", due.inject.id)
            return None

    async def post_scorecards(self) -> None:
        for scored in await self.desk.claim_scorecards():
            text, blocks = drills.scorecard(scored)
            try:
                ts = await self.gateway.post(scored.snapshot.incident.channel_id, text, blocks)
            except SlackCallFailed:
                log.exception("could not post the scorecard of %s; will retry", scored.snapshot.id)
                continue
            await self.desk.scorecard_posted(scored.snapshot.id, ts)
