"""/healthz answers 503, with the reason on one line, when the database refuses writes (a
read-only file, a full disk, a read-only PostgreSQL database), and 200 again once it takes
them. The hung database (a lock held) is in test_observability."""

import ctypes
import json
import os
import resource

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.store import Database
from tests.conftest import TEST_PLAYBOOK, bot_environment, write_settings_files
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
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])
    env = bot_environment(fake, config, f"sqlite+aiosqlite:///{tmp_path}/incidents.db")
    process, url = await start_bot(env)
    _, hard = resource.prlimit(process.pid, resource.RLIMIT_FSIZE)
    try:
        # The process may grow no file: what a full disk is to SQLite's next write.
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (0, hard))
        status, body = await healthz(url)
        assert status == 503 and body["ok"] is False
        assert body["database"] == "the database refused: disk I/O error"

        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (hard, hard))
        assert await healthz(url) == (200, {**body, "ok": True, "database": "ok"})
    finally:
        await stop(process)


async def test_healthz_fails_when_postgresql_is_read_only(bot):
    if bot.runtime.db.is_sqlite:
        pytest.skip("a PostgreSQL database setting")
    name = make_url(bot.runtime.db.url).database
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
