"""The status page through HTTP: published updates only, private incidents redacted."""

import asyncio
import json
import os
import shutil
from xml.etree import ElementTree

import aiohttp
import pytest

from bot.simulator import wait_for
from tests.conftest import ALICE, BOB
from tests.e2e.test_updates import broadcast_updates, first_draft

ATOM = "{http://www.w3.org/2005/Atom}"
SECRET_TITLE = "Customer database exfiltration"
CHATTER = "war room chatter: the payments box is on fire"


async def get(bot, path):
    async with aiohttp.ClientSession() as session, session.get(bot.url + path) as response:
        return response.status, await response.text()


async def publish_update(bot, room) -> str:
    """The comms lead approves a fresh draft; returns the text that went out."""
    before = len(broadcast_updates(bot))
    await bot.slack.command(ALICE, "update", room["id"])
    draft = await first_draft(bot, room)
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_approve")
    await wait_for(lambda: len(broadcast_updates(bot)) > before, what="the broadcast")
    await bot.settled()
    return broadcast_updates(bot)[-1]


async def declare_private(bot) -> dict:
    await bot.slack.command(ALICE, "declare", bot.general)
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the declare form")
    before = set(bot.fake.channels)
    await bot.slack.submit(
        ALICE,
        view_id,
        {
            "title": {"value": SECRET_TITLE},
            "severity": {"selected_option": {"value": "SEV1"}},
            "private": {"selected_options": [{"value": "private"}]},
        },
    )
    await bot.settled()
    (channel,) = [c for c in bot.fake.channels if c not in before]
    return bot.fake.channels[channel]


@pytest.fixture
async def incidents(bot):
    """A public major incident with a published update and chatter, and a private one
    with a published update of its own."""
    room = await bot.declare("SEV2 <script>alert(1)</script> checkout slow")
    await bot.slack.command(ALICE, f"assign comms <@{BOB}>", room["id"])
    await bot.settled()
    await bot.slack.say(ALICE, room["id"], CHATTER)
    await publish_update(bot, room)
    await bot.slack.command(ALICE, "note Card payments fail for <@UBOB000001>", room["id"])
    await bot.settled()
    await publish_update(bot, room)
    private = await declare_private(bot)
    await bot.slack.command(ALICE, f"assign comms <@{BOB}>", private["id"])
    await bot.settled()
    await publish_update(bot, private)
    return room, private


def leaks(text: str) -> list[str]:
    return [secret for secret in ("exfiltration", CHATTER, "payments box") if secret in text]


async def test_status_page_shows_the_latest_published_update_and_hides_private(bot, incidents):
    status, page = await get(bot, "/status")
    assert status == 200 and leaks(page) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt; checkout slow" in page
    assert "<script>" not in page
    assert 'name="viewport"' in page and 'http-equiv="refresh"' in page
    assert 'INC-2 · <span class="private">a private incident</span>' in page
    # The latest published update, people by name, and the next due time.
    assert "Card payments fail for @bob" in page
    assert "Next update due" in page and " s ago" in page


async def test_status_json_carries_the_same_data(bot, incidents):
    status, body = await get(bot, "/status.json")
    assert status == 200 and leaks(body) == []
    board = json.loads(body)
    public, private = board["open"]
    assert public["title"] == "<script>alert(1)</script> checkout slow"
    assert public["severity"] == "SEV2" and public["status"] == "investigating"
    assert "Card payments fail" in public["last_update"]["text"]
    assert public["next_update_due"] is not None
    assert private == {"reference": "INC-2", "private": True, "title": "a private incident"}


async def test_incident_page_lists_its_published_updates(bot, incidents):
    status, page = await get(bot, "/status/INC-1")
    assert status == 200 and leaks(page) == []
    assert page.count('class="update"') == 3  # the latest on its card, then both updates
    status, page = await get(bot, "/status/INC-2")
    assert status == 200 and leaks(page) == [] and "a private incident" in page
    assert 'class="update"' not in page and "SEV1" not in page
    assert (await get(bot, "/status/INC-99"))[0] == 404
    assert (await get(bot, "/status/nonsense"))[0] == 404


async def test_atom_feed_has_one_entry_per_published_public_update(bot, incidents):
    status, body = await get(bot, "/status.atom")
    assert status == 200 and leaks(body) == []
    feed = ElementTree.fromstring(body.encode())
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2  # the private incident's update is not in the feed
    newest = entries[0]
    assert newest.find(f"{ATOM}title").text.startswith("INC-1 SEV2: <script>")
    assert "Card payments fail for @bob" in newest.find(f"{ATOM}content").text
    assert newest.find(f"{ATOM}link").get("href").endswith("/status/INC-1")
    assert len({e.find(f"{ATOM}id").text for e in entries}) == 2


async def test_status_page_without_incidents(bot):
    status, page = await get(bot, "/status")
    assert status == 200 and "No open incidents." in page
    feed = ElementTree.fromstring((await get(bot, "/status.atom"))[1].encode())
    assert feed.findall(f"{ATOM}entry") == []


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PHONE = "390,844"


async def chromium(tmp_path, *args: str) -> str:
    """Run headless Chromium to completion while the bot keeps serving on this loop."""
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses root otherwise
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        f"--window-size={PHONE}",
        *sandbox,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (apt-get install chromium); CI always runs this",
)
async def test_status_page_in_a_headless_browser(bot, incidents, tmp_path):
    assert CHROMIUM, "CI must have chromium: .ci/run installs it"
    dom = await chromium(tmp_path, "--dump-dom", f"{bot.url}/status")
    # The title is text in the browser's DOM, not a script element.
    assert "<script>" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt; checkout slow" in dom
    assert "INC-1" in dom and "Card payments fail for @bob" in dom
    assert "a private incident" in dom and leaks(dom) == []
    screenshot = tmp_path / "status.png"  # kept with the test's files, to look at
    await chromium(tmp_path, f"--screenshot={screenshot}", f"{bot.url}/status")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 5000
