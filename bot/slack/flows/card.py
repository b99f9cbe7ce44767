"""The incident card pinned in the war room: kept in step with the incident."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from bot.incidents import IncidentService
from bot.incidents.lessons import Lessons
from bot.incidents.updates import UpdateDesk
from bot.slack.blocks import card
from bot.slack.gateway import Problems, SlackGateway


@dataclass
class Card:
    service: IncidentService
    desk: UpdateDesk
    gateway: SlackGateway
    bridge_url: str | None
    lessons: Lessons | None = None  # shows the problem record, once set
    _locks: defaultdict[int, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock), init=False, repr=False
    )

    async def refresh(self, incident_id: int, problems: Problems) -> None:
        # One card edit at a time per incident, each from a fresh read, so the last edit wins
        # with the latest state even when two changes land together.
        async with self._locks[incident_id]:
            snapshot = await self.service.get(incident_id)
            incident = snapshot.incident
            if not incident.card_ts:
                return
            overdue, problem = await asyncio.gather(
                self.desk.overdue(incident_id), self._problem(incident_id)
            )
            text, blocks = card.incident_card(snapshot, self.bridge_url, overdue, problem)
            await problems.collect(
                self.gateway.update(incident.channel_id, incident.card_ts, text, blocks)
            )

    async def _problem(self, incident_id: int) -> str | None:
        record = await self.lessons.problem(incident_id) if self.lessons else None
        return record.reference if record else None
