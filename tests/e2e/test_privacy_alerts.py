"""The alerts channel's triage message, once its alerts are declared a private incident:
the reference, not the war room (the alerts themselves were shown before anyone declared)."""

from tests.alert_payloads import alert, notification
from tests.conftest import ALICE
from tests.e2e.test_alerts import (  # noqa: F401 (fixtures)
    alerts_channel,
    bot_config,
    bot_environment_overrides,
    message_text,
    post,
    shown,
)


async def test_a_private_incident_declared_from_alerts_is_only_its_reference(
    bot,
    post,  # noqa: F811
    alerts_channel,  # noqa: F811
):
    await post("/alerts/alertmanager", notification([alert()]))
    message = await shown(bot, alerts_channel, "Firing")
    await bot.slack.click(ALICE, alerts_channel, message["ts"], "triage_declare")
    await bot.settled()
    (form,) = bot.fake.views.values()
    values = {
        "title": {"value": "Card data exposed by the error page"},
        "severity": {"selected_option": {"value": "SEV1"}},
        "private": {"selected_options": [{"value": "private"}]},
    }
    await bot.slack.submit(ALICE, form["id"], values)
    await bot.settled()
    room = bot.fake.channel_named("inc-")
    message = await shown(bot, alerts_channel, "Declared as", "INC-1", "a private incident")
    assert room["id"] not in message_text(message) and "Card data" not in message_text(message)
