"""Drills through the real app: a drill from declaration to scorecard on a controlled
clock, its injects posted once when due, everything marked DRILL, nothing sent to the
executives or the response team, and the status page without it."""

import os
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import yaml
from sqlmodel import col, select

from bot.config import load_settings
from bot.server import start_on_loopback
from bot.simulator import SlackClient, wait_for
from bot.store.models import Drill, DrillInject, Question, RoleAssignment, TimelineEntry
from tests.conftest import (
    ALICE,
    BOB,
    CAROL,
    SECRET,
    TEST_PLAYBOOK,
    bot_environment,
    reset_schema,
    write_settings_files,
)
from tests.e2e.processes import let_time_pass, start_bot, stop

SCENARIO = {
    "name": "checkout-fire",
    "description": "Checkout errors at peak",
    "title": "Checkout errors at peak",
    "default_severity": "SEV1",
    "injects": [
        {"offset": "5m", "kind": "question", "text": "The VP of Sales asks: what is the ETA?"},
        {"offset": "2m", "text": "Dashboard: checkout error rate 35%"},
        {"offset": "8m", "kind": "offline", "role": "tl", "text": "The tech lead's laptop dies."},
    ],
}


class Clock:
    """The bot's now: starts at the real time (so nothing is overdue for APScheduler) and
    moves only when the test says."""

    def __init__(self):
        self.start = self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def at(self, **since_start) -> None:
        self.now = self.start + timedelta(**since_start)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def bot_config(tmp_path) -> dict:
    """The scenario goes next to the playbooks the bot fixture writes."""
    folder = tmp_path / "playbooks" / "scenarios"
    folder.mkdir(parents=True)
    (folder / "checkout-fire.yaml").write_text(yaml.safe_dump(SCENARIO))
    return {}


async def rows(bot, model, *where) -> list:
    async with bot.runtime.db.snapshot_read() as session:
        return list((await session.exec(select(model).where(*where))).all())


def drill_room(bot) -> dict | None:
    return bot.fake.channel_named("drill-")


def posted(bot_or_fake, channel_id: str, words: str) -> list[dict]:
    fake = getattr(bot_or_fake, "fake", bot_or_fake)
    return [m for m in fake.messages(channel_id) if words in m["text"] + str(m.get("blocks"))]


async def run_to(bot, clock, minutes: int, channel_id: str, words: str) -> dict:
    """Move the clock on, then wait for the scheduler to post what fell due."""
    clock.at(minutes=minutes)
    found = await wait_for(lambda: posted(bot, channel_id, words), what=words)
    return found[0]


async def command(bot, clock, minutes: int, user: str, text: str, channel_id: str) -> None:
    clock.at(minutes=minutes)
    await bot.slack.command(user, text, channel_id)
    await bot.settled()


async def test_a_drill_from_declaration_to_scorecard(bot, clock):
    await bot.slack.command(ALICE, "drill checkout-fire", bot.general)
    room = await wait_for(lambda: drill_room(bot), what="the drill's war room")
    await wait_for(lambda: room["pins"], what="the card pinned")
    await bot.settled()
    assert room["name"] == f"drill-{clock.start:%Y%m%d}-checkout-errors-at-peak"

    await command(bot, clock, 1, ALICE, f"assign comms <@{BOB}>", room["id"])
    await command(bot, clock, 2, ALICE, f"assign tech <@{CAROL}>", room["id"])
    await run_to(bot, clock, 2, room["id"], "checkout error rate 35%")

    # The stakeholder's question goes to the comms lead, not into the room.
    clock.at(minutes=5)
    dm = await wait_for(lambda: bot.fake.channel_named(f"dm-{BOB}"), what="the comms lead's DM")
    bob_dm = dm["id"]
    await run_to(bot, clock, 5, bob_dm, "what is the ETA?")
    assert posted(bot, room["id"], "ETA") == []

    offline = await run_to(bot, clock, 8, room["id"], "laptop dies")
    assert f"<@{CAROL}>, the Tech Lead, is offline" in offline["text"]

    # The comms lead's update: drafted at 9m with the question, approved at 11m; it
    # stays in the room (no drill_broadcast_channel configured).
    await command(bot, clock, 9, ALICE, "update", room["id"])
    draft = await run_to(bot, clock, 9, room["id"], "update_approve")
    assert "what is the ETA?" in str(draft["blocks"])
    await command(bot, clock, 10, ALICE, f"assign tech <@{ALICE}>", room["id"])  # CAROL's role
    clock.at(minutes=11)
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_approve")
    await wait_for(lambda: posted(bot, room["id"], "📣 *Update"), what="the update, in the room")
    await bot.settled()

    await command(bot, clock, 12, ALICE, "resolve Rolled back", room["id"])
    card = await run_to(bot, clock, 12, room["id"], "DRILL scorecard")
    scorecard = str(card["blocks"])
    for line in (
        "✅ *Comms Lead named:* after 1m _(target: within 5m)_",
        "✅ *Tech Lead named:* after 2m _(target: within 10m)_",
        "✅ *First stakeholder update sent:* after 11m _(target: within 15m)_",
        "✅ *Approval (drafted → sent):* longest 2m (2m) _(target: within 5m)_",
        "✅ *Tech Lead replaced after going offline:* after 2m _(target: within 5m)_",
        "✅ *Stakeholder questions answered in an update:* 1 of 1 _(target: all)_",
        "➖ *Review filled in:* not measured",
    ):
        assert line in scorecard

    # Nothing reached the executives or the response team; every post in the room says DRILL.
    assert bot.fake.messages(bot.broadcast) == []
    assert bot.fake.messages(bot.response_team) == []
    for message in bot.fake.messages(room["id"]):
        assert "DRILL" in message["text"] + str(message.get("blocks")), message["text"]
    assert "DRILL" in room["topic"]
    assert "DRILL" in bot.fake.messages(bob_dm)[0]["text"]

    # Each inject fired once and is in the timeline; the scorecard is kept.
    injects = await rows(bot, DrillInject)
    assert all(i.posted_at is not None for i in injects) and len(injects) == 3
    entries = await rows(bot, TimelineEntry, TimelineEntry.kind == "inject")
    assert sorted(e.text for e in entries) == sorted(i["text"] for i in SCENARIO["injects"])
    (drill,) = await rows(bot, Drill)
    assert drill.scenario == "checkout-fire" and drill.scorecard_ts == card["ts"]
    (question,) = await rows(bot, Question)
    assert question.answered_in is not None
    assert len(posted(bot, room["id"], "checkout error rate 35%")) == 1
    assert len(posted(bot, room["id"], "DRILL scorecard")) == 1

    await bot.slack.command(ALICE, "report", room["id"])
    await bot.settled()
    (review,) = bot.fake.files.values()
    content = review["content"].decode()
    assert "## Drill scorecard (INC-1)" in content
    assert "| ✅ | Comms Lead named | after 1m | within 5m |" in content


async def test_a_failed_step_in_a_drill_is_reported_as_a_drill(bot):
    bot.fake.fail("pins.add", "not_allowed")
    await bot.slack.command(ALICE, "drill SEV3 Pin practice", bot.general)
    room = await wait_for(lambda: drill_room(bot), what="the drill's war room")
    report = await wait_for(lambda: posted(bot, room["id"], "need a hand"), what="the report")
    assert report[0]["text"].startswith("🧪 DRILL · ⚠️ Some steps did not work")


async def test_the_status_page_leaves_drills_out(bot, clock):
    await bot.slack.command(ALICE, "drill SEV1 Payments rehearsal", bot.general)
    room = await wait_for(lambda: drill_room(bot), what="the drill's war room")
    real = await bot.declare("SEV2 Search is slow")
    await bot.settled()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{bot.url}/status.json") as response:
            page = await response.text()
        async with session.get(f"{bot.url}/status/INC-1") as response:
            drill_page = response.status
    assert "Search is slow" in page
    assert "Payments rehearsal" not in page and "INC-1" not in page
    assert drill_page == 404
    assert real["name"].startswith("inc-") and room["name"].startswith("drill-")


async def test_drill_updates_go_to_the_drill_broadcast_channel(fake, tmp_path, database_url, clock):
    """With `drill_broadcast_channel` set, a drill's announcement and approved updates go
    there, and still nothing to the executives' channel."""
    general = fake.add_channel("general", [ALICE, BOB])
    broadcast, practice = fake.add_channel("incident-updates"), fake.add_channel("practice-updates")
    config = write_settings_files(
        tmp_path,
        {"broadcast_channel": broadcast, "drill_broadcast_channel": practice},
        [TEST_PLAYBOOK],
    )
    runner, runtime, url = await start_on_loopback(
        load_settings(bot_environment(fake, config, database_url)), clock
    )
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            await slack.command(ALICE, "drill SEV1 Payments rehearsal", general)
            room = await wait_for(lambda: fake.channel_named("drill-"), what="the war room")
            await wait_for(lambda: fake.messages(practice), what="the drill's announcement")
            await wait_for(lambda: runtime.tasks.pending == 0, what="the war room furnished")
            await slack.command(ALICE, "update", room["id"])
            draft = await wait_for(
                lambda: [m for m in fake.messages(room["id"]) if "update_approve" in str(m)],
                what="the draft",
            )
            assert f"for <#{practice}>" in str(draft[0]["blocks"])
            await slack.click(ALICE, room["id"], draft[0]["ts"], "update_approve")
            await wait_for(lambda: len(fake.messages(practice)) == 2, what="the update")
            await wait_for(lambda: runtime.tasks.pending == 0, what="background work")
        assert all("DRILL" in m["text"] for m in fake.messages(practice))
        assert fake.messages(broadcast) == []
    finally:
        await runner.cleanup()


async def test_two_replicas_post_each_inject_once(fake, tmp_path):
    """Two bot processes on one database, both ticking: every inject appears once."""
    scenario = {
        "name": "quick",
        "default_severity": "SEV1",
        "injects": [{"offset": f"{n}s", "text": f"Inject number {n}"} for n in (1, 2, 3)],
    }
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])
    (tmp_path / "playbooks" / "scenarios").mkdir()
    (tmp_path / "playbooks" / "scenarios" / "quick.yaml").write_text(yaml.safe_dump(scenario))
    database_url = os.environ.get("TEST_DATABASE_URL")
    if database_url:
        await reset_schema(database_url)
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path}/shared.db"
    env = bot_environment(fake, config, database_url)
    general = fake.add_channel("general", [ALICE, BOB])
    first, first_url = await start_bot(env)
    second, _ = await start_bot(env)
    try:
        async with SlackClient(fake, first_url, SECRET) as slack:
            await slack.command(ALICE, "drill quick Replica practice", general)
        room = await wait_for(lambda: fake.channel_named("drill-"), timeout=10, what="the room")
        await wait_for(
            lambda: posted(fake, room["id"], "Inject number 3"), timeout=10, what="every inject"
        )
        await let_time_pass(3)  # both replicas tick three more times
        for n in (1, 2, 3):
            assert len(posted(fake, room["id"], f"Inject number {n}")) == 1
    finally:
        await stop(first)
        await stop(second)


async def test_the_offline_inject_takes_the_tech_lead_out_of_the_drill(bot, clock):
    """The role is vacant from the inject on, its holder can take no role for the rest of
    the drill, and the scorecard times the handover."""
    await bot.slack.command(ALICE, "drill checkout-fire", bot.general)
    room = await wait_for(lambda: drill_room(bot), what="the drill's war room")
    await wait_for(lambda: room["pins"], what="the card pinned")
    await bot.settled()
    await command(bot, clock, 1, ALICE, f"assign tech <@{CAROL}>", room["id"])

    await run_to(bot, clock, 8, room["id"], "laptop dies")
    taken_out = DrillInject.offline_user == CAROL
    await wait_for(lambda: rows(bot, DrillInject, taken_out), what="CAROL taken offline")
    current = (RoleAssignment.role == "tech", col(RoleAssignment.ended_at).is_(None))
    assert await rows(bot, RoleAssignment, *current) == []

    def card_without_carol():
        (card,) = [m for m in bot.fake.messages(room["id"]) if m["ts"] in room["pins"]]
        return CAROL not in str(card["blocks"])

    await wait_for(card_without_carol, what="the card showing the role vacant")

    await command(bot, clock, 9, ALICE, f"assign tech <@{CAROL}>", room["id"])
    assert "offline for the rest of this drill" in bot.fake.responses[-1]["text"]
    assert await rows(bot, RoleAssignment, *current) == []
    await command(bot, clock, 11, ALICE, f"assign tech <@{BOB}>", room["id"])
    (holder,) = await rows(bot, RoleAssignment, *current)
    assert holder.user_id == BOB

    await command(bot, clock, 12, ALICE, "resolve Rolled back", room["id"])
    scorecard = str((await run_to(bot, clock, 12, room["id"], "DRILL scorecard"))["blocks"])
    assert "✅ *Tech Lead replaced after going offline:* after 3m _(target: within 5m)_" in (
        scorecard
    )
