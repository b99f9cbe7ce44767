"""Text as Slack sends it, from the room to the executives: decoded once, escaped once,
people by name, links by their label, titles as typed."""

import json

from sqlmodel import select

from bot.simulator import wait_for
from bot.store.models import Incident
from tests.conftest import ALICE, BOB, CAROL
from tests.e2e.test_updates import broadcast_updates, first_draft, with_comms


async def test_what_was_said_reaches_the_executives_escaped_exactly_once(bot):
    room = await with_comms(bot)
    said = await bot.slack.say(
        CAROL,
        room["id"],
        f"p99 > 5s & rising, <@{BOB}> is on it: <https://runbooks.example/db?x=1&y=2|R&D runbook>",
    )
    await bot.slack.react(ALICE, room["id"], said)  # key: it goes into the draft
    await bot.slack.command(ALICE, "update", room["id"])
    draft = await first_draft(bot, room)
    preview = json.dumps(draft["blocks"])
    assert "p99 &gt; 5s &amp; rising, @bob is on it: R&amp;D runbook" in preview
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_approve")
    await wait_for(lambda: broadcast_updates(bot), what="the broadcast")
    (published,) = broadcast_updates(bot)
    assert "p99 &gt; 5s &amp; rising, @bob is on it: R&amp;D runbook" in published
    assert "&amp;gt;" not in published and "&amp;amp;" not in published
    assert "<@" + BOB not in published and "<https://" not in published


async def test_the_room_keeps_links_and_people(bot):
    room = await bot.declare("SEV2 Links")
    await bot.slack.command(
        ALICE, f"note <@{BOB}> found it: <https://status.example|vendor status> & more", room["id"]
    )
    await bot.settled()
    echoed = bot.fake.messages(room["id"])[-1]["text"]
    assert f"<@{BOB}> found it: <https://status.example|vendor status> &amp; more" in echoed


async def test_titles_count_and_slug_as_typed(bot):
    room = await bot.declare("SEV2 R&D login down")
    assert room["name"].endswith("-r-d-login-down")
    async with bot.runtime.db.transaction() as session:
        (incident,) = (await session.exec(select(Incident))).all()
    assert incident.title == "R&amp;D login down"  # said text, as Slack sent it
    card = json.dumps(bot.fake.messages(room["id"])[0]["blocks"])
    assert "INC-1 \\u00b7 R&D login down" in card  # the header is plain text: as typed
    title = "&" * 150  # 150 characters as typed, 750 as Slack sends them
    await bot.slack.command(ALICE, f"declare SEV4 {title}", bot.general)
    await bot.settled()
    assert (
        bot.fake.channel_named("inc-")
        and len([c for c in bot.fake.channels.values() if c["name"].startswith("inc-")]) == 2
    )
