"""Closed is final: after `close` no draft, nudge, approval, card change or timeline entry;
what is said in a closed room stays out of the record; commands get one clear refusal."""

import asyncio
import copy

import pytest
from sqlmodel import col, select

from bot.simulator import message_event, wait_for
from bot.slack.listeners.followups import ADD_AS_ACTION_ITEM
from bot.store.models import Incident, StakeholderUpdate, TimelineEntry
from tests.conftest import ALICE, BOB, CAROL, TEST_PLAYBOOK
from tests.e2e.reviewing import fill_in_review, open_view, review_message
from tests.e2e.test_drills import Clock

CLOSED = "is closed, and closed is final"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def playbooks():
    playbook = copy.deepcopy(TEST_PLAYBOOK)
    playbook["severities"]["SEV2"].update(escalate_after="1s")
    return [playbook]


async def rows(bot, model, order=None):
    async with bot.runtime.db.snapshot_read() as session:
        query = select(model).order_by(col(order if order is not None else model.id))
        return list((await session.exec(query)).all())


async def run(bot, room, text, user=ALICE) -> str:
    await bot.slack.command(user, text, room["id"])
    await bot.settled()
    return bot.fake.responses[-1]["text"] if bot.fake.responses else ""


def buttons(message: dict) -> list[str]:
    return [
        e["action_id"]
        for b in message.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


async def closed_room(bot, severity="SEV2") -> dict:
    room = await bot.declare(f"{severity} Payments failing")
    await run(bot, room, f"assign comms <@{BOB}>")
    await run(bot, room, "resolve Rolled back")
    await fill_in_review(bot, room, ALICE)
    await run(bot, room, "close")
    assert (await rows(bot, Incident))[0].status == "closed"
    return room


async def test_closing_withdraws_the_waiting_final_draft_and_nothing_follows(bot, clock):
    room = await bot.declare("SEV2 Payments failing")
    await run(bot, room, f"assign comms <@{BOB}>")
    await run(bot, room, "resolve Rolled back")
    (final,) = [m for m in bot.fake.messages(room["id"]) if "update_approve" in buttons(m)]
    offered = copy.deepcopy(final["blocks"])
    await fill_in_review(bot, room, ALICE)
    await run(bot, room, "close")

    withdrawn = bot.fake.message(room["id"], final["ts"])
    assert "Withdrawn, not sent: INC-1 was closed" in withdrawn["text"]
    assert buttons(withdrawn) == []
    (update,) = await rows(bot, StakeholderUpdate)
    assert update.status == "withdrawn" and update.broadcast_ts is None
    card_after_close = copy.deepcopy(bot.fake.messages(room["id"])[0])
    entries_after_close = len(await rows(bot, TimelineEntry))

    # A stale copy of the draft (a client that has not refreshed) still offers Approve.
    withdrawn["blocks"] = offered
    await bot.slack.click(BOB, room["id"], final["ts"], "update_approve")
    await bot.settled()
    assert CLOSED in bot.fake.messages(room["id"])[-1]["text"]
    # Hours later, far past escalate_after and any cadence: no nudge, no new draft.
    clock.at(hours=5)
    await bot.runtime.scheduler.tick()
    await bot.settled()
    assert not [m for m in bot.fake.messages(room["id"]) if m["text"].startswith("⏰")]
    assert [u.status for u in await rows(bot, StakeholderUpdate)] == ["withdrawn"]
    assert not [m for m in bot.fake.messages(bot.broadcast) if m["text"].startswith("📣")]
    assert bot.fake.messages(room["id"])[0] == card_after_close
    assert len(await rows(bot, TimelineEntry)) == entries_after_close


async def test_commands_on_a_closed_incident_are_refused_saying_so(bot):
    room = await closed_room(bot)
    entries = len(await rows(bot, TimelineEntry))
    for command in (
        "status investigating It is back",  # reopening: closed is final
        "resolve",
        "close",
        f"assign tech <@{CAROL}>",
        "severity SEV1",
        "update",
        "note One more thing",
        "action Add an alert",
        "problem PRB-9",
    ):
        answer = await run(bot, room, command)
        assert CLOSED in answer, (command, answer)
    await bot.slack.command(CAROL, "ask 1 Is it back?", bot.general)
    await bot.settled()
    assert CLOSED in bot.fake.responses[-1]["text"]
    assert "cannot be reopened" in await run(bot, room, "status monitoring")
    assert len(await rows(bot, TimelineEntry)) == entries
    assert (await rows(bot, Incident))[0].status == "closed"
    # Reading is still allowed: the record stays readable.
    await run(bot, room, "timeline")
    assert "Timeline" in bot.fake.responses[-1]["text"]


def handover_button() -> dict:
    """The card's handover button, as a card not yet refreshed still shows it (INC-1)."""
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "card_handover",
                "text": {"type": "plain_text", "text": "Hand over"},
                "value": "1",
            }
        ],
    }


async def test_forms_after_close_are_refused(bot):
    room = await bot.declare("SEV3 Review after close")
    await run(bot, room, "resolve")
    await fill_in_review(bot, room, ALICE)
    await bot.slack.click(ALICE, room["id"], review_message(bot, room)["ts"], "review_fill")
    await bot.settled()
    view_id, view = open_view(bot, "review_fill")  # opened before the close
    await run(bot, room, "close")
    values = {b["block_id"]: {"value": "Rewritten after close"} for b in view["blocks"]}
    await bot.slack.submit(ALICE, view_id, values)
    await bot.settled()
    refusal = bot.fake.messages(room["id"])[-1]
    assert refusal["for_user"] == ALICE and CLOSED in refusal["text"]

    # Forms a closed incident would refuse are refused before they open.
    views = len(bot.fake.views)
    card = bot.fake.messages(room["id"])[0]
    card["blocks"] = [handover_button()]  # a stale card still offering a handover
    said = await bot.slack.say(ALICE, room["id"], "a last word")
    for click in (
        bot.slack.click(ALICE, room["id"], review_message(bot, room)["ts"], "review_fill"),
        bot.slack.click(ALICE, room["id"], card["ts"], "card_handover"),
        bot.slack.shortcut(ALICE, room["id"], said, ADD_AS_ACTION_ITEM),
    ):
        await click
        await bot.settled()
        assert CLOSED in bot.fake.messages(room["id"])[-1]["text"]
    assert len(bot.fake.views) == views


async def test_nothing_said_in_a_closed_room_is_recorded(bot):
    room = await bot.declare("SEV3 Chatty room")
    said = await bot.slack.say(BOB, room["id"], "the cause was a bad config")
    await run(bot, room, "resolve")
    await fill_in_review(bot, room, ALICE)
    await run(bot, room, "close")
    before = [(e.id, e.text, e.key, e.deleted, e.edits) for e in await rows(bot, TimelineEntry)]

    later = await bot.slack.say(BOB, room["id"], "anyone still here?")
    await bot.slack.say(CAROL, room["id"], "a reply", thread_ts=said)
    assert (await bot.slack.edit(BOB, room["id"], said, "rewritten history")).status == 200
    assert (await bot.slack.react(CAROL, room["id"], said)).status == 200
    assert (await bot.slack.pin(CAROL, room["id"], said)).status == 200
    assert (await bot.slack.delete(room["id"], said)).status == 200
    await bot.settled()
    after = [(e.id, e.text, e.key, e.deleted, e.edits) for e in await rows(bot, TimelineEntry)]
    assert after == before
    assert later and "anyone still here?" not in str(after)


async def test_a_backfill_that_started_before_the_close_adds_nothing_after_it(bot):
    room = await bot.declare("SEV3 Backfilled room")
    await run(bot, room, "resolve")
    await fill_in_review(bot, room, ALICE)
    rooms = await bot.runtime.deps.timeline.heard_up_to()  # read while still open
    await run(bot, room, "close")
    bot.fake.workspace.say(room["id"], BOB, "said while the bot was away")
    before = len(await rows(bot, TimelineEntry))
    assert await bot.runtime.backfill.fill_all("test", rooms) == 0
    assert len(await rows(bot, TimelineEntry)) == before
    assert await bot.runtime.deps.timeline.heard_up_to() == []  # closed rooms are not filled


async def test_events_racing_the_close_land_before_it_or_not_at_all(bot):
    """A stream of messages while the incident closes: every event is answered 200; none
    delivered after the close was stored is recorded (PostgreSQL too: the close and the
    timeline's writes are ordered by a lock on the incident)."""
    room = await bot.declare("SEV3 Closing mid-conversation")
    await run(bot, room, "resolve")
    await fill_in_review(bot, room, ALICE)
    closed_seen: list[int] = []

    async def talk() -> None:
        for n in range(5000):
            if (await rows(bot, Incident))[0].status == "closed" and not closed_seen:
                closed_seen.append(n)
            event = message_event(room["id"], BOB, f"line {n}", f"1900000000.{n:06d}")
            assert (await bot.slack.event(event, event_id=f"EvRACE{n:04d}")).status == 200
            if closed_seen and n >= closed_seen[0] + 5:
                return

    talking = asyncio.create_task(talk())
    await run(bot, room, "close")
    await asyncio.wait_for(talking, timeout=60)
    await wait_for(lambda: closed_seen, what="the close to be seen by the stream")
    recorded = {e.text for e in await rows(bot, TimelineEntry) if e.kind == "message"}
    after_close = {f"line {n}" for n in range(closed_seen[0], closed_seen[0] + 6)}
    assert not recorded & after_close


async def test_close_waits_for_an_update_being_sent(bot):
    room = await bot.declare("SEV2 Payments failing")
    await run(bot, room, f"assign comms <@{BOB}>")
    await run(bot, room, "resolve Rolled back")
    await fill_in_review(bot, room, ALICE)
    (final,) = [m for m in bot.fake.messages(room["id"]) if "update_approve" in buttons(m)]

    async def sending() -> bool:
        return [u.status for u in await rows(bot, StakeholderUpdate)] == ["sending"]

    bot.fake.latency = 1.0  # the broadcast is on its way while someone closes
    await bot.slack.click(BOB, room["id"], final["ts"], "update_approve")
    await wait_for(sending, what="the approved update to be sending")
    answer = await run(bot, room, "close")
    assert "is being sent right now; close it again once it is out" in answer
    assert [u.status for u in await rows(bot, StakeholderUpdate)] == ["sent"]
    bot.fake.latency = 0
    await run(bot, room, "close")
    assert (await rows(bot, Incident))[0].status == "closed"
    sent = [e for e in await rows(bot, TimelineEntry) if e.kind == "update"]
    closing = [e for e in await rows(bot, TimelineEntry) if e.data.get("to") == "closed"]
    assert len(sent) == 1 and sent[0].id < closing[0].id  # the update is on record before the close
