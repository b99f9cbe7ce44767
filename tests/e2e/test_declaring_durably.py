"""Declaring is durable: `kill -9` at any step of a declaration (Slack slow to answer it),
restart, and the war room is finished exactly once; two replicas editing one card end with
the latest state shown. Real processes on one database (PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest
from sqlmodel import select

from bot.simulator import SlackClient, wait_for
from bot.slack.flows.card import CARD_EVENT, card_metadata
from bot.slack.flows.opening import POST_EVENTS
from bot.store import Database
from bot.store.models import Declaration, DeclarationStep
from tests.conftest import (
    ALICE,
    ONCALL,
    SECRET,
    SRE_LEAD,
)
from tests.e2e.processes import WarRoomScene, let_time_pass, start_bot, stop

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

CHECKLIST = {"event_type": POST_EVENTS["checklist"], "event_payload": {"incident": 1}}
# Where the declaration is when the bot dies: (method held, its params, performed after
# the kill?). Performed: Slack did it, the bot never heard; not performed: it never arrived.
KILL_POINTS = {
    "channel-made": ("conversations.create", {}, True),
    "channel-not-made": ("conversations.create", {}, False),
    "invite": ("conversations.invite", {}, True),
    "topic": ("conversations.setTopic", {}, True),
    "card-posted": ("chat.postMessage", {"metadata": card_metadata(1)}, True),
    "card-not-posted": ("chat.postMessage", {"metadata": card_metadata(1)}, False),
    "broadcast": ("chat.postMessage", {"channel": "broadcast"}, True),
    "alert": ("chat.postMessage", {"channel": "response_team"}, True),
    "pin": ("pins.add", {}, True),
    "checklist": ("chat.postMessage", {"metadata": CHECKLIST}, True),
    "page": ("chat.postMessage", {"channel": ONCALL}, True),
}
BESIDE_THE_ANSWER = {"page"}  # the last round: the page and the declarer's answer


class Scene(WarRoomScene):
    def __init__(self, fake, tmp_path):
        super().__init__(fake, tmp_path, ack_within="1h")

    def rooms(self) -> list[dict]:
        return [c for c in self.fake.channels.values() if c["name"].startswith("inc-")]

    def posts(self, channel: str, event: str) -> list[dict]:
        return [
            m
            for m in self.fake.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == event
        ]

    def answers(self) -> list[str]:
        return [r["text"] for r in self.fake.responses if "Declared INC-1" in r["text"]]


async def recorded(database_url: str, query):
    db = Database(database_url)
    try:
        async with db.snapshot_read() as session:
            return (await session.exec(query)).all()
    finally:
        await db.dispose()


async def finished(database_url: str) -> bool:
    rows = await recorded(database_url, select(Declaration.finished_at))
    return bool(rows) and rows[0] is not None


async def answer_recorded(database_url: str) -> bool:
    steps = await recorded(database_url, select(DeclarationStep.step))
    return "answer" in steps


def held_params(scene: Scene, params: dict) -> dict:
    named = {"broadcast": scene.broadcast, "response_team": scene.response_team}
    return {k: named.get(v, v) if isinstance(v, str) else v for k, v in params.items()}


@pytest.mark.parametrize("point", list(KILL_POINTS))
async def test_kill_minus_nine_at_each_step_then_the_declaration_is_finished_once(
    fake, tmp_path, point
):
    scene = Scene(fake, tmp_path)
    env = await scene.environment()
    method, params, performed = KILL_POINTS[point]
    hold = fake.hold(method, **held_params(scene, params))
    process, url = await start_bot(env)
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            await slack.command(ALICE, "declare SEV1 Checkout down", scene.general)
        await asyncio.wait_for(hold.reached(), timeout=20)
        if point in BESIDE_THE_ANSWER:  # let the answer, going out beside it, be recorded
            await wait_for(lambda: answer_recorded(env["DATABASE_URL"]), what="the answer")
        process.send_signal(signal.SIGKILL)
        await process.wait()
        hold.release(perform=performed)
        await hold.over()

        process, url = await start_bot(env)
        await wait_for(
            lambda: finished(env["DATABASE_URL"]), timeout=30, what="the declaration finished"
        )
        await let_time_pass(1.5)  # more ticks: nothing is done twice
        await assert_declared_once(scene, url)
    finally:
        await stop(process)


async def assert_declared_once(scene: Scene, url: str) -> None:
    (room,) = scene.rooms()
    (card,) = scene.posts(room["id"], CARD_EVENT)
    assert room["pins"] == {card["ts"]}
    assert {ALICE, ONCALL, SRE_LEAD} <= room["members"] and "INC-1" in room["topic"]
    assert len(scene.posts(room["id"], POST_EVENTS["checklist"])) == 1
    assert len(scene.fake.messages(scene.broadcast)) == 1
    assert len(scene.fake.messages(scene.response_team)) == 1
    (answer,) = scene.answers()
    assert f"<#{room['id']}>" in answer and "Not done" not in answer
    paged = scene.fake.channel_named(f"dm-{ONCALL}")
    assert any("You are paged" in m["text"] for m in paged["messages"])
    async with SlackClient(scene.fake, url, SECRET) as slack:
        listed = await slack.command(ALICE, "list", scene.general)
        await wait_for(
            lambda: "INC-1" in listed.get("text", "") + str(scene.fake.responses[-1]),
            what="INC-1 in the list",
        )


async def test_two_replicas_editing_the_card_end_with_the_latest_state(fake, tmp_path):
    scene = Scene(fake, tmp_path)
    env = await scene.environment()
    first, first_url = await start_bot(env)
    second, second_url = await start_bot(env)
    try:
        async with (
            SlackClient(fake, first_url, SECRET) as a,
            SlackClient(fake, second_url, SECRET) as b,
        ):
            await a.command(ALICE, "declare SEV2 Card race", scene.general)
            await wait_for(lambda: finished(env["DATABASE_URL"]), timeout=15, what="declared")
            room = scene.rooms()[0]["id"]
            (card,) = scene.posts(room, CARD_EVENT)
            slow_edit = fake.hold("chat.update", ts=card["ts"])
            await a.command(ALICE, "status identified", room)
            await asyncio.wait_for(
                slow_edit.reached(), timeout=20
            )  # the first replica's edit, rendered, is on its way
            await b.command(ALICE, "status monitoring", room)
            await wait_for(lambda: shown(card) == "monitoring", what="the second replica's edit")
            slow_edit.release()  # lands last, older than what it covers
            await slow_edit.over()
            assert shown(card) == "identified"  # the older edit is on top, for now
            await wait_for(lambda: shown(card) == "monitoring", what="the latest state back")
            await let_time_pass(1)
            assert shown(card) == "monitoring"
    finally:
        await stop(first)
        await stop(second)


def shown(card: dict) -> str:
    """The status the card shows (its text ends with it; its blocks also list the others)."""
    return card["text"].rsplit(" — ", 1)[-1]


async def test_a_live_replica_finishes_the_declaration_of_one_that_died(fake, tmp_path):
    scene = Scene(fake, tmp_path)
    env = await scene.environment()
    dying, dying_url = await start_bot(env)
    other, other_url = await start_bot(env)
    slow_card = fake.hold("chat.postMessage", metadata=card_metadata(1))
    try:
        async with SlackClient(fake, dying_url, SECRET) as slack:
            await slack.command(ALICE, "declare SEV1 Checkout down", scene.general)
        await asyncio.wait_for(slow_card.reached(), timeout=20)
        dying.send_signal(signal.SIGKILL)
        await dying.wait()
        slow_card.release()  # Slack posts it; nobody hears
        await slow_card.over()
        await wait_for(
            lambda: finished(env["DATABASE_URL"]), timeout=30, what="the other replica's finish"
        )
        await let_time_pass(1.5)  # more ticks: nothing is done twice
        await assert_declared_once(scene, other_url)
    finally:
        await stop(dying)
        await stop(other)
