"""The post-incident review drafted from the record, on a real database."""

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from bot.incidents import IncidentService, InvalidRequest
from bot.incidents.paging import Pager
from bot.incidents.permissions import IncidentPermissions
from bot.incidents.review import gather_review
from bot.incidents.rota import DutyRota
from bot.incidents.timeline import MessagePosted, Timeline
from bot.incidents.updates import UpdateDesk
from bot.playbooks import load_playbooks
from bot.render.readers import Readers
from bot.render.review import review_markdown
from bot.slack.text import plain_text
from bot.store import Database
from tests.incidents.test_updates import Clock

ALICE, BOB, CAROL, DAVE = "UALICE0001", "UBOB000001", "UCAROL0001", "UDAVE00001"
NAMES = {ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave"}
# As the Slack layer hands them over: names, and Slack's mentions turned into them.
READERS = Readers(UTC, NAMES, partial(plain_text, names=NAMES))


@pytest.fixture
async def desk(database_url):
    clock = Clock()  # 09:00 UTC
    db = Database(database_url)
    await db.upgrade_schema()
    # Carol, the MIM duty manager, steers before she takes command: an incident admin.
    admins = IncidentPermissions(frozenset({CAROL}))
    service = IncidentService(db, load_playbooks(Path("playbooks")), clock, permissions=admins)
    yield service, UpdateDesk(db, service, clock), Timeline(db, clock), clock
    await db.dispose()


async def test_the_review_is_drafted_from_the_record(desk):
    service, updates, timeline, clock = desk
    incident = (await service.declare(title="Checkout down", declared_by=ALICE, severity="SEV1")).id
    await service.attach_channel(incident, "C0001", "inc-checkout")
    await service.assign(incident, "comms", BOB, by=ALICE)
    clock.advance(minutes=4)
    await timeline.record(
        MessagePosted(
            "Ev1",
            incident,
            "1795338240.000100",
            datetime(2026, 11, 22, 9, 4, tzinfo=UTC),
            CAROL,
            "5xx since 4.2, <@UBOB000001>",
        )
    )
    await timeline.add_note(incident, ALICE, "Decided to roll back")
    clock.advance(minutes=6)  # 09:10
    await service.set_status(incident, "identified", by=CAROL, note="Bad deploy of 4.2")
    await updates.ask(incident, DAVE, "Is payments affected?")
    clock.advance(minutes=10)  # 09:20
    draft, _ = await updates.draft_now(incident)
    await updates.start_sending(draft.id, BOB)
    await updates.sent(draft.id, "1795338000.000200")
    clock.advance(minutes=20)  # 09:40
    await service.assign(incident, "commander", CAROL, by=ALICE)
    await service.set_status(incident, "monitoring", by=CAROL, note="Rolled back")
    clock.advance(minutes=25)  # 10:05
    await service.resolve(incident, by=CAROL, summary="Rolled back to 4.1")

    entries = await timeline.entries(incident)
    review = review_markdown(await gather_review(service, incident), entries, READERS, clock.now)

    assert review.startswith("# Post-incident review — INC-1: Checkout down")
    assert "| Declared | 2026-11-22 09:00 by alice |" in review
    assert "| Cause identified | 2026-11-22 09:10 (10m after declaring) |" in review
    assert "| Fix in place (monitoring) | 2026-11-22 09:40 (40m after declaring) |" in review
    assert "| Resolved | 2026-11-22 10:05 (1h5m after declaring) |" in review
    assert "| Incident Commander | alice, then carol from 2026-11-22 09:40 |" in review
    assert "| Comms Lead | bob |" in review and "| Tech Lead | nobody named |" in review
    assert "| Resolution | Rolled back to 4.1 |" in review
    # The cadence is every 30m: 09:20 → 10:05 went without an update.
    assert "1 sent, 0 skipped; the playbook asks for one every 30m." in review
    assert "First update: 20m after declaring." in review
    assert "Longest stretch without an update: 45m (over the cadence)." in review
    assert "- 2026-11-22 09:20 sent by bob: *Checkout down* (SEV1, identified)" in review
    assert "dave: “Is payments affected?” — answered in the update of 2026-11-22 09:20" in review
    key_events = review.split("## Key events")[1].split("## Root cause")[0]
    assert "Decided to roll back" in key_events and "5xx since" not in key_events
    full_timeline = review.split("## Full timeline")[1]
    assert "carol [message] 5xx since 4.2, @bob" in full_timeline
    assert "alice [role] Incident Commander: @carol (was @alice)" in full_timeline
    for prompt in ("## Root cause", "## What went well", "## What went wrong", "## Action items"):
        assert prompt in review


async def test_no_review_while_the_incident_is_open(desk):
    service, _, timeline, _ = desk
    incident = (await service.declare(title="Search slow", declared_by=ALICE, severity="SEV3")).id
    with pytest.raises(InvalidRequest, match="INC-1 is still investigating"):
        await gather_review(service, incident)
    await service.resolve(incident, by=ALICE)
    record = await gather_review(service, incident)
    review = review_markdown(record, await timeline.entries(incident), READERS, service.clock())
    assert "None: SEV3 is not major, so stakeholders were not updated." in review
    assert "| Cause identified | — |" in review


async def test_the_review_shows_who_was_paged_and_the_time_to_acknowledge(desk):
    service, _, timeline, clock = desk
    rota = DutyRota.model_validate(
        {
            "time_zone": "UTC",
            "people": [CAROL, DAVE],
            "start": "2026-11-16 09:00",
            "handover": "monday 09:00",
        }
    )
    pager = Pager(service.db, rota, [], timedelta(minutes=5), clock)
    incident = (await service.declare(title="Checkout down", declared_by=ALICE, severity="SEV1")).id
    first = await pager.start(incident)
    assert first.page.user_id == CAROL
    clock.advance(minutes=5)
    (escalation,) = await pager.claim_escalations()
    clock.advance(minutes=2)
    await pager.acknowledge(escalation.page.id, DAVE)
    await service.resolve(incident, by=ALICE)
    record = await gather_review(service, incident)
    text = review_markdown(record, await timeline.entries(incident), READERS, clock())
    assert "| Duty manager paged | carol, then dave; dave acknowledged after 7m |" in text


async def test_the_review_says_what_was_filled_from_slacks_history(desk):
    service, _, timeline, _ = desk
    incident = (await service.declare(title="Bot down too", declared_by=ALICE, severity="SEV3")).id
    for n, minute in enumerate((3, 9)):
        await timeline.record(
            MessagePosted(
                "history",
                incident,
                f"1795338240.00010{n}",
                datetime(2026, 11, 22, 9, minute, tzinfo=UTC),
                BOB,
                f"said while down {n}",
                from_history=True,
            )
        )
    await timeline.record(
        MessagePosted(
            "Ev9",
            incident,
            "1795338999.000100",
            datetime(2026, 11, 22, 9, 20, tzinfo=UTC),
            BOB,
            "live",
        )
    )
    await service.resolve(incident, by=ALICE)

    record = await gather_review(service, incident)
    review = review_markdown(record, await timeline.entries(incident), READERS, service.clock())

    assert (
        "| Filled from Slack's history | 2 messages said while warroom was not listening, "
        "2026-11-22 09:03 to 2026-11-22 09:09 (marked in the timeline) |"
    ) in review
    full_timeline = review.split("## Full timeline")[1]
    assert "said while down 0 _(filled from Slack's history)_" in full_timeline
    assert "live _(" not in full_timeline
