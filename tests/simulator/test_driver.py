"""Slack's side: what the driver does when the app does not acknowledge, or a person
presses a button that is not there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from bot.simulator import FakeSlack, NotAcknowledged, SlackClient


@pytest.fixture
async def failing_app():
    """An app that answers every Slack request with 500."""

    async def refuse(_request: web.Request) -> web.Response:
        return web.Response(status=500)

    app = web.Application()
    app.router.add_post("/slack/events", refuse)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


@pytest.fixture
async def fake():
    slack = await FakeSlack().start()
    yield slack
    await slack.stop()


async def test_a_command_the_app_does_not_acknowledge(fake, failing_app):
    async with SlackClient(fake, failing_app, "secret") as slack:
        with pytest.raises(NotAcknowledged) as raised:
            await slack.command("UALICE0001", "help")
    assert raised.value.status == 500


async def test_a_person_says_something_the_app_refuses(fake, failing_app):
    general = fake.add_channel("general", ["UALICE0001"])
    async with SlackClient(fake, failing_app, "secret") as slack:
        with pytest.raises(NotAcknowledged):
            await slack.say("UALICE0001", general, "hello")
    assert [m["text"] for m in fake.messages(general)] == ["hello"]  # Slack kept it


async def test_nobody_presses_a_button_that_is_not_there(fake, failing_app):
    general = fake.add_channel("general")
    ts = fake.workspace.next_ts()
    fake.workspace.add_message(general, {"ts": ts, "text": "no buttons", "blocks": []})
    async with SlackClient(fake, failing_app, "secret") as slack:
        with pytest.raises(LookupError, match="update_approve"):
            await slack.click("UALICE0001", general, ts, "update_approve")


async def test_app_home_opened_is_shaped_like_slacks_org_app_event(fake):
    """Slack's published event (bolt-python's org-app scenario test) has these keys."""
    sample = json.loads(
        (Path(__file__).parent.parent / "data" / "app_home_opened_org_app.json").read_text()
    )
    fake.add_user("UALICE0001", "alice")
    async with SlackClient(fake, "http://127.0.0.1:9", "secret") as slack:
        payload = slack.home_opened_payload("UALICE0001", tab="messages")
    assert payload.keys() == sample.keys()
    assert payload["event"].keys() == sample["event"].keys()
    assert payload["authorizations"][0].keys() == sample["authorizations"][0].keys()
    assert payload["authorizations"][0]["team_id"] is None and payload["enterprise_id"]
    assert payload["event"]["channel"] in fake.channels  # the app's DM with the person
