"""Posts a stored change owes outside its room, so that each goes out exactly once.

The executives' news of a resolution, a raise to major and the like are written as rows in
the change's own transaction, held by the process that made the change under the same lease
a declaration uses (`declaration.LEASE`, renewed while it posts). A process killed before it
posted leaves them unfinished: a restarted process or another replica claims them once the
lease has run out and posts them, after looking for a post whose answer was lost.

No Slack here: the rows, the lease and the record; the Slack layer renders and posts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.claims import claim
from bot.incidents.declaration import LEASE, RENEW_EVERY
from bot.store import Database
from bot.store.models import OwedPost, TimelineEntry
from bot.store.probe import DATABASE_ERRORS

log = logging.getLogger(__name__)


class OwedPosts:
    """Owes, claims, holds and finishes posts; `owner` names this process in its leases."""

    def __init__(self, db: Database, clock: Callable[[], datetime]):
        self.db = db
        self.clock = clock
        self.owner = uuid.uuid4().hex

    async def owe(
        self, session: AsyncSession, entry: TimelineEntry, posts: list[tuple[str, str, str]]
    ) -> list[OwedPost]:
        """Rows for `posts` ((kind, channel, text)) written in the change's transaction
        `session`, held by this process from the start."""
        await session.flush()  # the entry's id
        now = self.clock()
        rows = [
            OwedPost(
                incident_id=entry.incident_id,
                entry_id=entry.id,
                kind=kind,
                channel=channel,
                text=text,
                lease_owner=self.owner,
                lease_until=now + LEASE,
            )
            for kind, channel, text in posts
        ]
        session.add_all(rows)
        await session.flush()
        return rows

    async def claim_unfinished(self) -> list[OwedPost]:
        """Owed posts whose poster died (its lease ran out), each now held by this process."""
        now = self.clock()
        free = or_(col(OwedPost.lease_until).is_(None), col(OwedPost.lease_until) < now)
        ids = await claim(
            self.db,
            OwedPost.id,
            (col(OwedPost.finished_at).is_(None), free),
            lease_owner=self.owner,
            lease_until=now + LEASE,
        )
        if not ids:
            return []
        async with self.db.snapshot_read() as session:
            rows = await session.exec(select(OwedPost).where(col(OwedPost.id).in_(ids)))
            return list(rows.all())

    @contextlib.asynccontextmanager
    async def held(self, post: OwedPost) -> AsyncIterator[None]:
        """Post `post` while its lease is renewed (a slow Slack never hands it to another)."""
        renewing = asyncio.ensure_future(self._renew(post.id))
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _renew(self, post_id: int) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                async with self.db.transaction() as session:
                    await session.exec(
                        update(OwedPost)
                        .where(OwedPost.id == post_id, OwedPost.lease_owner == self.owner)
                        .values(lease_until=self.clock() + LEASE)
                    )
            except DATABASE_ERRORS as error:  # tried again at the next beat, within the lease
                log.warning("could not renew owed post %s: %s", post_id, error)

    async def finish(self, post: OwedPost, result: str, done: bool = True) -> None:
        """Posted (`result`: its ts) or failed for good (`result`: why); either way over.
        Not `done` and unfinished: the lease is let go, so the next tick tries again."""
        values = {"lease_owner": None, "lease_until": None}
        if done:
            values |= {"finished_at": self.clock(), "result": result}
        async with self.db.transaction() as session:
            await session.exec(
                update(OwedPost)
                .where(OwedPost.id == post.id, col(OwedPost.finished_at).is_(None))
                .values(**values)
            )
