"""An event answered 200 is already stored: kill -9 the bot mid-stream and nothing acknowledged
is lost; Slack's retries of the rest are then stored exactly once."""

import asyncio
import signal
import sys

import aiohttp
import pytest
from sqlmodel import select

from bot.simulator import SlackClient, message_event, wait_for
from bot.store import Database
from bot.store.models import TimelineEntry
from tests.conftest import ALICE, BOB, SECRET, TEST_PLAYBOOK, bot_environment, write_settings_files
from tests.e2e.processes import start_bot


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_kill_minus_nine_loses_nothing_acknowledged(fake, tmp_path):
    general = fake.add_channel("general", [ALICE, BOB])
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])
    database_url = f"sqlite+aiosqlite:///{tmp_path}/durable.db"
    env = bot_environment(fake, config, database_url)

    process, url = await start_bot(env)
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            await slack.command(ALICE, "declare SEV3 Durable", general)
            room = await wait_for(lambda: fake.channel_named("inc-"), what="the war room")
            await wait_for(lambda: room["messages"], what="the card")

            events = [
                message_event(room["id"], BOB, f"message {n}", f"1800000000.{n:06d}")
                for n in range(300)
            ]
            acknowledged: set[int] = set()

            async def deliver(n: int) -> None:
                try:
                    response = await slack.event(events[n], event_id=f"EvDURABLE{n:04d}")
                except aiohttp.ClientError:
                    return  # the process died before answering: Slack will retry
                if response.status == 200:
                    acknowledged.add(n)

            deliveries = [asyncio.create_task(deliver(n)) for n in range(300)]
            await wait_for(
                lambda: len(acknowledged) >= 100, timeout=20, what="some acknowledgements"
            )
            process.send_signal(signal.SIGKILL)  # no shutdown, no flush: the process just stops
            await process.wait()
            await asyncio.gather(*deliveries)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    db = Database(database_url)
    async with db.transaction() as session:
        stored = {
            e.text for e in (await session.exec(select(TimelineEntry))).all() if e.kind == "message"
        }
    await db.dispose()
    assert {f"message {n}" for n in acknowledged} <= stored
    assert len(acknowledged) < 300  # the kill really landed mid-stream

    # Slack retries what was not acknowledged; a restarted bot stores each exactly once.
    process, url = await start_bot(env)
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            for n in range(300):
                response = await slack.event(events[n], event_id=f"EvDURABLE{n:04d}", retry=1)
                assert response.status == 200
    finally:
        process.terminate()
        await process.wait()
    db = Database(database_url)
    async with db.transaction() as session:
        texts = [
            e.text for e in (await session.exec(select(TimelineEntry))).all() if e.kind == "message"
        ]
    await db.dispose()
    assert sorted(texts) == sorted(f"message {n}" for n in range(300))


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
async def test_sigterm_finishes_acknowledged_work_before_exiting(fake, tmp_path):
    """A deploy stops the bot with SIGTERM right after it acknowledged a declaration."""
    general = fake.add_channel("general", [ALICE, BOB])
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])
    env = bot_environment(fake, config, f"sqlite+aiosqlite:///{tmp_path}/deploy.db")
    process, url = await start_bot(env)
    fake.latency = 0.2  # every Slack call takes a while: the declaration is mid-way
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            await slack.command(ALICE, "declare SEV3 Deploy during an incident", general)
            await wait_for(lambda: fake.calls_to("conversations.create"), what="the declaration")
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    room = fake.channel_named("inc-")
    assert room["pins"], "the card was posted and pinned before the process exited"
    assert any("Declared INC-1" in answer["text"] for answer in fake.responses)
