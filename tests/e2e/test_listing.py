"""`/incident list [page]`: every open incident, a page at a time, most severe first and
then the newest, within Slack's limits, saying how many more there are and how to see them."""

import json
import re

from tests.conftest import ALICE, BOB, DAVE

SEVERITIES = ["SEV4", "SEV2", "SEV1", "SEV3"]  # declared mixed, so the order is the bot's
LONG = " & ".join(["very long words"] * 8)  # titles near 150 characters, `&` escaped


async def declared(bot, count: int) -> list[tuple[str, int]]:
    """`count` open incidents (without Slack work: rows and rooms); their (severity, id)."""
    made = []
    for number in range(count):
        severity = SEVERITIES[number % len(SEVERITIES)]
        snapshot = await bot.service.declare(
            title=f"Outage {number} {LONG}"[:140], declared_by=BOB, severity=severity
        )
        await bot.service.attach_channel(snapshot.id, f"CROOM{number:05d}", f"inc-{number}")
        made.append((severity, snapshot.id))
    return made


async def page(bot, text: str) -> dict:
    await bot.slack.command(DAVE, text, bot.general)
    await bot.settled()
    return bot.fake.responses[-1]  # the simulator refuses blocks over Slack's limits


def shown(answer: dict) -> str:
    return json.dumps(answer["blocks"], ensure_ascii=False)


def references(answer: dict) -> list[int]:
    return [int(n) for n in re.findall(r"INC-(\d+) ·", shown(answer))]


async def test_sixty_incidents_page_by_severity_then_newest(bot):
    made = await declared(bot, 60)
    expected = [i for _, i in sorted(made, key=lambda m: (m[0], -m[1]))]

    first = await page(bot, "list")
    assert len(first["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in first["blocks"] if "text" in b)
    assert "*Open incidents* (60) · page 1 of 3" in first["blocks"][0]["text"]["text"]
    assert references(first) == expected[:20]
    assert first["blocks"][-1]["elements"][0]["text"] == "…and 40 more: `/incident list 2`"

    second = await page(bot, "list 2")
    assert references(second) == expected[20:40]
    assert "…and 20 more: `/incident list 3`" in shown(second)

    last = await page(bot, "list 3")
    assert references(last) == expected[40:] and "more:" not in shown(last)
    assert "SEV4" in shown(last) and "SEV1" not in shown(last)

    beyond = await page(bot, "list 4")
    assert "There is no page 4" in beyond["text"] and "`/incident list 3`" in beyond["text"]


async def test_a_page_that_is_not_a_number_gets_the_usage(bot):
    answer = await bot.slack.command(ALICE, "list two", bot.general)
    assert "Give a page number: `/incident list [page]`" in answer["text"]
    answer = await bot.slack.command(ALICE, "list 0", bot.general)
    assert "Give a page number" in answer["text"]


async def test_a_short_list_has_no_pages(bot):
    await declared(bot, 3)
    answer = await page(bot, "list")
    assert "*Open incidents* (3)" in answer["text"] and "page" not in answer["text"]
    assert len(references(answer)) == 3 and "more:" not in shown(answer)


async def test_private_rooms_on_the_page_are_read_once_and_only_for_outsiders(bot):
    for number in range(30):
        snapshot = await bot.service.declare(
            title=f"Breach {number}", declared_by=BOB, severity="SEV1", private=True
        )
        room = bot.fake.add_channel(f"inc-breach-{number}", [BOB, ALICE], private=True)
        await bot.service.attach_channel(snapshot.id, room, f"inc-breach-{number}")

    members_read = lambda: len(bot.fake.calls_to("conversations.members"))  # noqa: E731
    answer = await page(bot, "list")
    assert shown(answer).count("a private incident") == 20 and "Breach" not in shown(answer)
    assert members_read() == 20  # the rooms on the page only
    assert shown(await page(bot, "list 2")).count("a private incident") == 10
    assert members_read() == 30
    await bot.slack.command(ALICE, "list", bot.general)  # in every room: sees them whole
    await bot.settled()
    assert shown(bot.fake.responses[-1]).count("Breach") == 20
    await page(bot, "list")
    assert members_read() == 30  # read recently: not again
