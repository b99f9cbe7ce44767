"""Who may do what, attacked: rights end the moment a role is handed over (the old holder's
command, card menu and draft buttons are refused), and an admin user group whose members
Slack will not list grants nothing while the role holders still act."""

import pytest

from tests.conftest import ALICE, BOB, CAROL, SRE_GROUP, SRE_LEAD
from tests.e2e.test_permissions import here, privately, run, war_room


@pytest.fixture
def bot_config() -> dict:
    return {"incident_admins": [SRE_GROUP]}


async def test_a_role_handed_over_takes_its_rights_with_it_at_once(bot):
    room = await war_room(bot, "SEV2 Checkout slow")  # ALICE commands, BOB is tech lead
    await run(bot, room, BOB, f"assign tech <@{CAROL}>")  # BOB hands his only role over
    await run(bot, room, BOB, "status identified")
    assert "⛔ Only the Incident Commander" in bot.fake.responses[-1]["text"]

    card = bot.fake.messages(room["id"])[0]
    incident = (await here(bot, room)).id
    await bot.slack.click(BOB, room["id"], card["ts"], "card_severity", selected=f"{incident}:SEV1")
    await bot.settled()
    assert privately(bot, room, BOB)[-1].startswith("⛔ Only the Incident Commander")
    snapshot = await here(bot, room)
    assert (snapshot.incident.status, snapshot.incident.severity) == ("investigating", "SEV2")
    await run(bot, room, CAROL, "status identified")  # the new holder may, at once
    assert (await here(bot, room)).incident.status == "identified"


async def test_an_admin_group_slack_cannot_list_grants_nothing(bot):
    bot.fake.fail("usergroups.users.list", "missing_scope", times=100)
    room = await war_room(bot)
    await run(bot, room, SRE_LEAD, "status identified")
    assert "⛔ Only the Incident Commander" in bot.fake.responses[-1]["text"]
    assert (await here(bot, room)).incident.status == "investigating"
    await run(bot, room, ALICE, "status identified")  # a role holder still acts
    assert (await here(bot, room)).incident.status == "identified"
