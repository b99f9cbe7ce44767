"""Socket Mode: the same bot with an app-level token and no public URL.

The bot asks the fake Slack for a WebSocket URL with its app-level token, connects, and
gets envelopes down the socket; it acknowledges each one on the socket.
"""

import pytest
from sqlmodel import select

from bot.config import load_settings
from bot.server import start_on_loopback
from bot.simulator import SlackClient, message_event, wait_for
from bot.store.models import TimelineEntry
from tests.conftest import ALICE, BOB, TEST_PLAYBOOK, bot_environment, write_settings_files


@pytest.fixture
async def socket_bot(fake, tmp_path, database_url):
    broadcast = fake.add_channel("incident-updates")
    config_path = write_settings_files(tmp_path, {"broadcast_channel": broadcast}, [TEST_PLAYBOOK])
    environment = bot_environment(fake, config_path, database_url) | {
        "SLACK_APP_TOKEN": "xapp-1-A0WARROOM-test",
        "SLACK_SIGNING_SECRET": "",  # no public URL: nothing to sign
    }
    runner, runtime, url = await start_on_loopback(load_settings(environment))
    await wait_for(lambda: fake.socket_connected, what="the bot's Socket Mode connection")
    async with SlackClient(fake, url, "unused") as slack:
        yield slack, runtime
    await runner.cleanup()


async def test_commands_and_events_arrive_over_the_socket(fake, socket_bot):
    slack, runtime = socket_bot
    assert [c.method for c in fake.calls].count("apps.connections.open") == 1

    ack = await fake.deliver("slash_commands", slack.command_payload(ALICE, "frobnicate now"))
    assert "I don't know `frobnicate`" in ack["payload"]["text"]  # answered in the ack

    ack = await fake.deliver(
        "slash_commands", slack.command_payload(ALICE, "declare SEV1 Checkout down")
    )
    assert "Opening a war room" in ack["payload"]["text"]
    await wait_for(lambda: fake.calls_to("conversations.setTopic"), what="the war room")
    (room,) = [c for c in fake.channels.values() if c["name"].startswith("inc-")]

    event = message_event(room["id"], BOB, "Rolling back cart-service", "1800000000.000100")
    ack = await fake.deliver("events_api", slack.event_payload(event))
    assert "payload" not in ack  # events are acknowledged with the envelope ID alone
    # Acknowledged means stored, as over HTTP.
    async with runtime.db.snapshot_read() as session:
        texts = (await session.exec(select(TimelineEntry.text))).all()
    assert "Rolling back cart-service" in texts


async def test_no_unsigned_http_route_in_socket_mode(socket_bot):
    slack, _ = socket_bot
    response = await slack.send("{}", "application/json")
    assert response.status == 404


async def test_a_reconnect_fills_the_gap_from_history(fake, socket_bot):
    """Slack asks the app to reconnect; what was said meanwhile is read from history."""
    slack, runtime = socket_bot
    await fake.deliver("slash_commands", slack.command_payload(ALICE, "declare SEV2 Socket gap"))
    room = await wait_for(lambda: fake.channel_named("inc-"), what="the war room")
    await wait_for(lambda: runtime.tasks.pending == 0, what="the declaration")
    ts = fake.workspace.next_ts()
    fake.workspace.add_message(room["id"], message_event(room["id"], BOB, "said meanwhile", ts))
    connections = len(fake.calls_to("apps.connections.open"))
    await fake.refresh_socket_mode()
    await wait_for(
        lambda: len(fake.calls_to("apps.connections.open")) > connections, what="a reconnect"
    )

    async def stored() -> list[str]:
        async with runtime.db.snapshot_read() as session:
            return list((await session.exec(select(TimelineEntry.text))).all())

    await wait_for(lambda: _has(stored(), "said meanwhile"), what="the message from history")


async def _has(texts, wanted: str) -> bool:
    return wanted in await texts
