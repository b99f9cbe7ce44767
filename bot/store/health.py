"""Is the database usable: does it answer, and does it take a write? Bounded in time."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.store import DEFAULT_TIMEOUT, Database
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
    server must accept connections and not be read-only (a standby, or
    `default_transaction_read_only` set on the database).

    On a connection of its own, opened for this probe: the pool's connections were opened
    before the file turned read-only or the database was set read-only, and may write until
    they are replaced; a new one meets what the next pooled connection, or a restart, will.
    """
    if db.is_sqlite and (unwritable := _unwritable_sqlite_file(db.url)):
        return unwritable
    fresh = Database(db.url, DEFAULT_TIMEOUT)
    try:
        async with fresh.engine.begin() as connection:
            if fresh.is_sqlite:
                version = (await connection.exec_driver_sql("PRAGMA user_version")).scalar()
                await connection.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
            else:
                read_only = await connection.execute(text("SHOW transaction_read_only"))
                if read_only.scalar() == "on":
                    return "the database is read-only"
    except DATABASE_ERRORS as error:
        return f"the database refused: {describe_database_error(error)}"
    finally:
        await fresh.dispose()
    return None


def _unwritable_sqlite_file(url: str) -> str | None:
    """SQLite keeps writing through descriptors opened before a file turned read-only (and
    hands them to new connections in the same process), so ask the file system: the next
    process, or this one once its connections close, could not write."""
    name = make_url(url).database
    if not name or name == ":memory:":
        return None
    path = Path(name).resolve()
    for where in (path, path.parent):
        if where.exists() and not os.access(where, os.W_OK):
            return f"the database is read-only: {where} is not writable"
    return None
