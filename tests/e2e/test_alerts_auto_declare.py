"""A severity with `auto_declare: true`: its alerts declare at once, one incident per group."""

import asyncio
import copy

import aiohttp
import pytest
from sqlmodel import select

from bot.simulator import wait_for
from bot.store.models import AlertGroup, Incident, TimelineEntry
from tests.alert_payloads import alert, notification
from tests.conftest import ONCALL, TEST_PLAYBOOK
from tests.e2e.reviewing import fill_in_review

TOKEN = "alerts-secret-token"
ALERT_FIRED = "Alert firing: HighErrorRate: Checkout error rate above 5%"


@pytest.fixture
def playbooks() -> list[dict]:
    playbook = copy.deepcopy(TEST_PLAYBOOK)
    playbook["severities"]["SEV1"]["auto_declare"] = True
    return [playbook]


@pytest.fixture
def bot_config(fake) -> dict:
    return {
        "alerts_channel": fake.add_channel("alerts"),
        "alert_severity_map": {"critical": "SEV1", "warning": "SEV3"},
        "response_team": ["SSREGROUP1", ONCALL],
    }


@pytest.fixture
def bot_environment_overrides() -> dict:
    return {"ALERTS_TOKEN": TOKEN}


async def deliver(bot, body: dict) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{bot.url}/alerts/alertmanager", json=body, headers=headers) as response,
    ):
        assert response.status == 200


async def test_critical_alerts_declare_once_with_the_duty_person_in_command(bot):
    bot.runtime.triage.pacer.interval = 0.01
    body = notification([alert()])
    await asyncio.gather(*(deliver(bot, copy.deepcopy(body)) for _ in range(5)))
    room = await wait_for(lambda: bot.fake.channel_named("inc-"), what="a war room")
    await bot.settled()
    (incident,) = await bot.service.list_open()
    assert incident.incident.severity == "SEV1" and incident.commander == ONCALL
    assert incident.incident.title == "HighErrorRate: Checkout error rate above 5%"
    assert ONCALL in room["members"]
    await deliver(bot, body)  # repeats change nothing: still one incident
    await bot.settled()
    assert len(await bot.service.list_open()) == 1
    assert [c["name"] for c in bot.fake.channels.values() if c["name"].startswith("inc-")] == [
        room["name"]
    ]


async def test_other_severities_wait_for_triage(bot):
    await deliver(bot, notification([alert("DiskFilling", severity="warning")], "DiskFilling"))
    await bot.settled()
    assert await bot.service.list_open() == []


async def alert_entries(bot) -> list[str]:
    async with bot.runtime.db.snapshot_read() as session:
        entries = await session.exec(select(TimelineEntry).where(TimelineEntry.kind == "alert"))
        return [e.text for e in entries.all()]


async def test_an_alert_resolving_after_the_close_is_not_added_to_the_timeline(bot):
    await deliver(bot, notification([alert()]))
    room = await wait_for(lambda: bot.fake.channel_named("inc-"), what="the war room")
    await bot.settled()
    assert await alert_entries(bot) == [ALERT_FIRED]
    await bot.slack.command(ONCALL, "resolve", room["id"])
    await bot.settled()
    await fill_in_review(bot, room, ONCALL)
    await bot.slack.command(ONCALL, "close", room["id"])
    await bot.settled()
    async with bot.runtime.db.snapshot_read() as session:
        assert (await session.exec(select(Incident))).one().status == "closed"

    resolved = alert(status="resolved", ends_at="2026-11-25T22:00:00Z")
    await deliver(bot, notification([resolved]))
    await bot.settled()
    async with bot.runtime.db.snapshot_read() as session:
        assert (await session.exec(select(AlertGroup))).one().status == "resolved"  # heard
    assert await alert_entries(bot) == [ALERT_FIRED]
