"""One pace per channel shared by every replica: write slots claimed in the database."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.incidents.pacing import ChannelPace
from bot.store import Database


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await database.upgrade_schema()
    yield database
    await database.dispose()


async def test_two_replicas_share_each_channels_write_slots(db):
    clock = Clock()
    first, second = ChannelPace(db, clock), ChannelPace(db, clock)
    assert await first.claim("C1", 1.0) == 0  # the channel's first write
    assert await second.claim("C1", 1.0) == pytest.approx(1.0)  # the other replica waits
    assert await second.claim("C2", 1.0) == 0  # another channel has its own pace
    clock.now += timedelta(milliseconds=400)
    assert await first.claim("C1", 1.0) == pytest.approx(0.6)
    clock.now += timedelta(milliseconds=600)
    assert await second.claim("C1", 1.0) == 0
    assert await first.claim("C1", 1.0) == pytest.approx(1.0)
