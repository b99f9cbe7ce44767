"""A database that does not answer in time (a lock held by someone else, a hung server)
fails the request within DATABASE_TIMEOUT: Slack gets a 500 and retries, the log gets one
line, and the retry is stored once the database answers again."""

import asyncio
import logging
import sqlite3
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.simulator import message_event
from bot.store.models import TimelineEntry
from tests.conftest import BOB

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def bot_environment_overrides() -> dict:
    return {"DATABASE_TIMEOUT": "1"}


@asynccontextmanager
async def timeline_locked_by_another_connection(url: str):
    """Another client holds the lock the bot's timeline write needs, until the block ends."""
    if url.startswith("sqlite"):
        # SQLite locks the whole file: one writer at a time.
        connection = sqlite3.connect(make_url(url).database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.rollback()
            connection.close()
        return
    connection = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        async with connection.transaction():
            await connection.execute(
                f"LOCK TABLE {TimelineEntry.__tablename__} IN ACCESS EXCLUSIVE MODE"
            )
            yield
    finally:
        await connection.close()


async def stored_texts(bot) -> list[str]:
    async with bot.runtime.db.transaction() as session:
        return list((await session.exec(select(TimelineEntry.text))).all())


async def test_an_event_behind_a_held_lock_is_refused_in_time_and_logged_once(bot, caplog):
    room = await bot.declare("SEV3 Search is slow")
    event = message_event(room["id"], BOB, "Error rate is 40%", bot.fake.workspace.next_ts())
    caplog.set_level(logging.INFO)
    caplog.clear()

    async with timeline_locked_by_another_connection(bot.runtime.db.url):
        # Without a bound this waits for as long as the lock is held (here: forever).
        response = await asyncio.wait_for(
            bot.slack.event(event, event_id="EvLOCKED0001"), timeout=20
        )
        assert response.status == 500

    refusals = [r for r in caplog.records if "EvLOCKED0001" in r.getMessage()]
    assert len(refusals) == 1, caplog.text
    assert "refused (Slack will retry): database: " in refusals[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records), caplog.text
    assert "Traceback" not in caplog.text
    assert "Error rate is 40%" not in await stored_texts(bot)

    retried = await bot.slack.event(event, event_id="EvLOCKED0001", retry=1)
    assert retried.status == 200
    assert (await stored_texts(bot)).count("Error rate is 40%") == 1
