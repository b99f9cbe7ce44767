"""The fake Slack on its own (no people in it), and an SDK client pointed at it."""

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.simulator import FakeSlack


@pytest.fixture
async def fake():
    slack = await FakeSlack().start()
    yield slack
    await slack.stop()


@pytest.fixture
async def client(fake):
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
