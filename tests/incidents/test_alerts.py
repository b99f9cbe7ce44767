"""Alert groups and alerts on a real database: firing, repeating, resolving, re-firing."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.incidents import IncidentService, InvalidRequest
from bot.incidents.alert_formats import from_alertmanager, from_generic
from bot.incidents.alerts import AlertDesk, AlreadyDeclared
from bot.incidents.entries import AlertChanged, payload
from bot.playbooks import load_playbooks
from bot.store import Database
from bot.store.models import Incident, TimelineEntry
from tests.alert_payloads import alert, notification

NOW = datetime(2026, 11, 25, 21, 5, tzinfo=UTC)


@pytest.fixture
async def desk(database_url):
    db = Database(database_url)
    await db.upgrade_schema()
    yield AlertDesk(db, lambda: NOW), IncidentService(db, load_playbooks(Path("playbooks")))
    await db.dispose()


async def test_first_delivery_makes_a_group_and_a_repeat_changes_nothing(desk):
    alerts, _ = desk
    body = notification([alert(instance="checkout-1"), alert(instance="checkout-2")])
    first = await alerts.receive(from_alertmanager(body))
    assert first.created and first.changed and not first.resolved_now
    again = await alerts.receive(from_alertmanager(body))
    assert (again.group_id, again.created, again.changed) == (first.group_id, False, False)
    view = await alerts.view(first.group_id)
    assert len(view.firing) == 2 and view.group.version == 2
    assert view.title == "HighErrorRate: Checkout error rate above 5%"
    assert view.impact == "Card payments fail for 35% of customers"
    assert view.severity("severity", {"critical": "SEV1"}) == "SEV1"
    assert view.severity("severity", {"warning": "SEV3"}) is None


async def test_alerts_join_resolve_and_fire_again(desk):
    alerts, _ = desk
    one = alert(instance="checkout-1")
    group = (await alerts.receive(from_alertmanager(notification([one])))).group_id
    two = alert(instance="checkout-2", starts_at="2026-11-25T21:02:00Z")
    joined = await alerts.receive(from_alertmanager(notification([one, two])))
    assert joined.changed and not joined.created
    resolved_one = alert(instance="checkout-1", status="resolved", ends_at="2026-11-25T21:10:00Z")
    partly = await alerts.receive(from_alertmanager(notification([resolved_one, two])))
    assert partly.changed and not partly.resolved_now
    resolved_two = two | {"status": "resolved", "endsAt": "2026-11-25T21:11:00Z"}
    done = await alerts.receive(from_alertmanager(notification([resolved_one, resolved_two])))
    assert done.resolved_now
    view = await alerts.view(group)
    assert view.group.status == "resolved" and view.firing == []
    assert view.group.resolved_at == datetime(2026, 11, 25, 21, 11, tzinfo=UTC)
    # A late retry of the first firing notification does not bring the alert back ...
    stale = await alerts.receive(from_alertmanager(notification([one])))
    assert not stale.changed and (await alerts.view(group)).group.status == "resolved"
    # ... but the same alert firing again later does.
    again = alert(instance="checkout-1", starts_at="2026-11-25T22:00:00Z")
    refired = await alerts.receive(from_alertmanager(notification([again])))
    assert refired.changed and (await alerts.view(group)).group.status == "firing"


async def test_declared_group_puts_its_alerts_in_the_timeline_and_follows_them(desk):
    alerts, service = desk
    group = (await alerts.receive(from_alertmanager(notification([alert()])))).group_id
    link = alerts.linking(group, exclusive=False)
    incident = await service.declare(title="Checkout errors", declared_by="UALICE0001", also=link)
    assert (await alerts.view(group)).group.incident_id == incident.id
    other = await service.declare(title="Twice", declared_by="UBOB000001", also=link)
    assert (await alerts.view(group)).group.incident_id == incident.id  # one incident per group
    with pytest.raises(AlreadyDeclared):  # auto_declare: refused whole, nothing declared
        await service.declare(
            title="Thrice", declared_by="UBOB000001", also=alerts.linking(group, exclusive=True)
        )
    async with alerts.db.snapshot_read() as session:
        declared = (await session.exec(select(Incident.id).order_by(Incident.id))).all()
    assert declared == [incident.id, other.id]
    resolved = alert(status="resolved", ends_at="2026-11-25T21:30:00Z")
    done = await alerts.receive(from_alertmanager(notification([resolved])))
    assert done.resolved_now and done.incident_id == incident.id
    assert await alerts.claim_resolution_notices() == [group]
    assert await alerts.claim_resolution_notices() == []  # claimed: leased to one teller
    await alerts.resolution_told(group)
    assert await alerts.claim_resolution_notices() == []  # told once
    async with alerts.db.snapshot_read() as session:
        entries = (
            await session.exec(
                select(TimelineEntry)
                .where(TimelineEntry.kind == "alert")
                .order_by(TimelineEntry.at, TimelineEntry.id)
            )
        ).all()
    assert [(payload(e).status, e.incident_id) for e in entries] == [
        ("firing", incident.id),
        ("resolved", incident.id),
    ]
    assert isinstance(payload(entries[0]), AlertChanged)
    assert entries[1].text == "Alert resolved: HighErrorRate: Checkout error rate above 5%"
    with pytest.raises(InvalidRequest):
        await alerts.dismiss(group, "UBOB000001", "noise")


async def test_first_post_is_claimed_once_and_shown_versions_only_go_up(desk):
    alerts, _ = desk
    group = (await alerts.receive(from_alertmanager(notification([alert()])))).group_id
    assert await alerts.unshown() == [group]
    assert await alerts.claim_first_post(group)
    assert not await alerts.claim_first_post(group)  # another replica holds the lease
    await alerts.shown(group, 2, "CALERTS", "1.000100")
    await alerts.shown(group, 1)  # a slower, older edit finishing late
    view = await alerts.view(group)
    assert (view.group.shown_version, view.group.triage_ts) == (2, "1.000100")
    assert await alerts.unshown() == []
    dismissed = await alerts.dismiss(group, "UBOB000001", " flapping probe ")
    assert dismissed.group.dismissed_reason == "flapping probe"
    assert await alerts.unshown() == [group]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"groupKey": "g", "status": "firing"}, "alerts: Field required"),
        (notification([alert(status="burning")]), "alerts.0.status: String should match"),
        (notification([alert()]) | {"version": "3"}, "version: '3' is not supported"),
        ([], "body: Input should be a valid dictionary"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(body, expected):
    with pytest.raises(InvalidRequest, match=expected):
        from_alertmanager(body)


async def test_generic_json_is_one_alert_and_repeats_change_nothing(desk):
    alerts, _ = desk
    body = {"key": "checkout-5xx", "title": "Checkout 5xx", "labels": {"severity": "critical"}}
    first = await alerts.receive(from_generic(body, NOW))
    later = datetime(2026, 11, 25, 21, 6, tzinfo=UTC)
    assert not (await alerts.receive(from_generic(body, later))).changed
    resolved = await alerts.receive(from_generic(body | {"status": "resolved"}, later))
    assert resolved.resolved_now and resolved.group_id == first.group_id
    with pytest.raises(InvalidRequest, match="title: Field required"):
        from_generic({"key": "x"}, NOW)
