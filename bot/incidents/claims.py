"""Claiming work once across replicas: one conditional UPDATE … RETURNING."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import col, select

from bot.store import Database


async def claim(db: Database, key: InstrumentedAttribute, conditions: tuple, **values) -> list:
    """Set `values` on the rows matching `conditions` and return their `key`s: a row another
    replica changed first no longer matches, so each is claimed once. A cheap read comes
    first, so a tick with nothing to do opens no write transaction."""
    async with db.snapshot_read() as session:
        if (await session.exec(select(key).where(*conditions).limit(1))).first() is None:
            return []
    async with db.transaction() as session:
        claimed = await session.exec(
            update(key.class_).where(*conditions).values(**values).returning(key)
        )
        return list(claimed.scalars().all())


def not_in(column: InstrumentedAttribute, values) -> tuple:
    """A condition leaving out `values` of `column` (none when there are none to leave out)."""
    return (col(column).not_in(list(values)),) if values else ()
