"""Resolve and reopen in quick succession, concurrently, or on two replicas: the update plan
always matches the state the incident ends in (an active major incident has a next update
time; a resolved one has one final draft waiting), and no retired draft keeps live buttons."""

import asyncio
import time
from contextlib import AsyncExitStack

from sqlmodel import select

from bot.simulator import SlackClient, wait_for
from bot.store import Database
from bot.store.models import Incident, StakeholderUpdate
from tests.conftest import ALICE, BOB, SECRET, TEST_PLAYBOOK, bot_environment, write_settings_files
from tests.e2e.processes import shared_database, start_bot, stop

ACTIVE = ("investigating", "identified", "monitoring")


def quiet(fake, seconds: float = 1.0) -> bool:
    """No Web API call for `seconds`: the processes' work after their acks is over (an
    observation window; the processes cannot be asked directly)."""
    return bool(fake.calls) and time.monotonic() - fake.calls[-1].at >= seconds


async def status_of(db: Database, room_id: str, status: str) -> bool:
    async with db.snapshot_read() as session:
        found = await session.exec(select(Incident.status).where(Incident.channel_id == room_id))
        return found.first() == status


def live_drafts(fake, room_id: str) -> set[str]:
    """Messages in the room still offering Approve."""
    return {
        m["ts"]
        for m in fake.messages(room_id)
        if any(
            e.get("action_id") == "update_approve"
            for b in m.get("blocks", [])
            if b["type"] == "actions"
            for e in b["elements"]
        )
    }


async def assert_plan_matches_state(db: Database, fake, room_id: str) -> str:
    async with db.snapshot_read() as session:
        incident = (
            await session.exec(select(Incident).where(Incident.channel_id == room_id))
        ).one()
        drafts = (
            await session.exec(
                select(StakeholderUpdate).where(StakeholderUpdate.incident_id == incident.id)
            )
        ).all()
    waiting = [d for d in drafts if d.status == "draft"]
    if incident.status in ACTIVE:
        assert incident.next_update_due is not None, "an active major incident with no next update"
        assert not [d for d in waiting if d.final], "a final draft waiting in an active incident"
    else:
        assert incident.status == "resolved" and incident.next_update_due is None
        assert [d.final for d in waiting] == [True], "a resolved incident has one final draft"
    assert live_drafts(fake, room_id) == {d.message_ts for d in waiting if d.message_ts}
    return incident.status


async def test_a_reopen_while_the_resolution_is_still_being_published(bot):
    room = await bot.declare("SEV2 Checkout errors")
    await bot.slack.command(ALICE, f"assign comms <@{BOB}>", room["id"])
    await bot.settled()
    bot.fake.latency = 0.2  # Slack is slow: the resolution's posts are still going out

    async def resolved() -> bool:
        async with bot.runtime.db.snapshot_read() as session:
            return (await session.exec(select(Incident))).one().status == "resolved"

    await bot.slack.command(ALICE, "resolve Rolled back", room["id"])
    await wait_for(resolved, what="the resolution to be stored")
    await bot.slack.command(BOB, "status investigating It is back", room["id"])
    await bot.settled()
    assert await assert_plan_matches_state(bot.runtime.db, bot.fake, room["id"]) == "investigating"
    final = [m for m in bot.fake.messages(room["id"]) if "Final stakeholder update" in m["text"]]
    assert final == [] or "was reopened" in bot.fake.message(room["id"], final[0]["ts"])["text"]


async def test_resolve_and_reopen_sent_at_once_leave_a_consistent_plan(bot):
    room = await bot.declare("SEV2 Flapping checkout")
    await bot.slack.command(ALICE, f"assign comms <@{BOB}>", room["id"])
    await bot.settled()
    bot.fake.latency = 0.05
    endings = set()
    for round_ in range(4):
        # Two people at once: one resolves, the other moves it on (reopening it if the
        # resolution landed first). Either order is fine; a mixed plan is not.
        await asyncio.gather(
            bot.slack.command(ALICE, f"resolve round {round_}", room["id"]),
            bot.slack.command(BOB, "status identified", room["id"]),
        )
        await bot.settled()
        endings.add(await assert_plan_matches_state(bot.runtime.db, bot.fake, room["id"]))
        if endings == {"identified"} or round_ % 2:
            await bot.slack.command(ALICE, "status investigating", room["id"])
            await bot.settled()
    assert endings <= {"resolved", "identified"}


async def test_two_replicas_resolving_and_reopening_at_once(fake, tmp_path):
    """Each request goes to a different process on one database (PostgreSQL when
    TEST_DATABASE_URL is set): the row lock orders them, and the plan follows the last."""
    general = fake.add_channel("general", [ALICE, BOB])
    broadcast = fake.add_channel("incident-updates")
    config = write_settings_files(tmp_path, {"broadcast_channel": broadcast}, [TEST_PLAYBOOK])
    database_url = await shared_database(tmp_path)
    env = bot_environment(fake, config, database_url)
    replicas = [await start_bot(env) for _ in range(2)]
    db = Database(database_url)
    try:
        async with AsyncExitStack() as clients:
            a, b = [
                await clients.enter_async_context(SlackClient(fake, url, SECRET))
                for _, url in replicas
            ]
            await a.command(ALICE, "declare SEV2 Replicated flapping", general)
            room = await wait_for(lambda: fake.channel_named("inc-"), what="the war room")
            await wait_for(lambda: room["pins"], what="the card, once the room is the incident's")
            await a.command(ALICE, f"assign comms <@{BOB}>", room["id"])
            fake.latency = 0.1  # the resolution's posts are still going out when B reopens
            for round_ in range(3):
                await a.command(ALICE, f"resolve round {round_}", room["id"])
                await wait_for(lambda: status_of(db, room["id"], "resolved"), what="resolved")
                await asyncio.gather(
                    b.command(BOB, "status investigating", room["id"]),
                    a.command(ALICE, "status identified", room["id"]),
                )
                await wait_for(lambda: quiet(fake), timeout=30, what="both replicas to finish")
                assert await assert_plan_matches_state(db, fake, room["id"]) in ACTIVE
    finally:
        await db.dispose()
        for process, _ in replicas:
            await stop(process)
