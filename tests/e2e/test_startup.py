"""Starting `python -m bot`: a token Slack refuses stops it, naming the variable; Slack
being unreachable does not."""

import asyncio
import os
import sys

from bot.config import load_settings
from bot.server import start_on_loopback
from tests.conftest import TEST_PLAYBOOK, bot_environment, write_settings_files
from tests.e2e.processes import free_port


async def run_until_exit(environment: dict) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env={**os.environ, **environment, "PORT": str(free_port())},
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
