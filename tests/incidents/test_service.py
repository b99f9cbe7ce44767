"""The domain on its own: no Slack, a real database."""

from pathlib import Path

import pytest

from bot.incidents import IncidentService, InvalidRequest, NotFound
from bot.incidents.lessons import Lessons
from bot.playbooks import load_playbooks
from bot.store import Database


@pytest.fixture
async def service(database_url):
    db = Database(database_url)
    await db.upgrade_schema()
    yield IncidentService(db, load_playbooks(Path("playbooks")))
    await db.dispose()


async def review_done(service, incident: int) -> None:
    """What closing waits for: the review written, and SEV1's problem record."""
    lessons = Lessons(service)
    sections = (await service.get(incident)).playbook.review.sections
    await lessons.save_review(incident, {name: "written" for name in sections}, by="UALICE0001")
    await lessons.set_problem(incident, "PRB-1", by="UALICE0001")


async def declared(service, **overrides):
    args = {"title": "Checkout down", "declared_by": "UALICE0001", "severity": "SEV1"} | overrides
    return await service.declare(**args)


async def test_declare_makes_the_declarer_commander(service):
    snapshot = await declared(service)
    assert snapshot.roles == {"commander": "UALICE0001", "comms": None, "tech": None}
    assert snapshot.major and snapshot.incident.status == "investigating"


async def test_declare_validates_input(service):
    with pytest.raises(InvalidRequest, match="needs a title"):
        await declared(service, title="   ")
    with pytest.raises(InvalidRequest, match="under 150 characters"):
        await declared(service, title="x" * 151)
    with pytest.raises(InvalidRequest, match="Use one of SEV1, SEV2, SEV3, SEV4"):
        await declared(service, severity="SEV7")
    with pytest.raises(InvalidRequest, match="Playbooks: default, security-breach"):
        await declared(service, playbook="nope")


async def test_playbook_sets_privacy_and_default_severity(service):
    breach = await service.declare(
        title="Leaked keys", declared_by="U1", playbook="security-breach"
    )
    assert breach.incident.private and breach.incident.severity == "SEV1"
    assert "legal" in breach.roles


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["identified", "monitoring", "resolved", "closed"], True),
        (["resolved", "investigating", "resolved", "closed"], True),
        (["monitoring", "identified", "investigating"], True),
        (["closed"], False),
        (["resolved", "closed", "investigating"], False),
    ],
)
async def test_transitions(service, path, allowed):
    incident = (await declared(service)).id
    try:
        for status in path:
            if status == "closed":
                await review_done(service, incident)
                await service.close(incident, by="UALICE0001")
            else:
                await service.set_status(incident, status, by="UALICE0001")
    except InvalidRequest:
        assert not allowed
    else:
        assert allowed


async def test_one_holder_per_role_and_history_kept(service):
    incident = (await declared(service)).id
    await service.assign(incident, "cl", "UBOB000001", by="UALICE0001")
    change = await service.assign(incident, "comms", "UCAROL0001", by="UALICE0001")
    assert change.snapshot.roles["comms"] == "UCAROL0001"
    assert change.entry.data == {"role": "comms", "from": "UBOB000001", "to": "UCAROL0001"}


async def test_change_knows_whether_stakeholders_care(service):
    incident = (await declared(service, severity="SEV3")).id
    assert not (
        await service.set_status(incident, "identified", by="UALICE0001")
    ).concerns_stakeholders
    up = await service.set_severity(incident, "SEV2", by="UALICE0001")
    assert up.concerns_stakeholders and not up.was_major and up.snapshot.major
    down = await service.set_severity(incident, "SEV4", by="UALICE0001")
    assert down.concerns_stakeholders and down.was_major and not down.snapshot.major


async def test_unknown_incident(service):
    with pytest.raises(NotFound):
        await service.get(404)


async def test_abandon_forgets_a_declaration(service):
    incident = (await declared(service)).id
    await service.abandon(incident)
    with pytest.raises(NotFound):
        await service.get(incident)
