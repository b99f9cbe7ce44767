"""Reading the timeline a page at a time, on a real database."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.incidents import IncidentService
from bot.incidents.timeline import KeyMarked, MessageDeleted, MessagePosted, Timeline, of_kinds
from bot.playbooks import load_playbooks
from bot.store import Database
from bot.store.models import TimelineEntry
from tests.incidents.test_updates import Clock

DECLARED = 1795338000  # 2026-11-22 09:00 UTC, the clock's start


def ts(n: int) -> str:
    return f"{DECLARED + n}.000100"


@pytest.fixture
async def room(database_url):
    db = Database(database_url)
    await db.upgrade_schema()
    clock = Clock()
    service = IncidentService(db, load_playbooks(Path("playbooks")), clock)
    incident = (await service.declare(title="Checkout down", declared_by="U1", severity="SEV1")).id
    timeline = Timeline(db, clock)
    for n in range(1, 60):  # with the declaration: 60 entries, a second apart
        said_at = datetime.fromtimestamp(DECLARED + n, UTC)
        await timeline.record(MessagePosted(f"Ev{n}", incident, ts(n), said_at, "U2", f"m{n}"))
    clock.advance(minutes=5)
    yield service, timeline, incident
    await db.dispose()


async def test_pages_hold_what_is_visible_in_order(room):
    _, timeline, incident = room
    await timeline.record(MessageDeleted("EvDel", incident, ts(59)))
    first = await timeline.page(incident, 1, 25)
    assert (first.number, first.has_earlier, first.has_later) == (1, False, True)
    assert first.entries[0].kind == "declared" and first.entries[1].text == "m1"
    last = await timeline.page(incident, 99, 25)  # past the end: the last page
    assert (last.number, [e.text for e in last.entries][-2:]) == (3, ["m57", "m58"])
    assert (last.has_earlier, last.has_later) == (True, False)


async def test_highlights_are_the_latest_key_events_and_status(room):
    service, timeline, incident = room
    for n in range(1, 14):
        await timeline.record(KeyMarked(f"EvKey{n}", incident, ts(n), "pin", added=True))
    await service.set_status(incident, "identified", by="U1", note="Bad deploy")
    highlights = await timeline.highlights(incident, key_events=10)
    assert [e.text for e in highlights.key_events][:-1] == [f"m{n}" for n in range(5, 14)]
    assert highlights.key_events[-1].kind == "status"
    assert highlights.latest_status.data["note"] == "Bad deploy"


async def test_one_change_the_database_refuses_does_not_fail_the_others(room):
    """40 messages committed together, one carrying a value the database refuses (no text)."""
    _, timeline, incident = room
    at = datetime.fromtimestamp(DECLARED + 100, UTC)
    changes = [
        MessagePosted(f"EvG{n}", incident, ts(100 + n), at, "U2", None if n == 7 else f"g{n}")
        for n in range(40)
    ]
    results = await asyncio.gather(*(timeline.record(c) for c in changes), return_exceptions=True)
    refused = [n for n, result in enumerate(results) if isinstance(result, Exception)]
    assert refused == [7]
    assert all(result is True for n, result in enumerate(results) if n != 7)
    texts = {e.text for e in await timeline.entries(incident)}
    assert {f"g{n}" for n in range(40) if n != 7} <= texts


async def test_reads_of_some_kinds_go_through_their_index_on_sqlite(room):
    """SQLite has no statistics to choose by: the status changes and the review's facts of
    a million-entry incident must not be found by reading every entry (`timeline_log`)."""
    _, timeline, incident = room
    if timeline.db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's planner chooses by its statistics")
    facts = of_kinds(["status", "severity"], TimelineEntry.incident_id == incident)
    async with timeline.db.snapshot_read() as session:
        connection = await session.connection()
        sql = facts.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        plan = str((await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all())
    assert "USING INDEX timeline_by_kind" in plan and "timeline_log" not in plan
