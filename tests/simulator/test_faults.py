"""Slack being slow or losing its answers, as a test plans it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient


@pytest.fixture
def bare_client(fake):
    """No retries: each call is sent once, as the test sees it."""
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])


async def test_a_lost_answer_is_done_but_not_heard(fake, bare_client):
    general = fake.add_channel("general")
    fake.lose_answer("chat.postMessage", text="lost")
    with pytest.raises(aiohttp.ClientError):
        await bare_client.chat_postMessage(channel=general, text="lost")
    await bare_client.chat_postMessage(channel=general, text="heard")
    assert [m["text"] for m in fake.messages(general)] == ["lost", "heard"]


async def test_a_held_call_waits_for_its_release(fake, bare_client):
    hold = fake.hold("conversations.create", name="inc-slow")
    creating = asyncio.ensure_future(bare_client.conversations_create(name="inc-slow"))
    assert (await hold.reached())["name"] == "inc-slow"
    assert fake.channel_named("inc-slow") is None  # not done while held
    await bare_client.conversations_create(name="inc-other")  # others are not held
    hold.release()
    assert (await creating)["channel"]["name"] == "inc-slow"


async def test_a_held_call_released_unperformed_never_happened(fake, bare_client):
    hold = fake.hold("conversations.create")
    creating = asyncio.ensure_future(bare_client.conversations_create(name="inc-slow"))
    await hold.reached()
    hold.release(perform=False)
    with pytest.raises(aiohttp.ClientError):
        await creating
    assert fake.channel_named("inc-slow") is None
