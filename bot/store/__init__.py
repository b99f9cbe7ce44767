"""The database: SQLModel tables on SQLAlchemy's async engine (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Table, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store import migrate, models, search  # noqa: F401  (models registers the tables)

# Every wait on the database is bounded (connecting, a free pooled connection, a statement,
# a lock): a hung database then fails requests fast, and Slack retries a 5xx, instead of
# requests piling up behind it. Slack itself gives up on an answer after 3 seconds.
DEFAULT_TIMEOUT = 5.0


class Database:
    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = create_async_engine(url, **_engine_options(url, timeout))
        if self.is_sqlite:
            _serialise_sqlite_writers(self.engine, timeout)
        self._queued_writes = asyncio.Lock()

    async def upgrade_schema(self) -> None:
        """Migrate to this version's schema (an empty database too); see `bot.store.migrate`.

        On an engine of its own: waiting for another replica's migration, or a long one,
        may take longer than a request may wait.
        """
        migrating = Database(self.url, migrate.MIGRATION_TIMEOUT)
        try:
            await migrate.upgrade(migrating.engine)
        finally:
            await migrating.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @asynccontextmanager
    async def queued_transaction(self) -> AsyncIterator[AsyncSession]:
        """`transaction()` for bursts of writers from one process (an alert storm).

        On SQLite the writers queue in the process, in order, instead of in SQLite's busy
        handler, which sleeps and retries and, with dozens waiting, can starve one past the
        timeout. PostgreSQL locks rows, not the database: no queue there.
        """
        if not self.is_sqlite:
            async with self.transaction() as session:
                yield session
            return
        async with self._queued_writes, self.transaction() as session:
            yield session

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work whose first statement is a write (INSERT, UPDATE or DELETE).

        On SQLite that statement takes the write lock itself instead of a separate
        BEGIN IMMEDIATE: one trip to the driver's thread fewer, which counts on the
        timeline's hot path. Elsewhere it is `transaction()`.
        """
        async with self.engine.connect() as connection:
            connection = await connection.execution_options(begins_with_write=True)
            async with (
                AsyncSession(bind=connection, expire_on_commit=False) as session,
                session.begin(),
            ):
                yield session

    @asynccontextmanager
    async def snapshot_read(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work: on SQLite it does not queue behind writers."""
        async with self.engine.connect() as connection:
            connection = await connection.execution_options(read_only=True)
            async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                yield session  # closing the connection ends (rolls back) the read

    async def is_reachable(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError, TimeoutError):
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def insert_ignoring_duplicates(db: Database, table: Table, keys: list[str]):
    """INSERT … ON CONFLICT DO NOTHING RETURNING the keys of the rows really inserted.

    Both dialects spell it the same, but SQLAlchemy builds it from each dialect's own insert.
    """
    dialect_insert = sqlite_insert if db.is_sqlite else postgresql_insert
    return (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(*(table.c[k] for k in keys))
    )


def _engine_options(url: str, timeout: float) -> dict:
    if url.startswith("sqlite"):
        # Sessions always end their transactions, so the pool's rollback on every checkin
        # is a wasted trip to the driver's thread; `_serialise_sqlite_writers` rolls back
        # only a connection that comes back with a transaction still open.
        return {
            "connect_args": {"timeout": timeout},
            "pool_reset_on_return": None,
            "pool_timeout": timeout,
        }
    return {
        "pool_pre_ping": True,
        "pool_size": 10,
        "max_overflow": 10,
        "pool_timeout": timeout,
        "connect_args": {
            "timeout": timeout,  # connecting
            # The server cancels a statement (or a lock wait) first, leaving the connection
            # usable; the client-side bound is for a server or network that stopped answering.
            "server_settings": {"statement_timeout": str(int(timeout * 1000))},
            "command_timeout": timeout + 1,
        },
    }


def _serialise_sqlite_writers(engine: AsyncEngine, timeout: float) -> None:
    """WAL for concurrent readers; BEGIN IMMEDIATE so two writers queue instead of failing.

    SQLite's default deferred BEGIN lets two transactions read, then both try to write and
    one gets "database is locked" at once (the busy timeout does not apply to upgrades).
    We issue BEGIN ourselves, except for `write_transaction()`: there the driver's
    isolation level "IMMEDIATE" begins the transaction with its first statement, a write.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = "IMMEDIATE"
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection):
        options = connection.get_execution_options()
        if options.get("read_only", False):
            connection.exec_driver_sql("BEGIN")
        elif not options.get("begins_with_write", False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine.sync_engine, "reset")
    def _on_checkin(dbapi_connection, _record, reset_state):
        if reset_state.asyncio_safe and dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()
