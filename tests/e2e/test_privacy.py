"""Private stays private: outside its war room and its members, a private incident is only
"a private incident" with its reference, on every surface; its members see it whole.

DAVE is the outsider; ONCALL is in the war room (invited by the playbook) without a role,
so only Slack's member list says he may see it; BOB is its comms lead."""

import json

import pytest

from bot.simulator import wait_for
from tests.conftest import ALICE, BOB, CAROL, DAVE, ONCALL
from tests.e2e.test_home import opened_home
from tests.e2e.test_web import get

SECRET = "Customer database exfiltration"
LABEL = "INC-1 — a private incident"


def dumped(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def bot_config() -> dict:
    return {"response_team": [DAVE]}  # DAVE is paged for major incidents, not in their rooms


@pytest.fixture
async def secret(bot) -> dict:
    """INC-1: private, SEV1, declared by ALICE with BOB as comms lead; INC-2: public."""
    await bot.slack.command(ALICE, "declare", bot.general)
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the declare form")
    values = {
        "title": {"value": SECRET},
        "severity": {"selected_option": {"value": "SEV1"}},
        "private": {"selected_options": [{"value": "private"}]},
    }
    await bot.slack.submit(ALICE, view_id, values)
    await bot.settled()
    room = bot.fake.channel_named("inc-")
    # Slack answers name_taken to anyone trying a name: the title must not be in it.
    assert room["is_private"] and room["name"].endswith("-inc-1"), room["name"]
    await bot.slack.command(ALICE, f"assign comms <@{BOB}>", room["id"])
    await bot.declare("SEV2 Checkout slow", CAROL)
    await bot.settled()
    assert ONCALL in room["members"] and DAVE not in room["members"]
    return room


async def listed(bot, user: str, page: str = "") -> str:
    await bot.slack.command(user, f"list {page}".strip(), bot.general)
    await bot.settled()
    return dumped(bot.fake.responses[-1])


async def asked(bot, user: str, question: str) -> str:
    await bot.slack.command(user, f"ask 1 {question}", bot.general)
    await bot.settled()
    return bot.fake.responses[-1]["text"]


def leaks(text: str, room: dict) -> list[str]:
    secrets = (SECRET, "exfiltration", room["id"], room["name"], ALICE, BOB, ONCALL)
    return [s for s in secrets if s in text]


async def test_an_outsider_sees_only_its_reference_on_every_surface(bot, secret):
    answer = await listed(bot, DAVE)
    assert LABEL in answer and "Checkout slow" in answer and leaks(answer, secret) == []

    bot.fake.channels[bot.broadcast]["members"].add(DAVE)
    await bot.slack.say(DAVE, bot.broadcast, "what is going on?")
    await bot.settled()
    pointer = bot.fake.messages(bot.broadcast)[-1]
    assert pointer["for_user"] == DAVE and LABEL in pointer["text"]
    assert "/incident ask 1" in pointer["text"] and leaks(pointer["text"], secret) == []

    answer = await asked(bot, DAVE, "Is our data safe?")
    assert "INC-1's comms lead" in answer and leaks(answer, secret) == []
    told = bot.fake.channel_named(f"dm-{BOB}")["messages"][-1]["text"]
    assert SECRET in told and "Is our data safe?" in told  # the comms lead sees it whole

    home = await opened_home(bot, DAVE)
    assert LABEL in home and "Checkout slow" in home and leaks(home, secret) == []

    for path in ("/status", "/status.json", "/status/INC-1"):
        status, page = await get(bot, path)
        assert status == 200 and "a private incident" in page and leaks(page, secret) == []

    executives = dumped(bot.fake.messages(bot.broadcast))
    assert "INC-1 — a private incident" in executives and leaks(executives, secret) == []
    team = dumped(bot.fake.messages(bot.response_team))
    assert "INC-1" in team and leaks(team, secret) == []


async def test_its_members_see_it_whole(bot, secret):
    for member in (ALICE, BOB, ONCALL):  # declarer, comms lead, in the room without a role
        answer = await listed(bot, member)
        assert SECRET in answer and LABEL not in answer, member
    home = await opened_home(bot, ONCALL)
    assert SECRET in home and f"<#{secret['id']}>" in home
    answer = await asked(bot, ONCALL, "Which customers?")
    assert f"<@{BOB}>" in answer  # a member is told who the comms lead is


async def test_search_and_stats_count_it_without_naming_it(bot, secret):
    await bot.slack.command(ALICE, "resolve Keys rotated, bucket closed", secret["id"])
    await bot.settled()

    await bot.slack.command(DAVE, "search customer database", bot.general)
    await bot.settled()
    outsider = dumped(bot.fake.responses[-1])
    assert "No past incident matches" in outsider and leaks(outsider, secret) == []
    await bot.slack.command(ONCALL, "search customer database", bot.general)
    await bot.settled()
    assert SECRET in dumped(bot.fake.responses[-1])

    await bot.slack.command(DAVE, "stats 30d", bot.general)
    await bot.settled()
    numbers = bot.fake.responses[-1]["text"]
    assert numbers.startswith("2 incidents declared") and "By severity: SEV1 1" in numbers
    assert leaks(numbers, secret) == []


async def test_a_page_to_someone_outside_names_only_the_reference(bot, secret):
    """The duty manager paged for a private incident is not in its room until they
    acknowledge: the page says which incident, not what it is about."""
    pages = await wait_for(
        lambda: (
            [m for m in bot.fake.channel_named(f"dm-{DAVE}")["messages"] if "📟" in m["text"]]
            if bot.fake.channel_named(f"dm-{DAVE}")
            else None
        ),
        what="DAVE's pages",
    )
    private = [dumped(m) for m in pages if "INC-1" in m["text"]]
    assert private and all("🔒 INC-1 — a private incident" in p for p in private)
    assert all(leaks(p, secret) == [] for p in private)
