"""Schema migrations: Alembic on the bot's own async engine, one replica at a time.

The migration scripts ship inside the package (`bot/store/migrations/`), and Alembic is
configured here in code, so an installed wheel migrates without an alembic.ini.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The schema `SQLModel.metadata.create_all` made before there were migrations.
BASELINE = "0001"
# Seconds a migration's statements, and the wait for another replica's, may take.
MIGRATION_TIMEOUT = 600.0
# The PostgreSQL advisory lock replicas take to migrate one at a time (any fixed 64-bit key).
MIGRATION_LOCK_KEY = 0x77A7_5EED_0001


class SchemaMismatch(Exception):
    """This version of warroom cannot run on the database's schema as it stands (one line)."""


class SchemaBehind(SchemaMismatch):
    """The database is older than this version of warroom and AUTO_MIGRATE is off."""

    def __init__(self, current: str | None, head: str):
        self.current, self.head = current, head
        found = f"at {current}" if current else "unversioned (empty, or made before migrations)"
        super().__init__(
            f"warroom cannot start: the database schema is {found} and this version needs "
            f"{head}; run `python -m bot migrate` first (AUTO_MIGRATE is false)"
        )


class SchemaNewer(SchemaMismatch):
    """The database was migrated by a newer version of warroom (a rolled-back deploy)."""

    def __init__(self, current: str, head: str):
        self.current, self.head = current, head
        super().__init__(
            f"warroom cannot use this database: its schema is at {current}, newer than this "
            f"version of warroom knows (up to {head}); run a version that has {current}"
        )


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's settings in code; env.py runs the migrations on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    return _scripts().get_current_head()


def _refuse_unknown(current: str | None) -> None:
    if current is not None and current not in {s.revision for s in _scripts().walk_revisions()}:
        raise SchemaNewer(current, head_revision())


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to this version's head, holding the migration lock throughout.

    One transaction: on SQLite it begins with BEGIN IMMEDIATE (see `Database`), the write
    lock; on PostgreSQL it takes the advisory lock first. A second replica waits, then
    finds the schema current and does nothing. Both engines roll DDL back on failure.
    """
    log.info("database schema: upgrading (waiting for any other replica doing it)")
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_holding_lock)


async def require_current(engine: AsyncEngine) -> None:
    """Raise SchemaMismatch unless the schema is at this version's head (AUTO_MIGRATE=false)."""
    async with engine.connect() as connection:
        connection = await connection.execution_options(read_only=True)
        current = await connection.run_sync(current_revision)
    _refuse_unknown(current)
    head = head_revision()
    if current != head:
        raise SchemaBehind(current, head)


def _upgrade_holding_lock(connection: Connection) -> None:
    take_migration_lock(connection)
    before = current_revision(connection)
    _refuse_unknown(before)
    config = alembic_config(connection)
    if before is None and _has_tables_without_version(connection):
        log.info("database schema: made before migrations existed; recording it as %s", BASELINE)
        command.stamp(config, BASELINE)
    command.upgrade(config, "head")
    after = current_revision(connection)
    if after == before:
        log.info("database schema: already at %s", after)
    else:
        log.info("database schema: upgraded from %s to %s", before or "empty", after)


def take_migration_lock(connection: Connection) -> None:
    """Wait until no other replica is migrating; held until the transaction ends.

    SQLite: the transaction began with BEGIN IMMEDIATE, the database's one write lock.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _has_tables_without_version(connection: Connection) -> bool:
    return inspect(connection).has_table("incident")


async def drop_all_tables(engine: AsyncEngine) -> None:
    """Empty a scratch database (tests, benchmarks): every table, the version table too."""

    def drop(connection: Connection) -> None:
        everything = MetaData()
        everything.reflect(connection)
        everything.drop_all(connection)

    async with engine.begin() as connection:
        await connection.run_sync(drop)
