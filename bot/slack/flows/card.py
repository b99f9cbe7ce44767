"""The incident card pinned in the war room: kept in step with the incident, and posted
and pinned again when that failed for good."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from bot.incidents import IncidentService, IncidentSnapshot
from bot.incidents.declaration import DeclarationDesk, Progress, Step, StepState
from bot.incidents.lessons import Lessons
from bot.incidents.updates import UpdateDesk
from bot.slack.blocks import card
from bot.slack.gateway import Problems, SlackCallFailed, SlackGateway

CARD_EVENT = "incident_card"  # the card's message metadata: how it is found again


def card_metadata(incident_id: int) -> dict:
    return {"event_type": CARD_EVENT, "event_payload": {"incident": incident_id}}


@dataclass
class Card:
    service: IncidentService
    desk: UpdateDesk
    gateway: SlackGateway
    bridge_url: str | None
    lessons: Lessons | None = None  # shows the problem record, once set
    # Records the card's steps; its lease is the one under which a card is posted again.
    declarations: DeclarationDesk | None = None
    _locks: defaultdict[int, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock), init=False, repr=False
    )

    async def refresh(self, incident_id: int, problems: Problems) -> None:
        """Something the card shows changed: edit it (post and pin it, if that failed)."""
        await self.service.card_changed(incident_id)
        await self.show(incident_id, problems)

    async def show(self, incident_id: int, problems: Problems) -> None:
        """Edit the card from a fresh read. One edit at a time per incident here; an edit
        rendered before the incident's card version moved on (another change, perhaps on
        another replica, whose edit may have landed first) is followed by another, so the
        card never ends older than the incident."""
        async with self._locks[incident_id]:
            while True:
                snapshot = await self.service.get(incident_id)
                incident = snapshot.incident
                if not (incident.card_ts and incident.card_pinned):
                    if not await self._restore(snapshot, problems):
                        return
                    continue  # then edited from what is latest by now
                shown = await self._edit(snapshot, problems)
                if shown is None or shown == await self.service.card_version(incident_id):
                    return

    async def _edit(self, snapshot: IncidentSnapshot, problems: Problems) -> int | None:
        """The card edited; the version it shows, None if the edit failed."""
        incident = snapshot.incident
        text, blocks = await self.render(snapshot)
        try:
            await self.gateway.update(incident.channel_id, incident.card_ts, text, blocks)
        except SlackCallFailed as failure:
            problems.add(failure)
            return None
        return incident.card_version

    async def render(self, snapshot: IncidentSnapshot) -> tuple[str, list]:
        overdue, problem = await asyncio.gather(
            self.desk.overdue(snapshot.id), self._problem(snapshot.id)
        )
        return card.incident_card(snapshot, self.bridge_url, overdue, problem)

    async def post(self, progress: Progress, snapshot: IncidentSnapshot) -> str:
        """Post the card in the war room (the declaration's card step); its ts. On a resumed
        run an earlier post may have been made with its answer lost: found by its
        metadata, it is not repeated."""
        channel, ts = snapshot.incident.channel_id, None
        if progress.resumed:
            ts = await self.gateway.own_message(channel, CARD_EVENT, {"incident": snapshot.id})
        if ts is None:
            text, blocks = await self.render(snapshot)
            ts = await self.gateway.post(channel, text, blocks, card_metadata(snapshot.id))
        return ts

    async def posted(self, progress: Progress, ts: str) -> None:
        """Record the card step with the card (pinned or not, that is the pin step's)."""
        await self.declarations.record(progress, Step.CARD, StepState.DONE, ts, {"card_ts": ts})

    async def pin(self, progress: Progress, snapshot: IncidentSnapshot, ts: str) -> None:
        """The declaration's pin step, recorded with the card's pinned mark."""
        await self.gateway.pin(snapshot.incident.channel_id, ts)
        await self.declarations.record(
            progress, Step.PIN, StepState.DONE, incident={"card_pinned": True}
        )

    async def _restore(self, snapshot: IncidentSnapshot, problems: Problems) -> bool:
        """Post (and pin) the card again after that failed for good, under the declaration's
        lease: nothing happens while the declaration itself is still at it, or while another
        replica restores it. True when the card is back."""
        if self.declarations is None or not snapshot.incident.channel_id:
            return False
        progress = await self.declarations.claim_finished(snapshot.id)
        if progress is None:
            return False
        async with self.declarations.held(progress):
            snapshot = await self.service.get(snapshot.id)  # the latest, now that it is ours
            try:
                ts = snapshot.incident.card_ts
                if not ts:
                    ts = await self.post(progress, snapshot)
                    await self.posted(progress, ts)
                await self.pin(progress, snapshot, ts)
            except SlackCallFailed as failure:
                problems.add(failure)
                return False
        return True

    async def _problem(self, incident_id: int) -> str | None:
        record = await self.lessons.problem(incident_id) if self.lessons else None
        return record.reference if record else None
