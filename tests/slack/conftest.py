"""The fake Slack with the bot's gateway pointed at it, and a clock the test moves."""

import pytest

from bot.simulator import FakeSlack
from bot.slack.gateway import SlackGateway, make_client


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def gateway_to_fake():
    """(the fake Slack, a gateway calling it, a clock at 1000.0 s)."""
    fake = FakeSlack()
    await fake.start()
    gateway = SlackGateway(make_client("xoxb-test", fake.api_url))
    await gateway.open()
    yield fake, gateway, Clock()
    await gateway.close()
    await fake.stop()
