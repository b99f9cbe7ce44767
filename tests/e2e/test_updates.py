"""Stakeholder updates: drafted on cadence, decided by the comms lead, broadcast once."""

import asyncio
import copy
import json

import pytest
from sqlmodel import select

from bot.simulator import wait_for
from bot.store.models import Incident, Question, StakeholderUpdate, TimelineEntry
from tests.conftest import ALICE, BOB, CAROL, DAVE, TEST_PLAYBOOK


@pytest.fixture
def playbooks():
    playbook = copy.deepcopy(TEST_PLAYBOOK)
    playbook["severities"]["SEV1"].update(update_every="1s", escalate_after="1s", invite=[])
    return [playbook]


def drafts_in(bot, room) -> list[dict]:
    return [
        m
        for m in bot.fake.messages(room["id"])
        if any(
            e.get("action_id") == "update_approve"
            for b in m.get("blocks", [])
            if b["type"] == "actions"
            for e in b["elements"]
        )
    ]


async def first_draft(bot, room) -> dict:
    return (await wait_for(lambda: drafts_in(bot, room), timeout=6, what="an update draft"))[0]


def broadcast_updates(bot) -> list[str]:
    return [m["text"] for m in bot.fake.messages(bot.broadcast) if m["text"].startswith("📣")]


async def rows(bot, model):
    async with bot.runtime.db.transaction() as session:
        return list((await session.exec(select(model))).all())


async def with_comms(bot, severity="SEV2", title="Checkout errors") -> dict:
    room = await bot.declare(f"{severity} {title}")
    await bot.slack.command(ALICE, f"assign comms <@{BOB}>", room["id"])
    await bot.settled()
    return room


async def test_draft_on_cadence_approved_by_comms_goes_to_broadcast(bot):
    room = await with_comms(bot, "SEV1")
    draft = await first_draft(bot, room)
    text = json.dumps(draft["blocks"])
    assert "Checkout errors" in text and "Next update" in text

    await bot.slack.click(BOB, room["id"], draft["ts"], "update_approve")
    await wait_for(lambda: broadcast_updates(bot), what="the broadcast")
    await bot.settled()
    (published,) = broadcast_updates(bot)
    assert "Checkout errors" in published and "SEV1" in published
    assert "Sent by <@UBOB000001>" in bot.fake.message(room["id"], draft["ts"])["text"]
    (update,) = [u for u in await rows(bot, StakeholderUpdate) if u.status == "sent"]
    assert update.broadcast_ts and update.decided_by == BOB
    assert any(e.kind == "update" for e in await rows(bot, TimelineEntry))
    # The cadence goes on from the published update: another draft follows.
    await wait_for(
        lambda: [d for d in drafts_in(bot, room) if d["ts"] != draft["ts"]],
        timeout=6,
        what="the next draft",
    )


async def test_only_the_comms_lead_or_commander_decide(bot):
    room = await with_comms(bot)
    room["members"].add(DAVE)
    await bot.slack.command(ALICE, "update", room["id"])
    draft = await first_draft(bot, room)
    for action in ("update_approve", "update_edit", "update_skip"):
        await bot.slack.click(DAVE, room["id"], draft["ts"], action)
        await bot.settled()
        refusal = bot.fake.messages(room["id"])[-1]
        assert (
            refusal["for_user"] == DAVE
            and "can approve, edit or skip the stakeholder updates" in refusal["text"]
        )
    assert broadcast_updates(bot) == [] and bot.fake.views == {}


async def test_two_people_approving_at_once_publish_once(bot):
    room = await with_comms(bot)
    await bot.slack.command(ALICE, "update", room["id"])
    draft = await first_draft(bot, room)
    await asyncio.gather(
        bot.slack.click(BOB, room["id"], draft["ts"], "update_approve"),
        bot.slack.click(ALICE, room["id"], draft["ts"], "update_approve"),
        bot.slack.click(BOB, room["id"], draft["ts"], "update_approve"),
    )
    await bot.settled()
    assert len(broadcast_updates(bot)) == 1
    assert any(
        "already been sent" in m["text"] for m in bot.fake.messages(room["id"]) if m.get("for_user")
    )


async def test_edit_publishes_the_edited_text(bot):
    room = await with_comms(bot)
    await bot.slack.command(ALICE, "update", room["id"])
    draft = await first_draft(bot, room)
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_edit")
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the edit form")
    prefilled = bot.fake.views[view_id]["blocks"][0]["element"]["initial_value"]
    assert "Checkout errors" in prefilled
    await bot.slack.submit(
        BOB, view_id, {"text": {"value": "Checkout is back for 90% of customers <!channel>"}}
    )
    await wait_for(lambda: broadcast_updates(bot), what="the broadcast")
    (published,) = broadcast_updates(bot)
    assert "Checkout is back for 90% of customers &lt;!channel&gt;" in published


async def test_skip_asks_for_a_reason_and_records_it(bot):
    room = await with_comms(bot)
    await bot.slack.command(ALICE, "update", room["id"])
    draft = await first_draft(bot, room)
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_skip")
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the skip form")
    refused = await bot.slack.submit(BOB, view_id, {"reason": {"value": " "}})
    assert refused["response_action"] == "errors"
    await bot.slack.submit(
        BOB, view_id, {"reason": {"value": "Nothing new; exec call in 10 minutes"}}
    )
    await bot.settled()
    assert "Skipped by <@UBOB000001>" in bot.fake.message(room["id"], draft["ts"])["text"]
    skipped = [e for e in await rows(bot, TimelineEntry) if e.kind == "update_skipped"]
    assert skipped[0].data["reason"] == "Nothing new; exec call in 10 minutes"
    assert broadcast_updates(bot) == []


async def test_undecided_draft_nudges_the_commander_and_marks_the_card(bot):
    room = await with_comms(bot, "SEV1")
    await first_draft(bot, room)
    nudge = await wait_for(
        lambda: [m for m in bot.fake.messages(room["id"]) if m["text"].startswith("⏰")],
        timeout=6,
        what="the nudge",
    )
    assert f"<@{ALICE}>" in nudge[0]["text"] and f"<@{BOB}>" in nudge[0]["text"]
    await wait_for(
        lambda: (
            "Stakeholder update overdue" in json.dumps(bot.fake.messages(room["id"])[0]["blocks"])
        ),
        what="the card to show the overdue update",
    )


async def test_severity_change_replans_and_resolve_stops_with_a_final_draft(bot):
    room = await with_comms(bot, "SEV3")

    async def due():
        (incident,) = await rows(bot, Incident)
        return incident

    assert (await due()).next_update_due is None  # minor: no cadence
    await bot.slack.command(ALICE, "severity SEV2", room["id"])
    await bot.settled()
    incident = await due()
    assert (incident.next_update_due - incident.declared_at).total_seconds() == 3600
    assert "Next stakeholder update due" in json.dumps(bot.fake.messages(room["id"])[0]["blocks"])

    await bot.slack.command(ALICE, "resolve Rolled back", room["id"])
    await bot.settled()
    assert (await due()).next_update_due is None
    final = drafts_in(bot, room)[-1]
    assert "Final stakeholder update draft" in final["text"]
    assert "This is the final update" in json.dumps(final["blocks"])
    buttons = copy.deepcopy(final["blocks"])

    await bot.slack.command(ALICE, "status investigating It is back", room["id"])  # reopen
    await bot.settled()
    assert (await due()).next_update_due is not None
    # The stale final update loses its buttons; a copy of it (a client's cache) is refused.
    stale = bot.fake.message(room["id"], final["ts"])
    assert "was reopened" in stale["text"] and not drafts_in(bot, room)
    stale.update(blocks=buttons)
    await bot.slack.click(BOB, room["id"], final["ts"], "update_approve")
    await bot.settled()
    assert "it will not be sent" in bot.fake.messages(room["id"])[-1]["text"]
    assert broadcast_updates(bot) == []


async def test_questions_go_to_the_comms_lead_and_onto_the_next_draft(bot):
    room = await with_comms(bot)
    await bot.slack.command(CAROL, "ask 1 When will checkout be back? <!here>", bot.general)
    await bot.settled()
    dm = bot.fake.channel_named(f"dm-{BOB}")
    assert "When will checkout be back?" in dm["messages"][-1]["text"]
    assert "back? @here" in dm["messages"][-1]["text"]  # said, not a second ping
    assert "<!here>" not in dm["messages"][-1]["text"]
    assert "comms lead <@UBOB000001>" in bot.fake.responses[-1]["text"]
    assert all(
        CAROL not in m["text"] for m in bot.fake.messages(room["id"])
    )  # not to the responders

    await bot.slack.command(ALICE, "update", room["id"])
    draft = await first_draft(bot, room)
    assert "Open questions from stakeholders" in json.dumps(draft["blocks"])
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_approve")
    await bot.settled()
    (question,) = await rows(bot, Question)
    assert question.answered_in is not None


async def test_ask_without_a_number_outside_a_war_room(bot):
    await bot.slack.command(CAROL, "ask Anything?", bot.general)
    await bot.settled()
    assert "Which incident?" in bot.fake.responses[-1]["text"]


async def test_a_human_in_the_broadcast_channel_is_pointed_to_the_comms_lead(bot):
    await with_comms(bot)
    bot.fake.channels[bot.broadcast]["members"].add(DAVE)
    await bot.slack.say(DAVE, bot.broadcast, "is checkout down??")
    await bot.settled()
    pointer = bot.fake.messages(bot.broadcast)[-1]
    assert (
        pointer["for_user"] == DAVE
        and f"<@{BOB}>" in pointer["text"]
        and "/incident ask 1" in pointer["text"]
    )
