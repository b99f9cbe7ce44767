"""Minor stays minor: only major incidents' stakeholder updates reach the executives, even
a draft made while major and decided after a downgrade."""

import copy

from sqlmodel import select

from bot.simulator import wait_for
from bot.store.models import Incident, StakeholderUpdate
from tests.conftest import ALICE, BOB


async def run(bot, room, text, user=ALICE) -> str:
    await bot.slack.command(user, text, room["id"])
    await bot.settled()
    return bot.fake.responses[-1]["text"]


async def updates(bot) -> list[StakeholderUpdate]:
    async with bot.runtime.db.snapshot_read() as session:
        return list((await session.exec(select(StakeholderUpdate))).all())


def broadcast_updates(bot) -> list[str]:
    return [m["text"] for m in bot.fake.messages(bot.broadcast) if m["text"].startswith("📣")]


def has_buttons(message: dict) -> bool:
    return any(b["type"] == "actions" for b in message.get("blocks", []))


async def major_with_a_draft(bot) -> tuple[dict, dict]:
    room = await bot.declare("SEV2 Checkout errors")
    await run(bot, room, f"assign comms <@{BOB}>")
    await run(bot, room, "update")
    messages = bot.fake.messages(room["id"])
    return room, next(m for m in messages if has_buttons(m) and "update draft" in m["text"])


async def test_update_in_a_minor_incident_explains_why_not(bot):
    room = await bot.declare("SEV3 Search is slow")
    answer = await run(bot, room, "update")
    assert "SEV3 is minor" in answer
    assert "only for major incidents (SEV1, SEV2)" in answer
    assert "/incident severity SEV2" in answer
    assert await updates(bot) == [] and broadcast_updates(bot) == []


async def test_a_draft_made_while_major_never_reaches_the_executives_after_a_downgrade(bot):
    room, draft = await major_with_a_draft(bot)
    offered = copy.deepcopy(draft["blocks"])

    await run(bot, room, "severity SEV3")
    shown = bot.fake.message(room["id"], draft["ts"])
    assert "Withdrawn, not sent: INC-1 is SEV3 now, a minor incident" in shown["text"]
    assert not has_buttons(shown)
    (update,) = await updates(bot)
    assert update.status == "withdrawn"
    async with bot.runtime.db.snapshot_read() as session:
        assert (await session.exec(select(Incident))).one().next_update_due is None

    # A stale copy of the draft: Approve and Edit are both refused, saying why.
    shown["blocks"] = offered
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_approve")
    await bot.settled()
    assert "SEV3 is minor" in bot.fake.messages(room["id"])[-1]["text"]
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_edit")
    await bot.settled()
    assert "withdrawn" in bot.fake.messages(room["id"])[-1]["text"]
    assert broadcast_updates(bot) == [] and bot.fake.views == {}


async def test_an_edit_form_opened_while_major_is_refused_after_a_downgrade(bot):
    room, draft = await major_with_a_draft(bot)
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_edit")
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the edit form")
    await run(bot, room, "severity SEV4")
    await bot.slack.submit(BOB, view_id, {"text": {"value": "All good now"}})
    await bot.settled()
    assert broadcast_updates(bot) == []
    assert [u.status for u in await updates(bot)] == ["withdrawn"]
    refusal = bot.fake.channel_named(f"dm-{BOB}")["messages"][-1]  # a form's answer: a DM
    assert "SEV4 is minor" in refusal["text"]


async def test_raised_to_major_again_the_cadence_comes_back(bot):
    room = await bot.declare("SEV2 Flapping")
    await run(bot, room, "severity SEV3")
    await run(bot, room, "severity SEV1")
    async with bot.runtime.db.snapshot_read() as session:
        assert (await session.exec(select(Incident))).one().next_update_due is not None
    await run(bot, room, "update")
    assert [u.status for u in await updates(bot)] == ["draft"]
