"""The record of a declaration: its lease, its steps, taking over a dead worker's."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.incidents import IncidentService
from bot.incidents.declaration import (
    LEASE,
    AnswerTo,
    DeclarationDesk,
    LeaseLost,
    Step,
    StepState,
)
from bot.playbooks import load_playbooks
from bot.store import Database


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def setting(database_url):
    db = Database(database_url)
    await db.upgrade_schema()
    clock = Clock()
    service = IncidentService(db, load_playbooks(Path("playbooks")), clock)
    yield service, clock
    await db.dispose()


ANSWER_TO = AnswerTo("https://hooks/1", "CGENERAL")


async def declared(service, desk, answer_to=ANSWER_TO):
    snapshot = await service.declare(
        title="Checkout down",
        declared_by="UALICE0001",
        declaration=desk.start(answer_to, channel_name),
    )
    return desk.fresh(snapshot.incident, answer_to, channel_name)


def channel_name(incident) -> str:
    return f"inc-{incident.id}"


async def test_a_dead_workers_declaration_is_taken_over_once_its_lease_runs_out(setting):
    service, clock = setting
    dead, alive, other = (DeclarationDesk(service.db, clock) for _ in range(3))
    progress = await declared(service, dead)
    await dead.record(progress, Step.CHANNEL, StepState.DONE, "C1")
    assert await alive.claim_unfinished() == []  # its worker may still be at it

    clock.now += LEASE + timedelta(seconds=1)
    [taken] = await alive.claim_unfinished()
    assert await other.claim_unfinished() == []  # one taker
    assert taken.resumed and taken.answer_to == AnswerTo("https://hooks/1", "CGENERAL")
    assert taken.over(Step.CHANNEL) and not taken.over(Step.CARD)
    with pytest.raises(LeaseLost):
        await dead.record(progress, Step.CARD, StepState.DONE, "1.2")

    async with alive.held(taken):
        await alive.record(taken, Step.CARD, StepState.FAILED, "post: ratelimited")
    clock.now += LEASE * 10
    assert await other.claim_unfinished() == []  # finished: nobody resumes it
    recorded = await other.progress(taken.incident_id)
    assert recorded.failures() == {Step.CARD: "post: ratelimited"}


async def test_a_finished_declaration_is_taken_again_only_when_free(setting):
    service, clock = setting
    desk, other = DeclarationDesk(service.db, clock), DeclarationDesk(service.db, clock)
    progress = await declared(service, desk)
    assert await other.claim_finished(progress.incident_id) is None  # not finished yet
    async with desk.held(progress):
        pass
    again = await other.claim_finished(progress.incident_id)
    assert again is not None and again.runs == 2
    assert await desk.claim_finished(progress.incident_id) is None  # held by `other`


async def test_the_response_url_is_used_for_thirty_minutes(setting):
    service, clock = setting
    progress = await declared(service, DeclarationDesk(service.db, clock))
    assert progress.answer_url_usable(clock.now + timedelta(minutes=29))
    assert not progress.answer_url_usable(clock.now + timedelta(minutes=30))


async def test_an_abandoned_declaration_leaves_nothing(setting):
    service, clock = setting
    desk = DeclarationDesk(service.db, clock)
    progress = await declared(service, desk)
    await desk.choose_name(progress, "inc-20261126-checkout-down")
    await service.abandon(progress.incident_id)
    assert await desk.progress(progress.incident_id) is None
