"""Running the bot as real processes (`python -m bot`) for crash and replica tests."""

import asyncio
import os
import socket
import sys

import aiohttp

from bot.simulator import wait_for
from tests.conftest import (
    ALICE,
    ONCALL,
    TEST_PLAYBOOK,
    bot_environment,
    reset_schema,
    write_settings_files,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_bot(env: dict, **options) -> tuple[asyncio.subprocess.Process, str]:
    """Start `python -m bot` on a free port and wait until /healthz answers. `options` go
    to the subprocess (e.g. `preexec_fn`, `stderr`)."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env={**os.environ, **env, "PORT": str(port)},
        **{"stdout": asyncio.subprocess.DEVNULL, "stderr": asyncio.subprocess.DEVNULL, **options},
    )
    url = f"http://127.0.0.1:{port}"

    async def healthy():
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{url}/healthz") as response,
            ):
                return response.status == 200
        except aiohttp.ClientError:
            return False

    await wait_for(healthy, timeout=20, what="the bot process to start")
    return process, url


async def shared_database(tmp_path) -> str:
    """One database for several bot processes: TEST_DATABASE_URL (emptied) or a SQLite file."""
    database_url = os.environ.get("TEST_DATABASE_URL")
    if database_url:
        await reset_schema(database_url)
        return database_url
    return f"sqlite+aiosqlite:///{tmp_path}/shared.db"


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await process.wait()


async def let_time_pass(seconds: float) -> None:
    """An observation window, not synchronisation: for a due time to pass while the bot is
    down, or to see that nothing more happens (a reminder firing twice) within it."""
    await asyncio.sleep(seconds)


class WarRoomScene:
    """A workspace for real-process tests: the channels a declaration posts to, and the
    environment every bot process of the test shares (one database). `config`: more keys."""

    def __init__(self, fake, tmp_path, **config):
        self.fake = fake
        self.general = fake.add_channel("general", [ALICE])
        self.broadcast = fake.add_channel("incident-updates")
        self.response_team = fake.add_channel("mim-response-team")
        self.tmp_path = tmp_path
        self.config = config

    async def environment(self) -> dict:
        config = {
            "broadcast_channel": self.broadcast,
            "response_team_channel": self.response_team,
            "response_team": [ONCALL],
            **self.config,
        }
        path = write_settings_files(self.tmp_path, config, [TEST_PLAYBOOK])
        return bot_environment(self.fake, path, await shared_database(self.tmp_path))
