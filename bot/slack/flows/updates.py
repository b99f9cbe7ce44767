"""Stakeholder updates: drafts posted in the war room, approved, edited or skipped there,
broadcast to the executives; nudges when a draft waits too long."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from bot.incidents import IncidentError
from bot.incidents.updates import Draft, UpdateDesk
from bot.slack.blocks import updates
from bot.slack.flows.card import Card
from bot.slack.flows.home import HomeTabs
from bot.slack.flows.room import report_problems
from bot.slack.gateway import Problems, SlackCallFailed, SlackGateway


@dataclass
class Updates:
    desk: UpdateDesk
    gateway: SlackGateway
    card: Card
    broadcast_channel: str | None
    home: HomeTabs

    async def draft(self, incident_id: int, final: bool = False) -> None:
        """A draft now (`/incident update`, resolution); older undecided drafts give way."""
        draft, superseded = await self.desk.draft_now(incident_id, final=final)
        await self.desk.posted([(draft.id, await self.post_draft_message(draft))])
        await self.card.refresh(draft.snapshot.id, Problems())
        channel_id = draft.snapshot.incident.channel_id
        for old in superseded:
            if old.message_ts:
                text, decided = updates.decided_message(Draft(old, draft.snapshot))
                await self.gateway.update(channel_id, old.message_ts, text, decided)

    async def post_draft_message(self, draft: Draft) -> str:
        """Post a claimed draft in the war room. If this fails the lease runs out and the
        scheduler posts it again."""
        text, draft_blocks = updates.draft_message(draft, self.broadcast_channel)
        ts = await self.gateway.post(draft.snapshot.incident.channel_id, text, draft_blocks)
        self.home.changed(draft.snapshot)  # the deciders' Home tabs list the draft
        return ts

    async def open_form(
        self, trigger_id: str, update_id: int, user: str, message_ts: str | None, build: Callable
    ) -> None:
        """The edit or skip form; refused before it opens unless `user` may decide."""
        draft = await self.desk.check_decider(update_id, user)
        await self.gateway.open_view(trigger_id, build(draft, message_ts))

    async def approve(
        self, update_id: int, by: str, text: str | None = None, message_ts: str | None = None
    ) -> None:
        """`message_ts`: where the person clicked, in case the draft's ts is not stored yet."""
        if not self.broadcast_channel:
            raise IncidentError(
                "No broadcast channel is configured (broadcast_channel), so updates cannot be sent."
            )
        draft = await self.desk.start_sending(update_id, by, text)
        try:
            broadcast_ts = await self.gateway.post(
                self.broadcast_channel, updates.broadcast_update(draft)
            )
        except SlackCallFailed:
            await self.desk.sending_failed(update_id)  # approvable again; the failure is reported
            raise
        await self._decided(await self.desk.sent(update_id, broadcast_ts), message_ts)

    async def skip(
        self, update_id: int, by: str, reason: str, message_ts: str | None = None
    ) -> None:
        await self._decided(await self.desk.skip(update_id, by, reason), message_ts)

    async def _decided(self, draft: Draft, clicked_ts: str | None) -> None:
        problems = Problems()
        channel_id = draft.snapshot.incident.channel_id
        steps = [self.card.refresh(draft.snapshot.id, problems)]
        message_ts = draft.update.message_ts or clicked_ts
        if message_ts:
            text, decided = updates.decided_message(draft)
            steps.append(
                problems.collect(self.gateway.update(channel_id, message_ts, text, decided))
            )
        await asyncio.gather(*steps)
        self.home.changed(draft.snapshot)  # the draft leaves the deciders' Home tabs
        await report_problems(self.gateway, channel_id, problems)

    async def nudge(self, draft: Draft) -> None:
        channel_id = draft.snapshot.incident.channel_id
        problems = Problems()
        await asyncio.gather(
            problems.collect(self.gateway.post(channel_id, updates.escalation_nudge(draft))),
            self.card.refresh(draft.snapshot.id, problems),
        )
        await report_problems(self.gateway, channel_id, problems)
