"""Home tab refreshes are bounded: one per viewer for a burst of changes, only for the
people a change concerns, and the last ones still go out at shutdown."""

import logging
from pathlib import Path

import pytest

from bot.background import BackgroundTasks
from bot.incidents import IncidentService
from bot.incidents.updates import UpdateDesk
from bot.playbooks import load_playbooks
from bot.simulator import FakeSlack, wait_for
from bot.slack.flows.home import HomeTabs
from bot.slack.gateway import SlackGateway, make_client
from bot.slack.viewers import Viewers
from bot.store import Database

ALICE, BOB, CAROL, DAVE = "UALICE0001", "UBOB000001", "UCAROL0001", "UDAVE00001"


@pytest.fixture
async def fake():
    slack = await FakeSlack().start()
    for user in (ALICE, BOB, CAROL, DAVE):
        slack.add_user(user, user.lower())
    yield slack
    await slack.stop()


@pytest.fixture
async def homes(fake, database_url):
    db = Database(database_url)
    await db.upgrade_schema()
    service = IncidentService(db, load_playbooks(Path("playbooks")))
    gateway = SlackGateway(make_client("xoxb-test", fake.api_url))
    await gateway.open()
    tasks = BackgroundTasks()
    yield HomeTabs(service, UpdateDesk(db, service), gateway, tasks, Viewers(gateway), delay=0.05)
    await tasks.drain()
    await gateway.close()
    await db.dispose()


async def incident(homes: HomeTabs, commander: str, comms: str | None = None):
    snapshot = await homes.service.declare(title="Checkout down", declared_by=commander)
    await homes.service.attach_channel(snapshot.id, f"CROOM{snapshot.id}", "inc")
    if comms:
        await homes.service.assign(snapshot.id, "comms", comms, by=commander)
    return await homes.service.get(snapshot.id)


def published(fake) -> list[str]:
    return [call["user_id"] for call in fake.calls_to("views.publish")]


async def settled(homes: HomeTabs) -> None:
    await wait_for(
        lambda: not homes.refresh_scheduled and homes.tasks.pending == 0, what="refreshes"
    )


async def test_a_burst_of_changes_is_one_refresh_per_role_holder(homes, fake):
    snapshot = await incident(homes, ALICE, comms=BOB)
    for _ in range(20):
        homes.changed(snapshot)
    await settled(homes)
    assert sorted(published(fake)) == [ALICE, BOB]
    assert "Checkout down" in str(fake.home_views[BOB]["blocks"])


async def test_recent_viewers_see_every_change_and_nobody_else_is_refreshed(homes, fake):
    await homes.opened(CAROL)
    snapshot = await incident(homes, ALICE)
    homes.changed(snapshot, BOB)  # BOB just handed a role over
    await settled(homes)
    assert sorted(published(fake)) == [ALICE, BOB, CAROL, CAROL]
    assert "Checkout down" in str(fake.home_views[CAROL]["blocks"])
    assert DAVE not in fake.home_views


async def test_stopping_sends_what_is_waiting_then_refreshes_no_more(homes, fake):
    homes.delay = 60  # a refresh that would otherwise wait a minute
    snapshot = await incident(homes, ALICE)
    homes.changed(snapshot)
    homes.stop()
    await settled(homes)
    assert published(fake) == [ALICE]
    homes.changed(snapshot)
    assert not homes.refresh_scheduled


async def test_a_refused_publish_is_logged_in_one_line(homes, fake, caplog):
    fake.fail("views.publish", "invalid_arguments")
    with caplog.at_level(logging.WARNING):
        await homes.opened(ALICE)
    assert "could not show the Home tab of UALICE0001" in caplog.text
    assert "Traceback" not in caplog.text
