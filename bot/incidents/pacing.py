"""One pace per channel for every replica: Slack allows about one message a second per
channel, however many processes write to it. The channel's next write time is a row; a
write slot is claimed with one conditional UPDATE, so two replicas never take the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.store import Database, insert_ignoring_duplicates
from bot.store.models import TriagePace
from bot.store.types import utcnow


class ChannelPace:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow):
        """`clock`: wall time, shared by the replicas (Slack's limit is in real seconds)."""
        self.db = db
        self.clock = clock

    async def claim(self, channel: str, interval: float) -> float:
        """0 when this caller may write to `channel` now (the next `interval` seconds are
        then taken); otherwise the seconds until the next write slot."""
        now = self.clock()
        following = now + timedelta(seconds=interval)
        async with self.db.queued_transaction() as session:
            taken = await session.exec(
                update(TriagePace)
                .where(col(TriagePace.channel) == channel, col(TriagePace.next_write_at) <= now)
                .values(next_write_at=following)
                .returning(TriagePace.channel)
            )
            if taken.first() is not None:
                return 0.0
            first = await session.exec(
                insert_ignoring_duplicates(self.db, TriagePace.__table__, ["channel"]).values(
                    channel=channel, next_write_at=following
                )
            )
            if first.first() is not None:
                return 0.0
            next_at = await session.exec(
                select(TriagePace.next_write_at).where(TriagePace.channel == channel)
            )
            return max((next_at.one() - now).total_seconds(), 0.001)
