"""Health and the read-only status page."""

import json

import aiohttp

from bot.simulator import wait_for
from tests.conftest import ALICE


async def get(bot, path):
    async with aiohttp.ClientSession() as session, session.get(bot.url + path) as response:
        return response.status, await response.text()


async def test_healthz(bot):
    assert await get(bot, "/healthz") == (200, '{"ok": true}')


async def test_status_page_lists_open_incidents_and_hides_private_titles(bot):
    await bot.declare("SEV2 <script>alert(1)</script> checkout slow")
    await bot.slack.command(ALICE, "declare", bot.general)
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the declare form")
    await bot.slack.submit(
        ALICE,
        view_id,
        {
            "title": {"value": "Customer database exfiltration"},
            "severity": {"selected_option": {"value": "SEV1"}},
            "private": {"selected_options": [{"value": "private"}]},
        },
    )
    await bot.settled()

    status, page = await get(bot, "/status")
    assert status == 200 and "&lt;script&gt;" in page and "<script>" not in page
    assert "exfiltration" not in page and "Private incident" in page
    status, body = await get(bot, "/status.json")
    titles = sorted(i["title"] for i in json.loads(body)["incidents"])
    assert titles == ["<script>alert(1)</script> checkout slow", "Private incident"]
