"""Is the database usable: does it answer, and does it take a write? Bounded in time."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.store import Database

HEALTH_TIMEOUT = 1.0


async def database_problem(db: Database, timeout: float = HEALTH_TIMEOUT) -> str | None:
    """None when the database answers and takes writes within `timeout`; else what is wrong.

    SQLite: a real committed write (the header's user_version, written back unchanged), so
    a read-only file, a full disk or a write lock held too long all show. PostgreSQL: the
    server must accept connections and not be a read-only standby.
    """
    try:
        async with asyncio.timeout(timeout), db.engine.begin() as connection:
            if db.is_sqlite:
                version = (await connection.exec_driver_sql("PRAGMA user_version")).scalar()
                await connection.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
            else:
                read_only = await connection.execute(text("SHOW transaction_read_only"))
                if read_only.scalar() == "on":
                    return "the database is read-only"
    except TimeoutError:
        return f"the database did not answer within {timeout:g} s"
    except (OSError, SQLAlchemyError) as error:
        reason = getattr(error, "orig", None) or error
        return f"the database refused: {reason}"
    return None
