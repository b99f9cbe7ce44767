"""What the status page may show, read straight from a seeded database."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.incidents.status import StatusReader, parse_reference
from bot.store import Database
from bot.store.models import Incident, StakeholderUpdate

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def incident(n: int, status="investigating", resolved_days_ago=None, **fields) -> Incident:
    defaults = {
        "title": f"Incident {n}",
        "severity": "SEV2",
        "playbook": "default",
        "channel_id": f"C{n:08d}",
        "declared_by": "U1",
        "declared_at": NOW - timedelta(days=10),
    }
    resolved_at = NOW - timedelta(days=resolved_days_ago) if resolved_days_ago else None
    return Incident(id=n, status=status, resolved_at=resolved_at, **{**defaults, **fields})


def update(n: int, incident_id: int, status: str, minutes_ago: int, text="") -> StakeholderUpdate:
    at = NOW - timedelta(minutes=minutes_ago)
    return StakeholderUpdate(
        id=n,
        incident_id=incident_id,
        status=status,
        text=text or f"update {n}",
        created_at=at,
        decided_at=at if status == "sent" else None,
    )


@pytest.fixture
async def reader(database_url):
    db = Database(database_url)
    await db.upgrade_schema()
    async with db.transaction() as session:
        session.add_all(
            [
                incident(1, severity="SEV2", next_update_due=NOW + timedelta(minutes=20)),
                incident(2, severity="SEV1"),
                incident(3, status="resolved", resolved_days_ago=2),
                incident(4, status="closed", resolved_days_ago=8),
                incident(5, private=True, title="Breach at the bank"),
                incident(6, title="Never got a war room", channel_id=None),
            ]
        )
        await session.flush()
        session.add_all(
            [
                update(1, 1, "sent", 90),
                update(2, 1, "sent", 30, "the latest"),
                update(3, 1, "skipped", 20),
                update(4, 2, "draft", 5),  # drafted when due: the next update is due then
                update(5, 5, "sent", 10, "bank details exposed"),
            ]
        )
    yield StatusReader(db, clock=lambda: NOW)
    await db.dispose()


async def test_board_lists_open_then_recently_resolved(reader):
    board = await reader.board()
    assert [i.reference for i in board.open] == ["INC-2", "INC-1", "INC-5"]
    assert [i.reference for i in board.recently_resolved] == ["INC-3"]
    first, second, private = board.open
    assert second.last_update.text == "the latest"
    assert second.next_update_due == NOW + timedelta(minutes=20)
    assert first.last_update is None and first.next_update_due == NOW - timedelta(minutes=5)
    assert board.recently_resolved[0].next_update_due is None


async def test_private_incidents_show_their_reference_and_nothing_else(reader):
    board = await reader.board()
    private = board.open[-1]
    assert private.private and private.reference == "INC-5"
    assert (private.title, private.severity, private.status, private.last_update) == (None,) * 4
    history = await reader.history("INC-5")
    assert history.incident == private and history.updates == []
    assert all(entry.incident.reference != "INC-5" for entry in await reader.feed())


async def test_history_and_feed_hold_published_updates_only(reader):
    history = await reader.history("inc-1")
    assert [u.text for u in history.updates] == ["the latest", "update 1"]
    assert [e.update.text for e in await reader.feed()] == ["the latest", "update 1"]
    assert await reader.history("INC-6") is None and await reader.history("INC-404") is None


async def test_counts_for_monitoring(reader):
    counts = await reader.counts()
    assert counts.open_by_severity == {"SEV1": 1, "SEV2": 2}
    assert counts.drafts_waiting == 1


def test_parse_reference():
    assert parse_reference("INC-12") == 12 and parse_reference("inc-3") == 3
    assert parse_reference("INC-") is None and parse_reference("12; drop") is None
