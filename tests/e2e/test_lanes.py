"""Each incident's (and each owner's) scheduled work in a lane of its own: a war room or a
direct message that hangs or is rate-limited delays only itself — page escalations, owners'
reminders and drafts of every other incident go out on time. Time is a controlled clock."""

import copy

import pytest

from bot.simulator import wait_for
from tests.conftest import ALICE, BOB, CAROL, ONCALL, SRE_LEAD, TEST_PLAYBOOK
from tests.e2e.test_drills import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def playbooks():
    playbook = copy.deepcopy(TEST_PLAYBOOK)
    playbook["severities"]["SEV1"].update(update_every="1m", escalate_after="1m", invite=[])
    return [playbook]


@pytest.fixture
def bot_config() -> dict:
    rota = {"time_zone": "UTC", "people": [ONCALL, SRE_LEAD], "start": "2026-11-16 09:00"}
    return {"duty_rota": rota | {"handover": "monday 09:00"}, "ack_within": "5m"}


def texts(bot, channel: str) -> list[str]:
    return [m["text"] + " " + str(m.get("blocks")) for m in bot.fake.messages(channel)]


def pages_for(bot, title: str) -> list[str]:
    """Page messages about `title` in the duty managers' direct messages."""
    dms = [bot.fake.workspace.dm_channel(user) for user in (ONCALL, SRE_LEAD)]
    return [t for dm in dms for t in texts(bot, dm) if title in t and "page_acknowledge" in t]


def make_slow(bot, channel: str, slowness: str):
    """Slack never answers (a hold) or answers 429 Retry-After 30 for `channel`'s posts."""
    if slowness == "hanging":
        return bot.fake.hold("chat.postMessage", channel=channel)
    bot.fake.fail(
        "chat.postMessage", "ratelimited", status=429, retry_after=30, times=1000, channel=channel
    )
    return None


@pytest.mark.parametrize("slowness", ["rate-limited", "hanging"])
async def test_a_slow_room_and_a_slow_dm_delay_nobody_elses_page_or_reminder(bot, clock, slowness):
    bot.runtime.paging.pager.clock = clock
    slow = await bot.declare("SEV1 Checkout down")
    other = await bot.declare("SEV1 Search down")
    await wait_for(lambda: pages_for(bot, "Search down"), what="the first page")
    due = clock.now.date().isoformat()
    for room, owner in ((slow, CAROL), (other, BOB)):
        await bot.slack.command(ALICE, f"action Fix it <@{owner}|x> due {due}", room["id"])
    await bot.settled()
    holds = [make_slow(bot, slow["id"], slowness), make_slow(bot, CAROL, slowness)]
    try:
        clock.at(days=1, hours=1)  # pages unanswered, reminders due, drafts due
        await wait_for(
            lambda: len(pages_for(bot, "Search down")) == 2,
            timeout=10,
            what="the other incident's page escalated",
        )
        assert any("No answer from" in t for t in texts(bot, other["id"]))
        bob = bot.fake.workspace.dm_channel(BOB)
        await wait_for(
            lambda: any("overdue action item" in t for t in texts(bot, bob)),
            timeout=10,
            what="the other owner's reminder",
        )
        carol = bot.fake.workspace.dm_channel(CAROL)
        assert not any("overdue action item" in t for t in texts(bot, carol))
    finally:
        for hold in holds:
            if hold is not None:
                hold.release(perform=False)


async def test_fifty_hanging_rooms_do_not_make_a_healthy_rooms_draft_give_up(bot, clock):
    hanging = [await bot.declare(f"SEV1 Outage {n}") for n in range(51)]
    healthy = await bot.declare("SEV1 Search down")
    holds = [bot.fake.hold("chat.postMessage", channel=room["id"]) for room in hanging]
    # Short, so the test is quick; the healthy room waits longer than this for a slot.
    bot.runtime.scheduler.rooms.deadline = 2
    try:
        clock.at(minutes=1)  # every room's draft falls due at once
        draft = await wait_for(
            lambda: [t for t in texts(bot, healthy["id"]) if "Stakeholder update draft" in t],
            timeout=20,
            what="the healthy room's draft",
        )
        assert len(draft) == 1
    finally:
        for hold in holds:
            hold.release(perform=False)
