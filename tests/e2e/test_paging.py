"""Paging the duty MIM manager through the real app: page, timeout, escalate along the
rota, acknowledge, take command. Time is a controlled clock: no sleeps."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.simulator import wait_for
from bot.store.models import TimelineEntry
from tests.conftest import ALICE, ONCALL, SRE_LEAD
from tests.incidents.test_updates import Clock

ROTA = {
    "time_zone": "Europe/London",
    "people": [ONCALL, SRE_LEAD],
    "start": "2026-11-16 09:00",
    "handover": "monday 09:00",
}


@pytest.fixture
def bot_config() -> dict:
    return {"duty_rota": ROTA, "ack_within": "5m"}


@pytest.fixture
def duty_clock(bot) -> Clock:
    clock = Clock()
    clock.now = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # SRE_LEAD's week
    bot.runtime.paging.pager.clock = clock
    return clock


def dm(bot, user: str) -> list[dict]:
    channel = next((c for c in bot.fake.channels.values() if c["name"] == f"dm-{user}"), None)
    return channel["messages"] if channel else []


def dm_channel(bot, user: str) -> str:
    return next(c["id"] for c in bot.fake.channels.values() if c["name"] == f"dm-{user}")


async def tick(bot) -> None:
    """Claim paging's due work now and wait until each incident's share has run."""
    scheduler = bot.runtime.scheduler
    await scheduler.hand_out(bot.runtime.paging.claim_due)
    await wait_for(lambda: not scheduler.rooms.busy(), what="the incidents' lanes done")
    await bot.settled()


async def test_page_escalate_acknowledge_and_take_command(bot, duty_clock):
    clock = duty_clock
    room = await bot.declare("SEV1 Checkout down")
    (page,) = await wait_for(lambda: dm(bot, SRE_LEAD), what="the duty manager's page")
    assert "Checkout down" in page["text"] + str(page["blocks"])
    assert "page_acknowledge" in str(page["blocks"])
    room_text = lambda: " ".join(m["text"] for m in bot.fake.messages(room["id"]))  # noqa: E731
    assert f"Paging <@{SRE_LEAD}>, the duty MIM manager (acknowledge within 5m)" in room_text()

    clock.advance(minutes=4, seconds=59)
    await tick(bot)
    assert dm(bot, ONCALL) == []  # not yet
    clock.advance(seconds=1)
    await tick(bot)
    (second,) = await wait_for(lambda: dm(bot, ONCALL), what="the next on the rota paged")
    assert f"No answer from <@{SRE_LEAD}> within 5m: paging <@{ONCALL}>" in room_text()

    clock.advance(seconds=30)
    await bot.slack.click(ONCALL, dm_channel(bot, ONCALL), second["ts"], "page_acknowledge")
    await bot.settled()
    assert ONCALL in room["members"]
    assert f"<@{ONCALL}> acknowledged the page (after 5m30s)" in room_text()
    (answered,) = dm(bot, ONCALL)
    assert "You acknowledged" in answered["text"] and "page_take_command" in str(answered["blocks"])

    await bot.slack.click(ONCALL, dm_channel(bot, ONCALL), answered["ts"], "page_take_command")
    await bot.settled()
    (snapshot,) = await bot.service.list_open()
    assert snapshot.commander == ONCALL

    clock.advance(minutes=30)
    await tick(bot)
    assert len(dm(bot, SRE_LEAD)) == 1 and len(dm(bot, ONCALL)) == 1  # answered: no more pages
    assert dm(bot, ONCALL)[0]["text"] == f"🎖️ You took command of INC-1: <#{room['id']}>."

    # The first page answered late: refused, privately.
    await bot.slack.click(SRE_LEAD, dm_channel(bot, SRE_LEAD), page["ts"], "page_acknowledge")
    await bot.settled()
    assert "already acknowledged" in dm(bot, SRE_LEAD)[-1]["text"]

    async with bot.runtime.db.snapshot_read() as session:
        kinds = [
            (e.kind, e.actor)
            for e in (
                await session.exec(
                    select(TimelineEntry)
                    .where(TimelineEntry.kind.in_(("paged", "page_acknowledged")))
                    .order_by(TimelineEntry.at, TimelineEntry.id)
                )
            ).all()
        ]
    assert kinds == [("paged", SRE_LEAD), ("paged", ONCALL), ("page_acknowledged", ONCALL)]


async def test_minor_incidents_page_nobody(bot, duty_clock):
    clock = duty_clock
    await bot.declare("SEV3 Search slow")
    clock.advance(minutes=10)
    await tick(bot)
    assert dm(bot, SRE_LEAD) == [] and dm(bot, ONCALL) == []


async def test_raising_an_incident_to_major_pages_the_duty_manager_once(bot, duty_clock):
    room = await bot.declare("SEV3 Search slow")
    await bot.slack.command(ALICE, "severity SEV1", room["id"])
    await bot.settled()
    (page,) = await wait_for(lambda: dm(bot, SRE_LEAD), what="the duty manager's page")
    assert "Search slow" in page["text"] + str(page["blocks"])
    await tick(bot)  # the sweep for major incidents nobody paged finds none
    await bot.slack.command(ALICE, "severity SEV2", room["id"])  # still major: no new page
    await bot.settled()
    await tick(bot)
    assert len(dm(bot, SRE_LEAD)) == 1 and dm(bot, ONCALL) == []


async def test_oncall_says_who_is_on_duty_now_and_next(bot, duty_clock):
    clock = duty_clock
    answer = await bot.slack.command(ALICE, "oncall", bot.general)
    assert f"On duty now: <@{SRE_LEAD}>" in answer["text"]
    assert f"Next: <@{ONCALL}>" in answer["text"]
    clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday 09:00 GMT: the handover
    answer = await bot.slack.command(ALICE, "oncall", bot.general)
    assert f"On duty now: <@{ONCALL}>" in answer["text"]
