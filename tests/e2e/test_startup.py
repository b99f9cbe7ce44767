"""Starting `python -m bot`: a token Slack refuses stops it, naming the variable; Slack
being unreachable does not."""

import asyncio
import logging
import os
import socket
import sys

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import text

from bot.config import load_settings
from bot.server import start_on_loopback
from bot.simulator import wait_for
from tests.conftest import TEST_PLAYBOOK, bot_environment, write_settings_files
from tests.e2e.processes import free_port


async def run_until_exit(environment: dict) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env={**os.environ, "PORT": str(free_port()), **environment},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, stderr.decode()


def environment(fake, tmp_path, **overrides) -> dict:
    config = write_settings_files(tmp_path, {"broadcast_channel": "C0BROADCAST"}, [TEST_PLAYBOOK])
    database = f"sqlite+aiosqlite:///{tmp_path}/incidents.db"
    return bot_environment(fake, config, database) | overrides


async def test_a_revoked_bot_token_stops_startup(fake, tmp_path):
    fake.revoked_tokens.add("xoxb-revoked")
    code, stderr = await run_until_exit(environment(fake, tmp_path, SLACK_BOT_TOKEN="xoxb-revoked"))
    assert code == 2
    assert "SLACK_BOT_TOKEN: Slack refused it (token_revoked)" in stderr
    assert "Traceback" not in stderr


async def test_a_bot_token_given_as_the_app_token_stops_startup(fake, tmp_path):
    code, stderr = await run_until_exit(
        environment(fake, tmp_path, SLACK_APP_TOKEN="xoxb-not-app-level", SLACK_SIGNING_SECRET="")
    )
    assert code == 2
    assert "SLACK_APP_TOKEN: Slack refused it (invalid_auth)" in stderr
    assert "Traceback" not in stderr


async def test_slack_unreachable_at_startup_does_not_stop_the_bot(fake, tmp_path):
    unreachable = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    settings = load_settings(environment(fake, tmp_path, SLACK_API_URL=unreachable))
    runner, runtime, _ = await start_on_loopback(settings)
    try:
        assert await runtime.db.is_reachable()
    finally:
        await runner.cleanup()


async def test_a_port_in_use_stops_startup_with_one_line(fake, tmp_path):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, stderr = await run_until_exit(environment(fake, tmp_path, PORT=str(port)))
    assert code == 2
    assert f"PORT: cannot listen on 0.0.0.0:{port}: " in stderr
    assert "Traceback" not in stderr
    # The preflight asks Slack about the token (to list every problem at once); nothing
    # else of the bot started: no history read, no scheduler, no channel touched.
    assert {call.method for call in fake.calls} <= {"auth.test"}


async def test_an_unreachable_database_stops_startup_with_one_line(fake, tmp_path):
    nowhere = f"postgresql://warroom:secret@127.0.0.1:{free_port()}/incidents"
    code, stderr = await run_until_exit(environment(fake, tmp_path, DATABASE_URL=nowhere))
    assert code == 2
    assert "DATABASE_URL: cannot use postgresql+asyncpg://warroom:***@127.0.0.1:" in stderr
    assert "secret" not in stderr and "Traceback" not in stderr


async def test_startup_and_scheduler_ticks_log_nothing_routine(fake, tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")  # as under `python -m bot`: Bolt reads it
    caplog.set_level(logging.INFO)
    runner, runtime, _ = await start_on_loopback(load_settings(environment(fake, tmp_path)))
    ticks = []
    runtime.scheduler._scheduler.add_listener(ticks.append, EVENT_JOB_EXECUTED)
    try:
        await wait_for(lambda: len(ticks) >= 3, timeout=20, what="three scheduler ticks")
    finally:
        await runner.cleanup()
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler")]
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_every_startup_problem_is_reported_in_one_run(fake, tmp_path):
    broken = {**TEST_PLAYBOOK, "checklist": "Confirm the impact"}  # a list, given as text
    config = write_settings_files(tmp_path, {}, [broken])
    nowhere = f"postgresql://warroom:secret@127.0.0.1:{free_port()}/incidents"
    fake.revoked_tokens.add("xoxb-revoked")
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environment = bot_environment(fake, config, nowhere) | {
            "SLACK_BOT_TOKEN": "xoxb-revoked",
            "SLACK_SIGNING_SECRET": "",
            "PORT": str(port),
        }
        code, stderr = await run_until_exit(environment)
    assert code == 2
    header, *problems, hint = stderr.splitlines()
    assert header == "warroom cannot start; fix these first:"
    assert [problem.strip().split(": ")[0] for problem in problems] == [
        f"{tmp_path}/playbooks/default.yaml:1",
        "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)",
        "DATABASE_URL",
        "PORT",
        "SLACK_BOT_TOKEN",
    ]
    assert "checklist" in problems[0]
    assert problems[1].endswith(": not set")
    assert "Slack refused it (token_revoked)" in problems[4]
    assert hint == "To try it without Slack: python -m bot demo"


async def test_stopping_lets_a_scheduler_job_in_progress_finish(fake, tmp_path, caplog):
    """A job running at shutdown (the numbers' refresh runs at startup) ends on its own,
    before the database closes, instead of being cut short mid-query."""
    runner, runtime, _ = await start_on_loopback(load_settings(environment(fake, tmp_path)))
    started, release, answers = asyncio.Event(), asyncio.Event(), []

    async def job():
        started.set()
        await release.wait()
        async with runtime.db.snapshot_read() as session:
            answers.append((await session.exec(text("SELECT 1"))).scalar())

    scheduler = runtime.scheduler._scheduler
    scheduler.add_job(job)
    try:
        await wait_for(started.is_set, what="the job to start")
    finally:
        stopping = asyncio.create_task(runner.cleanup())
        await wait_for(
            lambda: scheduler.state != STATE_RUNNING and runtime.scheduler._ticking is None,
            what="the scheduler paused and no tick left to wait for",
        )
        release.set()
        await stopping
    assert answers == [1]
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
