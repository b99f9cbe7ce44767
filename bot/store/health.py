"""Is the database usable: does it answer, and does it take a write? Bounded in time."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.store import Database
from bot.store.probe import DATABASE_ERRORS, describe_database_error

HEALTH_TIMEOUT = 1.0


class DatabaseHealth:
    """One probe at a time: while the database hangs, health checks share the probe in
    flight (cancelling it would not free the driver's thread) instead of piling up."""

    def __init__(self, db: Database, timeout: float = HEALTH_TIMEOUT):
        self.db = db
        self.timeout = timeout
        self._probe: asyncio.Task | None = None

    async def problem(self) -> str | None:
        """None when the database answers and takes a write within the timeout; else what
        is wrong."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(_probe(self.db))
        done, _ = await asyncio.wait({self._probe}, timeout=self.timeout)
        if not done:
            return f"the database did not answer within {self.timeout:g} s"
        return self._probe.result()


async def _probe(db: Database) -> str | None:
    """SQLite: a real committed write (the header's user_version, written back unchanged),
    so a read-only file, a full disk or a write lock held too long all show. PostgreSQL: the
    server must accept connections and not be a read-only standby."""
    try:
        async with db.engine.begin() as connection:
            if db.is_sqlite:
                version = (await connection.exec_driver_sql("PRAGMA user_version")).scalar()
                await connection.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
            else:
                read_only = await connection.execute(text("SHOW transaction_read_only"))
                if read_only.scalar() == "on":
                    return "the database is read-only"
    except DATABASE_ERRORS as error:
        return f"the database refused: {describe_database_error(error)}"
    return None
