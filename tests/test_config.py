"""Broken config or playbooks stop startup with the file, the line, the field and the reason."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import load_settings
from bot.playbooks import load_playbooks, parse_duration
from bot.settings_errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
MINIMAL = "name: default\nseverities:\n  SEV1:\n    description: Everything is down\n"


def write_playbook(tmp_path: Path, text: str, name: str = "default.yaml") -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def problems_for(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_playbooks(write_playbook(tmp_path, text))
    return raised.value.problems


def test_a_playbook_of_name_and_severities_works(tmp_path):
    library = load_playbooks(write_playbook(tmp_path, MINIMAL))
    playbook = library.default
    assert set(playbook.roles) == {"commander", "comms", "tech"}
    assert playbook.initial_severity == "SEV1" and playbook.update_template


def test_shipped_playbooks_are_valid():
    assert {"default", "security-breach", "third-party-outage"} <= set(
        load_playbooks(REPO / "playbooks").names
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL + "    major: ture\n",
            "default.yaml:5: severities.SEV1.major: Input should be a valid boolean",
        ),
        (
            MINIMAL + "    majr: true\n",
            "default.yaml:5: severities.SEV1.majr: unknown key (check the spelling)",
        ),
        (MINIMAL + "    update_every: 30\n", "severities.SEV1.update_every: 30 is not a duration"),
        (
            MINIMAL + "    update_every: 10 minutes\n",
            "'10 minutes' is not a duration; write it like 45s",
        ),
        (
            MINIMAL + "    major: true\n",
            "default.yaml:3: severities.SEV1: a major severity needs update_every",
        ),
        (MINIMAL + "    invite: [bob]\n", "'bob' is not a Slack user ID"),
        (MINIMAL + "update_template: '{title} {eta}'\n", "update_template: unknown field {eta}"),
        (MINIMAL + "default_severity: SEV2\n", "default_severity: 'SEV2' is not one of SEV1"),
        ("name: default\n", "default.yaml: severities: required key is missing"),
        (MINIMAL + "roles:\n  comms: {title: C, duty: d}\n", "a 'commander' role is required"),
        ("name: [unclosed\n", "default.yaml:2: not valid YAML"),
        (
            MINIMAL + "    update_every: 99999999999h\n",
            "default.yaml:5: severities.SEV1.update_every: '99999999999h' is too long to "
            "schedule; the longest is 168h",
        ),
        (
            MINIMAL.replace("name: default", "name: security breach"),
            "default.yaml:1: name: 'security breach' cannot be typed as playbook=NAME",
        ),
        (MINIMAL.replace("name: default", "name: a=b"), "name: 'a=b' cannot be typed"),
        (
            MINIMAL + "permissions:\n  close: [commander, chef]\n",
            "default.yaml:6: permissions.close.1: 'chef' is not a role of this playbook; use "
            "roles, commander, comms, tech, a user ID (U…/W…) or a user-group ID (S…)",
        ),
        (
            MINIMAL + "permissions:\n  clsoe: [commander]\n",
            "default.yaml:6: permissions.clsoe: unknown key (check the spelling)",
        ),
        (
            MINIMAL + "permissions:\n  status: [Bob]\n",
            "default.yaml:6: permissions.status.0: 'Bob' is neither a role of this playbook",
        ),
    ],
)
def test_broken_playbooks_say_where_and_why(tmp_path, text, expected):
    problems = problems_for(tmp_path, text)
    assert any(expected in p for p in problems), problems


def test_duplicate_keys_are_refused_each_with_both_lines(tmp_path):
    text = MINIMAL + "    description: Half down\nname: other\n"
    assert problems_for(tmp_path, text) == [
        f"{tmp_path}/playbooks/default.yaml:5: severities.SEV1.description: duplicate key "
        "(first set on line 4); keep one",
        f"{tmp_path}/playbooks/default.yaml:6: name: duplicate key (first set on line 1); keep one",
    ]


def test_a_key_overriding_a_merged_one_is_not_a_duplicate(tmp_path):
    text = (
        MINIMAL
        + "  SEV2: &base {description: Base}\n  SEV3:\n    <<: *base\n    description: Own\n"
    )
    library = load_playbooks(write_playbook(tmp_path, text))
    assert library.default.severities["SEV3"].description == "Own"


def test_a_file_that_is_not_utf8_names_its_line(tmp_path):
    folder = write_playbook(tmp_path, MINIMAL)
    (folder / "default.yaml").write_bytes(MINIMAL.encode() + b"description: caf\xe9\n")
    with pytest.raises(ConfigError) as raised:
        load_playbooks(folder)
    assert raised.value.problems == [
        f"{folder}/default.yaml:5: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    ]


def test_parse_duration():
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("45s").total_seconds() == 45
    with pytest.raises(ValueError):
        parse_duration("0m")


def settings_env(tmp_path: Path, config: dict) -> dict:
    write_playbook(tmp_path, MINIMAL)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return {"BOT_CONFIG": str(path)}


def test_config_playbooks_dir_is_relative_to_the_config(tmp_path):
    settings = load_settings(settings_env(tmp_path, {"playbooks_dir": "playbooks"}))
    assert settings.playbooks.names == ["default"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"broadcast_channel": "#exec-updates"},
            "config.yaml:1: broadcast_channel: '#exec-updates' is not a channel ID",
        ),
        ({"chanel_prefix": "inc"}, "chanel_prefix: unknown key"),
        ({"channel_prefix": "INC!"}, "channel_prefix: use 1-20 lowercase letters"),
        ({"default_playbook": "nope"}, "default_playbook: 'nope' is not one of default"),
        ({"playbooks_dir": "missing"}, "playbooks_dir does not exist"),
        (
            {"incident_admins": ["U0MIMLEAD1", "@mim-duty"]},
            "config.yaml:3: incident_admins.1: '@mim-duty' is not a Slack user ID",
        ),
    ],
)
def test_broken_config_says_where_and_why(tmp_path, config, expected):
    with pytest.raises(ConfigError) as raised:
        load_settings(settings_env(tmp_path, {"playbooks_dir": "playbooks"} | config))
    assert any(expected in p for p in raised.value.problems), raised.value.problems


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgres://u:p@db.example.com:5432/inc",
            "postgresql+asyncpg://u:p@db.example.com:5432/inc",
        ),
        ("postgresql://u@db/inc?sslmode=require", "postgresql+asyncpg://u@db/inc?ssl=require"),
        ("postgresql+asyncpg://u@db/inc", "postgresql+asyncpg://u@db/inc"),
        ("sqlite:///incidents.db", "sqlite+aiosqlite:///incidents.db"),
        ("sqlite:////tmp/incidents.db", "sqlite+aiosqlite:////tmp/incidents.db"),
        ("sqlite+aiosqlite:///incidents.db", "sqlite+aiosqlite:///incidents.db"),
    ],
)
def test_database_urls_as_platforms_write_them_use_the_async_drivers(tmp_path, given, expected):
    settings = load_settings(
        settings_env(tmp_path, {"playbooks_dir": "playbooks"}) | {"DATABASE_URL": given}
    )
    assert settings.database_url == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("mysql://u@db/inc", "DATABASE_URL: mysql:// is not supported; use PostgreSQL or SQLite"),
        ("db.example.com:5432", "DATABASE_URL: not a database URL; write it like postgresql://"),
        ("sqlite://", "DATABASE_URL: an in-memory SQLite database loses every incident"),
        ("sqlite:///missing/incidents.db", "the folder missing for the SQLite file does not exist"),
        ("postgres://db/inc?sslmode=on", "DATABASE_URL: sslmode='on' is not one of disable"),
        ("postgres://db/inc?pool=5", "DATABASE_URL: ?pool= is not supported"),
    ],
)
def test_unusable_database_urls_get_one_line_with_the_right_form(tmp_path, given, expected):
    env = settings_env(tmp_path, {"playbooks_dir": "playbooks"}) | {"DATABASE_URL": given}
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert len(raised.value.problems) == 1 and expected in raised.value.problems[0]


def test_environment_config_and_playbook_problems_are_reported_together(tmp_path):
    write_playbook(tmp_path, MINIMAL + "    majr: true\n")
    (tmp_path / "config.yaml").write_text("playbooks_dir: playbooks\n")
    env = {
        "BOT_CONFIG": str(tmp_path / "config.yaml"),
        "DATABASE_URL": "mysql://db/inc",
        "DATABASE_TIMEOUT": "forever",
        "PORT": "http",
    }
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    fields = [problem.split(": ")[0] for problem in raised.value.problems]
    assert fields == [
        "DATABASE_URL",
        "DATABASE_TIMEOUT",
        "PORT",
        f"{tmp_path}/playbooks/default.yaml:5",
    ]


def run_bot(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_", "DATABASE_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean | env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_reports_every_broken_file_and_exits_non_zero(tmp_path):
    write_playbook(tmp_path, MINIMAL + "    majr: true\n")
    write_playbook(
        tmp_path,
        "name: other\nseverities: {SEV1: {description: x, update_every: soon}}\n",
        "other.yaml",
    )
    (tmp_path / "config.yaml").write_text("playbooks_dir: playbooks\n")
    result = run_bot("check", env={"BOT_CONFIG": str(tmp_path / "config.yaml")}, cwd=tmp_path)
    assert result.returncode == 2
    assert "default.yaml:5: severities.SEV1.majr: unknown key" in result.stderr
    assert "other.yaml:2: severities.SEV1.update_every: 'soon' is not a duration" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_passes_on_the_shipped_example(tmp_path):
    result = run_bot("check", env={"BOT_CONFIG": str(REPO / "config.example.yaml")}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "default, security-breach, third-party-outage" in result.stdout
    assert "database answers" in result.stdout


def test_check_tries_the_database(tmp_path):
    nowhere = "postgresql://warroom:secret@127.0.0.1:9/incidents"  # port 9: nothing listens
    result = run_bot(
        "check",
        env={"BOT_CONFIG": str(REPO / "config.example.yaml"), "DATABASE_URL": nowhere},
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "DATABASE_URL: cannot use postgresql+asyncpg://warroom:***@127.0.0.1:9/incidents: " in (
        result.stderr
    )
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_check_reports_a_broken_playbook_and_an_unreachable_database_together(tmp_path):
    write_playbook(tmp_path, MINIMAL + "    majr: true\n")
    (tmp_path / "config.yaml").write_text("playbooks_dir: playbooks\n")
    nowhere = "postgresql://warroom:secret@127.0.0.1:9/incidents"  # port 9: nothing listens
    env = {"BOT_CONFIG": str(tmp_path / "config.yaml"), "DATABASE_URL": nowhere}
    result = run_bot("check", env=env, cwd=tmp_path)
    assert result.returncode == 2
    problems = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert [problem.split(": ")[0] for problem in problems] == [
        f"{tmp_path}/playbooks/default.yaml:5",
        "DATABASE_URL",
    ]
    assert "Traceback" not in result.stderr


def test_serving_without_secrets_names_the_variables_and_the_demo(tmp_path):
    result = run_bot(env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr and "SLACK_SIGNING_SECRET" in result.stderr
    assert "python -m bot demo" in result.stderr and "Traceback" not in result.stderr


def test_manifest_is_valid_against_slacks_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = REPO / "tests" / "data" / "slack-manifest.schema.2.0.0.json"
    manifest = yaml.safe_load((REPO / "manifest.yaml").read_text())
    jsonschema.validate(manifest, json.loads(schema_path.read_text()))
    assert manifest["features"]["slash_commands"][0]["command"] == "/incident"
    assert manifest["features"]["slash_commands"][0]["should_escape"] is True
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups"} <= events
    assert "user_change" in events  # keeps the people directory current
    assert "app_home_opened" in events and manifest["features"]["app_home"]["home_tab_enabled"]
