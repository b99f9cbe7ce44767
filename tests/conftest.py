"""Shared fixtures: the fake Slack, the real bot on loopback, and a signed Slack client."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.config import load_settings
from bot.server import Runtime, start_on_loopback
from bot.simulator import FakeSlack, SlackClient, wait_for
from bot.store.types import utcnow

SECRET = "test-signing-secret"
SETTLING = 30.0  # seconds the bot may take to finish what it started after its acks
ALICE, BOB, CAROL, DAVE = "UALICE0001", "UBOB000001", "UCAROL0001", "UDAVE00001"
ONCALL, SRE_LEAD = "UONCALL001", "USRELEAD01"
SRE_GROUP = "SSREGROUP1"

TEST_PLAYBOOK = {
    "name": "default",
    "description": "Test playbook",
    "default_severity": "SEV3",
    "severities": {
        "SEV1": {
            "description": "Checkout down for everyone",
            "major": True,
            "update_every": "30m",
            "invite": [ONCALL, SRE_GROUP],
        },
        "SEV2": {"description": "Core journey degraded", "major": True, "update_every": "1h"},
        "SEV3": {"description": "Minor feature degraded", "invite": [ONCALL]},
        "SEV4": {"description": "Cosmetic"},
    },
    "checklist": ["Confirm the impact"],
}


@dataclass
class Bot:
    fake: FakeSlack
    slack: SlackClient
    runtime: Runtime
    url: str
    general: str
    broadcast: str
    response_team: str

    @property
    def service(self):
        return self.runtime.service

    async def settled(self) -> None:
        """Wait until the bot has finished the work it started after its acks."""
        # Drafting a review spawns a document worker (a fresh interpreter importing the bot):
        # alone a second or two, on a loaded 2-core machine it has taken over 5 s.
        await wait_for(
            lambda: self.runtime.tasks.pending == 0, timeout=SETTLING, what="background work"
        )

    def posts(self, channel: str) -> list[str]:
        return [m["text"] + " " + str(m.get("blocks")) for m in self.fake.messages(channel)]

    async def declare(self, text: str, user: str = ALICE) -> dict:
        """Declare by command and return the war room channel from the fake."""
        before = set(self.fake.channels)
        await self.slack.command(user, f"declare {text}", self.general)
        await self.settled()
        new = [
            c
            for c in self.fake.channels
            if c not in before and not self.fake.channels[c]["name"].startswith("dm-")
        ]
        assert len(new) == 1, f"expected one new channel, got {new}"
        return self.fake.channels[new[0]]


def bot_environment(fake: FakeSlack, config_path: Path, database_url: str) -> dict:
    """The environment the bot runs with in tests: the fake Slack, a config, a database."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": database_url,
        "BOT_CONFIG": str(config_path),
    }


def write_settings_files(tmp_path: Path, config: dict, playbooks: list[dict]) -> Path:
    playbook_dir = tmp_path / "playbooks"
    playbook_dir.mkdir(exist_ok=True)
    for playbook in playbooks:
        (playbook_dir / f"{playbook['name']}.yaml").write_text(yaml.safe_dump(playbook))
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump({"playbooks_dir": str(playbook_dir), **config}))
    return config_path


DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=DATABASES)
async def database_url(request, tmp_path):
    """SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/incidents.db"
        return
    url = os.environ["TEST_DATABASE_URL"]
    await reset_schema(url)
    yield url


async def reset_schema(url: str) -> None:
    from bot.store import Database
    from bot.store.migrate import drop_all_tables

    db = Database(url)
    await drop_all_tables(db.engine)
    await db.dispose()


@pytest.fixture
async def fake():
    slack = FakeSlack()
    for user, name in [
        (ALICE, "alice"),
        (BOB, "bob"),
        (CAROL, "carol"),
        (DAVE, "dave"),
        (ONCALL, "oncall"),
        (SRE_LEAD, "srelead"),
    ]:
        slack.add_user(user, name, tz="Europe/London" if user == BOB else "UTC")
    slack.add_usergroup(SRE_GROUP, [SRE_LEAD, ONCALL])
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture
def bot_config() -> dict:
    """Override in a test module to change the config."""
    return {}


@pytest.fixture
def playbooks() -> list[dict]:
    return [TEST_PLAYBOOK]


@pytest.fixture
def clock():
    """What the bot takes for now; a test module overrides it with a controlled clock."""
    return utcnow


@pytest.fixture
def bot_environment_overrides() -> dict:
    """Override in a test module to set more environment variables (e.g. DATABASE_TIMEOUT)."""
    return {}


@pytest.fixture
async def bot(
    fake, tmp_path, database_url, bot_config, playbooks, bot_environment_overrides, clock
):
    general = fake.add_channel("general", [ALICE, BOB, CAROL, DAVE])
    broadcast = fake.add_channel("incident-updates")
    response_team = fake.add_channel("mim-response-team")
    config = {"broadcast_channel": broadcast, "response_team_channel": response_team, **bot_config}
    config_path = write_settings_files(tmp_path, config, playbooks)
    environment = bot_environment(fake, config_path, database_url) | bot_environment_overrides
    runner, runtime, url = await start_on_loopback(load_settings(environment), clock)
    async with SlackClient(fake, url, SECRET) as slack:
        yield Bot(fake, slack, runtime, url, general, broadcast, response_team)
    await runner.cleanup()
