"""Reminders survive a kill -9 and fire once across replicas sharing one database."""

import asyncio
import copy
import signal

from bot.simulator import SlackClient, wait_for
from tests.conftest import (
    ALICE,
    BOB,
    SECRET,
    TEST_PLAYBOOK,
    bot_environment,
    write_settings_files,
)
from tests.e2e.processes import let_time_pass, shared_database, start_bot, stop


def cadence_playbook(update_every: str) -> dict:
    playbook = copy.deepcopy(TEST_PLAYBOOK)
    playbook["severities"]["SEV1"].update(update_every=update_every, invite=[])
    return playbook


def drafts(fake) -> list[tuple[str, str]]:
    return [
        (channel_id, m["ts"])
        for channel_id, channel in fake.channels.items()
        for m in channel["messages"]
        if "Stakeholder update draft" in m.get("text", "")
    ]


async def environment(fake, tmp_path, update_every: str) -> dict:
    config = write_settings_files(tmp_path, {}, [cadence_playbook(update_every)])
    return bot_environment(fake, config, await shared_database(tmp_path))


async def test_overdue_reminder_fires_once_at_once_after_kill_minus_nine(fake, tmp_path):
    general = fake.add_channel("general", [ALICE, BOB])
    env = await environment(fake, tmp_path, update_every="3s")
    process, url = await start_bot(env)
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            await slack.command(ALICE, "declare SEV1 Payments down", general)
            room = await wait_for(lambda: fake.channel_named("inc-"), what="the war room")
            await wait_for(lambda: room["pins"], what="the card")
        process.send_signal(signal.SIGKILL)
        await process.wait()
        assert drafts(fake) == []  # killed before the update was due

        await let_time_pass(4)  # the update falls due while the bot is down
        restarted_at = asyncio.get_running_loop().time()
        process, url = await start_bot(env)
        await wait_for(lambda: drafts(fake), timeout=5, what="the overdue draft")
        assert asyncio.get_running_loop().time() - restarted_at < 25
        await let_time_pass(3)  # three more ticks: still one draft (it waits for a decision)
        assert len(drafts(fake)) == 1
    finally:
        await stop(process)


async def test_two_replicas_on_one_database_fire_each_reminder_once(fake, tmp_path):
    general = fake.add_channel("general", [ALICE, BOB])
    env = await environment(fake, tmp_path, update_every="2s")
    first, first_url = await start_bot(env)
    second, second_url = await start_bot(env)
    try:
        async with (
            SlackClient(fake, first_url, SECRET) as a,
            SlackClient(fake, second_url, SECRET) as b,
        ):
            for n in range(6):
                await (a if n % 2 else b).command(ALICE, f"declare SEV1 Outage {n}", general)
            await wait_for(
                lambda: (
                    len(
                        [
                            c
                            for c in fake.channels.values()
                            if c["name"].startswith("inc-") and c["pins"]
                        ]
                    )
                    == 6
                ),
                timeout=10,
                what="six war rooms",
            )
            await wait_for(lambda: len(drafts(fake)) >= 6, timeout=10, what="six drafts")
            await let_time_pass(3)  # both replicas tick three more times
            per_room = {}
            for channel_id, _ in drafts(fake):
                per_room[channel_id] = per_room.get(channel_id, 0) + 1
            assert sorted(per_room.values()) == [1] * 6
    finally:
        await stop(first)
        await stop(second)
