"""The database layer: transactions on SQLite and PostgreSQL, two replicas on one database."""

import asyncio

import pytest
from sqlmodel import func, select

from bot.incidents.timeline import KeyMarked, MessagePosted, Timeline
from bot.store import Database
from bot.store.models import Incident, ProcessedEvent, TimelineEntry
from bot.store.types import utcnow


@pytest.fixture
async def replicas(database_url):
    """Two Database objects on one database, as two bot processes would have."""
    first, second = Database(database_url), Database(database_url)
    await first.upgrade_schema()
    yield first, second
    await first.dispose()
    await second.dispose()


async def count(db: Database) -> int:
    async with db.snapshot_read() as session:
        return (await session.exec(select(func.count()).select_from(ProcessedEvent))).one()


async def test_concurrent_writers_on_two_replicas_all_commit(replicas):
    async def write_first(db: Database, n: int) -> None:
        async with db.write_transaction() as session:
            session.add(ProcessedEvent(event_id=f"EvW{n}", received_at=utcnow()))

    async def read_then_write(db: Database, n: int) -> None:
        # The pattern SQLite's deferred BEGIN breaks ("database is locked" on the upgrade).
        async with db.transaction() as session:
            await session.exec(select(func.count()).select_from(ProcessedEvent))
            session.add(ProcessedEvent(event_id=f"EvR{n}", received_at=utcnow()))

    await asyncio.gather(
        *(write_first(replicas[n % 2], n) for n in range(20)),
        *(read_then_write(replicas[n % 2], n) for n in range(20)),
    )
    assert await count(replicas[0]) == 40


async def test_a_failed_write_leaves_nothing_and_no_lock(replicas):
    first, second = replicas
    with pytest.raises(RuntimeError):
        async with first.write_transaction() as session:
            session.add(ProcessedEvent(event_id="EvLOST", received_at=utcnow()))
            await session.flush()
            raise RuntimeError("storing failed half-way")
    # The other replica can write at once: the first one's write lock is gone with its
    # transaction, even though the connection went back to the pool for reuse.
    async with second.write_transaction() as session:
        session.add(ProcessedEvent(event_id="EvKEPT", received_at=utcnow()))
    async with first.write_transaction() as session:
        session.add(ProcessedEvent(event_id="EvAGAIN", received_at=utcnow()))
    async with first.snapshot_read() as session:
        kept = (await session.exec(select(ProcessedEvent.event_id))).all()
    assert sorted(kept) == ["EvAGAIN", "EvKEPT"]


async def test_two_replicas_marking_one_message_at_once_both_count(replicas):
    """Two people pin a message at the same moment; Slack delivers each to another replica."""
    first, second = (Timeline(db) for db in replicas)
    async with replicas[0].transaction() as session:
        incident = Incident(title="Checkout down", severity="SEV1", declared_by="U1")
        incident.playbook = "default"
        session.add(incident)
    ids = range(20)
    for n in ids:  # both replicas connected and warm before the race
        await (first, second)[n % 2].record(
            MessagePosted(f"EvMSG{n}", incident.id, f"1800000000.{n:06d}", utcnow(), "U1", "x")
        )
    await asyncio.gather(
        *(
            replica.record(
                KeyMarked(
                    f"Ev{who}{n}", incident.id, f"1800000000.{n:06d}", f"reaction:{who}", True
                )
            )
            for n in ids
            for replica, who in ((first, "UALICE"), (second, "UBOB"))
        )
    )
    async with replicas[0].snapshot_read() as session:
        marks = (await session.exec(select(TimelineEntry.data))).all()
    assert all(m["key_by"] == ["reaction:UALICE", "reaction:UBOB"] for m in marks)
