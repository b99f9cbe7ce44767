"""APScheduler drives the stakeholder-update cadence; the database says what is due.

Every second each replica asks the database for due drafts, undecided drafts past their
escalation time, and drafts whose poster died; each is claimed with a conditional UPDATE,
so it fires on exactly one replica, once, and anything overdue after a restart fires at
the first tick.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.incidents.updates import Draft, UpdateDesk
from bot.slack.flows import WarRoom
from bot.slack.gateway import SlackCallFailed

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
CONCURRENT_POSTS = 20


class UpdateScheduler:
    def __init__(self, desk: UpdateDesk, war_room: WarRoom, interval: float = TICK_SECONDS):
        self.desk = desk
        self.war_room = war_room
        self.interval = interval
        self._scheduler: AsyncIOScheduler | None = None
        self._posting = asyncio.Semaphore(CONCURRENT_POSTS)
        self._ticking: asyncio.Task | None = None

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.interval,
            next_run_time=datetime.now(UTC),  # overdue work fires at once after a restart
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.start()

    async def shutdown(self) -> None:
        """Stop ticking and let a tick in progress finish, before the database closes."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._ticking is not None:
            await asyncio.wait([self._ticking], timeout=10)

    async def tick(self) -> None:
        self._ticking = asyncio.current_task()
        try:
            drafts = await self.desk.claim_due() + await self.desk.claim_unposted()
            await asyncio.gather(*(self._post(draft) for draft in drafts))
            for draft in await self.desk.claim_escalations():
                await self.war_room.nudge(draft)
        finally:
            self._ticking = None

    async def _post(self, draft: Draft) -> None:
        async with self._posting:
            try:
                await self.war_room.post_draft(draft)
            except SlackCallFailed:
                # Not lost: the draft keeps no message, its lease runs out, and a later tick
                # (here or on another replica) posts it again.
                log.exception("could not post update draft %s; will retry", draft.id)
