"""The drill desk on its own, on a real database: two replicas claiming injects and
scorecards, leases, what `/incident drill`'s words mean, and the scorecard's judgements."""

import asyncio
from pathlib import Path

import pytest

from bot.incidents import IncidentService, InvalidRequest
from bot.incidents.drills import DrillDesk
from bot.incidents.stats import gather_numbers
from bot.incidents.updates import POST_LEASE, UpdateDesk
from bot.playbooks import load_playbooks
from bot.scenarios import load_scenarios
from bot.store import Database
from tests.incidents.test_updates import Clock

ALICE, BOB = "UALICE0001", "UBOB000001"


@pytest.fixture
async def replicas(database_url):
    """Two drill desks on one database (two replicas), with the shipped playbooks and
    scenarios."""
    clock = Clock()
    db_a, db_b = Database(database_url), Database(database_url)
    await db_a.upgrade_schema()
    playbooks = load_playbooks(Path("playbooks"))
    scenarios = load_scenarios(Path("playbooks/scenarios"), playbooks)
    service = IncidentService(db_a, playbooks, clock)
    a = DrillDesk(db_a, service, scenarios, clock)
    b = DrillDesk(db_b, IncidentService(db_b, playbooks, clock), scenarios, clock)
    yield service, a, b, clock
    await db_a.dispose()
    await db_b.dispose()


async def declare_drill(service, desk, words="checkout-meltdown") -> int:
    plan = desk.plan(words, None, None)
    snapshot = await service.declare(
        title=plan.title,
        declared_by=ALICE,
        severity=plan.severity,
        playbook=plan.playbook,
        drill=plan.setup,
    )
    await service.attach_channel(snapshot.id, f"C{snapshot.id:04d}", "drill-x")
    return snapshot.id


async def test_each_inject_is_claimed_by_one_replica_once(replicas):
    service, a, b, clock = replicas
    await declare_drill(service, a)
    await declare_drill(service, a)
    assert await a.claim_injects() == []  # the first inject is 2 minutes in
    clock.advance(minutes=6)  # two injects of each drill are due

    first, second = await asyncio.gather(a.claim_injects(), b.claim_injects())
    claimed = [d.inject.id for d in first + second]
    assert len(claimed) == 4 and len(set(claimed)) == 4
    assert await a.claim_injects() == [] and await b.claim_injects() == []

    # Posted and recorded: never again, even once the lease would have run out.
    await a.injects_posted([(d.inject.id, f"1700.{d.inject.id}") for d in first + second])
    await b.injects_posted([(d.inject.id, f"1700.{d.inject.id}") for d in first + second])
    clock.advance(minutes=2)  # 8m: only the question inject is new
    assert [d.inject.position for d in await a.claim_injects()] == [2, 2]


async def test_an_inject_whose_poster_died_is_claimed_again_after_its_lease(replicas):
    service, a, b, clock = replicas
    await declare_drill(service, a)
    clock.advance(minutes=9)  # message, message and the question are due
    (*_, question) = await a.claim_injects()  # ... and this replica dies before posting
    assert question.question is not None
    assert await b.claim_injects() == []
    clock.advance(seconds=POST_LEASE.total_seconds() + 1)
    again = await b.claim_injects()
    assert len(again) == 3
    # The stakeholder's question was asked once, whoever delivers it.
    assert again[-1].question.id == question.question.id


async def test_injects_stop_when_the_drill_is_resolved(replicas):
    service, a, _, clock = replicas
    incident_id = await declare_drill(service, a)
    await service.resolve(incident_id, ALICE)
    clock.advance(hours=1)
    assert await a.claim_injects() == []


async def test_the_scorecard_is_made_once_and_posted_by_one_replica(replicas):
    service, a, b, clock = replicas
    incident_id = await declare_drill(service, a)
    updates = UpdateDesk(service.db, service, clock)
    clock.advance(minutes=3)
    await service.assign(incident_id, "comms", BOB, by=ALICE)
    clock.advance(minutes=20)  # the tech lead is never named; the first update is late
    due = await a.claim_injects()  # four injects so far, the tech lead going offline last
    await a.injects_posted([(d.inject.id, None) for d in due])
    draft, _ = await updates.draft_now(incident_id)
    clock.advance(minutes=7)
    await updates.start_sending(draft.id, BOB)
    await updates.sent(draft.id, "1700.1")
    assert await a.claim_scorecards() == []  # still running
    await service.resolve(incident_id, ALICE)

    first, second = await asyncio.gather(a.claim_scorecards(), b.claim_scorecards())
    (scored,) = first + second
    measures = {m.key: m for m in scored.measures}
    assert (measures["comms_handover"].result, measures["comms_handover"].met) == ("after 3m", True)
    assert (measures["tech_handover"].result, measures["tech_handover"].met) == ("never", False)
    assert (measures["first_update"].result, measures["first_update"].met) == ("after 30m", False)
    assert measures["approval"].result == "longest 7m (7m)" and measures["approval"].met is False
    assert measures["cadence"].met is True  # 30m then 0s: within SEV1's 30m
    assert measures["review"].met is None  # no stored review to judge yet
    assert (measures["tech_replaced"].result, measures["tech_replaced"].met) == ("never", False)
    assert measures["questions"].result == "1 of 1"  # the inject's, listed on the update

    await b.scorecard_posted(incident_id, "1800.1")
    clock.advance(seconds=POST_LEASE.total_seconds() + 1)
    assert await a.claim_scorecards() == [] and await b.claim_scorecards() == []
    assert (await a.scorecard(incident_id)).measures == scored.measures


def test_the_first_word_is_a_scenario_only_when_one_has_that_name(replicas):
    _, desk, _, _ = replicas
    played = desk.plan("checkout-meltdown", None, None)
    assert (played.title, played.severity, played.playbook) == (
        "Checkout errors during the evening peak",
        "SEV1",
        "default",
    )
    assert played.setup.scenario == "checkout-meltdown" and len(played.setup.injects) == 5
    titled = desk.plan("checkout-meltdown Friday practice", "SEV2", None)
    assert (titled.title, titled.severity) == ("Friday practice", "SEV2")
    plain = desk.plan("Checkout practice", None, None)
    assert (plain.title, plain.setup.scenario, plain.setup.injects) == (
        "Checkout practice",
        None,
        (),
    )


async def test_a_drill_abandoned_with_its_war_room_leaves_nothing(replicas):
    service, desk, _, _ = replicas
    plan = desk.plan("checkout-meltdown", None, None)
    snapshot = await service.declare(title=plan.title, declared_by=ALICE, drill=plan.setup)
    await service.abandon(snapshot.id)
    assert await desk.scorecard(snapshot.id) is None


def test_a_drill_needs_a_title_or_a_scenario(replicas):
    _, desk, _, _ = replicas
    with pytest.raises(InvalidRequest):
        desk.plan("", None, None)


async def test_statistics_leave_drills_out(replicas):
    service, desk, _, clock = replicas
    real = await service.declare(title="Search down", declared_by=ALICE, severity="SEV2")
    drill = await declare_drill(service, desk)
    clock.advance(minutes=30)
    for incident_id in (real.id, drill):
        await service.resolve(incident_id, ALICE)
    numbers = await gather_numbers(service, "30d")
    assert (numbers.incidents, numbers.by_severity) == (1, {"SEV2": 1})
