"""Every shape of message event Slack sends into a war room: tombstones, reply notices,
edits of messages never seen, events with fields missing, bots, Enterprise Grid."""

import asyncio

from bot.simulator import SlackClient, message_event
from bot.store.models import TimelineEntry
from tests.conftest import ALICE, BOB, CAROL, SECRET
from tests.e2e.test_timeline import messages


async def said(bot, include_deleted=False) -> list[TimelineEntry]:
    return await messages(bot, include_deleted=include_deleted)


async def test_deleting_a_thread_parent_leaves_a_tombstone_that_hides_the_entry(bot):
    room = await bot.declare("SEV2 Tombstone")
    parent = await bot.slack.say(BOB, room["id"], "Is it the CDN?")
    await bot.slack.say(CAROL, room["id"], "No, origin is slow", thread_ts=parent)
    assert (await bot.slack.delete(room["id"], parent)).status == 200
    assert bot.fake.message(room["id"], parent)["subtype"] == "tombstone"  # as Slack keeps it
    assert [e.text for e in await said(bot)] == ["No, origin is slow"]
    (hidden,) = [e for e in await said(bot, include_deleted=True) if e.deleted]
    assert (hidden.text, hidden.actor) == ("Is it the CDN?", BOB)  # kept for audit, unedited


async def test_a_plain_delete_hides_the_entry(bot):
    room = await bot.declare("SEV2 Delete")
    ts = await bot.slack.say(BOB, room["id"], "wrong channel, sorry")
    assert (await bot.slack.delete(room["id"], ts)).status == 200
    assert await said(bot) == [] and len(await said(bot, include_deleted=True)) == 1


async def test_reply_notices_with_or_without_subtype_are_not_entries(bot):
    room = await bot.declare("SEV2 Replies")
    parent = await bot.slack.say(BOB, room["id"], "Status?")
    await bot.slack.say(CAROL, room["id"], "Mitigated", thread_ts=parent)  # + the notice
    notice = {
        "type": "message",
        "subtype": "message_replied",
        "hidden": True,
        "channel": room["id"],
        "event_ts": bot.fake.workspace.next_ts(),
        "message": {"type": "message", "user": BOB, "text": "Status?", "ts": parent},
    }
    assert (await bot.slack.event(notice)).status == 200
    assert [(e.text, e.thread_ts) for e in await said(bot)] == [
        ("Status?", None),
        ("Mitigated", parent),
    ]


async def test_an_edit_of_a_message_never_seen_keeps_its_thread_and_files(bot):
    room = await bot.declare("SEV2 Unseen edit")
    event = bot.slack.edit_event(BOB, room["id"], "1700000000.000300", "graph, annotated")
    event["message"] |= {
        "thread_ts": "1700000000.000100",
        "files": [{"id": "F1", "name": "p99.png"}],
    }
    assert (await bot.slack.event(event)).status == 200
    (entry,) = await said(bot)
    assert (entry.text, entry.thread_ts, entry.files) == (
        "graph, annotated",
        "1700000000.000100",
        ["p99.png"],
    )


async def test_events_with_fields_missing_store_what_they_can_and_answer_200(bot):
    room = await bot.declare("SEV2 Partial")
    ts = await bot.slack.say(BOB, room["id"], "first words")
    now = bot.fake.workspace.next_ts()
    partial = [
        {"type": "message", "subtype": "message_changed", "channel": room["id"], "ts": now},
        {"type": "message", "subtype": "message_changed", "channel": room["id"], "message": {}},
        {"type": "message", "subtype": "message_changed", "channel": room["id"],
         "message": {"ts": ts, "user": BOB}},  # no text: the words stay
        {"type": "message", "subtype": "message_deleted", "channel": room["id"], "ts": now},
        {"type": "message", "channel": room["id"], "user": BOB, "text": None, "ts": now},
        {"type": "message", "channel": room["id"], "user": BOB, "text": "no ts"},
    ]  # fmt: skip
    for event in partial:
        assert (await bot.slack.event(event)).status == 200, event
    assert [e.text for e in await said(bot)] == ["first words"]


async def test_one_bad_event_among_forty_does_not_fail_the_others(bot):
    room = await bot.declare("SEV2 Burst")
    events = [
        message_event(room["id"], BOB, None if n == 13 else f"burst {n}", f"1800000000.{n:06d}")
        for n in range(40)
    ]
    responses = await asyncio.gather(*(bot.slack.event(e) for e in events))
    assert [r.status for r in responses] == [200] * 40
    assert sorted(e.text for e in await said(bot)) == sorted(
        f"burst {n}" for n in range(40) if n != 13
    )


async def test_bots_thread_broadcasts_and_file_shares_are_kept(bot):
    room = await bot.declare("SEV2 Shapes")
    parent = await bot.slack.say(BOB, room["id"], "Rolling back")
    await bot.slack.say(CAROL, room["id"], "Rollback done", thread_ts=parent, broadcast=True)
    await bot.slack.say(BOB, room["id"], "the graph", files=["p99.png"])
    await bot.slack.bot_posts("BDATADOG01", room["id"], "Monitor p99 > 5s recovered", "Datadog")
    entries = [(e.actor, e.text, e.thread_ts, e.files) for e in await said(bot)]
    assert entries == [
        (BOB, "Rolling back", None, []),
        (CAROL, "Rollback done", parent, []),
        (BOB, "the graph", None, ["p99.png"]),
        ("BDATADOG01", "Monitor p99 &gt; 5s recovered", None, []),
    ]


async def test_enterprise_grid_envelopes_are_stored_like_any_other(bot):
    room = await bot.declare("SEV2 Grid")
    async with SlackClient(bot.fake, bot.url, SECRET, enterprise_id="E0WARROOM1") as grid:
        await grid.say(ALICE, room["id"], "from the org-wide install")
        answer = await grid.command(ALICE, "help", room["id"])
    assert "/incident declare" in str(answer)
    assert [e.text for e in await said(bot)] == ["from the org-wide install"]


async def test_a_slack_connect_partners_message_is_stored_with_its_author(bot):
    room = await bot.declare("SEV2 Shared with the CDN vendor")
    partner = "W0VENDOR01"
    await bot.slack.say(partner, room["id"], "Our edge in FRA is degraded", from_team="T0VENDOR1")
    delivered = [m for m in bot.fake.messages(room["id"]) if m.get("source_team") == "T0VENDOR1"]
    assert delivered and delivered[0]["user_team"] == "T0VENDOR1"
    assert [(e.actor, e.text) for e in await said(bot)] == [
        (partner, "Our edge in FRA is degraded")
    ]
