"""Schema migrations, on SQLite and PostgreSQL: empty and pre-migration databases reach the
head with their data, replicas starting together migrate once, AUTO_MIGRATE=false refuses an
old schema, and the models and the migrations agree."""

import asyncio
import os
import sys
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import bindparam, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from bot.config import load_settings
from bot.server import start_on_loopback
from bot.settings_errors import ConfigError
from bot.store import Database
from bot.store.migrate import (
    BASELINE,
    SchemaNewer,
    alembic_config,
    current_revision,
    drop_all_tables,
    head_revision,
    take_migration_lock,
)
from bot.store.models import Incident, RoleAssignment, TimelineEntry
from bot.store.search import outside_the_models
from bot.store.types import UTCDateTime, utcnow
from tests.conftest import ALICE, BOB, TEST_PLAYBOOK, bot_environment, write_settings_files
from tests.e2e.processes import free_port, let_time_pass

DECLARED_AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    yield database
    await database.dispose()


async def revision(db: Database) -> str | None:
    async with db.engine.connect() as connection:
        return await connection.run_sync(current_revision)


async def make_pre_migration_database(db: Database) -> None:
    """What `SQLModel.metadata.create_all` made before there were migrations: the baseline's
    tables and no alembic_version (test_the_models_and_the_migrations_agree shows that the
    baseline is that schema), with an incident, its commander and a key message in it."""

    def build(connection) -> None:
        command.upgrade(alembic_config(connection), BASELINE)
        connection.execute(text("DROP TABLE alembic_version"))
        at = bindparam("at", DECLARED_AT, type_=UTCDateTime)
        for statement in (
            "INSERT INTO incident (id, title, impact, severity, status, playbook, private,"
            " channel_id, declared_by, declared_at, summary) VALUES (7, 'Checkout down',"
            f" 'Payments fail', 'SEV1', 'identified', 'default', false, 'C0WARROOM7', '{ALICE}',"
            " :at, '')",
            "INSERT INTO roleassignment (incident_id, role, user_id, assigned_by, assigned_at)"
            f" VALUES (7, 'commander', '{ALICE}', '{ALICE}', :at)",
            "INSERT INTO timelineentry (incident_id, at, kind, actor, text, data, key, files,"
            f" edits, deleted, message_ts) VALUES (7, :at, 'message', '{BOB}', 'Rolled back',"
            """ '{"key_by": ["reaction:UALICE0001"]}', true, '[]', '[]', false, '1800.0001')""",
        ):
            connection.execute(text(statement).bindparams(at))

    async with db.engine.begin() as connection:
        await connection.run_sync(build)


async def assert_one_current_holder_per_role(db: Database, incident_id: int) -> None:
    """The partial unique index: one current holder of a role; past holders do not count."""

    def commander(user: str) -> RoleAssignment:
        return RoleAssignment(
            incident_id=incident_id, role="commander", user_id=user, assigned_by=user
        )

    async with db.transaction() as session:
        await session.exec(text("DELETE FROM roleassignment"))
        session.add(commander(ALICE))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(commander(BOB))
    async with db.transaction() as session:
        alice = (await session.exec(select(RoleAssignment))).one()
        alice.ended_at = utcnow()
        session.add(commander(BOB))


async def test_an_empty_database_is_migrated_to_head(db):
    await db.upgrade_schema()
    assert await revision(db) == head_revision()
    async with db.transaction() as session:
        incident = Incident(title="API down", severity="SEV2", playbook="default", declared_by=BOB)
        session.add(incident)
    await assert_one_current_holder_per_role(db, incident.id)


async def test_a_database_made_before_migrations_is_stamped_and_keeps_its_data(db):
    await make_pre_migration_database(db)
    assert await revision(db) is None

    await db.upgrade_schema()

    assert await revision(db) == head_revision()
    async with db.snapshot_read() as session:
        incident = await session.get(Incident, 7)
        commander = (await session.exec(select(RoleAssignment))).one()
        message = (await session.exec(select(TimelineEntry))).one()
    assert (incident.title, incident.impact, incident.status) == (
        "Checkout down",
        "Payments fail",
        "identified",
    )
    assert (incident.channel_id, incident.declared_at, incident.private) == (
        "C0WARROOM7",
        DECLARED_AT,
        False,
    )
    assert (commander.role, commander.user_id, commander.ended_at) == ("commander", ALICE, None)
    assert (message.text, message.key, message.data) == (
        "Rolled back",
        True,
        {"key_by": ["reaction:UALICE0001"]},
    )
    await assert_one_current_holder_per_role(db, 7)


async def run_bot(env: dict, *arguments: str) -> tuple[int, str]:
    """`python -m bot …` to its end: exit code and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *arguments,
        env={**os.environ, **env},
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, stderr.decode()


async def test_a_migration_failing_half_way_leaves_the_database_as_it_was(
    db, database_url, tmp_path
):
    # A table in the way of the baseline's last CREATE TABLE, after it made the others.
    async with db.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE question (id INTEGER PRIMARY KEY)"))
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])

    code, stderr = await run_bot(
        {"DATABASE_URL": database_url, "BOT_CONFIG": str(config)}, "migrate"
    )

    assert code == 1
    assert stderr.splitlines()[-1].startswith(
        "warroom cannot migrate the database (nothing changed): "
    )
    assert "question" in stderr.splitlines()[-1] and "Traceback" not in stderr
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    assert tables == ["question"]


async def test_the_models_and_the_migrations_agree(db):
    """Fails when a model changes without a migration. Write one with
    `alembic revision --autogenerate` (see the README's "Upgrading")."""
    await db.upgrade_schema()
    async with db.engine.connect() as connection:
        differences = await connection.run_sync(models_versus_database)
        migrated = await connection.run_sync(index_definitions)
    assert differences == [], "the models differ from the migrations' schema"

    await drop_all_tables(db.engine)
    async with db.engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
        created = await connection.run_sync(index_definitions)
    # Autogenerate does not compare partial indexes' WHERE clauses; the databases' own
    # definitions do (and catch a SQLite table copy that drops one).
    assert migrated == created


def models_versus_database(connection) -> list:
    opts = {"compare_type": True, "include_object": outside_the_models}
    context = MigrationContext.configure(connection, opts=opts)
    return compare_metadata(context, SQLModel.metadata)


def index_definitions(connection) -> dict[str, str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename != 'alembic_version'"
        )
    definitions = dict(connection.execute(text(query)).all())
    assert "one_current_holder_per_role" in definitions, inspect(connection).get_table_names()
    return definitions


async def start_migrate(env: dict) -> asyncio.subprocess.Process:
    """`python -m bot migrate`, once it says it is about to take the migration lock."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", env=env, stderr=asyncio.subprocess.PIPE
    )

    async def announced() -> None:
        said = []
        while b"database schema: upgrading" not in (line := await process.stderr.readline()):
            said.append(line.decode())
            assert not process.stderr.at_eof(), f"migrate exited before upgrading: {said}"

    await asyncio.wait_for(announced(), timeout=60)
    return process


async def test_two_replicas_upgrading_at_once_migrate_once(db, database_url, tmp_path):
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])
    env = {**os.environ, "DATABASE_URL": database_url, "BOT_CONFIG": str(config)}
    env["DATABASE_TIMEOUT"] = "0.5"  # a request's bound; waiting for a migration is not one
    async with db.engine.begin() as held:
        # Another replica is migrating: both processes arrive and wait for the lock.
        await held.run_sync(take_migration_lock)
        replicas = await asyncio.gather(start_migrate(env), start_migrate(env))
        if held.dialect.name == "postgresql":  # SQLite's lock waiters are not observable
            await asyncio.wait_for(advisory_lock_waiters(held, 2), timeout=30)
        await let_time_pass(1.5)  # longer than DATABASE_TIMEOUT: they keep waiting
    results = [await asyncio.wait_for(p.communicate(), timeout=60) for p in replicas]

    logs = [stderr.decode() for _, stderr in results]
    assert [p.returncode for p in replicas] == [0, 0], logs
    upgraded = [log for log in logs if f"upgraded from empty to {head_revision()}" in log]
    assert len(upgraded) == 1, logs
    assert sum(f"already at {head_revision()}" in log for log in logs) == 1, logs
    assert await revision(db) == head_revision()


async def advisory_lock_waiters(connection, count: int) -> None:
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    while (await connection.execute(query)).scalar() < count:
        await asyncio.sleep(0.05)  # polling a condition, under the caller's timeout


def environment(fake, tmp_path, database_url: str, **overrides) -> dict:
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])
    return bot_environment(fake, config, database_url) | overrides


async def test_auto_migrate_false_refuses_an_old_schema_naming_the_command(
    db, database_url, fake, tmp_path
):
    await make_pre_migration_database(db)
    env = environment(fake, tmp_path, database_url, AUTO_MIGRATE="false", PORT=str(free_port()))
    code, stderr = await run_bot(env)

    assert code == 2
    assert stderr.splitlines()[-1] == (
        "warroom cannot start: the database schema is unversioned (empty, or made before "
        f"migrations) and this version needs {head_revision()}; run `python -m bot migrate` "
        "first (AUTO_MIGRATE is false)"
    )
    assert "Traceback" not in stderr
    assert await revision(db) is None  # left as it was


async def test_auto_migrate_false_starts_on_a_current_schema(db, database_url, fake, tmp_path):
    await db.upgrade_schema()
    settings = load_settings(environment(fake, tmp_path, database_url, AUTO_MIGRATE="false"))
    assert settings.auto_migrate is False
    runner, runtime, _ = await start_on_loopback(settings)
    try:
        assert await runtime.db.is_reachable()
    finally:
        await runner.cleanup()


async def test_a_schema_from_a_newer_version_is_refused_not_touched(db):
    """A deploy rolled back after a newer version migrated: say so instead of failing later."""
    await db.upgrade_schema()
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaNewer, match="its schema is at 9999, newer than this version"):
        await db.upgrade_schema()
    assert await revision(db) == "9999"


def test_auto_migrate_is_true_or_false(tmp_path):
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])
    with pytest.raises(ConfigError) as raised:
        load_settings({"BOT_CONFIG": str(config), "AUTO_MIGRATE": "no"})
    assert raised.value.problems == ["AUTO_MIGRATE: 'no' is neither true nor false"]


async def test_migrate_says_what_it_runs_and_not_alembics_routine(database_url, tmp_path):
    config = write_settings_files(tmp_path, {}, [TEST_PLAYBOOK])

    code, stderr = await run_bot(
        {"DATABASE_URL": database_url, "BOT_CONFIG": str(config)}, "migrate"
    )

    assert code == 0, stderr
    assert "Running upgrade" in stderr
    assert "Context impl" not in stderr and "Will assume" not in stderr
