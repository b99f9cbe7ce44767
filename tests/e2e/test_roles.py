"""Handing roles over: by command (escaped and plain mentions, aliases) and by the card."""

import json

from sqlmodel import col, select

from bot.store.models import RoleAssignment
from tests.conftest import ALICE, BOB, CAROL, DAVE, wait_for


def card_of(bot, room) -> str:
    return json.dumps(bot.fake.messages(room["id"])[0]["blocks"])


async def test_assign_invites_announces_updates_card_and_keeps_history(bot):
    room = await bot.declare("SEV1 Checkout down")
    await bot.slack.command(ALICE, "assign comms <@UBOB000001|bob>", room["id"])
    await bot.settled()
    await bot.slack.command(ALICE, "assign cl @carol", room["id"])  # alias, plain @name
    await bot.settled()

    assert {BOB, CAROL} <= room["members"]
    said = [m["text"] for m in bot.fake.messages(room["id"])]
    assert any(f"<@{ALICE}> made <@{BOB}> the *Comms Lead*" in t for t in said)
    assert any(f"from <@{BOB}> to <@{CAROL}>" in t for t in said)
    assert f"*Comms Lead:* <@{CAROL}>" in card_of(bot, room)
    assert bot.fake.messages(room["id"])[0].get("edited")

    async with bot.runtime.db.transaction() as session:
        holdings = (
            await session.exec(
                select(RoleAssignment)
                .where(RoleAssignment.role == "comms")
                .order_by(col(RoleAssignment.id))
            )
        ).all()
    assert [(h.user_id, h.ended_at is None) for h in holdings] == [(BOB, False), (CAROL, True)]
    assert any(
        f"Comms Lead is now <@{CAROL}>" in m["text"] for m in bot.fake.messages(bot.broadcast)
    )


async def test_commander_handover(bot):
    room = await bot.declare("SEV3 Slow reports")
    await bot.slack.command(ALICE, "assign ic <@UDAVE00001>", room["id"])
    await bot.settled()
    assert f"*Incident Commander:* <@{DAVE}>" in card_of(bot, room)
    assert f"<@{DAVE}>" in room["topic"]


async def test_unknown_role_is_refused_with_the_valid_ones(bot):
    room = await bot.declare("SEV3 Slow reports")
    await bot.slack.command(ALICE, "assign chef <@UBOB000001>", room["id"])
    await bot.settled()
    answer = bot.fake.responses[-1]
    assert answer["response_type"] == "ephemeral"
    assert "“chef” is not a role" in answer["text"] and "comms (cl)" in answer["text"]
    assert BOB not in room["members"]


async def test_unknown_user_is_refused(bot):
    room = await bot.declare("SEV3 Slow reports")
    await bot.slack.command(ALICE, "assign tech <@UNOBODY001>", room["id"])
    await bot.slack.command(ALICE, "assign tech @nobody", room["id"])
    await bot.settled()
    texts = [r["text"] for r in bot.fake.responses[-2:]]
    assert any("can't find the user UNOBODY001" in t for t in texts)
    assert any("can't find anyone called @nobody" in t for t in texts)


async def test_missing_user_gets_usage_at_once(bot):
    room = await bot.declare("SEV3 Slow reports")
    answer = await bot.slack.command(ALICE, "assign tech", room["id"])
    assert "/incident assign <commander|comms|tech> @user" in answer["text"]


async def test_assign_outside_a_war_room_says_where_to_run_it(bot):
    await bot.slack.command(ALICE, "assign tech <@UBOB000001>", bot.general)
    await bot.settled()
    assert "Run this in an incident's war room" in bot.fake.responses[-1]["text"]


async def test_assigning_the_current_holder_is_refused(bot):
    room = await bot.declare("SEV3 Slow reports")
    await bot.slack.command(ALICE, "assign commander <@UALICE0001>", room["id"])
    await bot.settled()
    assert "already the Incident Commander" in bot.fake.responses[-1]["text"]


async def test_hand_over_from_the_card(bot):
    room = await bot.declare("SEV2 Card handover")
    card = bot.fake.messages(room["id"])[0]
    await bot.slack.click(BOB, room["id"], card["ts"], "card_handover")
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="handover form")
    await bot.slack.submit(
        BOB,
        view_id,
        {
            "role": {"selected_option": {"value": "tech"}},
            "user": {"selected_user": BOB},
        },
    )
    await bot.settled()
    assert f"*Tech Lead:* <@{BOB}>" in card_of(bot, room)
