"""Roles are for people, on every path to one: an alert that declares at once gives the
command to the first person on duty who can hold it, not to a deactivated account the
rota or the response team still names."""

import pytest

from bot.simulator import wait_for
from tests.alert_payloads import alert, notification
from tests.conftest import ONCALL
from tests.e2e import test_alerts_auto_declare as auto
from tests.e2e.test_alerts_auto_declare import deliver

GONE = "UGONE00001"
playbooks, bot_environment_overrides = auto.playbooks, auto.bot_environment_overrides


@pytest.fixture
def bot_config(fake) -> dict:
    fake.add_user(GONE, "gone")
    fake.users[GONE]["deleted"] = True
    return {
        "alerts_channel": fake.add_channel("alerts"),
        "alert_severity_map": {"critical": "SEV1"},
        "response_team": [GONE, ONCALL],
    }


async def test_an_alert_does_not_make_a_deactivated_account_commander(bot):
    bot.runtime.triage.pacer.interval = 0.01
    await deliver(bot, notification([alert()]))
    await wait_for(lambda: bot.fake.channel_named("inc-"), what="a war room")
    await bot.settled()
    (incident,) = await bot.service.list_open()
    assert incident.commander == ONCALL
