"""Status, severity, resolve, reopen, close: in the room, on the card, in the history."""

import json

from sqlmodel import col, select

from bot.store.models import Incident, TimelineEntry
from tests.conftest import ALICE, BOB, ONCALL, SRE_LEAD
from tests.e2e.reviewing import fill_in_review


async def timeline(bot) -> list[TimelineEntry]:
    async with bot.runtime.db.transaction() as session:
        return list(
            (await session.exec(select(TimelineEntry).order_by(col(TimelineEntry.id)))).all()
        )


async def incident(bot) -> Incident:
    async with bot.runtime.db.transaction() as session:
        return (await session.exec(select(Incident))).one()


async def run(bot, room, text, user=ALICE):
    answer = await bot.slack.command(user, text, room["id"])
    await bot.settled()
    return answer


async def test_status_change_is_posted_carded_recorded_and_broadcast(bot):
    room = await bot.declare("SEV1 Checkout down")
    await run(bot, room, "status identified Bad deploy of cart-service 4.2")
    said = bot.fake.messages(room["id"])[-1]["text"]
    assert "investigating → identified" in said and "Bad deploy of cart-service 4.2" in said
    assert "Identified" in json.dumps(bot.fake.messages(room["id"])[0]["blocks"])
    assert "identified" in room["topic"]
    entry = (await timeline(bot))[-1]
    assert (entry.kind, entry.actor, entry.data["to"]) == ("status", ALICE, "identified")
    broadcast = bot.fake.messages(bot.broadcast)[-1]["text"]
    assert (
        "now identified" in broadcast and "cart-service" not in broadcast
    )  # notes stay in the room


async def test_invalid_transition_is_refused_with_the_allowed_ones(bot):
    room = await bot.declare("SEV3 Slow")
    await run(bot, room, "close")
    answer = bot.fake.responses[-1]["text"]
    assert "cannot go from investigating to closed" in answer
    assert "identified, monitoring, resolved" in answer
    assert (await incident(bot)).status == "investigating"

    await run(bot, room, "status fixed")
    assert "“fixed” is not a status" in bot.fake.responses[-1]["text"]


async def test_resolve_reopen_resolve_close(bot):
    room = await bot.declare("SEV2 Login errors")
    await run(bot, room, "resolve Rolled back the auth change")
    current = await incident(bot)
    assert (
        current.status == "resolved"
        and current.resolved_at
        and current.summary == "Rolled back the auth change"
    )
    assert "is resolved" in bot.fake.messages(bot.broadcast)[-1]["text"]

    await run(bot, room, "status investigating It came back")
    assert (await incident(bot)).resolved_at is None
    assert "reopened" in bot.fake.messages(room["id"])[-1]["text"]
    assert "reopened" in bot.fake.messages(bot.broadcast)[-1]["text"]

    await run(bot, room, "status resolved Fixed for real")
    await fill_in_review(bot, room, ALICE)
    await run(bot, room, "close")
    closed = await incident(bot)
    assert closed.status == "closed" and closed.closed_at
    card = bot.fake.messages(room["id"])[0]["blocks"]
    controls = [e["action_id"] for b in card if b["type"] == "actions" for e in b["elements"]]
    assert controls == ["card_catchup"]  # nothing left to change, but still readable

    await run(bot, room, "status investigating")
    assert "is closed" in bot.fake.responses[-1]["text"]
    kinds = [(e.kind, e.data.get("to")) for e in await timeline(bot)]
    assert kinds == [
        ("declared", None),
        ("status", "resolved"),
        ("status", "investigating"),
        ("status", "resolved"),
        ("status", "closed"),
    ]


async def test_raising_a_minor_incident_to_major_announces_it(bot):
    room = await bot.declare("SEV4 Odd errors")
    assert bot.fake.messages(bot.broadcast) == []
    await run(bot, room, "severity SEV1")
    assert "Major incident declared" in bot.fake.messages(bot.broadcast)[-1]["text"]
    assert bot.fake.messages(bot.response_team)
    assert {ONCALL, SRE_LEAD} <= room["members"]  # the SEV1 invitees
    assert "SEV1 (major)" in json.dumps(bot.fake.messages(room["id"])[0]["blocks"])

    await run(bot, room, "severity sev3")
    assert "SEV1 → SEV3" in bot.fake.messages(bot.broadcast)[-1]["text"]  # downgrade is news too
    await run(bot, room, "severity SEV4")
    assert (
        "SEV3 → SEV4" not in bot.fake.messages(bot.broadcast)[-1]["text"]
    )  # minor to minor is not

    await run(bot, room, "severity SEV4")
    assert "already SEV4" in bot.fake.responses[-1]["text"]
    await run(bot, room, "severity SEV9")
    assert "Use one of SEV1, SEV2, SEV3, SEV4" in bot.fake.responses[-1]["text"]


async def test_status_and_severity_from_the_card(bot):
    room = await bot.declare("SEV3 Card driven")
    await run(bot, room, f"assign tech <@{BOB}>")  # the card is for the role holders
    card = bot.fake.messages(room["id"])[0]
    incident_id = (await incident(bot)).id
    await bot.slack.click(
        BOB, room["id"], card["ts"], "card_status", selected=f"{incident_id}:monitoring"
    )
    await bot.settled()
    await bot.slack.click(
        BOB, room["id"], card["ts"], "card_severity", selected=f"{incident_id}:SEV2"
    )
    await bot.settled()
    current = await incident(bot)
    assert (current.status, current.severity) == ("monitoring", "SEV2")
    assert "Monitoring" in json.dumps(bot.fake.messages(room["id"])[0]["blocks"])


async def test_card_refusal_is_an_ephemeral_in_the_room(bot):
    room = await bot.declare("SEV3 Card refusal")
    await run(bot, room, f"assign tech <@{BOB}>")  # a role holder, refused as it is closed
    await run(bot, room, "resolve")
    await fill_in_review(bot, room, ALICE)
    await run(bot, room, "close")
    incident_id = (await incident(bot)).id
    card = bot.fake.messages(room["id"])[0]
    # A stale card (e.g. cached by a client) still offering a change after close:
    card["blocks"].append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "card_status",
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": "x"},
                            "value": f"{incident_id}:monitoring",
                        }
                    ],
                }
            ],
        }
    )
    room["members"].add(BOB)
    await bot.slack.click(
        BOB, room["id"], card["ts"], "card_status", selected=f"{incident_id}:monitoring"
    )
    await bot.settled()
    ephemeral = bot.fake.messages(room["id"])[-1]
    assert ephemeral["subtype"] == "ephemeral" and ephemeral["for_user"] == BOB
    assert "is closed" in ephemeral["text"]

    room["members"].discard(BOB)  # viewing the public room without having joined: a DM instead
    await bot.slack.click(
        BOB, room["id"], card["ts"], "card_status", selected=f"{incident_id}:monitoring"
    )
    await bot.settled()
    dm = bot.fake.channel_named(f"dm-{BOB}")
    assert "is closed" in dm["messages"][-1]["text"]


async def test_help_list_and_usage_answer_at_once(bot):
    assert "/incident declare" in (await bot.slack.command(ALICE, "help", bot.general))["text"]
    assert "/incident status" in (await bot.slack.command(ALICE, "", bot.general))["text"]
    await bot.slack.command(ALICE, "list", bot.general)
    await bot.settled()
    assert "No open incidents" in bot.fake.responses[-1]["text"]
    room = await bot.declare("SEV2 Listed")
    await bot.slack.command(ALICE, "list", bot.general)
    await bot.settled()
    listed = json.dumps(bot.fake.responses[-1]["blocks"])
    assert "Listed" in listed and f"<#{room['id']}>" in listed
    wrong = await bot.slack.command(ALICE, "frobnicate now", bot.general)
    assert "I don't know `frobnicate`" in wrong["text"] and "/incident help" in wrong["text"]
    assert (
        "Give one severity" in (await bot.slack.command(ALICE, "severity high", room["id"]))["text"]
    )


async def test_unknown_severity_is_refused_with_the_valid_ones(bot):
    room = await bot.declare("SEV3 Slow")
    await run(bot, room, "severity SEV10")
    answer = bot.fake.responses[-1]["text"]
    assert "“SEV10” is not a severity" in answer and "SEV1, SEV2, SEV3, SEV4" in answer
    assert (await incident(bot)).severity == "SEV3"
