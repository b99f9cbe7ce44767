"""Alert intake's crash windows and replicas, with real processes (`python -m bot`), kill -9
and one database: a new group's auto_declare, the war room told its alerts resolved, the
duty manager paged when an incident is raised to major, and one pace per alerts channel.

Where a test must stop the bot between two writes, it holds the second one with a table
lock (PostgreSQL only) or holds a Slack call in the fake, and kills the bot meanwhile.
"""

import asyncio
import contextlib
import copy
import os
import signal

import aiohttp
import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.simulator import SlackClient, wait_for
from bot.store import Database
from bot.store.models import AlertGroup, Incident, Page
from tests.alert_payloads import alert, notification
from tests.conftest import (
    ALICE,
    ONCALL,
    SECRET,
    TEST_PLAYBOOK,
    bot_environment,
    write_settings_files,
)
from tests.e2e.processes import let_time_pass, shared_database, start_bot, stop

TOKEN = "alerts-secret-token"
RESOLVED_NOTICE = "The alerts behind this incident resolved"
needs_postgresql = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="a table lock needs PostgreSQL"
)


async def environment(fake, tmp_path, auto_declare: bool = True) -> tuple[dict, str]:
    playbook = copy.deepcopy(TEST_PLAYBOOK)
    playbook["severities"]["SEV1"]["invite"] = []
    playbook["severities"]["SEV1"]["auto_declare"] = auto_declare
    alerts_channel = fake.add_channel("alerts")
    config = {
        "alerts_channel": alerts_channel,
        "alert_severity_map": {"critical": "SEV1"},
        "response_team": [ONCALL],
    }
    config_path = write_settings_files(tmp_path, config, [playbook])
    env = bot_environment(fake, config_path, await shared_database(tmp_path))
    return env | {"ALERTS_TOKEN": TOKEN}, alerts_channel


async def deliver(url: str, body: dict) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/alerts/alertmanager", json=body, headers=headers) as response,
    ):
        assert response.status == 200


@pytest.fixture
async def stored(fake, tmp_path):
    """`await stored(database_url, query)`: the rows the bots stored (one reader a test)."""
    readers: dict[str, Database] = {}

    async def read(database_url: str, query) -> list:
        db = readers.setdefault(database_url, Database(database_url))
        async with db.snapshot_read() as session:
            return list((await session.exec(query)).all())

    yield read
    for db in readers.values():
        await db.dispose()


@contextlib.asynccontextmanager
async def table_locked(database_url: str, table: str):
    """Writes to `table` wait (reads go on) until the block ends: the bot stops there."""
    db = Database(database_url)
    try:
        async with db.engine.connect() as connection, connection.begin() as locking:
            await connection.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))
            yield
            await locking.rollback()
    finally:
        await db.dispose()


def war_rooms(fake) -> list[dict]:
    return [c for c in fake.channels.values() if c["name"].startswith("inc-")]


def said(fake, channel: str, words: str) -> list[dict]:
    return [m for m in fake.messages(channel) if words in m["text"]]


def pages_to(fake, user: str) -> list[dict]:
    dm = fake.channel_named(f"dm-{user}")
    return [m for m in dm["messages"] if "You are paged" in m["text"]] if dm else []


async def kill(process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


@needs_postgresql
async def test_a_group_stored_but_not_declared_at_kill_minus_nine_is_declared_once_after(
    fake, tmp_path, stored
):
    env, _ = await environment(fake, tmp_path)
    database_url = env["DATABASE_URL"]
    process, url = await start_bot(env)
    try:
        async with table_locked(database_url, "incident"):
            await deliver(url, notification([alert()]))
            # The group is stored and its auto_declare claimed; declaring waits on the lock.
            leases = select(AlertGroup.declare_lease_until)

            async def claimed() -> bool:
                return any(await stored(database_url, leases))

            await wait_for(claimed, what="the auto_declare claimed")
            await kill(process)
        assert await stored(database_url, select(Incident.id)) == []

        process, url = await start_bot(env)
        await wait_for(lambda: war_rooms(fake), timeout=30, what="the war room after the restart")
        await let_time_pass(2)  # more ticks: nothing is declared twice
        (incident,) = await stored(database_url, select(Incident))
        (group,) = await stored(database_url, select(AlertGroup))
        assert group.incident_id == incident.id and not group.auto_declare_pending
        assert incident.severity == "SEV1" and len(war_rooms(fake)) == 1
    finally:
        await stop(process)


async def test_two_replicas_auto_declare_each_group_once(fake, tmp_path, stored):
    env, _ = await environment(fake, tmp_path)
    first, first_url = await start_bot(env)
    second, second_url = await start_bot(env)
    try:
        bodies = [notification([alert(f"Fire{n}")], alertname=f"Fire{n}") for n in range(3)]
        await asyncio.gather(
            *(deliver(u, copy.deepcopy(b)) for b in bodies for u in (first_url, second_url))
        )
        await wait_for(lambda: len(war_rooms(fake)) == 3, timeout=30, what="three war rooms")
        await let_time_pass(3)  # both replicas tick: no group is declared twice
        incidents = await stored(env["DATABASE_URL"], select(Incident.id))
        linked = await stored(env["DATABASE_URL"], select(AlertGroup.incident_id))
        assert len(incidents) == 3 and sorted(linked) == sorted(incidents)
        assert len(war_rooms(fake)) == 3
    finally:
        await stop(first)
        await stop(second)


async def declared_and_settled(fake, url: str) -> dict:
    """An auto-declared incident, its room furnished and its duty manager paged."""
    await deliver(url, notification([alert()]))
    room = await wait_for(lambda: fake.channel_named("inc-"), timeout=20, what="a war room")
    await wait_for(lambda: said(fake, room["id"], "Declared from alerts"), what="alerts linked")
    await wait_for(lambda: pages_to(fake, ONCALL), what="the duty manager paged")
    return room


@pytest.mark.parametrize("performed", [True, False], ids=["posted", "not-posted"])
async def test_the_war_room_hears_once_that_its_alerts_resolved_across_kill_minus_nine(
    fake, tmp_path, performed, stored
):
    """Killed while Slack was posting the notice: posted (and recognised after the restart
    by its metadata) or not (and posted after the restart), the room hears it once."""
    env, _ = await environment(fake, tmp_path)
    process, url = await start_bot(env)
    try:
        room = await declared_and_settled(fake, url)
        held = fake.hold("chat.postMessage", channel=room["id"])
        resolved = alert(status="resolved", ends_at="2026-11-25T21:30:00Z")
        await deliver(url, notification([resolved]))
        await asyncio.wait_for(held.reached(), timeout=10)
        await kill(process)
        held.release(perform=performed)

        process, url = await start_bot(env)
        told = select(AlertGroup.resolution_told)

        async def recorded() -> bool:
            return await stored(env["DATABASE_URL"], told) == [True]

        await wait_for(recorded, timeout=30, what="the notice recorded after the restart")
        await wait_for(
            lambda: said(fake, room["id"], RESOLVED_NOTICE), timeout=30, what="the notice"
        )
        await let_time_pass(2)
        assert len(said(fake, room["id"], RESOLVED_NOTICE)) == 1
    finally:
        await stop(process)


@needs_postgresql
async def test_raised_to_major_then_killed_before_paging_pages_after_restart(
    fake, tmp_path, stored
):
    env, _ = await environment(fake, tmp_path, auto_declare=False)
    general = fake.add_channel("general", [ALICE])
    database_url = env["DATABASE_URL"]
    process, url = await start_bot(env)
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            await slack.command(ALICE, "declare SEV3 Search is slow", general)
            room = await wait_for(lambda: fake.channel_named("inc-"), what="the war room")
            await wait_for(lambda: room["pins"], what="the card pinned")
            async with table_locked(database_url, "page"):
                await slack.command(ALICE, "severity SEV1", room["id"])

                async def raised() -> bool:
                    return await stored(database_url, select(Incident.severity)) == ["SEV1"]

                await wait_for(raised, what="the severity raised")
                await kill(process)
        assert await stored(database_url, select(Page.id)) == [] and pages_to(fake, ONCALL) == []

        process, url = await start_bot(env)
        await wait_for(lambda: pages_to(fake, ONCALL), timeout=20, what="the page after restart")
        await let_time_pass(2)  # more ticks: paged once
        assert len(pages_to(fake, ONCALL)) == 1
        assert len(await stored(database_url, select(Page.id))) == 1
    finally:
        await stop(process)


async def test_two_replicas_keep_one_pace_for_the_alerts_channel(fake, tmp_path):
    """Each replica writes at most once a second to a channel; together, too."""
    env, alerts_channel = await environment(fake, tmp_path, auto_declare=False)
    first, first_url = await start_bot(env)
    second, second_url = await start_bot(env)
    try:
        groups = 6
        await asyncio.gather(
            *(
                deliver(
                    (first_url, second_url)[n % 2],
                    notification([alert(f"Pace{n}")], alertname=f"Pace{n}"),
                )
                for n in range(groups)
            )
        )
        await wait_for(
            lambda: len(fake.messages(alerts_channel)) == groups,
            timeout=30,
            what="a triage message per group",
        )
        writes = [
            c
            for c in fake.calls
            if c.method in ("chat.postMessage", "chat.update")
            and c.params.get("channel") == alerts_channel
        ]
        # One write a second across both replicas: (n - 1) intervals at least, not half that.
        assert writes[-1].at - writes[0].at >= (len(writes) - 1) * 0.9
    finally:
        await stop(first)
        await stop(second)
