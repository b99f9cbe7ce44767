"""The review's facts, read from the record on a real database (its Markdown: tests/render)."""

from datetime import timedelta
from pathlib import Path

import pytest

from bot.incidents import IncidentService
from bot.incidents.entries import SeverityChanged
from bot.incidents.review import gather_review
from bot.incidents.updates import UpdateDesk
from bot.playbooks import load_playbooks
from bot.store import Database
from tests.incidents.test_updates import Clock

ALICE = "UALICE0001"


@pytest.fixture
async def service(database_url):
    clock = Clock()  # 09:00 UTC
    db = Database(database_url)
    await db.upgrade_schema()
    yield IncidentService(db, load_playbooks(Path("playbooks")), clock), clock
    await db.dispose()


async def test_milestones_reopenings_reratings_and_updates_come_from_the_record(service):
    service, clock = service
    desk = UpdateDesk(service.db, service, clock)
    declared = clock.now
    incident = (await service.declare(title="Checkout down", declared_by=ALICE, severity="SEV1")).id
    await service.attach_channel(incident, "C0001", "inc-checkout")
    clock.advance(minutes=10)  # 09:10
    await service.set_status(incident, "identified", by=ALICE)
    clock.advance(minutes=10)  # 09:20
    draft, _ = await desk.draft_now(incident)
    await desk.start_sending(draft.id, ALICE)
    await desk.sent(draft.id, "1795339200.000100")
    clock.advance(minutes=10)  # 09:30
    await service.resolve(incident, by=ALICE)
    clock.advance(minutes=10)  # 09:40
    await service.set_status(incident, "investigating", by=ALICE)  # reopened
    clock.advance(minutes=5)  # 09:45
    await service.set_severity(incident, "SEV2", by=ALICE)
    clock.advance(minutes=15)  # 10:00
    await service.resolve(incident, by=ALICE)

    record = await gather_review(service, incident)

    assert record.first_reached() == {
        "identified": declared + timedelta(minutes=10),
        "resolved": declared + timedelta(minutes=30),
        "investigating": declared + timedelta(minutes=40),
    }
    assert record.reopenings() == 1
    assert record.reratings() == [
        (declared + timedelta(minutes=45), SeverityChanged("SEV1", "SEV2"))
    ]
    assert [h.user_id for h in record.holdings_of("commander")] == [ALICE]
    kept = record.updates_kept()
    assert (len(kept.sent), len(kept.skipped)) == (1, 0)
    assert kept.first_after == timedelta(minutes=20)
    # From the update at 09:20 to the resolution at 10:00, nothing was sent.
    assert kept.longest_silence == timedelta(minutes=40)
    # The cadence is the severity's at the end (SEV2: every hour), and 40m is within it.
    assert kept.cadence == timedelta(hours=1) and not kept.over_cadence
    assert record.people() == {ALICE}
