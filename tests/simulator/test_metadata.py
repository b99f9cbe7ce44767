"""Message metadata and conversations.list in the fake Slack, as Slack answers them."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from bot.simulator import BOT_USER

CARD = {"event_type": "incident_card", "event_payload": {"incident": 7}}


async def slack_error(call) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value.response["error"]


async def test_history_returns_metadata_only_when_asked_for_it(fake, client):
    general = fake.add_channel("general")
    await client.chat_postMessage(channel=general, text="card", metadata=CARD)
    plain = await client.conversations_history(channel=general)
    assert "metadata" not in plain["messages"][0]
    full = await client.conversations_history(channel=general, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == CARD


async def test_metadata_as_json_text_in_a_form_body(fake):
    general = fake.add_channel("general")
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{fake.api_url}chat.postMessage",
            data={"channel": general, "text": "x", "metadata": '{"event_type": "a_b"}'},
            headers={"Authorization": "Bearer xoxb-test"},
        )
        assert (await response.json())["ok"]
        response = await session.post(
            f"{fake.api_url}chat.postMessage",
            data={"channel": general, "text": "x", "metadata": "{not json"},
            headers={"Authorization": "Bearer xoxb-test"},
        )
        assert await response.json() == {"ok": False, "error": "invalid_metadata_format"}
    assert fake.messages(general)[0]["metadata"] == {"event_type": "a_b", "event_payload": {}}


@pytest.mark.parametrize(
    "metadata",
    [
        {"event_payload": {"a": 1}},
        {"event_type": "has spaces", "event_payload": {}},
        {"event_type": "ok", "event_payload": ["not", "an", "object"]},
    ],
)
async def test_metadata_slack_refuses(fake, client, metadata):
    general = fake.add_channel("general")
    error = await slack_error(client.chat_postMessage(channel=general, text="x", metadata=metadata))
    assert error == "invalid_metadata_format"
    assert fake.messages(general) == []


async def test_conversations_list_shows_what_the_bot_can_see_page_by_page(fake, client):
    public = [fake.add_channel(f"public-{n}") for n in range(5)]
    joined = fake.add_channel("private-joined", private=True)
    secret = fake.add_channel("private-other", private=True)
    fake.channels[secret]["members"].discard(BOT_USER)
    fake.workspace.dm_channel(fake.add_user("UDM0000001", "dee"))
    seen = []
    async for page in await client.conversations_list(
        types="public_channel,private_channel", limit=2
    ):
        assert len(page["channels"]) <= 2
        seen += [c["id"] for c in page["channels"]]
    assert seen == [*public, joined]
    public_only = await client.conversations_list(limit=100)
    assert [c["id"] for c in public_only["channels"]] == public
    assert await slack_error(client.conversations_list(cursor="bm9wZQ==")) == "invalid_cursor"


async def test_a_channel_the_bot_creates_names_it_as_creator(fake, client):
    created = await client.conversations_create(name="inc-x")
    listed = await client.conversations_list()
    assert [c["creator"] for c in listed["channels"]] == [BOT_USER]
    assert listed["channels"][0]["id"] == created["channel"]["id"]
