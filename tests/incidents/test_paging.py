"""Paging on its own: page, escalate, acknowledge, on a controlled clock and a real database."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.incidents import IncidentService, InvalidRequest
from bot.incidents.entries import PageAcknowledged, Paged, payload
from bot.incidents.paging import Pager, page_order
from bot.incidents.rota import DutyRota
from bot.playbooks import load_playbooks
from bot.store import Database
from bot.store.models import TimelineEntry
from tests.incidents.test_updates import Clock

ANNA, BEN, CARA = "UANNA00001", "UBEN000001", "UCARA00001"
ROTA = DutyRota.model_validate(
    {
        "time_zone": "Europe/London",
        "people": [ANNA, BEN, CARA],
        "start": "2026-11-02 09:00",
        "handover": "monday 09:00",
    }
)
ACK_WITHIN = timedelta(minutes=5)


@pytest.fixture
async def replicas(database_url):
    """Two pagers on one database, as two replicas, and an incident service."""
    clock = Clock()
    clock.now = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)  # Anna's week
    db_a, db_b = Database(database_url), Database(database_url)
    await db_a.upgrade_schema()
    service = IncidentService(db_a, load_playbooks(Path("playbooks")), clock)
    pager_a = Pager(db_a, ROTA, [], ACK_WITHIN, clock)
    pager_b = Pager(db_b, ROTA, [], ACK_WITHIN, clock)
    yield service, pager_a, pager_b, clock
    await db_a.dispose()
    await db_b.dispose()


async def declare(service) -> int:
    snapshot = await service.declare(title="Checkout down", declared_by="UALICE0001")
    return snapshot.id


async def entries(pager, incident_id: int):
    async with pager.db.snapshot_read() as session:
        rows = await session.exec(
            select(TimelineEntry)
            .where(
                TimelineEntry.incident_id == incident_id,
                TimelineEntry.kind.in_(("paged", "page_acknowledged")),
            )
            .order_by(TimelineEntry.at, TimelineEntry.id)
        )
        return [payload(row) for row in rows.all()]


async def test_duty_manager_is_paged_once_then_the_next_until_everyone(replicas):
    service, pager, _, clock = replicas
    incident = await declare(service)
    out = await pager.start(incident)
    assert (out.page.user_id, out.page.attempt) == (ANNA, 1)
    assert await pager.start(incident) is None  # paged already
    clock.advance(minutes=4, seconds=59)
    assert await pager.claim_escalations() == []
    clock.advance(seconds=1)
    (escalation,) = await pager.claim_escalations()
    assert (escalation.unanswered.user_id, escalation.page.user_id) == (ANNA, BEN)
    assert await pager.claim_escalations() == []  # escalated once
    clock.advance(minutes=5)
    (escalation,) = await pager.claim_escalations()
    assert escalation.page.user_id == CARA and escalation.page.attempt == 3
    clock.advance(minutes=5)
    (escalation,) = await pager.claim_escalations()
    assert escalation.page is None  # everyone on the rota has been paged
    assert await entries(pager, incident) == [
        Paged(ANNA, 1),
        Paged(BEN, 2, unanswered=ANNA),
        Paged(CARA, 3, unanswered=BEN),
    ]


async def test_acknowledging_stops_the_chain_and_records_the_time(replicas):
    service, pager, _, clock = replicas
    incident = await declare(service)
    await pager.start(incident)
    clock.advance(minutes=5)
    (escalation,) = await pager.claim_escalations()
    clock.advance(seconds=90)
    with pytest.raises(InvalidRequest, match="for someone else"):
        await pager.acknowledge(escalation.page.id, ANNA)
    acked = await pager.acknowledge(escalation.page.id, BEN)
    assert acked.seconds == 390 and await pager.acknowledger(incident) == BEN
    clock.advance(minutes=30)
    assert await pager.claim_escalations() == []  # answered: nobody else is paged
    first_page = escalation.unanswered.id
    with pytest.raises(InvalidRequest, match="already acknowledged"):
        await pager.acknowledge(first_page, ANNA)  # a late answer to the first page
    assert (await entries(pager, incident))[-1] == PageAcknowledged(BEN, 2, 390)


async def test_two_replicas_escalate_each_page_once(replicas):
    service, pager_a, pager_b, clock = replicas
    incidents = [await declare(service) for _ in range(5)]
    for incident in incidents:
        await pager_a.start(incident)
    clock.advance(minutes=5)
    got_a, got_b = await asyncio.gather(pager_a.claim_escalations(), pager_b.claim_escalations())
    escalated = sorted(e.incident.id for e in got_a + got_b)
    assert escalated == incidents
    assert {e.page.user_id for e in got_a + got_b} == {BEN}


async def test_a_page_whose_sender_died_is_sent_once_after_its_lease(replicas):
    service, pager_a, pager_b, clock = replicas
    out = await pager_a.start(await declare(service))
    assert await pager_b.claim_unsent() == []  # the first sender still holds it
    clock.advance(seconds=31)
    claims = await asyncio.gather(pager_a.claim_unsent(), pager_b.claim_unsent())
    assert sorted(len(c) for c in claims) == [0, 1]
    await pager_a.sent(out.page.id, "1.0001")
    clock.advance(minutes=1)
    assert await pager_a.claim_unsent() == []


async def test_the_rota_decides_who_is_first(replicas):
    service, pager, _, clock = replicas
    clock.now = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)  # Monday 09:00 GMT: Ben's week
    out = await pager.start(await declare(service))
    assert out.page.user_id == BEN
    assert page_order(ROTA, [], clock.now) == [BEN, CARA, ANNA]


def test_without_a_rota_the_response_teams_people_are_paged_in_order():
    at = datetime(2026, 11, 3, tzinfo=UTC)
    assert page_order(None, ["SMIMTEAM01", BEN, ANNA], at) == [BEN, ANNA]
    assert page_order(None, [], at) == []
