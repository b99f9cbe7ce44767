"""The card comes back: posting or pinning it failed for good, and the next change posts
(or pins) it again; a declaration with a failed step says so to the room and the declarer."""

import json

from bot.slack.flows.card import CARD_EVENT, card_metadata
from tests.conftest import ALICE


def cards(fake, room: dict) -> list[dict]:
    return [
        m for m in room["messages"] if (m.get("metadata") or {}).get("event_type") == CARD_EVENT
    ]


async def test_a_card_lost_to_rate_limits_is_posted_and_pinned_by_the_next_change(bot):
    # The SDK retries a 429 three times: four in a row and the post fails for good.
    bot.fake.fail(
        "chat.postMessage",
        "ratelimited",
        status=429,
        retry_after=0,
        times=4,
        metadata=card_metadata(1),
    )
    room = await bot.declare("SEV2 Card refused")
    assert cards(bot.fake, room) == [] and room["pins"] == set()
    (answer,) = bot.fake.responses
    assert "Declared INC-1" in answer["text"] and "Not done: post in" in answer["text"]
    assert "ratelimited" in answer["text"]
    assert any("ratelimited" in m["text"] for m in room["messages"])  # the room's report

    await bot.slack.command(ALICE, "status identified", room["id"])
    await bot.settled()
    (card,) = cards(bot.fake, room)
    assert room["pins"] == {card["ts"]}
    assert "Identified" in json.dumps(card["blocks"])  # the latest state, not the declared one
    incident = (await bot.service.get(1)).incident
    assert (incident.card_ts, incident.card_pinned) == (card["ts"], True)

    await bot.slack.command(ALICE, "status monitoring", room["id"])
    await bot.settled()
    (card,) = cards(bot.fake, room)  # edited in place from now on
    assert "Monitoring" in json.dumps(card["blocks"])


async def test_a_pin_refused_for_good_is_made_by_the_next_change(bot):
    bot.fake.fail("pins.add", "ratelimited", status=429, retry_after=0, times=4)
    room = await bot.declare("SEV3 Pin refused for now")
    (card,) = cards(bot.fake, room)
    assert room["pins"] == set()
    await bot.slack.command(ALICE, "status identified", room["id"])
    await bot.settled()
    assert room["pins"] == {card["ts"]} and cards(bot.fake, room) == [card]
    assert "Identified" in json.dumps(card["blocks"])


async def test_a_declaration_with_every_step_done_reports_nothing(bot):
    room = await bot.declare("SEV1 All fine")
    (answer,) = bot.fake.responses
    assert "Not done" not in answer["text"]
    assert not any("did not work" in m["text"] for m in room["messages"])
