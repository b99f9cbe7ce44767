"""Can the bot use its database? One line for people when it cannot (`check`, startup)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.store import Database

# What a database that is down, hung, locked or full raises through SQLAlchemy and drivers.
DATABASE_ERRORS = (OSError, SQLAlchemyError, TimeoutError)


async def database_problem(url: str, timeout: float) -> str | None:
    """Connect and run a trivial query within `timeout`; None when that works."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        # Trying would create the file: `check` must leave no trace, so judge the folder.
        folder = Path(parsed.database or ".").resolve().parent
        if os.access(folder, os.W_OK):
            return None
        return f"DATABASE_URL: cannot create {parsed.database}: {folder} is not writable"
    database = Database(url, timeout)
    try:
        # The driver's own bounds cover connecting and the query; this one covers the
        # rest (a DNS lookup that hangs, a TLS handshake that never finishes).
        async with asyncio.timeout(timeout + 1), database.engine.connect() as connection:
            # A read: on SQLite it must not wait for the write lock (a replica migrating).
            reading = await connection.execution_options(read_only=True)
            await reading.execute(text("SELECT 1"))
    except DATABASE_ERRORS as error:
        where = make_url(url).render_as_string(hide_password=True)
        return f"DATABASE_URL: cannot use {where}: {describe_database_error(error, timeout)}"
    finally:
        await database.dispose()
    return None


def describe_database_error(error: BaseException, timeout: float | None = None) -> str:
    """What went wrong, in the driver's words, on one line."""
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g} s" if timeout else "no answer in time"
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    reason = str(cause).strip().splitlines()
    return reason[0] if reason else type(cause).__name__
