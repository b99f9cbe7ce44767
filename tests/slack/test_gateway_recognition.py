"""The gateway finds what it did when Slack's answer was lost: its own message by the
metadata it gave it, and the channel it created by name."""

from __future__ import annotations

import asyncio

import pytest

from bot.simulator import BOT_USER, FakeSlack
from bot.slack.gateway import OWN_MESSAGE_PAGE, OWN_MESSAGE_PAGES, SlackGateway, make_client

ALICE = "UALICE0001"


@pytest.fixture
async def slack():
    fake = await FakeSlack().start()
    fake.add_user(ALICE, "alice")
    gateway = SlackGateway(make_client("xoxb-test", fake.api_url))
    await gateway.open()
    yield fake, gateway
    await gateway.close()
    await fake.stop()


async def test_own_message_is_found_by_its_metadata(slack):
    fake, gateway = slack
    room = fake.add_channel("inc-room", [ALICE])
    card = {"event_type": "incident_card", "event_payload": {"incident": 3, "version": 1}}
    ts = await gateway.post(room, "card", metadata=card)
    await gateway.post(
        room, "other", metadata={"event_type": "incident_card", "event_payload": {"incident": 4}}
    )
    fake.workspace.say(room, ALICE, "chatter")
    assert await gateway.own_message(room, "incident_card", {"incident": 3}) == ts
    assert await gateway.own_message(room, "incident_card", {"incident": 5}) is None
    assert await gateway.own_message(room, "broadcast", {"incident": 3}) is None
    assert await gateway.own_message(room, "incident_card", {"incident": 3}, oldest=ts) is None


async def test_a_persons_message_is_never_taken_for_the_bots(slack):
    fake, gateway = slack
    room = fake.add_channel("inc-room", [ALICE])
    ts = fake.workspace.say(room, ALICE, "forged")
    fake.message(room, ts)["metadata"] = {
        "event_type": "incident_card",
        "event_payload": {"incident": 3},
    }
    assert await gateway.own_message(room, "incident_card", {"incident": 3}) is None


async def test_own_message_reads_the_newest_pages_only(slack):
    fake, gateway = slack
    room = fake.add_channel("inc-room", [ALICE])
    await gateway.post(room, "card", metadata={"event_type": "incident_card", "event_payload": {}})
    for n in range(OWN_MESSAGE_PAGE * OWN_MESSAGE_PAGES):
        fake.workspace.say(room, ALICE, f"message {n}")
    assert await gateway.own_message(room, "incident_card", {}) is None
    assert len(fake.calls_to("conversations.history")) == OWN_MESSAGE_PAGES


async def test_channel_named_finds_the_bots_own_channel(slack):
    fake, gateway = slack
    for n in range(3):
        fake.add_channel(f"busy-{n}")
    fake.add_channel("inc-made-by-alice", [ALICE])
    private = fake.add_channel("inc-private", private=True, creator=BOT_USER)
    assert await gateway.channel_named("inc-private") == private
    assert await gateway.channel_named("inc-made-by-alice") is None
    assert await gateway.channel_named("inc-nowhere") is None


async def test_a_post_whose_answer_was_lost_is_not_posted_twice(slack):
    fake, gateway = slack
    room = fake.add_channel("inc-room", [ALICE])
    fake.lose_answer("chat.postMessage")
    card = {"event_type": "incident_card", "event_payload": {"incident": 3}}
    ts = await gateway.post(room, "card", metadata=card)
    assert [m["ts"] for m in fake.messages(room)] == [ts]
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_a_post_whose_answer_was_lost_and_not_done_is_sent_again(slack):
    fake, gateway = slack
    room = fake.add_channel("inc-room", [ALICE])
    card = {"event_type": "incident_card", "event_payload": {"incident": 3}}
    hold = fake.hold("chat.postMessage")
    posting = asyncio.ensure_future(gateway.post(room, "card", metadata=card))
    await hold.reached()
    hold.release(perform=False)  # the request never got through, and no answer came
    ts = await posting
    assert [m["ts"] for m in fake.messages(room)] == [ts]
    assert len(fake.calls_to("chat.postMessage")) == 2
