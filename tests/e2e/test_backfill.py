"""A complete timeline after downtime: what was said in a war room while the bot was down
is filled from Slack's history when it starts again, once, and stays once when Slack's
events for it arrive too; filling never holds up live events."""

from __future__ import annotations

import json
import signal
import sys

import pytest
from sqlmodel import col, select

from bot.config import load_settings
from bot.server import start_on_loopback
from bot.simulator import SlackClient, message_event, wait_for
from bot.simulator.workspace import BOT_ID
from bot.store import Database
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
from tests.e2e.processes import start_bot, stop


async def said_in(db: Database) -> list[TimelineEntry]:
    async with db.snapshot_read() as session:
        query = select(TimelineEntry).where(TimelineEntry.kind == "message")
        return list((await session.exec(query.order_by(col(TimelineEntry.id)))).all())


def visible_texts(entries: list[TimelineEntry]) -> list[str]:
    return sorted(e.text for e in entries if not e.deleted)


class Downtime:
    """People talking while the bot is down: kept in the fake Slack, no event delivered;
    `events` are what Slack would have sent, to replay later."""

    def __init__(self, fake, room: str):
        self.fake, self.room, self.events = fake, room, []

    def say(self, user: str, text: str, thread_ts: str | None = None, **extra) -> str:
        ts = self.fake.workspace.say(self.room, user, text, thread_ts, **extra)
        event = message_event(self.room, user, text, ts)
        if thread_ts:
            event["thread_ts"] = thread_ts
        self.events.append(event)
        return ts

    def edit(self, ts: str, text: str) -> None:
        message = self.fake.message(self.room, ts)
        previous = dict(message)
        stamp = self.fake.workspace.edit(self.room, ts, text)
        self.events.append(
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": self.room,
                "hidden": True,
                "ts": stamp["ts"],
                "event_ts": stamp["ts"],
                "message": dict(message),
                "previous_message": previous,
            }
        )

    def delete(self, ts: str) -> None:
        self.fake.workspace.delete(self.room, ts)
        now = self.fake.workspace.next_ts()
        self.events.append(
            {
                "type": "message",
                "subtype": "message_deleted",
                "channel": self.room,
                "hidden": True,
                "ts": now,
                "event_ts": now,
                "deleted_ts": ts,
            }
        )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_what_was_said_while_the_bot_was_down_is_filled_once(fake, tmp_path, database_url):
    general = fake.add_channel("general", [ALICE, BOB, CAROL])
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])
    env = bot_environment(fake, config, database_url)
    db = Database(database_url)

    process, url = await start_bot(env)
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            await slack.command(ALICE, "declare SEV3 Checkout errors", general)
            room = await wait_for(lambda: fake.channel_named("inc-"), what="the war room")
            await wait_for(lambda: room["pins"], what="the card, pinned")
            await slack.say(ALICE, room["id"], "heard live before the crash")
        process.send_signal(signal.SIGKILL)
        await process.wait()

        down = Downtime(fake, room["id"])
        down.say(BOB, "error rate 40% since 14:02")
        question = down.say(CAROL, "what changed at 14:00?")
        down.say(BOB, "a config push", thread_ts=question)
        down.say(ALICE, "rolling it back", thread_ts=question)
        typo = down.say(BOB, "root cause: DNS")
        down.edit(typo, "root cause: expired certificate")
        oops = down.say(CAROL, "wrong room, sorry")
        down.delete(oops)
        down.say(BOB, "dashboard", files=["errors.png"])
        filled = [
            "a config push",
            "dashboard",
            "error rate 40% since 14:02",
            "rolling it back",
            "root cause: expired certificate",
            "what changed at 14:00?",
        ]
        everything = sorted(["heard live before the crash", *filled])

        process, url = await start_bot(env)

        async def complete():
            return visible_texts(await said_in(db)) == everything

        await wait_for(complete, timeout=20, what="the timeline filled from Slack's history")
        entries = await said_in(db)
        assert {e.text for e in entries if e.from_history} == set(filled)
        (reply,) = [e for e in entries if e.text == "rolling it back"]
        assert reply.thread_ts == question and reply.actor == ALICE
        (share,) = [e for e in entries if e.text == "dashboard"]
        assert share.files == ["errors.png"]
        assert not any(e.actor == BOT_ID for e in entries), "the bot's own posts are not said"

        # Slack's events for the same messages arrive after all: still one entry each.
        async with SlackClient(fake, url, SECRET) as slack:
            for event in down.events:
                assert (await slack.event(event)).status == 200
        entries_after = await said_in(db)
        assert visible_texts(entries_after) == everything
        assert len(entries_after) == len(entries) + 1  # the deleted message, kept hidden
    finally:
        await stop(process)
        await db.dispose()


async def test_a_live_event_is_stored_while_a_slow_backfill_runs(bot):
    room = await bot.declare("SEV3 Busy room")
    for n in range(450):  # three pages of history
        bot.fake.workspace.say(room["id"], BOB, f"missed {n}")
    # Slack answers slowly and allows one history call a minute: the fill takes minutes.
    bot.fake.latency = 0.2
    bot.fake.limit_rate("conversations.history", per_minute=1)
    await bot.runtime.backfill.start("test")
    await wait_for(
        lambda: bot.fake.calls_to("conversations.history"), what="the backfill under way"
    )

    live = await bot.slack.say(CAROL, room["id"], "said live during the backfill")  # acked 200

    async def stored():
        return any(e.message_ts == live for e in await said_in(bot.runtime.db))

    await wait_for(stored, timeout=5, what="the live message stored")
    assert bot.runtime.backfill.running, "the live event did not wait for the backfill"


async def test_rate_limited_reads_are_retried_after_slacks_retry_after(bot):
    room = await bot.declare("SEV3 Rate limited")
    said = [bot.fake.workspace.say(room["id"], BOB, f"missed {n}") for n in range(3)]
    bot.fake.fail("conversations.history", "ratelimited", status=429, retry_after=1)
    await bot.runtime.backfill.start("test")

    async def filled():
        return {e.message_ts for e in await said_in(bot.runtime.db)} == set(said)

    await wait_for(filled, timeout=10, what="the room filled after the 429")
    assert len(bot.fake.calls_to("conversations.history")) >= 2

    # The timeline view says which messages came from Slack's history.
    await bot.slack.command(ALICE, "timeline", room["id"])
    await bot.settled()
    page = json.dumps(bot.fake.responses[-1]["blocks"])
    assert "missed 0 _(filled from Slack's history)_" in page


async def test_a_room_slack_refuses_to_show_does_not_stop_the_others(bot, caplog):
    first = await bot.declare("SEV3 Archived room")
    second = await bot.declare("SEV3 Still talking")
    said = bot.fake.workspace.say(second["id"], BOB, "missed in the second room")
    bot.fake.workspace.say(first["id"], BOB, "missed in the first room")
    bot.fake.fail("conversations.history", "channel_not_found", channel=first["id"])
    caplog.set_level("INFO", logger="bot.slack.backfill")
    await bot.runtime.backfill.start("test")

    async def filled():
        return any(e.message_ts == said for e in await said_in(bot.runtime.db))

    await wait_for(filled, what="the second room filled")
    await wait_for(lambda: not bot.runtime.backfill.running, what="the fill to end")
    (summary,) = [
        r.getMessage() for r in caplog.records if "history backfill (test)" in r.getMessage()
    ]
    assert "1 messages filled in 1 of 2 open war rooms" in summary
    assert "incomplete: INC-1: read the channel's history: channel_not_found" in summary


def said_while_down(fake, channel: str, user: str, text: str, thread_ts: str | None = None):
    """A person posts while the bot is down: Slack keeps it; no event reaches the bot."""
    return fake.workspace.say(channel, user, text, thread_ts)


async def test_new_replies_in_a_known_thread_and_escaped_text_are_filled(
    fake, tmp_path, database_url
):
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
    back = said_while_down(fake, room["id"], CAROL, "Writes are back")

    runner, runtime, url = await start_on_loopback(settings)
    try:
        await wait_for(lambda: runtime.tasks.pending == 0, what="the backfill")
        entries = sorted(await said_in(runtime.db), key=lambda e: e.message_ts)
        assert [(e.text, e.thread_ts, e.from_history) for e in entries] == [
            ("Primary is unreachable", None, False),
            ("Promoting the replica", None, True),
            ("Replica promoted, p99 &gt; 2s", first, True),  # kept as Slack sends it
            ("Still failing?", live, True),
            ("Writes are back", None, True),
        ]
        # Slack retries an event the bot missed once it is back: still one entry.
        retried = message_event(room["id"], CAROL, "Writes are back", back)
        async with SlackClient(fake, url, SECRET) as slack:
            assert (await slack.event(retried)).status == 200
            await slack.command(ALICE, "timeline", room["id"])
            await wait_for(lambda: runtime.tasks.pending == 0, what="the timeline view")
        assert len(await said_in(runtime.db)) == 5
        view = json.dumps(fake.responses[-1])
        assert "filled from Slack's history" in view and "p99 &gt; 2s" in view
        # Starting again finds nothing new.
        assert (
            await runtime.backfill.fill_all("test", await runtime.deps.timeline.heard_up_to()) == 0
        )
    finally:
        await runner.cleanup()
