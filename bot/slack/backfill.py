"""After downtime: what was said in each open war room while the bot was away, filled in
from the channel's history.

Slack retries an event for about five minutes; a bot down longer loses what was said
meanwhile. At startup (and after a Socket Mode reconnect) each open war room is read with
`conversations.history` since its declaration, and every message newer than the last one
stored is recorded, with the replies of any thread that got new ones
(`conversations.replies`). The timeline's exactly-once rule (channel + ts) makes a message
heard both live and from history one entry. Rooms are read one after another, off the
event path, each call paced by Slack's Tier 3 answers (the SDK waits out a 429).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from bot.incidents import IncidentService
from bot.incidents.timeline import Change, Timeline
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.slack.listeners.events import SPOKEN, SaidIn
from bot.slack.people import People
from bot.store.models import Incident

log = logging.getLogger(__name__)


@dataclass
class Backfill:
    service: IncidentService
    timeline: Timeline
    gateway: SlackGateway
    people: People

    async def run(self) -> int:
        """Fill every open war room's gap up to now (the bot is listening again); returns
        how many messages were recovered."""
        until = f"{time.time():.6f}"
        identity = self.gateway.identity
        if identity is None:
            log.warning("backfill skipped: Slack has not said who the bot is yet")
            return 0
        ours = frozenset({identity.bot_id, identity.bot_user_id} - {None})
        rooms = [s.incident for s in await self.service.list_open() if s.incident.channel_id]
        recovered = 0
        for number, incident in enumerate(rooms, 1):
            try:
                found = await self.fill(incident, ours, until)
            except SlackCallFailed as failure:
                log.warning(
                    "backfill %s: %s; its gap is filled at the next start",
                    incident.reference,
                    failure,
                )
                continue
            recovered += found
            log.info(
                "backfill %d/%d: %s, %d messages recovered from history",
                number,
                len(rooms),
                incident.reference,
                found,
            )
        return recovered

    async def fill(self, incident: Incident, ours: frozenset[str], until: str) -> int:
        channel = incident.channel_id
        since = await self.timeline.last_heard(incident.id, until) or _ts(incident)
        said = SaidIn("history", incident.id, channel, self.people.workspace(), ours, True)
        recovered = 0
        async for page in self.gateway.history(channel, _ts(incident)):
            recovered += await self._record(said, [m for m in page if _after(m, since)])
            for parent in page:
                if _after({"ts": parent.get("latest_reply") or "0"}, since):
                    async for replies in self.gateway.replies(channel, parent["ts"], since):
                        recovered += await self._record(said, replies)
        return recovered

    async def _record(self, said: SaidIn, messages: list[dict]) -> int:
        changes: list[Change] = [
            change
            for message in messages
            if message.get("subtype") in SPOKEN and (change := said.change(message)) is not None
        ]
        # Recorded together: the timeline commits them as one group.
        stored = await asyncio.gather(*(self.timeline.record(c) for c in changes))
        return sum(stored)


def _ts(incident: Incident) -> str:
    """The incident's declaration as a Slack ts: nothing before it belongs to the room."""
    return f"{incident.declared_at.timestamp():.6f}"


def _after(message: dict, since: str) -> bool:
    return float(message.get("ts") or 0) > float(since)
