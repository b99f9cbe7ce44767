"""Nothing half-done: a draft lands in its room once, and one war room whose Slack calls
fail, hang or are rate-limited holds up nobody else's drafts and nudges."""

import asyncio
import copy
import logging

import pytest
from sqlmodel import select

from bot.simulator import wait_for
from bot.slack.flows.updates import DRAFT_EVENT
from bot.store.models import StakeholderUpdate
from tests.conftest import ALICE, TEST_PLAYBOOK
from tests.e2e.test_drills import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def playbooks():
    playbook = copy.deepcopy(TEST_PLAYBOOK)
    playbook["severities"]["SEV1"].update(update_every="1m", escalate_after="1m", invite=[])
    return [playbook]


def drafts_in(bot, room: dict) -> list[dict]:
    return [m for m in bot.fake.messages(room["id"]) if "Stakeholder update draft" in m["text"]]


def nudges_in(bot, room: dict) -> list[dict]:
    return [m for m in bot.fake.messages(room["id"]) if m["text"].startswith("⏰")]


def draft_posts_to(bot, room: dict) -> list[dict]:
    """Every chat.postMessage of a draft into `room` Slack received (done or not)."""
    return [
        call
        for call in bot.fake.calls_to("chat.postMessage")
        if call["channel"] == room["id"]
        and (call.get("metadata") or {}).get("event_type") == DRAFT_EVENT
    ]


async def stored_updates(bot) -> list[StakeholderUpdate]:
    async with bot.runtime.db.snapshot_read() as session:
        return list((await session.exec(select(StakeholderUpdate))).all())


async def recorded(bot) -> str | None:
    """Where the one update's draft is, as stored."""
    updates = await stored_updates(bot)
    return updates[0].message_ts if updates else None


@pytest.mark.parametrize("slowness", ["rate-limited", "hanging"])
async def test_a_slow_war_room_delays_only_itself(bot, clock, slowness):
    slow = await bot.declare("SEV1 Checkout down")
    other = await bot.declare("SEV1 Search down")
    hold = None
    if slowness == "rate-limited":
        bot.fake.fail(
            "chat.postMessage",
            "ratelimited",
            status=429,
            retry_after=30,
            times=1000,
            channel=slow["id"],
        )
    else:
        hold = bot.fake.hold("chat.postMessage", channel=slow["id"])  # never answers
    try:
        clock.at(minutes=1)  # both rooms' updates fall due
        await wait_for(lambda: drafts_in(bot, other), timeout=10, what="the other room's draft")
        clock.at(minutes=2)  # the other room's draft is undecided past escalate_after
        await wait_for(lambda: nudges_in(bot, other), timeout=10, what="the other room's nudge")
        assert drafts_in(bot, slow) == []  # still waiting for Slack
    finally:
        if hold is not None:
            hold.release(perform=False)


async def test_a_failing_nudge_does_not_stop_the_next(bot, clock, caplog):
    rooms = [await bot.declare(f"SEV1 Outage {n}") for n in range(3)]
    clock.at(minutes=1)

    async def drafts_recorded() -> bool:
        rows = await stored_updates(bot)
        return len(rows) == 3 and all(row.message_ts for row in rows)

    await wait_for(drafts_recorded, timeout=10, what="three drafts in their rooms")
    # The first room can no longer be posted in (its nudge, and the report of that).
    bot.fake.fail("chat.postMessage", "is_archived", times=10, channel=rooms[0]["id"])
    clock.at(minutes=2)
    await wait_for(
        lambda: nudges_in(bot, rooms[1]) and nudges_in(bot, rooms[2]),
        timeout=10,
        what="the other rooms' nudges",
    )
    assert nudges_in(bot, rooms[0]) == []
    failed = await wait_for(
        lambda: [r for r in caplog.records if r.name == "bot.scheduler" and "INC-1" in r.message],
        what="the failure in the log",
    )
    assert failed[0].levelno == logging.WARNING and "is_archived" in failed[0].message


async def test_a_draft_whose_answer_was_lost_is_in_the_room_once(bot, clock):
    room = await bot.declare("SEV1 Checkout down")
    bot.fake.lose_answer("chat.postMessage", channel=room["id"])  # Slack posts; no answer
    clock.at(minutes=1)
    ts = await wait_for(lambda: recorded(bot), timeout=10, what="the draft recorded")
    assert [m["ts"] for m in drafts_in(bot, room)] == [ts]


async def test_a_draft_post_given_up_but_done_by_slack_is_found_not_posted_again(bot, clock):
    """The poster stops waiting (its deadline, within the lease); Slack carries the post
    out afterwards; whoever takes the draft over once the lease is out finds it."""
    room = await bot.declare("SEV1 Checkout down")
    lanes = bot.runtime.scheduler.rooms
    lanes.deadline = 0.5  # the poster gives up quickly (in production: 20 s, within the lease)
    hold = bot.fake.hold("chat.postMessage", channel=room["id"])
    clock.at(minutes=1)
    await asyncio.wait_for(hold.reached(), timeout=10)
    await wait_for(lambda: not lanes.busy(), what="the poster to give up")
    hold.release(perform=True)  # Slack was only slow: the draft is in the room
    (draft,) = await wait_for(lambda: drafts_in(bot, room), what="the late draft")

    clock.at(minutes=1, seconds=31)  # the lease runs out: the next tick takes the draft over
    assert await wait_for(lambda: recorded(bot), what="the draft recorded") == draft["ts"]
    assert len(drafts_in(bot, room)) == 1
    assert len(draft_posts_to(bot, room)) == 1  # found, not posted again


def published(bot) -> list[dict]:
    return [m for m in bot.fake.messages(bot.broadcast) if m["text"].startswith("📣")]


async def a_draft(bot) -> tuple[dict, dict]:
    room = await bot.declare("SEV1 Checkout down")
    await bot.slack.command(ALICE, "update", room["id"])
    await bot.settled()
    (draft,) = drafts_in(bot, room)
    return room, draft


async def test_an_approved_update_whose_answer_was_lost_is_broadcast_once(bot):
    room, draft = await a_draft(bot)
    bot.fake.lose_answer("chat.postMessage", channel=bot.broadcast)  # sent; no answer
    await bot.slack.click(ALICE, room["id"], draft["ts"], "update_approve")
    await bot.settled()
    (update,) = published(bot)
    (stored,) = await stored_updates(bot)
    assert stored.status == "sent" and stored.broadcast_ts == update["ts"]


async def test_a_refused_broadcast_leaves_the_draft_to_approve_again(bot):
    room, draft = await a_draft(bot)
    bot.fake.fail("chat.postMessage", "not_in_channel", channel=bot.broadcast)
    await bot.slack.click(ALICE, room["id"], draft["ts"], "update_approve")
    await bot.settled()
    told = bot.fake.messages(room["id"])[-1]
    assert told["for_user"] == ALICE and "not_in_channel" in told["text"]
    assert published(bot) == [] and (await stored_updates(bot))[0].status == "draft"
    await bot.slack.click(ALICE, room["id"], draft["ts"], "update_approve")
    await bot.settled()
    assert len(published(bot)) == 1 and (await stored_updates(bot))[0].status == "sent"
