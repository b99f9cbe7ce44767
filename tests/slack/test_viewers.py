"""Who is in which private war room: read from Slack only when the domain cannot tell,
once per room for a while whoever asks, and private when Slack cannot say."""

import asyncio
from pathlib import Path

import pytest

from bot.incidents import IncidentSnapshot
from bot.incidents.privacy import shown_to
from bot.playbooks import load_playbooks
from bot.simulator import FakeSlack
from bot.slack.gateway import SlackGateway, make_client
from bot.slack.viewers import MEMBERS_SECONDS, Viewers
from bot.store.models import Incident

LIBRARY = load_playbooks(Path("playbooks"))
ALICE, BOB, CAROL, DAVE = "UALICE0001", "UBOB000001", "UCAROL0001", "UDAVE00001"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake():
    slack = await FakeSlack().start()
    for user in (ALICE, BOB, CAROL, DAVE):
        slack.add_user(user, user.lower())
    yield slack
    await slack.stop()


@pytest.fixture
async def gateway(fake):
    gateway = SlackGateway(make_client("xoxb-test", fake.api_url))
    await gateway.open()
    yield gateway
    await gateway.close()


def private(number: int, room: str) -> IncidentSnapshot:
    row = Incident(
        id=number,
        title="Breach",
        severity="SEV1",
        playbook="default",
        declared_by=ALICE,
        channel_id=room,
        private=True,
    )
    return IncidentSnapshot(row, LIBRARY.default, {"commander": ALICE, "comms": None})


def reads(fake) -> int:
    return len(fake.calls_to("conversations.members"))


async def test_rooms_are_read_only_when_needed_and_kept_for_a_while(fake, gateway):
    inside = private(1, fake.add_channel("inc-1", [ALICE, CAROL], private=True))
    outside = private(2, fake.add_channel("inc-2", [ALICE], private=True))
    clock = Clock()
    viewers = Viewers(gateway, clock)

    alice = await viewers.of(ALICE, [inside, outside])  # the declarer: nothing to ask
    assert reads(fake) == 0 and shown_to(inside, alice) and shown_to(outside, alice)

    carol = await viewers.of(CAROL, [inside, outside])
    assert shown_to(inside, carol) and not shown_to(outside, carol) and reads(fake) == 2
    dave = await viewers.of(DAVE, [inside, outside])  # the same rooms, read recently
    assert not shown_to(inside, dave) and reads(fake) == 2

    fake.channels[inside.incident.channel_id]["members"].add(DAVE)
    clock.now += MEMBERS_SECONDS
    assert shown_to(inside, await viewers.of(DAVE, [inside])) and reads(fake) == 3


async def test_many_people_at_once_share_one_read_per_room(fake, gateway):
    room = private(1, fake.add_channel("inc-1", [ALICE, CAROL], private=True))
    viewers = Viewers(gateway)
    seen = await asyncio.gather(*(viewers.of(u, [room]) for u in (BOB, CAROL, DAVE) * 5))
    assert reads(fake) == 1
    assert [shown_to(room, v) for v in seen[:3]] == [False, True, False]


async def test_when_slack_cannot_say_it_stays_private_and_is_asked_again(fake, gateway):
    gone = private(1, "CNOSUCH001")
    viewers = Viewers(gateway)
    assert not shown_to(gone, await viewers.of(CAROL, [gone]))
    assert not shown_to(gone, await viewers.of(CAROL, [gone]))
    assert reads(fake) == 2  # a failure is not kept
