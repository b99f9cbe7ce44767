"""A declaration Slack could not finish at once: the declarer is told the truth, and the
war room is finished later by the scheduler's tick, answered by DM once the command's
response_url has expired (Slack takes answers there for 30 minutes)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.slack.flows.card import CARD_EVENT
from tests.conftest import ALICE, wait_for


class Clock:
    """The bot's now: the real time at first, moved on when the test says."""

    def __init__(self):
        self.start = self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


def rooms(fake) -> list[dict]:
    return [c for c in fake.channels.values() if c["name"].startswith("inc-")]


async def test_a_channel_made_but_not_confirmed_is_adopted_later_and_the_answer_is_a_dm(bot, clock):
    bot.fake.lose_answer("conversations.create")  # made; the bot never hears
    # Nor can Slack say which channels exist (the SDK retries a 500 twice)...
    bot.fake.fail("conversations.list", "internal_error", status=500, times=3)
    later = bot.fake.hold("conversations.list")  # ...until the tick looks again

    await bot.slack.command(ALICE, "declare SEV2 Slack is wobbly", bot.general)
    await wait_for(lambda: bot.fake.responses, what="the declarer told")
    (told,) = [r["text"] for r in bot.fake.responses]
    assert "INC-1 is declared, but Slack is not answering" in told and "Declared" not in told
    assert len(rooms(bot.fake)) == 1 and rooms(bot.fake)[0]["messages"] == []

    await asyncio.wait_for(later.reached(), timeout=10)  # the tick resumes the declaration
    clock.now = clock.start + timedelta(minutes=31)  # past the response_url's life
    later.release()
    dm = await wait_for(lambda: bot.fake.channel_named(f"dm-{ALICE}"), what="a DM")
    await wait_for(lambda: dm["messages"], what="the answer by DM")
    await bot.settled()

    (room,) = rooms(bot.fake)  # adopted, not made twice
    (card,) = [m for m in room["messages"] if m.get("metadata", {}).get("event_type") == CARD_EVENT]
    assert room["pins"] == {card["ts"]}
    (answer,) = dm["messages"]
    assert "Declared INC-1" in answer["text"] and f"<#{room['id']}>" in answer["text"]
    assert len(bot.fake.responses) == 1  # nothing more through the expired response_url
    assert len(bot.fake.calls_to("conversations.create")) == 1
