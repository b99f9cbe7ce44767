"""`/incident stats`: the numbers, answered privately from anywhere."""

import re

from tests.conftest import ALICE, BOB


async def test_stats_answers_with_the_numbers_of_the_window(bot):
    room = await bot.declare("SEV1 Checkout down")
    await bot.slack.command(ALICE, "status identified Bad deploy", room["id"])
    await bot.slack.command(ALICE, "resolve Rolled back", room["id"])
    await bot.slack.command(ALICE, f"action Add a canary stage <@{BOB}>", room["id"])
    await bot.settled()

    await bot.slack.command(BOB, "stats 90d", bot.general)
    await bot.settled()

    answer = bot.fake.responses[-1]["text"]
    assert answer.startswith("1 incident declared in the last 90 days")
    assert "By severity: SEV1 1" in answer and "By playbook: default 1" in answer
    assert re.search(r"Time to identify: median \d+s, 90th percentile \d+s \(1 incident\)", answer)
    assert "Stakeholder updates on time: none sent." in answer
    assert "Action items still open: 1, 0 of them overdue." in answer
    assert bot.fake.responses[-1].get("response_type") == "ephemeral"


async def test_stats_with_a_window_it_does_not_know_gets_the_usage(bot):
    ack = await bot.slack.command(BOB, "stats 7d", bot.general)
    assert "Pick a window: `/incident stats [30d|90d|365d]`" in ack["text"]
