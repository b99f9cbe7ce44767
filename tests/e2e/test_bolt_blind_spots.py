"""What Bolt alone gets wrong: form bodies containing the letters `payload`, authorization
that asks Slack on the first request, and garbage that reaches the parsers."""

import hashlib
import hmac
import json
import logging
import time

from sqlmodel import select

from bot.store.models import TimelineEntry
from tests.conftest import ALICE, BOB, SECRET


async def entries(bot, kind: str) -> list[TimelineEntry]:
    async with bot.runtime.db.transaction() as session:
        return list(
            (await session.exec(select(TimelineEntry).where(TimelineEntry.kind == kind))).all()
        )


async def test_a_command_containing_payload_is_a_command_not_an_interaction(bot):
    room = await bot.declare("SEV2 Payload service")
    answer = await bot.slack.command(ALICE, "note the payload service returns 500s", room["id"])
    await bot.settled()
    assert "usage" not in json.dumps(answer).lower()
    assert [n.text for n in await entries(bot, "note")] == ["the payload service returns 500s"]


async def test_a_command_from_a_channel_named_payload_team_is_answered(bot):
    answer = await bot.slack.command(
        BOB, "help", bot.general, channel_name="payload-team", user_name="payload"
    )
    assert "/incident declare" in json.dumps(answer)


async def test_requests_after_startup_do_not_ask_slack_who_the_bot_is(bot):
    """Slack's auth.test failing after a restart must not turn events into lost 200s."""
    calls_before = len(bot.fake.calls_to("auth.test"))  # startup's own check
    bot.fake.fail("auth.test", "internal_error", status=500, times=1000)
    room = await bot.declare("SEV2 Blip")
    await bot.slack.say(BOB, room["id"], "said during the blip")
    answer = await bot.slack.command(ALICE, "help", room["id"])
    assert "/incident declare" in json.dumps(answer)
    assert [m.text for m in await entries(bot, "message")] == ["said during the blip"]
    assert len(bot.fake.calls_to("auth.test")) == calls_before


async def test_own_posts_are_still_recognised_without_asking_slack(bot):
    room = await bot.declare("SEV2 Own posts")
    await bot.slack.command(ALICE, "note the bot says this in the room too", room["id"])
    await bot.settled()
    # the bot's own post of the note came back as a message event: not a second entry
    own = [m for m in bot.fake.messages(room["id"]) if m.get("bot_id")]
    assert own
    for message in own:
        event = {**message, "type": "message", "channel": room["id"], "channel_type": "channel"}
        assert (await bot.slack.event(event)).status == 200
    assert await entries(bot, "message") == []


async def test_garbage_is_refused_before_parsing_without_a_traceback(bot, caplog):
    caplog.set_level(logging.DEBUG)
    send = bot.slack.send
    cases = [
        (await send("not json at all", "application/json"), 400),
        (await send("[1, 2, 3]", "application/json"), 400),
        (await send('{"type": "event_callback"', "application/json"), 400),
        (await send("payload=%5B1%5D", "application/x-www-form-urlencoded"), 400),
        (await send("payload=nope", "application/x-www-form-urlencoded"), 400),
        (await send_bytes(bot, b'{"text": "\xff\xfe"}'), 400),
        (await send("{}", "application/json", headers={"X-Slack-Request-Timestamp": "soon"}), 401),
        (await send("{}", "application/json", headers={"X-Slack-Request-Timestamp": "١٢٣"}), 401),
    ]
    assert [response.status for response, _ in cases] == [status for _, status in cases]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


async def send_bytes(bot, body: bytes):
    """A body that is not UTF-8, with a fresh timestamp and a signature over its bytes."""
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    async with bot.slack._session.post(
        bot.slack.bot_url,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={digest.hexdigest()}",
        },
    ) as response:
        await response.read()
        return response
