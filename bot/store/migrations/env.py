"""Alembic's environment. `bot.store.migrate` hands it a connection on the bot's engine, in
a transaction holding the migration lock. From the `alembic` command line (developers:
`alembic revision --autogenerate`) it connects to DATABASE_URL itself."""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from bot.store import models  # noqa: F401  (registers the tables)
from bot.store.search import outside_the_models


def render_plain_types(kind: str, item, _context) -> str | bool:
    """Columns as the database stores them (`sa.DateTime(timezone=True)`, not our UTCDateTime,
    `sa.String()`, not SQLModel's AutoString): a script must not change when the models do."""
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl!r}"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,  # SQLite alters most tables by copying them
        compare_type=True,
        render_item=render_plain_types,
        include_object=outside_the_models,  # the full-text index is the migration's own SQL
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_database_url() -> None:
    from bot.config import DEFAULT_DATABASE_URL
    from bot.store import Database

    db = Database(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    try:
        async with db.engine.connect() as connection:
            await connection.run_sync(run_migrations)
            await connection.commit()
    finally:
        await db.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    asyncio.run(run_on_database_url())
