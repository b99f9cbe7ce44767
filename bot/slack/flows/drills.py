"""Drills: declaring one, posting its scenario's injects when they fall due, and its
scorecard once it is resolved. The scheduler claims the last two every tick and delivers
each in its drill's own lane."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.incidents.drills import DrillDesk, DueInject, ScoredDrill
from bot.scenarios import InjectKind
from bot.slack.blocks import drills
from bot.slack.flows.card import Card
from bot.slack.flows.declare import Declaring
from bot.slack.flows.reply import Reply
from bot.slack.flows.stakeholders import Stakeholders
from bot.slack.gateway import Problems, SlackGateway


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

    async def claim_injects(self, skip: Collection[int] = ()) -> list[DueInject]:
        """Injects now due (from the scheduler, which delivers each in its drill's lane)."""
        return await self.desk.claim_injects(skip)

    async def deliver(self, due: DueInject) -> None:
        """A question goes to the comms lead as `/incident ask` would send it; anything else
        is posted in the room. Not lost if Slack fails: the claim's lease runs out and a
        later tick (here or on another replica) delivers it."""
        ts = None
        if due.question is not None:
            question = due.question
            await self.stakeholders.tell_comms(due.snapshot, question.asked_by, question.text)
        else:
            channel_id = due.snapshot.incident.channel_id
            ts = await self.gateway.post(channel_id, drills.inject_post(due))
        await self.desk.injects_posted([(due.inject.id, ts)])
        if due.inject.kind == InjectKind.OFFLINE and self.card is not None:
            # The role it vacated shows as vacant; a stale card is not worth a report.
            await self.card.refresh(due.snapshot.id, Problems())

    async def claim_scorecards(self, skip: Collection[int] = ()) -> list[ScoredDrill]:
        return await self.desk.claim_scorecards(skip)

    async def post_scorecard(self, scored: ScoredDrill) -> None:
        """Not lost if Slack fails: the claim's lease runs out and a later tick posts it."""
        text, blocks = drills.scorecard(scored)
        ts = await self.gateway.post(scored.snapshot.incident.channel_id, text, blocks)
        await self.desk.scorecard_posted(scored.snapshot.id, ts)
