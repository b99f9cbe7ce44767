"""An approved update is broadcast once and a draft is posted once, whatever dies when:
real bot processes, kill -9 while Slack holds the call, a restart or a second replica."""

import asyncio
import signal
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.simulator import SlackClient, wait_for
from bot.slack.flows.updates import BROADCAST_EVENT, DRAFT_EVENT
from bot.store import Database
from bot.store.models import Incident, StakeholderUpdate
from bot.store.types import utcnow
from tests.conftest import ALICE, SECRET, TEST_PLAYBOOK, bot_environment, write_settings_files
from tests.e2e.processes import let_time_pass, shared_database, start_bot, stop


async def environment(fake, tmp_path) -> tuple[dict, str]:
    broadcast = fake.add_channel("incident-updates")
    config = write_settings_files(tmp_path, {"broadcast_channel": broadcast}, [TEST_PLAYBOOK])
    return bot_environment(fake, config, await shared_database(tmp_path)), broadcast


def drafts_in(fake, room: dict) -> list[dict]:
    return [m for m in room["messages"] if "Stakeholder update draft" in m["text"]]


def updates_in(fake, broadcast: str) -> list[dict]:
    return [m for m in fake.messages(broadcast) if m["text"].startswith("📣")]


async def stored(database_url: str, model) -> list:
    db = Database(database_url)
    try:
        async with db.snapshot_read() as session:
            return list((await session.exec(select(model))).all())
    finally:
        await db.dispose()


async def leases_run_out(database_url: str) -> None:
    """As if the leases' 30 seconds had passed (the processes keep real time)."""
    past = utcnow() - timedelta(seconds=1)
    db = Database(database_url)
    async with db.transaction() as session:
        for lease in (StakeholderUpdate.post_lease_until, StakeholderUpdate.send_lease_until):
            await session.exec(
                update(StakeholderUpdate).where(col(lease).is_not(None)).values({lease: past})
            )
    await db.dispose()


def marked(event_type: str, update_id: int) -> dict:
    """The metadata the bot's post of update `update_id` carries."""
    return {"event_type": event_type, "event_payload": {"update_id": update_id}}


async def war_room(slack: SlackClient, fake, general: str) -> dict:
    await slack.command(ALICE, "declare SEV2 Payments down", general)
    room = await wait_for(lambda: fake.channel_named("inc-"), what="the war room")
    await wait_for(lambda: room["pins"], what="the card")
    return room


@pytest.mark.parametrize("slack_did_it", [False, True], ids=["never-got-through", "answer-lost"])
async def test_an_approved_update_is_sent_once_after_kill_minus_nine_before_the_broadcast(
    fake, tmp_path, slack_did_it
):
    general = fake.add_channel("general", [ALICE])
    env, broadcast = await environment(fake, tmp_path)
    process, url = await start_bot(env)
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            room = await war_room(slack, fake, general)
            await slack.command(ALICE, "update", room["id"])
            (draft,) = await wait_for(lambda: drafts_in(fake, room), what="the draft")
            hold = fake.hold(
                "chat.postMessage", channel=broadcast, metadata=marked(BROADCAST_EVENT, 1)
            )
            await slack.click(ALICE, room["id"], draft["ts"], "update_approve")  # the commander
            await asyncio.wait_for(
                hold.reached(), timeout=10
            )  # approved (status `sending`); the broadcast in flight
        process.send_signal(signal.SIGKILL)
        await process.wait()
        hold.release(perform=slack_did_it)
        await leases_run_out(env["DATABASE_URL"])

        process, url = await start_bot(env)
        (sent,) = await wait_for(lambda: sent_updates(env), timeout=10, what="the update sent")
        await let_time_pass(2)  # more ticks: nothing is sent twice
        (published,) = updates_in(fake, broadcast)
        assert sent.broadcast_ts == published["ts"]
        (incident,) = await stored(env["DATABASE_URL"], Incident)
        assert incident.next_update_due is not None  # the cadence goes on
        assert "Sent by" in fake.message(room["id"], draft["ts"])["text"]
    finally:
        await stop(process)


async def sent_updates(env: dict) -> list[StakeholderUpdate]:
    rows = await stored(env["DATABASE_URL"], StakeholderUpdate)
    return [u for u in rows if u.status == "sent"]


async def test_a_draft_posted_just_before_its_poster_died_is_recorded_once(fake, tmp_path):
    """Replica A posts a draft and is killed before recording it; replica B, once A's lease
    is out, finds it in the room by its metadata and records it instead of posting again."""
    general = fake.add_channel("general", [ALICE])
    env, _ = await environment(fake, tmp_path)
    first, first_url = await start_bot(env)
    second, _ = await start_bot(env)
    try:
        async with SlackClient(fake, first_url, SECRET) as slack:
            room = await war_room(slack, fake, general)
            hold = fake.hold("chat.postMessage", metadata=marked(DRAFT_EVENT, 1))
            await slack.command(ALICE, "update", room["id"])
            await asyncio.wait_for(hold.reached(), timeout=10)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        hold.release(perform=True)  # Slack posts it; nobody hears back
        (draft,) = await wait_for(lambda: drafts_in(fake, room), what="the draft in the room")
        await leases_run_out(env["DATABASE_URL"])

        async def recorded() -> str | None:
            (row,) = await stored(env["DATABASE_URL"], StakeholderUpdate)
            return row.message_ts

        assert await wait_for(recorded, timeout=10, what="the draft recorded") == draft["ts"]
        await let_time_pass(2)  # more ticks: still one draft
        assert len(drafts_in(fake, room)) == 1
    finally:
        await stop(first)
        await stop(second)
