"""A complete timeline after downtime: stop the bot, say things in the room, start it."""

import json

from sqlmodel import col, select

from bot.config import load_settings
from bot.incidents.entries import recovered
from bot.server import start_on_loopback
from bot.simulator import BOT_ID, BOT_USER, SlackClient, message_event, wait_for
from bot.store.models import TimelineEntry
from tests.conftest import (
    ALICE,
    BOB,
    CAROL,
    SECRET,
    TEST_PLAYBOOK,
    bot_environment,
    write_settings_files,
)


async def said(runtime) -> list[TimelineEntry]:
    async with runtime.db.transaction() as session:
        query = select(TimelineEntry).where(TimelineEntry.kind == "message")
        return list((await session.exec(query.order_by(col(TimelineEntry.at)))).all())


def said_while_down(fake, channel: str, user: str, text: str, thread_ts: str | None = None):
    """A person posts while the bot is down: Slack keeps it; no event reaches the bot."""
    ts = fake.workspace.next_ts()
    message = message_event(channel, user, text, ts) | (
        {"thread_ts": thread_ts} if thread_ts else {}
    )
    fake.workspace.add_message(channel, message)
    return ts


async def test_what_was_said_while_the_bot_was_down_is_there_once(fake, tmp_path, database_url):
    general = fake.add_channel("general", [ALICE, BOB, CAROL])
    config = write_settings_files(tmp_path, {"broadcast_channel": general}, [TEST_PLAYBOOK])
    settings = load_settings(bot_environment(fake, config, database_url))
    runner, runtime, url = await start_on_loopback(settings)
    async with SlackClient(fake, url, SECRET) as slack:
        await slack.command(ALICE, "declare SEV2 Database failover", general)
        room = await wait_for(lambda: fake.channel_named("inc-"), what="the war room")
        await wait_for(lambda: runtime.tasks.pending == 0, what="the declaration")
        live = await slack.say(BOB, room["id"], "Primary is unreachable")
    await runner.cleanup()  # a bad deploy: the bot is down

    first = said_while_down(fake, room["id"], CAROL, "Promoting the replica")
    said_while_down(fake, room["id"], BOB, "Replica promoted, p99 &gt; 2s", thread_ts=first)
    said_while_down(fake, room["id"], ALICE, "Still failing?", thread_ts=live)  # an old thread
    said_while_down(fake, room["id"], CAROL, "Writes are back")

    runner, runtime, url = await start_on_loopback(settings)
    try:
        await wait_for(lambda: runtime.tasks.pending == 0, what="the backfill")
        entries = await said(runtime)
        assert [(e.text, e.thread_ts, recovered(e)) for e in entries] == [
            ("Primary is unreachable", None, False),
            ("Promoting the replica", None, True),
            ("Replica promoted, p99 &gt; 2s", first, True),
            ("Still failing?", live, True),
            ("Writes are back", None, True),
        ]
        # Slack retries an event the bot missed once it is back: still one entry.
        (retried,) = [m for m in fake.messages(room["id"]) if m.get("text") == "Writes are back"]
        async with SlackClient(fake, url, SECRET) as slack:
            assert (await slack.event(retried)).status == 200
            await slack.command(ALICE, "timeline", room["id"])
            await wait_for(lambda: runtime.tasks.pending == 0, what="the timeline view")
        assert len(await said(runtime)) == 5
        assert "from history" in json.dumps(fake.responses[-1])
        # Starting again finds nothing new.
        assert await runtime.backfill.run() == 0
        # A gap is where the bot stopped hearing: a live message arriving before the
        # backfill reaches the room does not hide what was missed before it.
        missed = said_while_down(fake, room["id"], BOB, "missed in a blip")
        until = fake.workspace.next_ts()  # the bot listens again
        async with SlackClient(fake, url, SECRET) as slack:
            await slack.say(CAROL, room["id"], "heard live right after")
        incident = await runtime.service.find_by_channel(room["id"])
        ours = frozenset({BOT_ID, BOT_USER})
        assert await runtime.backfill.fill(incident.incident, ours, until) == 1
        assert missed in {e.message_ts for e in await said(runtime)}
    finally:
        await runner.cleanup()
