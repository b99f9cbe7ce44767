"""Alerts in: Alertmanager's webhook and the generic JSON, through the real app and the
fake Slack. One triage message per group, edited as alerts join, resolve or repeat."""

import asyncio
import copy
import json

import aiohttp
import pytest
from sqlmodel import select

from bot.incidents.entries import EntryKind
from bot.simulator import wait_for
from bot.store.models import TimelineEntry
from tests.alert_payloads import alert, notification
from tests.conftest import ALICE, BOB

TOKEN = "alerts-secret-token"
PACE = 0.05  # seconds between Slack writes per channel (1 s in production): a fast test


@pytest.fixture
def alerts_channel(fake) -> str:
    return fake.add_channel("alerts")


@pytest.fixture
def bot_config(alerts_channel) -> dict:
    return {"alerts_channel": alerts_channel, "alert_severity_map": {"critical": "SEV1"}}


@pytest.fixture
def bot_environment_overrides() -> dict:
    return {"ALERTS_TOKEN": TOKEN}


@pytest.fixture
async def post(bot):
    bot.runtime.triage.pacer.interval = PACE
    async with aiohttp.ClientSession() as session:

        async def send(path: str, body, token: str | None = TOKEN) -> tuple[int, dict]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with session.post(f"{bot.url}{path}", json=body, headers=headers) as response:
                return response.status, await response.json()

        yield send


def writes(bot, channel: str) -> list:
    return [
        c
        for c in bot.fake.calls
        if c.method in ("chat.postMessage", "chat.update") and c.params.get("channel") == channel
    ]


def message_text(message: dict) -> str:
    return message["text"] + json.dumps(message.get("blocks"))


async def shown(bot, channel: str, *needles: str) -> dict:
    """Wait until the channel's only message shows every needle; return it."""

    def ready():
        messages = bot.fake.messages(channel)
        if len(messages) == 1 and all(n in message_text(messages[0]) for n in needles):
            return messages[0]
        return None

    return await wait_for(ready, what=f"the triage message to show {needles}")


async def test_firing_repeating_resolving_is_one_message(bot, post, alerts_channel):
    one, two = alert(instance="checkout-1"), alert(instance="checkout-2")
    status, answer = await post("/alerts/alertmanager", notification([one]))
    assert status == 200 and answer["changed"]
    message = await shown(bot, alerts_channel, "Firing", "1 of 1 alerts firing", "checkout-1")
    assert "triage_declare" in message_text(message) and "triage_dismiss" in message_text(message)
    assert "`severity=critical`" in message_text(message)

    await post("/alerts/alertmanager", notification([one, two]))
    await shown(bot, alerts_channel, "2 of 2 alerts firing", "checkout-2")
    await bot.settled()
    edits = len(bot.fake.calls_to("chat.update"))
    status, answer = await post("/alerts/alertmanager", notification([one, two]))  # a repeat
    assert status == 200 and not answer["changed"]
    await bot.settled()
    assert len(bot.fake.calls_to("chat.update")) == edits  # nothing changed, nothing edited

    resolved = [a | {"status": "resolved", "endsAt": "2026-11-25T21:30:00Z"} for a in (one, two)]
    await post("/alerts/alertmanager", notification(resolved))
    message = await shown(bot, alerts_channel, "Resolved", "0 of 2 alerts firing")
    assert "triage_declare" not in message_text(message)  # nothing to decide any more
    assert len(bot.fake.calls_to("chat.postMessage")) == 1


async def test_a_bad_token_is_refused_and_nothing_is_stored(bot, post, alerts_channel):
    for token in ("wrong", None, TOKEN + "x"):
        status, answer = await post("/alerts/alertmanager", notification([alert()]), token)
        assert (status, answer["error"]) == (401, "unauthorized")
    status, _ = await post("/alerts/generic", {"key": "k", "title": "t"}, "wrong")
    assert status == 401
    status, answer = await post("/alerts/alertmanager", {"groupKey": "g"})
    assert status == 400 and "alerts: Field required" in answer["error"]
    await bot.settled()
    assert bot.fake.messages(alerts_channel) == [] and await bot.runtime.triage.desk.unshown() == []


async def test_generic_json_posts_a_triage_message(bot, post, alerts_channel):
    body = {
        "key": "checkout-5xx",
        "title": "Checkout 5xx above 5%",
        "labels": {"severity": "critical", "service": "checkout"},
        "description": "Card payments fail",
    }
    status, _ = await post("/alerts/generic", body)
    assert status == 200
    await shown(bot, alerts_channel, "Checkout 5xx above 5%", "`service=checkout`")
    await post("/alerts/generic", body | {"status": "resolved"})
    await shown(bot, alerts_channel, "Resolved")


async def test_a_storm_is_one_message_per_group_paced_per_channel(bot, post, alerts_channel):
    """1,000 notifications across 50 groups: 50 triage messages, each showing its last
    state, and never more than one Slack write per channel per pacing interval."""
    groups, per_group = 50, 20
    deliveries = []
    for number in range(per_group):  # each group gains an alert per round; some repeat
        for group in range(groups):
            alerts = [
                alert(f"Storm{group}", instance=f"host-{i}") for i in range(min(number, 9) + 1)
            ]
            deliveries.append(notification(alerts, alertname=f"Storm{group}"))
    assert len(deliveries) == 1000
    sending = asyncio.Semaphore(20)

    async def deliver(body):
        async with sending:
            status, _ = await post("/alerts/alertmanager", body)
            assert status == 200

    await asyncio.gather(*(deliver(copy.deepcopy(d)) for d in deliveries))
    await wait_for(
        lambda: (
            len(bot.fake.messages(alerts_channel)) == groups
            and all(
                "10 of 10 alerts firing" in message_text(m)
                for m in bot.fake.messages(alerts_channel)
            )
        ),
        timeout=60,
        what="every group's triage message showing its last state",
    )
    await bot.settled()
    calls = writes(bot, alerts_channel)
    assert sum(c.method == "chat.postMessage" for c in calls) == groups
    # Paced: the writes to the channel span at least an interval each.
    assert calls[-1].at - calls[0].at >= (len(calls) - 1) * PACE * 0.9
    # Coalesced: far fewer edits than the notifications that changed something.
    assert len(calls) - groups < 9 * groups


async def test_declare_from_the_triage_message(bot, post, alerts_channel):
    await post("/alerts/alertmanager", notification([alert()]))
    message = await shown(bot, alerts_channel, "Firing")
    await bot.slack.click(ALICE, alerts_channel, message["ts"], "triage_declare")
    await bot.settled()
    (form,) = bot.fake.views.values()
    by_block = {b.get("block_id"): b for b in form["blocks"]}
    title = by_block["title"]["element"]["initial_value"]
    assert title == "HighErrorRate: Checkout error rate above 5%"
    assert by_block["severity"]["element"]["initial_option"]["value"] == "SEV1"
    impact = by_block["impact"]["element"]["initial_value"]
    assert impact == "Card payments fail for 35% of customers"
    await bot.slack.submit(
        ALICE,
        form["id"],
        {
            "title": {"value": title},
            "severity": {"selected_option": {"value": "SEV1"}},
            "impact": {"value": impact},
        },
    )
    await bot.settled()
    room = bot.fake.channel_named("inc-")
    assert room is not None
    await shown(bot, alerts_channel, "Declared as INC-1", f"<#{room['id']}>")
    room_posts = [m["text"] for m in bot.fake.messages(room["id"])]
    assert any(t.startswith("Declared from alerts: 🔥 Firing:") for t in room_posts)

    resolved = alert(status="resolved", ends_at="2026-11-25T21:30:00Z")
    await post("/alerts/alertmanager", notification([resolved]))
    await wait_for(
        lambda: any(
            "alerts behind this incident resolved" in m["text"]
            for m in bot.fake.messages(room["id"])
        ),
        what="the war room told the alerts resolved",
    )
    async with bot.runtime.db.snapshot_read() as session:
        entries = (
            await session.exec(
                select(TimelineEntry)
                .where(TimelineEntry.kind == EntryKind.ALERT)
                .order_by(TimelineEntry.at, TimelineEntry.id)
            )
        ).all()
    assert [e.data["status"] for e in entries] == ["firing", "resolved"]


async def test_dismiss_asks_why_and_says_who(bot, post, alerts_channel):
    await post("/alerts/alertmanager", notification([alert()]))
    message = await shown(bot, alerts_channel, "Firing")
    await bot.slack.click(BOB, alerts_channel, message["ts"], "triage_dismiss")
    await bot.settled()
    (form,) = bot.fake.views.values()
    await bot.slack.submit(BOB, form["id"], {"reason": {"value": "Load test <!channel>"}})
    message = await shown(
        bot, alerts_channel, f"Dismissed by <@{BOB}>", "Load test &lt;!channel&gt;"
    )
    assert "triage_declare" not in message_text(message)


async def test_a_change_slack_refused_is_shown_later_at_its_last_state(bot, post, alerts_channel):
    bot.fake.fail("chat.postMessage", "channel_not_found", channel=alerts_channel)
    await post("/alerts/alertmanager", notification([alert(instance="checkout-1")]))
    await bot.settled()
    assert bot.fake.messages(alerts_channel) == []  # refused: nothing shows it yet
    both = [alert(instance="checkout-1"), alert(instance="checkout-2")]
    await post("/alerts/alertmanager", notification(both))  # the next change is shown ...
    await shown(bot, alerts_channel, "2 of 2 alerts firing")
    bot.fake.fail("chat.update", "channel_not_found", channel=alerts_channel)
    resolved = [a | {"status": "resolved", "endsAt": "2026-11-25T21:30:00Z"} for a in both]
    await post("/alerts/alertmanager", notification(resolved))
    await bot.settled()
    assert "Resolved" not in message_text(bot.fake.messages(alerts_channel)[0])
    await bot.runtime.triage.resume()  # ... and the scheduler's sweep shows what was refused
    await shown(bot, alerts_channel, "Resolved", "0 of 2 alerts firing")
