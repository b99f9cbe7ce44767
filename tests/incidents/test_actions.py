"""Action items on their own: reminders claimed once across replicas, on a real database."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.incidents import IncidentService, InvalidRequest
from bot.incidents.actions import REMIND_EVERY, REMINDER_LEASE, ActionItems
from bot.playbooks import load_playbooks
from bot.store import Database


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.now


@pytest.fixture
async def replicas(database_url):
    """Two action-item desks on one database: two replicas, one clock."""
    clock = Clock()
    db_a, db_b = Database(database_url), Database(database_url)
    await db_a.upgrade_schema()
    playbooks = load_playbooks(Path("playbooks"))
    service = IncidentService(db_a, playbooks, clock)
    replica_b = IncidentService(db_b, playbooks, clock)
    yield service, ActionItems(service), ActionItems(replica_b), clock
    await db_a.dispose()
    await db_b.dispose()


async def test_an_overdue_reminder_is_claimed_by_one_replica_and_leased(replicas):
    service, a, b, clock = replicas
    incident = (await service.declare(title="Checkout down", declared_by="U1")).id
    await a.add(incident, "Add alerting", by="U1", owner="U2", due=date(2026, 11, 20))
    await a.add(incident, "Not due yet", by="U1", owner="U2", due=date(2026, 12, 20))
    await a.add(incident, "Nobody owns it", by="U1", due=date(2026, 11, 1))

    claims = await asyncio.gather(a.claim_reminders(), b.claim_reminders())
    claimed = [reminder for claim in claims for reminder in claim]
    assert len(claimed) == 1
    (reminder,) = claimed
    assert reminder.owner == "U2" and [i.text for i, _ in reminder.items] == ["Add alerting"]
    assert reminder.items[0][1] == f"INC-{incident}"

    # Not confirmed sent (the process died): the lease runs out and it is claimed again.
    assert await a.claim_reminders() == []
    clock.now += REMINDER_LEASE + timedelta(seconds=1)
    (again,) = await b.claim_reminders()
    await b.reminded(again)
    clock.now += REMIND_EVERY - timedelta(minutes=1)
    assert await a.claim_reminders() == []  # a week after it was sent, not before
    clock.now += timedelta(minutes=2)
    assert len(await a.claim_reminders()) == 1


async def test_done_items_are_not_reminded_and_not_done_twice(replicas):
    service, a, _, clock = replicas
    incident = (await service.declare(title="Checkout down", declared_by="U1")).id
    item = await a.add(incident, "Add alerting", by="U1", owner="U2", due=date(2026, 11, 20))
    await a.mark_done(item.id, by="U2")
    assert await a.claim_reminders() == []
    with pytest.raises(InvalidRequest, match="already done"):
        await a.mark_done(item.id, by="U2")
    with pytest.raises(InvalidRequest, match="Say what is to be done"):
        await a.add(incident, "   ", by="U1")
