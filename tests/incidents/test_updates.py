"""The update desk on its own: claims, leases and decisions, on a real database."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.incidents import IncidentService, InvalidRequest
from bot.incidents.permissions import NotAllowed
from bot.incidents.updates import POST_LEASE, UpdateDesk
from bot.playbooks import load_playbooks
from bot.simulator import wait_for
from bot.store import Database


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
async def desks(database_url):
    """Two desks on one database: two replicas."""
    clock = Clock()
    db_a, db_b = Database(database_url), Database(database_url)
    await db_a.upgrade_schema()
    playbooks = load_playbooks(Path("playbooks"))
    service = IncidentService(db_a, playbooks, clock)
    replica_a = UpdateDesk(db_a, service, clock)
    replica_b = UpdateDesk(db_b, IncidentService(db_b, playbooks, clock), clock)
    yield service, replica_a, replica_b, clock
    await db_a.dispose()
    await db_b.dispose()


async def major_incident(service, channel="C0001") -> int:
    snapshot = await service.declare(
        title="Checkout down", declared_by="UALICE0001", severity="SEV1"
    )
    await service.attach_channel(snapshot.id, channel, "inc-x")
    await service.assign(snapshot.id, "comms", "UBOB000001", by="UALICE0001")
    return snapshot.id


async def test_a_due_update_is_claimed_by_one_replica_once(desks):
    service, a, b, clock = desks
    await major_incident(service)
    assert await a.claim_due() == []  # not due yet (SEV1: every 30m)
    clock.advance(minutes=30)
    first, second = await a.claim_due(), await b.claim_due()
    assert len(first) + len(second) == 1
    assert await a.claim_due() == [] and await b.claim_due() == []


async def test_a_replica_dying_before_posting_blocks_the_draft_only_until_its_lease_ends(desks):
    service, a, b, clock = desks
    await major_incident(service)
    clock.advance(minutes=30)
    (draft,) = await a.claim_due()  # replica A claims, then dies before posting
    assert await b.claim_unposted() == []  # A's lease still holds
    clock.advance(seconds=POST_LEASE.total_seconds() + 1)
    (rescued,) = await b.claim_unposted()
    assert rescued.id == draft.id
    assert await a.claim_unposted() == []  # B holds the new lease
    await b.posted([(rescued.id, "1800000000.000100")])
    clock.advance(minutes=5)
    assert await a.claim_unposted() == [] and await b.claim_unposted() == []


async def test_deciding_needs_the_comms_lead_or_commander_and_happens_once(desks):
    service, a, b, clock = desks
    incident = await major_incident(service)
    draft, _ = await a.draft_now(incident)
    with pytest.raises(
        NotAllowed,
        match="Only the Incident Commander UALICE0001 or the Comms Lead UBOB000001 can approve",
    ):
        await a.start_sending(draft.id, "UDAVE00001")
    await a.start_sending(draft.id, "UBOB000001")
    with pytest.raises(InvalidRequest, match="already been sent"):
        await b.start_sending(draft.id, "UALICE0001")
    sent = await a.sent(draft.id, "1800000000.000200")
    assert sent.update.status == "sent"
    snapshot = await service.get(incident)
    assert snapshot.incident.next_update_due == clock.now + timedelta(minutes=30)


async def test_an_approved_update_whose_broadcaster_died_is_taken_over_once(desks):
    service, a, b, clock = desks
    incident = await major_incident(service)
    draft, _ = await a.draft_now(incident)
    await a.start_sending(draft.id, "UBOB000001")  # replica A approves, then dies
    assert await b.claim_unsent() == []  # A's lease on the broadcast still holds
    clock.advance(seconds=POST_LEASE.total_seconds() + 1)
    (rescued,) = await b.claim_unsent()
    assert rescued.id == draft.id and rescued.update.decided_by == "UBOB000001"
    assert await a.claim_unsent() == []  # B holds the new lease
    sent = await b.sent(rescued.id, "1800000000.000400")
    assert sent.update.status == "sent" and sent.update.send_lease_until is None
    snapshot = await service.get(incident)
    assert snapshot.incident.next_update_due == clock.now + timedelta(minutes=30)  # cadence on
    # A late second finisher records nothing more: one timeline entry, the first ts.
    again = await a.sent(rescued.id, "1800000000.000500")
    assert again.update.broadcast_ts == "1800000000.000400"
    async with service.db.transaction() as session:
        entries = (await session.exec(text("SELECT kind FROM timelineentry"))).all()
    assert [kind for (kind,) in entries].count("update") == 1
    clock.advance(minutes=5)
    assert await a.claim_unsent() == [] and await b.claim_unsent() == []


async def test_escalation_fires_once(desks):
    service, a, b, clock = desks
    incident = await major_incident(service)
    draft, _ = await a.draft_now(incident)
    await a.posted([(draft.id, "1800000000.000300")])
    clock.advance(minutes=11)  # SEV1 escalate_after: 10m
    escalated = await a.claim_escalations() + await b.claim_escalations()
    assert [d.id for d in escalated] == [draft.id]
    assert await a.overdue(incident)


async def test_old_event_ids_are_forgotten(database_url):
    from bot.incidents.timeline import Timeline
    from bot.store.models import ProcessedEvent

    clock = Clock()
    db = Database(database_url)
    await db.upgrade_schema()
    async with db.transaction() as session:
        session.add(ProcessedEvent(event_id="EvOLD", received_at=clock.now - timedelta(days=2)))
        session.add(ProcessedEvent(event_id="EvNEW", received_at=clock.now - timedelta(minutes=5)))
    assert await Timeline(db, clock).forget_old_events() == 1
    async with db.transaction() as session:
        assert await session.get(ProcessedEvent, "EvNEW") is not None
        assert await session.get(ProcessedEvent, "EvOLD") is None
    await db.dispose()


async def test_a_draft_lists_findings_once_and_says_what_is_being_done(desks):
    service, desk, _, clock = desks
    incident_id = await major_incident(service)
    clock.advance(minutes=5)
    await service.set_status(incident_id, "identified", by="UALICE0001", note="Bad deploy of 4.2")
    draft, _ = await desk.draft_now(incident_id)
    text = draft.update.text
    assert text.count("Bad deploy of 4.2") == 1
    assert "*What we know:* • Status identified: Bad deploy of 4.2" in text
    assert "*What we're doing:* The cause is identified; working on the fix." in text


async def test_sending_waits_for_a_re_rating_in_flight_on_another_replica(desks, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite already serialises writers with BEGIN IMMEDIATE")
    service, a, b, clock = desks
    incident = await major_incident(service)  # SEV1: an update every 30m
    draft, _ = await a.draft_now(incident)
    await a.start_sending(draft.id, "UBOB000001")

    async def sending_is_waiting() -> bool:
        async with a.db.snapshot_read() as session:
            waiting = await session.exec(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            )
            return waiting.scalar_one() > 0

    async with b.db.transaction() as session:  # replica B is re-rating it to SEV2 (every 1h)
        row = await IncidentService.load_incident(session, incident, for_update=True)
        row.severity = "SEV2"
        await session.flush()
        sending = asyncio.create_task(a.sent(draft.id, "1800000000.000200"))
        await wait_for(sending_is_waiting, what="the send to wait for the re-rating")
    await sending
    # The next update follows the new severity's cadence, not the one read before it.
    snapshot = await service.get(incident)
    assert snapshot.incident.next_update_due == clock.now + timedelta(hours=1)


async def test_drafts_wait_for_the_comms_lead_and_the_commander_only(desks):
    service, desk, _, _ = desks
    incident = await major_incident(service)  # commander ALICE, comms BOB
    other = await major_incident(service, channel="C0002")
    draft, _ = await desk.draft_now(incident)
    await desk.draft_now(other)
    assert [d.id for d in await desk.waiting_for("UALICE0001")] == [draft.id, draft.id + 1]
    assert await desk.waiting_for("UCAROL0001") == []

    await service.assign(incident, "comms", "UCAROL0001", by="UALICE0001")
    assert [d.id for d in await desk.waiting_for("UCAROL0001")] == [draft.id]
    assert [d.id for d in await desk.waiting_for("UBOB000001")] == [draft.id + 1]
    await desk.skip(draft.id, "UCAROL0001", "Nothing new")
    assert await desk.waiting_for("UCAROL0001") == []
