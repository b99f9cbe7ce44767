"""Paging survives a kill -9 and pages each step once across replicas on one database."""

import copy
import signal

from bot.simulator import SlackClient, wait_for
from tests.conftest import (
    ALICE,
    ONCALL,
    SECRET,
    SRE_LEAD,
    TEST_PLAYBOOK,
    bot_environment,
    write_settings_files,
)
from tests.e2e.processes import let_time_pass, shared_database, start_bot, stop


async def environment(fake, tmp_path) -> dict:
    playbook = copy.deepcopy(TEST_PLAYBOOK)
    playbook["severities"]["SEV1"]["invite"] = []
    config = {"response_team": [ONCALL, SRE_LEAD], "ack_within": "2s"}
    config_path = write_settings_files(tmp_path, config, [playbook])
    return bot_environment(fake, config_path, await shared_database(tmp_path))


def pages_to(fake, user: str) -> list[dict]:
    return [
        m
        for c in fake.channels.values()
        if c["name"] == f"dm-{user}"
        for m in c["messages"]
        if "You are paged" in m["text"]
    ]


async def test_an_unanswered_page_escalates_once_after_kill_minus_nine(fake, tmp_path):
    general = fake.add_channel("general", [ALICE])
    env = await environment(fake, tmp_path)
    process, url = await start_bot(env)
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            await slack.command(ALICE, "declare SEV1 Payments down", general)
            await wait_for(lambda: pages_to(fake, ONCALL), what="the first page")
        process.send_signal(signal.SIGKILL)
        await process.wait()
        await let_time_pass(3)  # the page goes unanswered past ack_within while the bot is down
        assert pages_to(fake, SRE_LEAD) == []

        process, url = await start_bot(env)
        await wait_for(lambda: pages_to(fake, SRE_LEAD), timeout=10, what="the escalation")
        await let_time_pass(3)  # more ticks: nobody is paged twice
        assert len(pages_to(fake, ONCALL)) == 1 and len(pages_to(fake, SRE_LEAD)) == 1
    finally:
        await stop(process)


async def test_two_replicas_escalate_each_page_once(fake, tmp_path):
    general = fake.add_channel("general", [ALICE])
    env = await environment(fake, tmp_path)
    first, first_url = await start_bot(env)
    second, second_url = await start_bot(env)
    try:
        async with (
            SlackClient(fake, first_url, SECRET) as a,
            SlackClient(fake, second_url, SECRET) as b,
        ):
            for n in range(4):
                await (a if n % 2 else b).command(ALICE, f"declare SEV1 Outage {n}", general)
            await wait_for(
                lambda: len(pages_to(fake, SRE_LEAD)) >= 4, timeout=15, what="four escalations"
            )
            await let_time_pass(3)  # both replicas tick three more times
            assert len(pages_to(fake, ONCALL)) == 4 and len(pages_to(fake, SRE_LEAD)) == 4
    finally:
        await stop(first)
        await stop(second)
