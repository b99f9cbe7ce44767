"""What a stored change owes the executives (a resolution, a raise to major) is posted once,
whatever dies when: real bot processes on one database, kill -9 while Slack holds the
executives' post (Slack never got it, or did it and the answer was lost), a restart."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest
from sqlmodel import select

from bot.simulator import SlackClient, wait_for
from bot.slack.flows.announcing import OWED_EVENT, Kind
from bot.store import Database
from bot.store.models import Declaration, OwedPost
from tests.conftest import (
    ALICE,
    SECRET,
)
from tests.e2e.processes import WarRoomScene, let_time_pass, start_bot, stop

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


class Scene(WarRoomScene):
    def room(self) -> str:
        (room,) = [c for c in self.fake.channels.values() if c["name"].startswith("inc-")]
        return room["id"]

    def owed_posts(self, channel: str, kind: str) -> list[dict]:
        return [
            m
            for m in self.fake.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == OWED_EVENT
            and m["metadata"]["event_payload"]["kind"] == kind
        ]


async def stored(database_url: str, query) -> list:
    db = Database(database_url)
    try:
        async with db.snapshot_read() as session:
            return list((await session.exec(query)).all())
    finally:
        await db.dispose()


async def declared(database_url: str) -> bool:
    finished = await stored(database_url, select(Declaration.finished_at))
    return bool(finished) and finished[0] is not None


async def all_posted(database_url: str) -> bool:
    rows = await stored(database_url, select(OwedPost))
    return bool(rows) and all(r.finished_at is not None and r.result for r in rows)


async def kill_while_held(scene: Scene, env: dict, severity: str, change: str, performed: bool):
    """Declare, then make `change` while Slack holds its first post to the executives; kill
    the bot there, let Slack perform the post or not, and start the bot again."""
    process, url = await start_bot(env)
    try:
        async with SlackClient(scene.fake, url, SECRET) as slack:
            await slack.command(ALICE, f"declare {severity} Checkout down", scene.general)
            await wait_for(lambda: declared(env["DATABASE_URL"]), timeout=20, what="declared")
            hold = scene.fake.hold("chat.postMessage", channel=scene.broadcast)
            await slack.command(ALICE, change, scene.room())
            await asyncio.wait_for(hold.reached(), timeout=20)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        hold.release(perform=performed)
        await hold.over()
        process, url = await start_bot(env)
        await wait_for(
            lambda: all_posted(env["DATABASE_URL"]), timeout=30, what="the owed posts out"
        )
        await let_time_pass(1.5)  # more ticks: nothing is posted twice
    finally:
        await stop(process)


@pytest.mark.parametrize("performed", [False, True], ids=["never-got-it", "answer-lost"])
async def test_kill_minus_nine_while_a_resolution_is_announced_then_it_is_posted_once(
    fake, tmp_path, performed
):
    scene = Scene(fake, tmp_path)
    env = await scene.environment()
    await kill_while_held(scene, env, "SEV1", "resolve Card processor fixed", performed)
    (resolution,) = scene.owed_posts(scene.broadcast, Kind.CHANGE)
    assert "resolved" in resolution["text"].lower()
    assert len(fake.messages(scene.broadcast)) == 2  # the declaration's, the resolution's
    (owed,) = await stored(env["DATABASE_URL"], select(OwedPost))
    assert owed.result == resolution["ts"]


@pytest.mark.parametrize("performed", [False, True], ids=["never-got-it", "answer-lost"])
async def test_kill_minus_nine_while_a_raise_to_major_is_announced_then_it_is_posted_once(
    fake, tmp_path, performed
):
    scene = Scene(fake, tmp_path)
    env = await scene.environment()
    assert fake.messages(scene.broadcast) == []
    await kill_while_held(scene, env, "SEV3", "severity SEV1", performed)
    (major,) = scene.owed_posts(scene.broadcast, Kind.MAJOR)
    assert "SEV1" in major["text"]
    assert fake.messages(scene.broadcast) == [major]  # a raise is announced as a declaration
    (alert,) = fake.messages(scene.response_team)
    assert "SEV1" in alert["text"]
    rows = await stored(env["DATABASE_URL"], select(OwedPost))
    assert sorted(r.kind for r in rows) == sorted([Kind.MAJOR, Kind.MAJOR_ALERT])
    assert {r.result for r in rows} == {major["ts"], alert["ts"]}


async def test_a_live_replica_posts_what_a_dead_one_owed(fake, tmp_path):
    scene = Scene(fake, tmp_path)
    env = await scene.environment()
    dying, dying_url = await start_bot(env)
    live, _ = await start_bot(env)
    try:
        async with SlackClient(fake, dying_url, SECRET) as slack:
            await slack.command(ALICE, "declare SEV1 Checkout down", scene.general)
            await wait_for(lambda: declared(env["DATABASE_URL"]), timeout=20, what="declared")
            hold = fake.hold("chat.postMessage", channel=scene.broadcast)
            await slack.command(ALICE, "resolve Card processor fixed", scene.room())
            await asyncio.wait_for(hold.reached(), timeout=20)
        dying.send_signal(signal.SIGKILL)
        await dying.wait()
        hold.release(perform=True)  # Slack posted it; the dead replica never heard
        await hold.over()
        await wait_for(
            lambda: all_posted(env["DATABASE_URL"]), timeout=30, what="the live replica's run"
        )
        await let_time_pass(1.5)
        (resolution,) = scene.owed_posts(scene.broadcast, Kind.CHANGE)
        (owed,) = await stored(env["DATABASE_URL"], select(OwedPost))
        assert owed.result == resolution["ts"]
    finally:
        await stop(dying)
        await stop(live)
