"""/healthz answers 503, with the reason on one line, when the database refuses writes (a
read-only file, a full disk, a read-only PostgreSQL database), and 200 again once it takes
them. The hung database (a lock held) is in test_observability."""

import asyncio
import ctypes
import json
import os
import resource

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.simulator import SlackClient, message_event, wait_for
from bot.store import Database
from tests.conftest import (
    ALICE,
    BOB,
    SECRET,
    TEST_PLAYBOOK,
    bot_environment,
    write_settings_files,
)
from tests.e2e.processes import start_bot, stop

# Linux capabilities that let root write to files whatever their modes say.
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
PR_CAPBSET_DROP = 24


def as_a_plain_owner() -> None:
    """In the bot's process before it starts: if it runs as root, give up the capabilities
    that ignore file modes, so a read-only file is read-only to it too."""
    if os.getuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


async def healthz(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(url + "/healthz") as response:
        return response.status, json.loads(await response.text())


async def test_healthz_fails_when_the_sqlite_file_turns_read_only(fake, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    database = folder / "incidents.db"
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])
    env = bot_environment(fake, config, f"sqlite+aiosqlite:///{database}")
    process, url = await start_bot(env, preexec_fn=as_a_plain_owner)
    try:
        database.chmod(0o444)
        folder.chmod(0o555)
        status, body = await healthz(url)
        assert status == 503 and body["ok"] is False
        assert body["database"] == f"the database is read-only: {database} is not writable"

        folder.chmod(0o755)
        database.chmod(0o644)
        assert await healthz(url) == (200, {**body, "ok": True, "database": "ok"})
    finally:
        folder.chmod(0o755)
        await stop(process)


async def test_healthz_fails_when_the_disk_is_full(fake, tmp_path):
    general = fake.add_channel("general", [ALICE, BOB])
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])
    env = bot_environment(fake, config, f"sqlite+aiosqlite:///{tmp_path}/incidents.db")
    process, url = await start_bot(env, stderr=asyncio.subprocess.PIPE)
    log = LogLines(process.stderr)
    _, hard = resource.prlimit(process.pid, resource.RLIMIT_FSIZE)
    try:
        async with SlackClient(fake, url, SECRET) as slack:
            await slack.command(ALICE, "declare SEV3 Disk filling up", general)
            room = await wait_for(lambda: fake.channel_named("inc-"), what="the war room")
            await wait_for(lambda: room["messages"], what="the card")
            event = message_event(room["id"], BOB, "df says 100%", fake.workspace.next_ts())

            # The process may grow no file: what a full disk is to SQLite's next write.
            resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (0, hard))
            status, body = await healthz(url)
            assert status == 503 and body["ok"] is False
            assert body["database"] == "the database refused: disk I/O error"
            assert (await slack.event(event, event_id="EvFULL00001")).status == 500
            refused = await wait_for(lambda: log.containing("EvFULL00001"), what="the log line")
            assert len(refused) == 1
            assert refused[0].endswith(
                "bot.slack.app: EvFULL00001 refused (Slack will retry): database: disk I/O error"
            )

            resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (hard, hard))
            assert await healthz(url) == (200, {**body, "ok": True, "database": "ok"})
            assert (await slack.event(event, event_id="EvFULL00001", retry=1)).status == 200
    finally:
        await stop(process)
        await log.done()
    assert "Traceback" not in log.text()


class LogLines:
    """The bot's log (text format), read as it is written."""

    def __init__(self, stream: asyncio.StreamReader):
        self.lines: list[str] = []
        self._reading = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            self.lines.append(line.decode().rstrip("\n"))

    def containing(self, words: str) -> list[str]:
        return [line for line in self.lines if words in line]

    def text(self) -> str:
        return "\n".join(self.lines)

    async def done(self) -> None:
        await self._reading


async def test_healthz_fails_when_postgresql_is_read_only(bot):
    if bot.runtime.db.is_sqlite:
        pytest.skip("a PostgreSQL database setting")
    name = make_url(bot.runtime.db.url).database
    assert (await healthz(bot.url))[0] == 200  # sessions opened before the change stay writable
    admin = Database(bot.runtime.db.url)
    try:
        async with admin.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(
                text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            )
            try:
                status, body = await healthz(bot.url)
                assert (status, body["database"]) == (503, "the database is read-only")
            finally:
                await connection.execute(
                    text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
                )
        status, body = await healthz(bot.url)
        assert (status, body["database"]) == (200, "ok")
    finally:
        await admin.dispose()
